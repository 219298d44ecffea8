/* Safety Partnership Atlas: draw the figures of a standalone page (embeds, briefing mode).
 * Each graph container names the <script type="application/json"> block holding its figure
 * (data-figure); no inline script anywhere, so a strict Content-Security-Policy applies.
 * Containers marked data-lazy are drawn by the page's own script (present.js) when shown.
 */
(function () {
  "use strict";

  function spec(el) {
    var source = document.getElementById(el.getAttribute("data-figure"));
    return source ? JSON.parse(source.textContent) : null;
  }

  /* Multiply every font size in a layout (projector scaling); returns a copy. */
  function scaleFonts(value, factor, key) {
    if (Array.isArray(value)) {
      return value.map(function (v) { return scaleFonts(v, factor, key); });
    }
    if (value && typeof value === "object") {
      var out = {};
      Object.keys(value).forEach(function (k) {
        out[k] = scaleFonts(value[k], factor, k);
      });
      if (key && /font$/i.test(key) && typeof out.size === "number") {
        out.size = Math.round(out.size * factor);
      }
      return out;
    }
    return value;
  }

  /* Fonts, margins and annotation offsets grow together, so text keeps its room. */
  function scaleLayout(layout, factor) {
    var out = scaleFonts(layout, factor, null);
    if (out.margin) {
      ["l", "r", "t", "b"].forEach(function (side) {
        if (typeof out.margin[side] === "number") out.margin[side] = Math.round(out.margin[side] * factor);
      });
    }
    (out.annotations || []).forEach(function (a) {
      if (typeof a.yshift === "number") a.yshift = Math.round(a.yshift * factor);
    });
    return out;
  }

  function mercatorY(lat) {
    lat = Math.max(-85, Math.min(85, lat));
    return Math.log(Math.tan(Math.PI / 4 + (lat * Math.PI) / 360));
  }

  /* Centre and zoom showing [west, south, east, north] in a width x height px map. */
  function fitView(bounds, width, height, padding) {
    var spanX = Math.max(bounds[2] - bounds[0], 1e-4) / 360;
    var spanY = Math.max(mercatorY(bounds[3]) - mercatorY(bounds[1]), 1e-6) / (2 * Math.PI);
    var zoom = Math.min(
      Math.log2((width * (1 - 2 * padding)) / (512 * spanX)),
      Math.log2((height * (1 - 2 * padding)) / (512 * spanY))
    );
    var midY = (mercatorY(bounds[3]) + mercatorY(bounds[1])) / 2;
    return {
      center: {
        lon: (bounds[0] + bounds[2]) / 2,
        lat: ((2 * Math.atan(Math.exp(midY)) - Math.PI / 2) * 180) / Math.PI
      },
      zoom: Math.max(0, Math.min(14, zoom))
    };
  }

  function fitOptions(el) {
    var raw = el.getAttribute("data-fit-bounds");
    if (!raw) return null;
    return {
      bounds: JSON.parse(raw),
      padding: parseFloat(el.getAttribute("data-fit-padding") || "0.05"),
      reserve: parseFloat(el.getAttribute("data-fit-reserve") || "0")
    };
  }

  /* data-fit-bounds="[w,s,e,n]" (data-fit-reserve: px kept for a colour bar): zoom to show the
   * box at the element's real size, not the size the figure was built for. A fixed-height
   * figure (an embed) also gets shorter when a narrow frame leaves the box little width. */
  function fitMap(el, layout, factor) {
    var fit = fitOptions(el);
    if (!fit || !layout.map) return;
    var m = layout.margin || {};
    var fixed = typeof layout.height === "number";
    var width = el.clientWidth - (m.l || 0) - (m.r || 0) - fit.reserve * factor;
    var height = (fixed ? layout.height : el.clientHeight) - (m.t || 0) - (m.b || 0);
    if (width < 50 || height < 50) return;
    if (fixed) {
      var b = fit.bounds;
      var aspect = ((b[2] - b[0]) / 360) / ((mercatorY(b[3]) - mercatorY(b[1])) / (2 * Math.PI));
      var wanted = Math.max(220, Math.round(width / aspect / (1 - 2 * fit.padding)));
      if (wanted < height) {
        layout.height -= height - wanted;
        height = wanted;
      }
    }
    var view = fitView(fit.bounds, width, height, fit.padding);
    layout.map.center = view.center;
    layout.map.zoom = view.zoom;
  }

  /* Once drawn, fit again to the map's actual canvas (the colour bar's real width). */
  function refit(el) {
    var fit = fitOptions(el);
    var full = el._fullLayout;
    var sub = full && full.map && full.map._subplot;
    if (!fit || !sub || !sub.map) return Promise.resolve(el);
    var box = sub.map.getContainer();
    if (box.clientWidth < 50 || box.clientHeight < 50) return Promise.resolve(el);
    var view = fitView(fit.bounds, box.clientWidth, box.clientHeight, fit.padding);
    if (Math.abs(view.zoom - full.map.zoom) < 0.02) return Promise.resolve(el);
    return window.Plotly.relayout(el, { "map.center": view.center, "map.zoom": view.zoom });
  }

  /* data-wrap-source: the source annotation ("Source: ...") is re-wrapped to the element's
   * width, so no line is cut at the right edge; the bottom margin grows by the added lines. */
  function wrapSource(el, layout) {
    if (!el.hasAttribute("data-wrap-source")) return;
    (layout.annotations || []).forEach(function (a) {
      if (typeof a.text !== "string" || a.text.indexOf("Source:") !== 0) return;
      var size = (a.font && a.font.size) || 14;
      var left = Math.max(0, ((layout.margin && layout.margin.l) || 0) + (a.xshift || 0));
      var maxChars = Math.max(20, Math.floor((el.clientWidth - left - 8) / (size * 0.58)));
      el.setAttribute("data-wrap-chars", String(maxChars));
      var before = a.text.split(/<br\s*\/?>/);
      var lines = [];
      before.forEach(function (line) {
        while (line.length > maxChars) {
          var cut = line.lastIndexOf(" ", maxChars);
          if (cut <= 0) break;
          lines.push(line.slice(0, cut));
          line = line.slice(cut + 1);
        }
        lines.push(line);
      });
      var added = lines.length - before.length;
      if (!added) return;
      a.text = lines.join("<br>");
      var grow = Math.round(added * size * 1.3);
      layout.margin = layout.margin || {};
      layout.margin.b = (layout.margin.b || 0) + grow;
      if (typeof layout.height === "number") layout.height += grow;
    });
  }

  /* Redraw (non-lazy) figures whose layout depends on their width: maps fitted to bounds and
   * wrapped source lines. Lazy figures (slides) are redrawn by their page's script. */
  var resizeTimer = null;
  var lastWidth = window.innerWidth;
  window.addEventListener("resize", function () {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(function () {
      if (window.innerWidth === lastWidth) return;  // a height change (the parent fitting us)
      lastWidth = window.innerWidth;
      var sel = "[data-figure][data-drawn]:not([data-lazy])";
      Array.prototype.forEach.call(document.querySelectorAll(sel), function (el) {
        if (el.hasAttribute("data-wrap-source") || el.hasAttribute("data-fit-bounds")) draw(el);
      });
    }, 250);
  });

  function draw(el, options) {
    var figure = spec(el);
    if (!figure || !window.Plotly) return Promise.resolve(null);
    var factor = (options && options.fontScale) || 1;
    var layout = factor !== 1 ? scaleLayout(figure.layout, factor) : figure.layout;
    wrapSource(el, layout);
    fitMap(el, layout, factor);
    if (typeof layout.height === "number") {
      // With responsive: true, Plotly drops a layout height without a width on every window
      // resize and takes the container's: give the container that height.
      el.style.height = layout.height + "px";
    }
    return window.Plotly.react(el, figure.data, layout, figure.config || {})
      .then(refit)
      .then(function () {
        el.setAttribute("data-drawn", "true");
        el.dispatchEvent(new CustomEvent("atlas:drawn", { bubbles: true }));
        return el;
      });
  }

  function purge(el) {
    if (window.Plotly && el.getAttribute("data-drawn")) {
      window.Plotly.purge(el);
      el.removeAttribute("data-drawn");
    }
  }

  window.AtlasFigures = { draw: draw, purge: purge, spec: spec, scaleLayout: scaleLayout, fitView: fitView };

  function drawAll() {
    var pending = Array.prototype.map.call(
      document.querySelectorAll("[data-figure]:not([data-lazy])"),
      function (el) { return draw(el); }
    );
    Promise.all(pending).then(function () {
      document.dispatchEvent(new CustomEvent("atlas:figures-drawn"));
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", drawAll);
  } else {
    drawAll();
  }
})();
