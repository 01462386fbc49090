"""The parent's view of a lookup: the address, its zone(s), the school(s) and how far they are.

The zones covering the point are filled and outlined; nearby zones are faded around them. Each
school is joined to the point by a straight dashed line labelled with its distance, and by the
walking route when one is given. The explanation sentence sits in a box.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import folium
import numpy as np
import shapely
from branca.element import Element
from shapely.geometry import LineString

from geo.distance import WGS84
from geo.models import LookupResult, School, SchoolDistance, Zone, ZoneHit
from maps.base import OSM, TilesArg, add_info_box, add_legend, base_map, register_layers, school_layer
from maps.coverage import zone_title
from maps.geometry import bounds_of, display_tolerance_deg
from maps.layer import LightGeoJson
from maps.styles import (
    FADED_FILL,
    LINE_COLOUR,
    POINT_COLOUR,
    ROUTE_COLOUR,
    Lang,
    LegendItem,
    check_lang,
    escape,
    fmt_distance,
    fmt_int,
    label,
    level_label,
    pick_text,
)

#: Colours of the answering zones, one per level in order (orange, blue, purple, green).
HIT_FILLS = ("#e66101", "#1f78b4", "#5e3c99", "#1b7837")


def _same(a: Zone, b: Zone) -> bool:
    return a is b or (a.id is not None and a.id == b.id) or (a.school_codes == b.school_codes and a.geometry.equals(b.geometry))


def lookup_map(
    result: LookupResult,
    *,
    nearby: Sequence[Zone] = (),
    explanation: str | Mapping[str, str] | None = None,
    routes: Mapping[str, LineString] | None = None,
    lang: str = "en",
    tiles: TilesArg = OSM,
) -> folium.Map:
    """The map of one lookup answer.

    Parameters
    ----------
    result
        From :func:`geo.lookup.resolve.resolve`; (lon, lat) EPSG:4326.
    nearby
        Zones around the point to draw faded for context (the answering zones are skipped).
    explanation
        The sentence to show: a string, or ``{"en": ..., "zh": ...}`` (:func:`geo.lookup.explain.explain`).
    routes
        Walking (or driving) routes by school code, LineStrings in EPSG:4326 from the point to
        the school; drawn with their length.
    lang, tiles
        See :func:`maps.base.base_map`.
    """
    lg = check_lang(lang)
    hits, served, nearest_only = _answered(result)
    schools = [sd.school for _, sd in served.values()] + [sd.school for _, sd in nearest_only.values()
                                                          if sd.school.code not in served]
    by_code: dict[str, School] = {s.code: s for s in schools}
    faded = [z for z in nearby if not any(_same(z, h.zone) for _, h in hits)]
    route_lines = dict(routes or {})
    focus = [h.zone.geometry for _, h in hits] + list(route_lines.values())
    bounds = bounds_of(focus, points=[(result.lon, result.lat)] + [(s.lon, s.lat) for s in schools])
    tol = display_tolerance_deg(bounds)
    m = base_map(bounds=bounds, lang=lg, tiles=tiles)
    registry: dict[str, Element] = {}
    if faded:
        registry["nearby"] = _nearby_layer(faded, by_code, lg, tol).add_to(m)
    fills = {a.level: HIT_FILLS[i % len(HIT_FILLS)] for i, a in enumerate(result.levels)}
    if hits:
        registry["zones"] = _hits_layer(hits, fills, by_code, lg, tol).add_to(m)
    _lines_layer(result, [*served.values(), *nearest_only.values()], route_lines, by_code, lg).add_to(m)
    rows = [[(label("code", lg), s.code),
             (label("levels", lg), ", ".join(level_label(v, lg) for v in s.levels)),
             (label("distance", lg), fmt_distance(_distance(s, served, nearest_only), lg)),
             (label("enrolment", lg), fmt_int(s.enrolment, lg))] for s in schools]
    styles = [{"radius": 7, "weight": 2.5, "fillColor": "#ffffff" if s.code in served else "#dddddd"} for s in schools]
    registry["schools"] = school_layer(schools, lang=lg, rows=rows, styles=styles, search=False, m=m)
    registry["point"] = _point_marker(result, schools, lg).add_to(m)
    if explanation is not None:
        add_info_box(m, f"<div style='max-width:300px'>{escape(pick_text(explanation, lg))}</div>")
    items = lookup_legend([lv for lv, _ in hits], fills, faded=bool(faded), routes=bool(route_lines), served=bool(served),
                          lang=lg)
    add_legend(m, label("your_zone", lg) if hits else label("nearest_school", lg), items)
    register_layers(m, registry)
    return m


Answered = dict[str, tuple[str, SchoolDistance]]


def _answered(result: LookupResult) -> tuple[list[tuple[str, ZoneHit]], Answered, Answered]:
    """The zones hit (largest first), the schools serving the point, and the nearest school of levels no zone answers."""
    # Largest zone first, so a small zone (primary) is drawn on top of a large one (high).
    hits = sorted(((a.level, h) for a in result.levels for h in a.hits), key=lambda p: -p[1].zone.geometry.area)
    served: Answered = {}
    for a in result.levels:
        for h in a.hits:
            for sd in h.schools:
                served.setdefault(sd.school.code, (a.level, sd))
    nearest_only: Answered = {}
    for a in result.levels:
        if not a.hits and a.nearest:
            nearest_only.setdefault(a.nearest[0].school.code, (a.level, a.nearest[0]))
    return hits, served, nearest_only


def _nearby_layer(faded: Sequence[Zone], by_code: Mapping[str, School], lang: Lang, tol: float) -> LightGeoJson:
    return LightGeoJson(
        [z.geometry for z in faded], names=[zone_title(z, by_code) for z in faded],
        styles=[{"fillColor": FADED_FILL, "fillOpacity": 0.06, "color": "#9e9e9e", "weight": 1,
                 "className": "catchment-nearby"}] * len(faded),
        tolerance_deg=tol, name=label("nearby_zones", lang), control=False,
    )


def _hits_layer(hits: Sequence[tuple[str, ZoneHit]], fills: Mapping[str, str], by_code: Mapping[str, School], lang: Lang,
                tol: float) -> LightGeoJson:
    return LightGeoJson(
        [h.zone.geometry for _, h in hits],
        names=[f"{level_label(lv, lang)}: {zone_title(h.zone, by_code)}" for lv, h in hits],
        # The smallest zone is filled; larger ones under it get a light fill, so colours do not mix.
        styles=[{"fillColor": fills[lv], "fillOpacity": 0.35 if k == len(hits) - 1 else 0.1, "color": fills[lv],
                 "weight": 3, "className": "catchment-zone"} for k, (lv, _) in enumerate(hits)],
        rows=[[(label("levels", lang), level_label(lv, lang)),
               *[(label("school", lang), f"{sd.school.name} ({sd.school.code})") for sd in h.schools]]
              for lv, h in hits],
        tolerance_deg=tol, coverage=False, name=label("your_zone", lang), control=False,
    )


def _lines_layer(result: LookupResult, answered: Sequence[tuple[str, SchoolDistance]], route_lines: Mapping[str, LineString],
                 by_code: Mapping[str, School], lang: Lang) -> folium.FeatureGroup:
    """Straight lines to each school with their distance, and the street routes with their length."""
    lines = folium.FeatureGroup(name=label("straight_line", lang), control=False)
    for _, sd in answered:
        s = sd.school
        folium.PolyLine(
            [[result.lat, result.lon], [s.lat, s.lon]], color=LINE_COLOUR, weight=2.5, dash_array="6 6",
            class_name="catchment-line",
            tooltip=folium.Tooltip(escape(f"{fmt_distance(sd.distance_m, lang)} · {s.name}"), permanent=True,
                                   class_name="catchment-label", direction="center"),
        ).add_to(lines)
    for code, line in route_lines.items():
        length = route_length_m(line)
        name = by_code[code].name if code in by_code else code
        folium.PolyLine(
            [[y, x] for x, y in np.asarray(line.coords)[:, :2]], color=ROUTE_COLOUR, weight=4, opacity=0.85,
            class_name="catchment-route",
            tooltip=folium.Tooltip(escape(f"{label('walking_route', lang)}: {fmt_distance(length, lang)} · {name}"), sticky=True),
        ).add_to(lines)
    return lines


def _point_marker(result: LookupResult, schools: Sequence[School], lang: Lang) -> folium.CircleMarker:
    # The address label goes on the side away from the schools, clear of the distance labels.
    east = sum(s.lon - result.lon for s in schools)
    side = "left" if east > 0 else "right"
    return folium.CircleMarker(
        location=[result.lat, result.lon], radius=8, color="#ffffff", weight=3, fill=True, fill_color=POINT_COLOUR,
        fill_opacity=1.0, class_name="catchment-point",
        tooltip=folium.Tooltip(escape(label("your_address", lang)), permanent=True, direction=side,
                               offset=(-10 if side == "left" else 10, 0), class_name="catchment-label"),
    )


def lookup_legend(hit_levels: Sequence[str], fills: Mapping[str, str], *, faded: bool, routes: bool, served: bool,
                  lang: Lang) -> list[LegendItem]:
    """The lookup legend: the address, the zones hit per level, nearby zones, lines, routes, schools."""
    items = [LegendItem("circle", POINT_COLOUR, label("your_address", lang))]
    for lv in dict.fromkeys(hit_levels):
        items.append(LegendItem("fill", fills[lv], f"{label('your_zone', lang)}: {level_label(lv, lang)}"))
    if faded:
        items.append(LegendItem("fill", FADED_FILL, label("nearby_zones", lang)))
    items.append(LegendItem("dash", LINE_COLOUR, label("straight_line", lang)))
    if routes:
        items.append(LegendItem("line", ROUTE_COLOUR, label("walking_route", lang)))
    items.append(LegendItem("circle", "#ffffff", label("school", lang) if served else label("nearest_school", lang)))
    return items


def _distance(s: School, *groups: Mapping[str, tuple[str, SchoolDistance]]) -> float:
    for g in groups:
        if s.code in g:
            return g[s.code][1].distance_m
    return float("nan")


def route_length_m(line: LineString) -> float:
    """Geodesic length in metres of a (lon, lat) EPSG:4326 line."""
    return float(WGS84.geometry_length(shapely.force_2d(line)))
