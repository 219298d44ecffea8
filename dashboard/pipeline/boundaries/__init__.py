"""Display geometry for the map: city polygons and a light state backdrop, as GeoJSON.

Why these sources (see ``../shared/sources/boundaries/PROVENANCE.md``):

* City shapes come from the Census **cartographic boundary (CB) 2015 1:500k** place files. They are clipped
  to the shoreline, so Buffalo, Oakland and Richmond CA do not reach far into open water as the TIGER/Line
  *legal* polygons do (Richmond's legal area is 43% water). A place missing from CB 2015 (e.g. incorporated
  later) falls back to its TIGER/Line 2019 polygon and says so in ``boundary_source``. Caveat: CB clips only
  coastline and large water bodies; Wilmington DE keeps its Delaware River water (43.7 km² drawn, 28.2 km²
  land), as the Census does not treat that reach as open water.
* Land and water areas come from the TIGER/Line 2019 ``ALAND``/``AWATER`` attributes (the newer vintage,
  the one the PEP 2019 population refers to); CB 2015 attributes only when TIGER has none (``area_source``).
* Population is the Census PEP Vintage 2019 July 1, 2019 estimate, matched on state + exact ``NAMELSAD``
  ("Jackson city" in Tennessee). It is a display attribute, never a crime-rate denominator: rates use the
  FBI's own population.

Processing per city, in this order (``simplify_city``): NAD83 -> WGS84 (EPSG:4326; PROJ's "NAD83 to WGS 84
(1)" is a null transform, so coordinates are unchanged); drop holes (unincorporated enclaves) and islands
under 0.02 km2; snap to the coordinate grid with GEOS's precision reducer (it re-nodes, so slivers narrower
than the grid collapse without making the polygon invalid); Douglas-Peucker with ``preserve_topology=True``,
which only removes vertices, so the result stays on the grid; drop fragments under 0.02 km2 that snapping
cut from strips narrower than the grid; counter-clockwise exterior rings (RFC 7946); ``make_valid`` as a
last resort. Each city takes the coarsest tolerance of ``CITY_TOLERANCE_STEPS_M`` that is at most 400 m and
at most 4% of the square root of its area, and that keeps its drawn area within 1% of the unsimplified CB
polygon. The grid is 0.001 deg (3 decimals) for tolerances of 200 m or more, else 0.0001 deg.

Why: the map's first load must stay within 300 KB gzipped for geometry and data, so ``cities.geojson`` has
200 KB (gzip -6) for 320 cities. Levers measured on the 320 mapped cities (whole file with properties; area
in EPSG:5070 against the unsimplified CB polygon; "shift" is the symmetric difference divided by the
perimeter, i.e. how far the outline moved on average, median / 95th percentile over cities):

=============================================  ======  =======  ======  ==============  =====  =========
variant                                        coords  raw      gzip    max dArea       mean   shift (m)
=============================================  ======  =======  ======  ==============  =====  =========
0.001 deg, 5 decimals (the previous file)      85,130  1.98 MB  547 KB  1.00%           0.16%  11 / 18
0.001 deg, 4 decimals, snapped first           85,180  1.81 MB  433 KB  0.93%           0.15%  12 / 19
same, holes + islands under 0.02 km2 dropped   82,523  1.76 MB  421 KB  0.93%           0.15%  12 / 19
0.003 deg, 4 decimals, drops                   44,178  1.03 MB  251 KB  5.78% Daly C.   0.67%  45 / 64
0.0045 deg, 4 decimals, drops                  34,750  0.84 MB  205 KB  10.3% Cambridge 1.06%  70 / 95
0.003 deg, 3 decimals, drops                   45,341  0.96 MB  194 KB  6.53% Cambridge 0.65%  51 / 68
per city <= 400 m, 4 decimals, drops           44,834  1.04 MB  253 KB  1.00%           0.42%  45 / 69
per city <= 300 m, 3 decimals >= 200 m, drops  49,854  1.04 MB  210 KB  0.99%           0.40%  44 / 59
per city <= 400 m, 3 decimals >= 200 m, drops  44,284  0.95 MB  192 KB  1.00%           0.45%  52 / 72
=============================================  ======  =======  ======  ==============  =====  =========

The last row is the one built. Decimals are the cheapest lever (gzip cannot squeeze the last, random
digits: 5 -> 4 decimals saves 21% for ~10 m of position, 4 -> 3 another 24%); after that only fewer vertices
help, and a single tolerance small enough for small cities (Cambridge, Daly City lose 5-10% of their area at
0.003 deg) wastes bytes on large ones, hence a tolerance per city under a 1% area bound. Holes are 23% of
the raw vertices but the ones under 0.02 km2 are only 2% (436 holes, 5 km2 in all): topology-preserving
simplification keeps every hole as at least a triangle, so dropping more (< 0.05 km2: 5 KB less) buys little.

What it costs, in screen pixels (MapLibre, 512 px tiles, 40 N: zoom 3 = 7.5 km/px, zoom 10 = 59 m/px,
zoom 12 = 15 m/px): the national view is exact to the pixel; at metro zoom 10 outlines move by about one
pixel on average and at most ~7 px (400 m); at city zoom 12 they move 3-4 px on average and corners are cut
by up to ~27 px, so the shapes are generalised there (the previous file: ~7 px). Strips narrower than the
0.001 deg grid disappear (Houston's road-strip annexations, some in Waco, Tulsa, Corpus Christi): under
2 px wide at zoom 10. Neighbouring cities are simplified independently, so shared borders can show slivers
of up to ~2 x the tolerance.

States (a line backdrop): coverage simplification at 0.06 deg and 2 decimals gives 100 KB raw, 27 KB gzip
(0.03 deg / 3 decimals was 207 KB / 63 KB; 0.07 deg / 3 decimals 30 KB). Outlines move ~0.6 km on average,
sub-pixel at the national zoom; at zoom 10 a state line can be 10+ px off (Memphis / West Memphis).
"""
