/* Safety Partnership Atlas: small clientside helpers (no server round trip). */
window.dash_clientside = Object.assign({}, window.dash_clientside, {
  atlas: {
    /* After a city is picked, empty the city search box so the next name starts afresh
       (Dash keeps the typed text: "Memphis" + "Toledo" searched for "MemphisToledo"). */
    clearSearch: function () {
      return "";
    },
    /* Play the years (issue 18): the button starts/pauses a timer; each tick moves the year slider one
       year, and the ordinary year path does the rest (URL, map patch, ranking: geometry never resent).
       Playing stops at the last year; pressing play there starts again from the trends' first year. */
    play: function (clicks, ticks, year, max, range, disabled) {
      var nu = window.dash_clientside.no_update;
      var trigger = (window.dash_clientside.callback_context.triggered || []).map(function (t) {
        return t.prop_id;
      });
      var idle = ["▶ Play years", "false"];
      var playing = ["❚❚ Pause", "true"];
      if (trigger.indexOf("play.n_clicks") >= 0) {
        if (!disabled) return [nu, true].concat(idle);
        var start = year >= max ? (range && range[0] < max ? range[0] : year) : nu;
        return [start, false].concat(playing);
      }
      if (disabled) return [nu, nu, nu, nu];
      if (year + 1 >= max) return [max, true].concat(idle);
      return [year + 1, false].concat(playing);
    }
  }
});

/* The hero map (issue 18): fit the lower 48 to the map's real size, move to Alaska, Hawaii or Puerto
   Rico, and name the selected and program places in an HTML layer (no glyph server: MapLibre text
   needs glyphs from the network, HTML uses the page's system fonts). */
