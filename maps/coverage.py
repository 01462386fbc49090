"""The coverage map: every zone filled by its school, one layer per level.

Neighbouring zones always differ in colour (graph colouring on shared edges), zones served by
several schools (多校划片) are hatched with a dashed outline, gaps and overlaps inside the
area sit in their own layer, and schools are searchable circle markers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import folium
import folium.plugins
import numpy as np
import shapely
from shapely.geometry import Polygon

from geo.models import School, Zone
from maps.base import (
    OSM,
    TilesArg,
    add_layer_control,
    add_legend,
    base_map,
    register_layers,
    school_layer,
    school_popup_rows,
    school_utilisation,
)
from maps.colouring import zone_colours
from maps.districts import LABELS as DISTRICT_LABELS
from maps.districts import DistrictGroup, add_districts
from maps.geometry import ProblemAreas, bounds_of, display_tolerance_deg, find_problem_areas, to_metric
from maps.layer import LightGeoJson
from maps.styles import (
    GAP_COLOUR,
    HATCH_COLOUR,
    OVERLAP_COLOUR,
    SCHOOL_FILL,
    ZONE_EDGE,
    ZONE_FILL_OPACITY,
    ZONE_PALETTE,
    Lang,
    LegendItem,
    check_lang,
    escape,
    fmt_hectares,
    fmt_int,
    fmt_share,
    label,
    level_label,
)


def zone_title(zone: Zone, by_code: Mapping[str, School]) -> str:
    """A zone's display name: its own name, else its schools' names, else its codes."""
    if zone.name:
        return zone.name
    names = [by_code[c].name if c in by_code else c for c in zone.school_codes]
    return " / ".join(names)


def zone_rows(zone: Zone, level: str, lang: Lang, by_code: Mapping[str, School],
              utilisation: Mapping[str, float] | None) -> list[tuple[str, str]]:
    """Popup rows of a zone: level, grades, then each school's name, capacity, enrolment, utilisation."""
    rows: list[tuple[str, str]] = [(label("levels", lang), level_label(level, lang))]
    if zone.grades:
        rows.append((label("grades", lang), ", ".join(zone.grades)))
    if len(zone.school_codes) > 1:
        rows.append((label("zone", lang), label("shared_zone", lang)))
    for code in zone.school_codes:
        s = by_code.get(code)
        if s is None:
            rows.append((label("school", lang), f"{code} ({label('unknown', lang)})"))
            continue
        u = school_utilisation(s, utilisation)
        rows.append((label("school", lang), f"{s.name} ({s.code})"))
        rows.append((label("capacity", lang), fmt_int(s.capacity, lang)))
        rows.append((label("enrolment", lang), fmt_int(s.enrolment, lang)))
        rows.append((label("utilisation", lang), fmt_share(u) if u is not None else label("unknown", lang)))
    if zone.grade_start_years:
        rows.append((label("in_force_from", lang), str(min(zone.grade_start_years.values()))))
    return rows


def _stripes(m: folium.Map, cache: dict[str, folium.plugins.StripePattern], colour: str) -> folium.plugins.StripePattern:
    """One stripe pattern per fill colour: dark stripes over the zone's own colour."""
    if colour not in cache:
        cache[colour] = folium.plugins.StripePattern(
            angle=-45, weight=2, space_weight=4, color=HATCH_COLOUR, opacity=0.7,
            space_color=colour, space_opacity=ZONE_FILL_OPACITY,
        )
        cache[colour].add_to(m)
    return cache[colour]


def zone_styles(m: folium.Map, fills: Sequence[str], *, hatch: Sequence[bool] | None = None,
                class_name: str = "catchment-zone", opacity: float = ZONE_FILL_OPACITY,
                weight: float = 0.8) -> list[dict[str, Any]]:
    """Leaflet styles per zone; ``hatch[i]`` stripes zone ``i`` with a thick dashed outline."""
    patterns: dict[str, folium.plugins.StripePattern] = {}
    styles: list[dict[str, Any]] = []
    for i, fill in enumerate(fills):
        st: dict[str, Any] = {"fillColor": fill, "color": ZONE_EDGE, "weight": weight, "fillOpacity": opacity,
                              "className": class_name}
        if hatch is not None and hatch[i]:
            st.update({"fillPattern": _stripes(m, patterns, fill), "fillOpacity": 1.0, "weight": 2.5,
                       "dashArray": "6 4", "color": HATCH_COLOUR, "className": f"{class_name} {class_name}-multi"})
        styles.append(st)
    return styles


def problem_layer(problems: ProblemAreas, *, lang: Lang, tolerance_deg: float) -> LightGeoJson:
    """Gaps (dark) and overlaps (magenta) with their area in the popup."""
    polys: list[Polygon] = [*problems.gaps, *problems.overlaps]
    kinds = ["gap"] * len(problems.gaps) + ["overlap"] * len(problems.overlaps)
    areas = shapely.area(to_metric(polys)) if polys else np.empty(0)
    styles = {
        "gap": {"fillColor": GAP_COLOUR, "color": GAP_COLOUR, "weight": 2, "fillOpacity": 0.45, "className": "catchment-gap"},
        "overlap": {"fillColor": OVERLAP_COLOUR, "color": OVERLAP_COLOUR, "weight": 2, "fillOpacity": 0.6,
                    "className": "catchment-overlap"},
    }
    return LightGeoJson(
        polys,
        names=[label(k, lang) for k in kinds],
        styles=[styles[k] for k in kinds],
        rows=[[(label("area", lang), fmt_hectares(a, lang))] for a in areas],
        tolerance_deg=tolerance_deg,
        coverage=False,
    )


