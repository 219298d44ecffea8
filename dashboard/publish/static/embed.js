/* Safety Partnership Atlas embeds: tell the embedding page how tall this page is, so its
 * iframe can fit the chart without a scroll bar:
 *   window.parent.postMessage({type: "atlas:height", height, chart}, "*")
 * once the chart is drawn, on load, and whenever the page's height changes (frame resized).
 * Nothing is sent before the chart is drawn, so the frame does not shrink and grow again.
 */
(function () {
  "use strict";
  var chart = document.body.getAttribute("data-chart") || "";
  var main = document.querySelector("main") || document.body;
  var ready = false;
  var last = -1;
  var timer = null;

  function height() {
    var style = window.getComputedStyle(document.body);
    return Math.ceil(main.getBoundingClientRect().bottom + window.scrollY + parseFloat(style.marginBottom || "0"));
  }

  function post(force) {
    if (!ready) return;
    var h = height();
    if (!force && h === last) return;
    last = h;
    if (window.parent && window.parent !== window) {
      window.parent.postMessage({ type: "atlas:height", height: h, chart: chart }, "*");
    }
  }

  function soon() {
    clearTimeout(timer);
    timer = setTimeout(function () { post(false); }, 100);
  }

  document.addEventListener("atlas:figures-drawn", function () {
    ready = true;
    post(true);
  });
  window.addEventListener("load", function () { post(true); });
  window.addEventListener("resize", soon);
  if (window.ResizeObserver) {
    new ResizeObserver(soon).observe(main);
  }
})();
