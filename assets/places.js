/* Safety Partnership Atlas, issue 13: the all-places dots of the map, recoloured in the browser.
   The layer file (/data/places/<offence>.json, see dashboard/views/places_layer.py) is fetched once per
   offence and kept (the browser caches it for a year): a year, measure or floor change then costs no
   request at all. Only a view with a population floor under 100,000 fetches anything. */
(function () {
  var files = {}; /* offence -> Promise of the layer JSON */
  var drawn = false; /* whether the dots trace holds dots (an empty trace is left alone) */
  var PLACES_TRACE = 0; /* figures/map.py TRACE_PLACES */
  var DEFAULT_MINPOP = 100000;

  function layerFile(template, offence) {
    if (!files[offence]) {
      files[offence] = fetch(template.replace("{offence}", offence), { credentials: "same-origin" }).then(
        function (response) {
          if (!response.ok) throw new Error("places layer: HTTP " + response.status);
          return response.json();
        }
      );
      files[offence].catch(function () {
        delete files[offence]; /* a failed fetch is tried again on the next change */
      });
    }
    return files[offence];
  }

  function round(value, decimals) {
    var f = Math.pow(10, decimals);
    return Math.round(value * f) / f;
  }

  /* The FBI population group of a population: file.groups lists each group with its lowest population,
     largest first (schema.PEER_GROUPS, sent by the server). */
  function groupOf(file, population) {
    if (!(population > 0)) return "";
    for (var g = 0; g < file.groups.length; g++) {
      if (population >= file.groups[g][1]) return file.groups[g][0];
    }
    return "";
  }

  /* The dots of one view: positions, sizes (by population), colours (the map's colour axis) and hover. */
  function dots(file, year, measure, minpop) {
    var out = { lon: [], lat: [], text: [], size: [], colour: [], hover: [] };
    var values = file.values[String(year)];
    if (!values) return out;
    var peers = (file.peer || {})[String(year)] || {};
    for (var k = 0; k < values.i.length; k++) {
      var population = values.p[k];
      if (population === null || population < minpop) continue;
      var i = values.i[k];
      var count = values.c[k];
      var rate = count === null || !(population > 0) ? null : round((count * 100000) / population, 1);
      var ratio = values.x[k] === null ? null : values.x[k] / 100;
      var peer = peers[groupOf(file, population)];
      var toPeer = rate === null || !peer ? null : round(rate / peer, 2);
      var colour;
      if (measure === "ratio") {
        var span = file.ratio_log2_range; /* figures/map.py RATIO_LOG2_RANGE: 1/4x .. 4x */
        colour = ratio === null || ratio <= 0 ? null : round(Math.max(-span, Math.min(span, Math.log2(ratio))), 1);
      } else {
        colour = measure === "count" ? count : rate;
      }
      out.lon.push(file.lon[i]);
      out.lat.push(file.lat[i]);
      out.text.push(file.names[i]);
      out.size.push(round(Math.max(2.5, Math.min(6, 2 + 1.2 * Math.sqrt(population / 10000))), 1));
      out.colour.push(colour === null ? "#a6a6a6" : colour);
      out.hover.push([rate === null ? "" : rate, count === null ? "" : count, ratio === null ? "" : ratio,
        toPeer === null ? "" : toPeer, population]);
    }
    return out;
  }

  /* Dots grow as one zooms in (a town of 20,000 is 3 px at national zoom, ~15 px at metro zoom): plotly
     sizes markers in fixed pixels, so the MapLibre layer's radius is scaled by zoom after every redraw. */
  function times(k) { return ["*", ["get", "mrc"], k]; } /* mrc: plotly's per-dot radius */
  var ZOOMED_RADIUS = ["interpolate", ["exponential", 1.6], ["zoom"], 4, times(1), 8, times(2.2), 11, times(5)];
  function scaleWithZoom(gd) {
    var sub = gd._fullLayout && gd._fullLayout.map && gd._fullLayout.map._subplot;
    var trace = gd._fullData && gd._fullData[PLACES_TRACE];
    if (!sub || !sub.map || !trace) return;
    var id = "plotly-trace-layer-" + trace.uid + "-circle";
    if (sub.map.getLayer(id)) sub.map.setPaintProperty(id, "circle-radius", ZOOMED_RADIUS);
  }
  function watch() {
    var gd = document.querySelector("#map .js-plotly-plot");
    if (!gd || gd._atlasPlacesWatched || !gd.on) return;
    gd._atlasPlacesWatched = true;
    gd.on("plotly_afterplot", function () { scaleWithZoom(gd); });
  }

  function patchFor(layer, shown) {
    var P = window.dash_clientside.Patch;
    var at = function (key) { return ["data", PLACES_TRACE].concat(key); };
    return new P()
      .assign(at(["lon"]), layer.lon)
      .assign(at(["lat"]), layer.lat)
      .assign(at(["text"]), layer.text)
      .assign(at(["customdata"]), layer.hover)
      .assign(at(["marker", "size"]), layer.size)
      .assign(at(["marker", "color"]), layer.colour)
      .assign(at(["showlegend"]), shown)
      .build();
  }

  window.dash_clientside = Object.assign({}, window.dash_clientside, {
    places: {
      /* Inputs: year, offence, measure, population floor; state: the layer URL template. */
      layer: function (year, offence, measure, minpop, template) {
        var floor = Number(minpop);
        if (!template || !(floor < DEFAULT_MINPOP)) {
          if (!drawn) return window.dash_clientside.no_update;
          drawn = false;
          var empty = { lon: [], lat: [], text: [], size: [], colour: [], hover: [] };
          return patchFor(empty, false);
        }
        return layerFile(template, offence).then(
          function (file) {
            drawn = true;
            watch();
            return patchFor(dots(file, year, measure, floor), true);
          },
          function () {
            return window.dash_clientside.no_update;
          }
        );
      }
    }
  });
})();