def coverage_map(
    levels: Mapping[str, Sequence[Zone]],
    schools: Sequence[School],
    *,
    lang: str = "en",
    tiles: TilesArg = OSM,
    utilisation: Mapping[str, float] | None = None,
    problems: Mapping[str, ProblemAreas] | None = None,
    find_problems: bool = True,
    min_problem_m2: float = 100.0,
    tolerance_deg: float | None = None,
    districts: Sequence[DistrictGroup] | None = None,
) -> folium.Map:
    """The coverage map of one or more levels.

    Parameters
    ----------
    levels
        Zones per level name, in the order the layers should appear (the first is shown,
        the others start hidden). Geometries EPSG:4326.
    schools
        Schools to mark; zone popups take names, capacity and enrolment from them by code.
    lang
        ``"en"`` or ``"zh"``.
    tiles
        See :func:`maps.base.base_map` (``"none"`` for offline).
    utilisation
        Pupils / seats per school code; default enrolment / capacity where both are known.
    problems
        Gaps and overlaps per level (e.g. from the validator). Levels missing here are
        computed with :func:`maps.geometry.find_problem_areas` when ``find_problems``.
    find_problems
        Compute the problem areas of levels that ``problems`` does not give.
    min_problem_m2
        Smallest computed gap or overlap shown, square metres.
    tolerance_deg
        Simplification tolerance; default from the extent (:func:`maps.geometry.display_tolerance_deg`).
    districts
        Colour by 学区 instead: the union of each district's member zones in its colour, lines from
        members to the lead, one legend row per district (the zone layers start hidden).

    Returns
    -------
    folium.Map
        Layers are published as ``window.catchmentLayers["zones:LEVEL"]``,
        ``["problems:LEVEL"]`` and ``["schools"]``.
    """
    lg = check_lang(lang)
    by_code = {s.code: s for s in schools}
    all_geoms = [z.geometry for zs in levels.values() for z in zs]
    bounds = bounds_of(all_geoms, points=[(s.lon, s.lat) for s in schools] if not all_geoms else ())
    tol = display_tolerance_deg(bounds) if tolerance_deg is None else tolerance_deg
    m = base_map(bounds=bounds, lang=lg, tiles=tiles)
    registry: dict[str, LightGeoJson] = {}
    shown = _Shown()
    for n, (level, zones) in enumerate(levels.items()):
        found = (problems or {}).get(level)
        if found is None and find_problems:
            found = find_problem_areas(zones, min_area_m2=min_problem_m2)
        registry |= _level_layers(m, level, zones, found, first=n == 0 and districts is None, lang=lg, by_code=by_code,
                                  utilisation=utilisation, tol=tol, shown=shown)
    rows = [school_popup_rows(s, lg, utilisation=school_utilisation(s, utilisation)) for s in schools]
    registry["schools"] = school_layer(schools, lang=lg, rows=rows, m=m)
    if districts is None:
        add_legend(m, label("coverage_title", lg), coverage_legend(shown, lg), palette=ZONE_PALETTE)
    else:
        dlayer, items = add_districts(m, districts, [z for zones in levels.values() for z in zones], by_code, lang=lg,
                                      tolerance_deg=tol)
        if dlayer is not None:
            registry["districts"] = dlayer
        items += coverage_legend(shown, lg)[1:]  # what the zone layers drew, but the palette row
        add_legend(m, label("districts", lg, table=DISTRICT_LABELS), items, palette=ZONE_PALETTE)
    add_layer_control(m)
    register_layers(m, registry)
    return m


@dataclass
class _Shown:
    """What the layers drew, so the legend explains only that."""

    multi: bool = False
    gap: bool = False
    overlap: bool = False


def _level_layers(m: folium.Map, level: str, zones: Sequence[Zone], found: ProblemAreas | None, *, first: bool, lang: Lang,
                  by_code: Mapping[str, School], utilisation: Mapping[str, float] | None, tol: float,
                  shown: _Shown) -> dict[str, LightGeoJson]:
    """One level's zones layer and, when it has any, its gaps-and-overlaps layer (shown for the first level)."""
    name = level_label(level, lang)
    group = folium.FeatureGroup(name=escape(f"{label('zones', lang)}: {name}"), show=first)
    multi = [len(z.school_codes) > 1 for z in zones]
    shown.multi |= any(multi)
    layer = LightGeoJson(
        [z.geometry for z in zones],
        names=[zone_title(z, by_code) for z in zones],
        styles=zone_styles(m, zone_colours(zones), hatch=multi),
        rows=[zone_rows(z, level, lang, by_code, utilisation) for z in zones],
        tolerance_deg=tol,
    )
    layer.add_to(group)
    group.add_to(m)
    out = {f"zones:{level}": layer}
    if found is not None and not found.empty:
        shown.gap |= bool(found.gaps)
        shown.overlap |= bool(found.overlaps)
        pgroup = folium.FeatureGroup(name=escape(f"{label('problems', lang)}: {name}"), show=first)
        player = problem_layer(found, lang=lang, tolerance_deg=tol)
        player.add_to(pgroup)
        pgroup.add_to(m)
        out[f"problems:{level}"] = player
    return out


def coverage_legend(shown: _Shown, lang: Lang) -> list[LegendItem]:
    """The coverage legend: neighbours differ in colour, and what was drawn (hatched, gaps, overlaps), schools."""
    items = [LegendItem("fill", "palette", label("neighbours_differ", lang))]
    if shown.multi:
        items.append(LegendItem("hatch", ZONE_PALETTE[0], label("several_schools", lang)))
    if shown.gap:
        items.append(LegendItem("gap", GAP_COLOUR, label("gap", lang)))
    if shown.overlap:
        items.append(LegendItem("overlap", OVERLAP_COLOUR, label("overlap", lang)))
    items.append(LegendItem("circle", SCHOOL_FILL, label("school", lang)))
    return items
