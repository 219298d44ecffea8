/* Safety Partnership Atlas briefing mode: one slide at a time.
 * Keys: → ↓ PageDown space n = next; ← ↑ PageUp shift+space p = previous; Home/End; Esc = exit.
 * The slide number is kept in the URL hash (#3 = the third city; #0 = the overview), so a reload
 * returns to the same slide.
 * Only the visible slide's figures are drawn (hidden ones are purged: few WebGL contexts).
 */
(function () {
  "use strict";
  var slides = Array.prototype.slice.call(document.querySelectorAll(".slide"));
  var prev = document.getElementById("deck-prev");
  var next = document.getElementById("deck-next");
  var counter = document.getElementById("deck-counter");
  var baseTitle = document.title;
  var current = -1;
  var resizeTimer = null;

  function clamp(n) {
    return Math.max(0, Math.min(slides.length - 1, n));
  }

  function fromHash() {
    var n = parseInt(window.location.hash.replace("#", ""), 10);
    return isNaN(n) ? 0 : clamp(n);
  }

  /* Figures are laid out for 1280 x 720; grow their type on bigger screens. */
  function fontScale() {
    return Math.max(1, Math.min(window.innerWidth / 1280, window.innerHeight / 720));
  }

  function figures(slide) {
    return Array.prototype.slice.call(slide.querySelectorAll("[data-figure]"));
  }

  function draw(slide) {
    var scale = fontScale();
    figures(slide).forEach(function (el) {
      window.AtlasFigures.draw(el, { fontScale: scale }).catch(function () {});
    });
  }

  function show(n, updateHash) {
    n = clamp(n);
    if (n === current) return;
    slides.forEach(function (other, i) {
      if (i === n || other.hidden) return;
      other.hidden = true;
      figures(other).forEach(function (el) {
        try { window.AtlasFigures.purge(el); } catch (e) { /* still drawing */ }
      });
    });
    current = n;
    var slide = slides[n];
    slide.hidden = false;
    document.body.setAttribute("data-current", String(n));
    draw(slide);
    // "City 3 of 12", as the slide's own kicker and the #3 in the address say (not "4 / 13").
    counter.textContent = slide.getAttribute("data-position") || "";
    prev.disabled = n === 0;
    next.disabled = n === slides.length - 1;
    document.title = slide.getAttribute("data-title") + " — " + baseTitle;
    if (updateHash) {
      window.history.replaceState(null, "", "#" + n);
    }
  }

  function go(step) {
    show(current + step, true);
  }

  document.addEventListener("keydown", function (e) {
    if (e.altKey || e.ctrlKey || e.metaKey) return;
    var onButton = e.target && e.target.tagName === "BUTTON";
    var key = e.key;
    if (key === "ArrowRight" || key === "ArrowDown" || key === "PageDown" || key === "n" ||
        (key === " " && !e.shiftKey && !onButton)) {
      go(1);
    } else if (key === "ArrowLeft" || key === "ArrowUp" || key === "PageUp" || key === "p" ||
               (key === " " && e.shiftKey && !onButton)) {
      go(-1);
    } else if (key === "Home") {
      show(0, true);
    } else if (key === "End") {
      show(slides.length - 1, true);
    } else if (key === "Escape") {
      window.location.href = document.body.getAttribute("data-exit") || "/";
    } else {
      return;
    }
    e.preventDefault();
  });

  prev.addEventListener("click", function () { go(-1); });
  next.addEventListener("click", function () { go(1); });
  window.addEventListener("hashchange", function () { show(fromHash(), false); });
  window.addEventListener("resize", function () {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(function () { if (current >= 0) draw(slides[current]); }, 250);
  });

  show(fromHash(), false);
})();
