"""Two plans compared: where the assigned school changes.

By default one map: plan B's zones filled, plan A's boundaries dashed on top, and the changed
areas (places whose set of assigned schools differs between the plans: the symmetric
difference of the assignment) highlighted with "from -> to" popups. ``side_by_side=True``
gives two synchronised maps (folium ``DualMap``) instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import folium
import folium.plugins
from shapely.geometry import MultiPolygon

from geo.models import Plan, School, Zone
from geo.planning.notice import changed_areas as notice_changes
from maps.assets import use_lean_assets
from maps.base import (
    OSM,
    TilesArg,
    add_info_box,
    add_layer_control,
    add_legend,
    add_page_css,
    base_map,
    register_layers,
    resolve_tiles,
    school_layer,
)
from maps.colouring import zone_colours
from maps.coverage import zone_styles, zone_title
from maps.geometry import bounds_of, display_tolerance_deg
from maps.layer import LightGeoJson
from maps.styles import (
    CHANGED_COLOUR,
    MOVED_UNIT_COLOUR,
    ZONE_PALETTE,
    Lang,
    LegendItem,
    check_lang,
    escape,
    fmt_hectares,
    label,
)

Key = tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ChangedArea:
    """Where plan A assigns ``before`` and plan B ``after`` (school codes; () = no zone). EPSG:4326."""

    geometry: MultiPolygon
    before: Key
    after: Key
    area_m2: float


def changed_areas(a: Sequence[Zone], b: Sequence[Zone], *, min_area_m2: float = 100.0) -> list[ChangedArea]:
    """Places whose assigned schools differ between plan ``a`` and plan ``b``, one entry per change.

    The same computation as the public notice (:func:`geo.planning.notice.changed_areas`): a
    place changes where the set of school sets covering it changes, so overlapping zones within
    one plan are not changes and identical plans have none. Changes smaller than ``min_area_m2``
    are left out (boundary noise). Ordered by area, largest first.
    """
    found = notice_changes(a, b, schools={}, min_area_m2=min_area_m2)
    return [ChangedArea(c.geometry, tuple(sorted(c.from_schools)), tuple(sorted(c.to_schools)), c.area_m2) for c in found]


@dataclass(frozen=True, slots=True)
class MovedUnit:
    """A demand unit (block) that plan B gives to another school than plan A. EPSG:4326."""

    id: str
    geometry: MultiPolygon
    before: str | None
    after: str | None
    pupils: float


def _names(key: Key, by_code: dict[str, School], lang: Lang) -> str:
    if not key:
        return label("none", lang)
    return " / ".join(by_code[c].name if c in by_code else c for c in key)


def _plan_name(plan: Plan | str, fallback: str) -> str:
    if isinstance(plan, Plan):
        return f"{plan.name} ({plan.school_year})"
    return plan or fallback


def _changed_layer(changes: Sequence[ChangedArea], by_code: dict[str, School], lang: Lang, tol: float) -> LightGeoJson:
    return LightGeoJson(
        [c.geometry for c in changes],
        names=[label("from_to", lang, a=_names(c.before, by_code, lang), b=_names(c.after, by_code, lang)) for c in changes],
        styles=[{"fillColor": CHANGED_COLOUR, "fillOpacity": 0.7, "color": "#7f2704", "weight": 1.5,
                 "className": "catchment-changed"}] * len(changes),
        rows=[[(label("plan_a", lang), _names(c.before, by_code, lang)), (label("plan_b", lang), _names(c.after, by_code, lang)),
               (label("changed_area", lang), fmt_hectares(c.area_m2, lang))] for c in changes],
        tolerance_deg=tol, coverage=False,
    )


def _moved_layer(moved: Sequence[MovedUnit], by_code: dict[str, School], lang: Lang, tol: float) -> LightGeoJson:
    def name(code: str | None) -> str:
        return _names((code,) if code else (), by_code, lang)

    return LightGeoJson(
        [u.geometry for u in moved],
        names=[f"{label('unit', lang)} {u.id}: {label('from_to', lang, a=name(u.before), b=name(u.after))}" for u in moved],
        styles=[{"fill": False, "color": MOVED_UNIT_COLOUR, "weight": 2, "className": "catchment-moved-unit"}] * len(moved),
        rows=[[(label("plan_a", lang), name(u.before)), (label("plan_b", lang), name(u.after)),
               (label("pupils", lang), f"{u.pupils:,.1f}")] for u in moved],
        tolerance_deg=tol, coverage=False,
    )


def compare_map(
    a: Sequence[Zone],
    b: Sequence[Zone],
    schools: Sequence[School],
    *,
    plan_a: Plan | str = "",
    plan_b: Plan | str = "",
    lang: str = "en",
    tiles: TilesArg = OSM,
    side_by_side: bool = False,
    min_area_m2: float = 100.0,
    moved_units: Sequence[MovedUnit] = (),
) -> folium.Map | folium.plugins.DualMap:
    """Plan ``a`` against plan ``b`` (zones EPSG:4326), changed areas highlighted.

    Parameters
    ----------
    a, b
        The zones of the two plans (one level).
    schools
        Schools, for names and markers.
    plan_a, plan_b
        The plans (or their display names) for the legend.
    lang, tiles
        See :func:`maps.base.base_map`.
    side_by_side
        Two synchronised maps (A left, B right) instead of one overlay.
    min_area_m2
        Smallest change shown, square metres.
    moved_units
        Demand units that change school (a proposal against its parent): outlined over the
        changed areas, counted in the summary.
    """
    lg = check_lang(lang)
    by_code = {s.code: s for s in schools}
    changes = changed_areas(a, b, min_area_m2=min_area_m2)
    bounds = bounds_of([z.geometry for z in [*a, *b]])
    tol = display_tolerance_deg(bounds)
    name_a, name_b = _plan_name(plan_a, label("plan_a", lg)), _plan_name(plan_b, label("plan_b", lg))
    codes = {c for z in [*a, *b] for c in z.school_codes}
    shown = [s for s in schools if s.code in codes]
    summary = compare_summary_html(changes, name_a, name_b, lg, moved_units)
    if side_by_side:
        return _dual(a, b, shown, changes, by_code, lang=lg, tiles=tiles, tol=tol, names=(name_a, name_b), bounds=bounds)

    m = base_map(bounds=bounds, lang=lg, tiles=tiles)
    group_b = folium.FeatureGroup(name=escape(f"{label('plan_b', lg)}: {name_b}"))
    layer_b = _plan_b_layer(m, b, by_code, tol)
    layer_b.add_to(group_b)
    group_b.add_to(m)
    group_a = folium.FeatureGroup(name=escape(f"{label('plan_a', lg)}: {name_a}"))
    layer_a = _plan_a_layer(a, by_code, tol)
    layer_a.add_to(group_a)
    group_a.add_to(m)
    group_c = folium.FeatureGroup(name=label("changed", lg))
    layer_c = _changed_layer(changes, by_code, lg, tol)
    layer_c.add_to(group_c)
    group_c.add_to(m)
    layers = {"plan_a": layer_a, "plan_b": layer_b, "changed": layer_c}
    if moved_units:
        group_u = folium.FeatureGroup(name=label("units_moved", lg))
        layers["moved_units"] = _moved_layer(moved_units, by_code, lg, tol)
        layers["moved_units"].add_to(group_u)
        group_u.add_to(m)
    rows = [[(label("code", lg), s.code)] for s in shown]
    layer_s = school_layer(shown, lang=lg, rows=rows, m=m)
    add_info_box(m, summary)
    add_legend(m, label("compare_title", lg), compare_legend(name_a, name_b, lg, moved=bool(moved_units)), palette=ZONE_PALETTE)
    add_layer_control(m)
    register_layers(m, {**layers, "schools": layer_s})
    return m


def _plan_b_layer(m: folium.Map, b: Sequence[Zone], by_code: dict[str, School], tol: float) -> LightGeoJson:
    """Plan B's zones, filled in the zone palette."""
    return LightGeoJson([z.geometry for z in b], names=[zone_title(z, by_code) for z in b],
                        styles=zone_styles(m, zone_colours(b), opacity=0.4), tolerance_deg=tol)