(function () {
  "use strict";

  var REGIONS = {
    lower48: [-124.8, 24.4, -66.9, 49.4],
    alaska: [-170.0, 51.0, -129.5, 71.5],
    hawaii: [-160.4, 18.8, -154.7, 22.3],
    "puerto-rico": [-67.4, 17.85, -65.2, 18.55]
  };
  var COLOURBAR_PX = 0; /* px kept free on the right (plotly already keeps the colour bar outside the map) */
  var LABEL_PX = 13;
  var bound = null;
  var FIT_EVENT = { type: "atlas-fit" };
  var frame = 0;

  function parts() {
    var gd = document.querySelector("#map .js-plotly-plot");
    var full = gd && gd._fullLayout;
    var sub = full && full.map && full.map._subplot;
    return sub && sub.map ? { gd: gd, map: sub.map } : null;
  }

  function mercatorY(lat) {
    return Math.log(Math.tan(Math.PI / 4 + (lat * Math.PI) / 360));
  }

  /* Centre and zoom that show [west, south, east, north] in width x height px, the colour bar's
     strip on the right left free. */
  function view(box, width, height) {
    var usable = Math.max(100, width - COLOURBAR_PX);
    var spanX = (box[2] - box[0]) / 360;
    var spanY = (mercatorY(box[3]) - mercatorY(box[1])) / (2 * Math.PI);
    var zoom = Math.min(Math.log2((usable * 0.96) / (512 * spanX)), Math.log2((height * 0.97) / (512 * spanY)));
    var midY = (mercatorY(box[3]) + mercatorY(box[1])) / 2;
    var degPerPx = 360 / (512 * Math.pow(2, zoom));
    return {
      center: {
        lon: (box[0] + box[2]) / 2 + (COLOURBAR_PX / 2) * degPerPx,
        lat: ((2 * Math.atan(Math.exp(midY)) - Math.PI / 2) * 180) / Math.PI
      },
      zoom: Math.max(0, Math.min(12, zoom))
    };
  }

  function show(region, byPerson) {
    var p = parts();
    if (byPerson) p && (p.gd._atlasUserMoved = region !== "lower48");
    if (!p || !REGIONS[region]) return;
    var box = p.map.getContainer();
    p.gd._atlasFitSize = box.clientWidth + "x" + box.clientHeight;
    var v = view(REGIONS[region], box.clientWidth, box.clientHeight);
    /* Moved through MapLibre with an originalEvent, plotly.js records the view as a person's edit, so
       it survives the patches that follow (uirevision); Plotly.relayout's view would be reset by them. */
    p.map.jumpTo({ center: [v.center.lon, v.center.lat], zoom: v.zoom }, { originalEvent: FIT_EVENT });
  }

  /* Selected places first (bold), then program sites not already named: one list in priority order. */
  function labelList(gd) {
    var byName = {};
    (gd.data || []).forEach(function (t) {
      byName[t.name] = t;
    });
    var out = { lon: [], lat: [], text: [], strong: [] };
    var seen = {};
    [["Selected labels", true], ["Program labels", false]].forEach(function (pair) {
      var t = byName[pair[0]];
      if (!t || !t.text) return;
      for (var i = 0; i < t.text.length; i++) {
        var key = t.lon[i] + "," + t.lat[i];
        if (seen[key]) continue;
        seen[key] = true;
        out.lon.push(t.lon[i]);
        out.lat.push(t.lat[i]);
        out.text.push(t.text[i]);
        out.strong.push(pair[1]);
      }
    });
    return out;
  }

  /* Names in priority order (the trace's order); a name that would overlap one already placed tries
     the other side of its dot, then is left out (hovering still names every place). */
  function drawLabels() {
    frame = 0;
    var p = parts();
    var layer = document.getElementById("map-labels");
    if (!p || !layer) return;
    var trace = labelList(p.gd);
    var canvas = p.map.getCanvas().getBoundingClientRect();
    var host = layer.getBoundingClientRect();
    var placed = [];
    var html = [];
    var n = trace.text.length;
    for (var i = 0; i < n; i++) {
      var pt = p.map.project([trace.lon[i], trace.lat[i]]);
      if (pt.x < 0 || pt.y < 0 || pt.x > canvas.width - COLOURBAR_PX || pt.y > canvas.height) continue;
      var x = pt.x + canvas.left - host.left;
      var y = pt.y + canvas.top - host.top;
      var strong = trace.strong[i];
      var w = trace.text[i].length * LABEL_PX * (strong ? 0.62 : 0.56) + 8;
      var h = LABEL_PX + 6;
      var sides = [[x + 9, y - h / 2], [x - 9 - w, y - h / 2], [x - w / 2, y - h - 8], [x - w / 2, y + 8]];
      for (var s = 0; s < sides.length; s++) {
        var b = { l: sides[s][0], t: sides[s][1], r: sides[s][0] + w, b: sides[s][1] + h };
        var clash = placed.some(function (o) {
          return b.l < o.r && o.l < b.r && b.t < o.b && o.t < b.b;
        });
        var last = s === sides.length - 1;
        /* on a desktop a selected place is always named; on a phone a name that would cover another
           waits for a zoom (tapping still names every place) */
        if ((!clash && b.l >= 0) || (strong && last && canvas.width >= 700)) {
          placed.push(b);
          html.push(
            '<span class="map-label' + (strong ? " selected" : "") + '" style="left:' + Math.round(b.l) +
              "px;top:" + Math.round(b.t) + 'px">' + escapeText(trace.text[i]) + "</span>"
          );
          break;
        }
      }
    }
    layer.innerHTML = html.join("");
    layer.setAttribute("data-count", String(placed.length));
  }

  function escapeText(text) {
    return String(text).replace(/[&<>"]/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" }[c];
    });
  }

  function schedule() {
    if (!frame) frame = window.requestAnimationFrame(drawLabels);
  }

  /* A new map instance (first draw, or Dash re-created the graph): fit the lower 48 once, then keep the
     names on their places as the map moves or its data change. */
  function watch() {
    var p = parts();
    if (!p || p.map === bound) return;
    if (!p.map.loaded()) return;
    bound = p.map;
    var gd = p.gd;
    p.map.on("move", schedule);
    p.map.on("movestart", function (event) {
      if (event && event.originalEvent && event.originalEvent !== FIT_EVENT) gd._atlasUserMoved = true;
    });
    p.map.on("resize", function () {
      var box = p.map.getContainer();
      var size = box.clientWidth + "x" + box.clientHeight;
      if (!gd._atlasUserMoved && size !== gd._atlasFitSize) show("lower48"); /* the box settled: fit again */
      schedule();
    });
    p.gd.on("plotly_afterplot", schedule);
    if (!p.gd._atlasFitted) {
      p.gd._atlasFitted = true;
      show("lower48");
    }
    schedule();
  }

  document.addEventListener("click", function (event) {
    var region = event.target.closest && event.target.closest("[data-region]");
    if (region) show(region.getAttribute("data-region"), true);
    var toggle = event.target.closest && event.target.closest("#controls-toggle, .drawer-close");
    if (toggle) {
      var open = !document.body.classList.contains("drawer-open");
      document.body.classList.toggle("drawer-open", open);
      var button = document.getElementById("controls-toggle");
      if (button) button.setAttribute("aria-expanded", String(open));
    }
  });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && document.body.classList.contains("drawer-open")) {
      document.body.classList.remove("drawer-open");
    }
  });
  window.addEventListener("resize", function () {
    var p = parts();
    if (p && window.innerWidth !== watch.width) {
      watch.width = window.innerWidth;
      if (!p.gd._atlasUserMoved) show("lower48");
    }
  });
  watch.width = window.innerWidth;
  window.setInterval(watch, 400);
})();