def _plan_a_layer(a: Sequence[Zone], by_code: dict[str, School], tol: float) -> LightGeoJson:
    """Plan A's zones as dashed outlines over plan B."""
    return LightGeoJson([z.geometry for z in a], names=[zone_title(z, by_code) for z in a],
                        styles=[{"fill": False, "color": "#111111", "weight": 2, "dashArray": "5 4",
                                 "className": "catchment-plan-a"}] * len(a),
                        tolerance_deg=tol, highlight=False)


def compare_summary_html(changes: Sequence[ChangedArea], name_a: str, name_b: str, lang: Lang,
                         moved_units: Sequence[MovedUnit] = ()) -> str:
    """The info box: both plans' names, the area that changes school and, for a proposal, the
    units that move and their pupils (escaped)."""
    total = sum(c.area_m2 for c in changes)
    html = (f"<h4>{escape(label('compare_title', lang))}</h4>"
            f"<div>{escape(label('plan_a', lang))}: {escape(name_a)}</div>"
            f"<div>{escape(label('plan_b', lang))}: {escape(name_b)}</div>"
            f"<div>{escape(label('changed_area', lang))}: <b>{escape(fmt_hectares(total, lang))}</b>"
            f" ({len(changes)})</div>")
    if moved_units:
        pupils = sum(u.pupils for u in moved_units)
        html += f"<div><b>{escape(label('units_moved_count', lang, n=len(moved_units), p=f'{pupils:,.0f}'))}</b></div>"
    return html


def compare_legend(name_a: str, name_b: str, lang: Lang, *, moved: bool = False) -> list[LegendItem]:
    """Plan B's zones, plan A's outlines, changed areas, moved units (for a proposal) and schools."""
    return [
        LegendItem("fill", "palette", f"{label('plan_b', lang)}: {name_b}"),
        LegendItem("dash", "#111111", f"{label('plan_a', lang)}: {name_a}"),
        LegendItem("fill", CHANGED_COLOUR, label("changed", lang)),
        *([LegendItem("line", MOVED_UNIT_COLOUR, label("units_moved", lang))] if moved else []),
        LegendItem("circle", "#ffffff", label("school", lang)),
    ]


def _dual(a: Sequence[Zone], b: Sequence[Zone], shown: Sequence[School], changes: Sequence[ChangedArea],
          by_code: dict[str, School], *, lang: Lang, tiles: TilesArg, tol: float, names: tuple[str, str],
          bounds: tuple[float, float, float, float]) -> folium.plugins.DualMap:
    x0, y0, x1, y1 = bounds
    dual = folium.plugins.DualMap(location=[(y0 + y1) / 2, (x0 + x1) / 2], tiles=None, control_scale=True)
    spec = resolve_tiles(tiles)
    add_page_css(dual.m1)
    for key, side, zones, name in (("a", dual.m1, a, names[0]), ("b", dual.m2, b, names[1])):
        use_lean_assets(side)
        if spec is not None:
            folium.TileLayer(tiles=spec.url, attr=spec.attribution, name=spec.name, max_zoom=spec.max_zoom,
                             control=False).add_to(side)
        side.fit_bounds([[y0, x0], [y1, x1]])
        zl = LightGeoJson([z.geometry for z in zones], names=[zone_title(z, by_code) for z in zones],
                          styles=zone_styles(side, zone_colours(zones), hatch=[len(z.school_codes) > 1 for z in zones]),
                          tolerance_deg=tol)
        zl.add_to(side)
        cl = _changed_layer(changes, by_code, lang, tol)
        cl.add_to(side)
        add_legend(side, name, [LegendItem("fill", "palette", label("zones", lang)),
                                LegendItem("fill", CHANGED_COLOUR, label("changed", lang))],
                   palette=ZONE_PALETTE, position="bottomleft")
        register_layers(side, {f"{key}:zones": zl, f"{key}:changed": cl})
    return dual
