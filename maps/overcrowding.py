"""The overcrowding map: zones coloured by utilisation band, schools sized by enrolment.

Reads a :class:`geo.capacity.utilisation.CapacityReport`: utilisation is demand / seats when the report
has demand, else enrolment / seats. A zone served by several schools takes the band of their
pooled pupils over their pooled seats. Schools breaking the class-size or school-size standard
get a red ring.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import folium

from geo.capacity.utilisation import CapacityReport, CapacityRow
from geo.errors import InvalidInput
from geo.models import School, Zone
from geo.standards import UTILISATION_BANDS, BandScale, get_profile
from maps.base import OSM, TilesArg, add_layer_control, add_legend, base_map, register_layers, school_layer
from maps.coverage import zone_styles, zone_title
from maps.geometry import bounds_of, display_tolerance_deg
from maps.layer import LightGeoJson
from maps.styles import (
    BREACH_RING,
    NO_DATA_COLOUR,
    SCHOOL_EDGE,
    Lang,
    LegendItem,
    band_colour,
    band_label,
    band_legend,
    check_lang,
    escape,
    fmt_int,
    fmt_share,
    label,
    level_label,
)

Basis = Literal["auto", "demand", "enrolment"]


def _pupils(row: CapacityRow, basis: Basis) -> float | None:
    return row.demand if basis == "demand" else row.enrolment


def breaches(row: CapacityRow, lang: Lang) -> list[str]:
    """What standards a school breaks: average class size above the standard, size above the limit."""
    out = []
    if row.average_class_size is not None and row.class_size_standard is not None \
            and row.average_class_size > row.class_size_standard:
        out.append(label("breach_class_size", lang, n=row.class_size_standard))
    if row.size_breach and row.size_limit is not None:
        out.append(label("breach_school_size", lang, n=row.size_limit))
    return out


def school_rows(row: CapacityRow, lang: Lang, basis: Basis, bands: BandScale) -> list[tuple[str, str]]:
    """Popup rows: seats, pupils, utilisation and band, seats short or spare, classes, breaches."""
    pupils = _pupils(row, basis)
    u = pupils / row.capacity if pupils is not None and row.capacity else None
    rows = [
        (label("code", lang), row.code),
        (label("capacity", lang), fmt_int(row.capacity, lang)),
        (label("enrolment", lang), fmt_int(row.enrolment, lang)),
    ]
    if row.demand is not None:
        rows.append((label("demand", lang), fmt_int(row.demand, lang)))
    if u is not None:
        rows.append((label("utilisation", lang), f"{fmt_share(u)} · {band_label(bands.classify(u), lang)}"))
    else:
        rows.append((label("utilisation", lang), label("no_data", lang)))
    if pupils is not None and row.capacity:
        gap = row.capacity - pupils
        key = "seats_spare" if gap >= 0 else "seats_short"
        rows.append((label(key, lang), fmt_int(abs(gap), lang)))
    if row.classes is not None:
        rows.append((label("classes", lang), fmt_int(row.classes, lang)))
    needed = row.classes_needed_demand if basis == "demand" else row.classes_needed
    if needed is not None:
        rows.append((label("classes_needed", lang), f"{needed} ({row.class_size_standard}/班)" if lang == "zh"
                     else f"{needed} (at {row.class_size_standard} per class)"))
    if row.average_class_size is not None:
        rows.append((label("class_size", lang), f"{row.average_class_size:.1f}"))
    broken = breaches(row, lang)
    if broken:
        rows.append((label("breaches", lang), "; ".join(broken)))
    return rows


def marker_radius(enrolment: float | None, largest: float) -> float:
    """Circle radius in pixels with area proportional to enrolment (3 to 13 px)."""
    if not enrolment or largest <= 0:
        return 3.0
    return 3.0 + 10.0 * math.sqrt(enrolment / largest)


def overcrowding_map(
    report: CapacityReport,
    zones: Sequence[Zone],
    schools: Sequence[School],
    *,
    lang: str = "en",
    tiles: TilesArg = OSM,
    basis: Basis = "auto",
    bands: BandScale | None = None,
    tolerance_deg: float | None = None,
) -> folium.Map:
    """Zones by utilisation band, school circles sized by enrolment and coloured by band.

    Parameters
    ----------
    report
        Capacity report of the level (:func:`geo.capacity.utilisation.capacity_report`).
    zones
        The zones the report was made for; EPSG:4326.
    schools
        Schools, for their locations; those without a report row are left off.
    lang
        ``"en"`` or ``"zh"``.
    tiles
        See :func:`maps.base.base_map`.
    basis
        ``"demand"`` (children living in the zones), ``"enrolment"``, or ``"auto"``: demand when
        the report has it.
    bands
        Utilisation bands; default the report's profile's.
    tolerance_deg
        Simplification tolerance; default from the extent.
    """
    lg = check_lang(lang)
    rows = {r.code: r for r in report.rows}
    if basis == "auto":
        basis = "demand" if any(r.demand is not None for r in report.rows) else "enrolment"
    if basis not in ("demand", "enrolment"):
        msg = f"basis {basis!r} must be 'auto', 'demand' or 'enrolment'"
        raise InvalidInput(msg, where="basis")
    scale = bands or _profile_bands(report.profile)
    by_code = {s.code: s for s in schools}
    shown = [s for s in schools if s.code in rows]
    bounds = bounds_of([z.geometry for z in zones], points=[(s.lon, s.lat) for s in shown])
    tol = display_tolerance_deg(bounds) if tolerance_deg is None else tolerance_deg
    m = base_map(bounds=bounds, lang=lg, tiles=tiles)

    zone_group = folium.FeatureGroup(name=escape(f"{label('zones', lg)}: {level_label(report.level, lg)}"))
    zone_layer = _zones_layer(m, report, zones, rows, by_code, basis=basis, scale=scale, lang=lg, tol=tol)
    zone_layer.add_to(zone_group)
    zone_group.add_to(m)
    styles, breached = _school_styles(report, shown, rows, basis=basis, scale=scale, lang=lg)
    layer = school_layer(shown, lang=lg, rows=[school_rows(rows[s.code], lg, basis, scale) for s in shown], styles=styles, m=m)
    add_legend(m, f"{label('overcrowding_title', lg)} — {level_label(report.level, lg)}",
               overcrowding_legend(scale, breached=breached, lang=lg))
    add_layer_control(m)
    register_layers(m, {"zones": zone_layer, "schools": layer})
    return m


def _zones_layer(m: folium.Map, report: CapacityReport, zones: Sequence[Zone], rows: Mapping[str, CapacityRow],
                 by_code: Mapping[str, School], *, basis: Basis, scale: BandScale, lang: Lang, tol: float) -> LightGeoJson:
    """Zones filled by their pooled utilisation band, with seats spare or short in the popup."""
    fills, zone_rows = [], []
    for z in zones:
        members = [rows[c] for c in z.school_codes if c in rows]
        u = pooled_utilisation(rows, z.school_codes, basis=basis)
        fills.append(band_colour(scale, scale.classify(u)) if u is not None else NO_DATA_COLOUR)
        zrows = [(label("levels", lang), level_label(report.level, lang))]
        for r in members:
            zrows.append((label("school", lang), f"{r.name} ({r.code})"))
        zrows.append((label("utilisation", lang),
                      f"{fmt_share(u)} · {band_label(scale.classify(u), lang)}" if u is not None else label("no_data", lang)))
        if u is not None:
            gap = sum(r.capacity or 0.0 for r in members) - sum(_pupils(r, basis) or 0.0 for r in members)
            zrows.append((label("seats_spare" if gap >= 0 else "seats_short", lang), fmt_int(abs(gap), lang)))
        zone_rows.append(zrows)
    by = dict(by_code)
    return LightGeoJson(
        [z.geometry for z in zones], names=[zone_title(z, by) for z in zones],
        styles=zone_styles(m, fills, hatch=[len(z.school_codes) > 1 for z in zones], opacity=0.6),
        rows=zone_rows, tolerance_deg=tol,
    )


def _school_styles(report: CapacityReport, shown: Sequence[School], rows: Mapping[str, CapacityRow], *, basis: Basis,
                   scale: BandScale, lang: Lang) -> tuple[list[dict[str, Any]], bool]:
    """School circles sized by enrolment, coloured by band, ringed where a standard is breached; and whether any is."""
    largest = max((r.enrolment or 0.0 for r in report.rows), default=0.0)
    styles, n_breach = [], 0
    for s in shown:
        r = rows[s.code]
        pupils = _pupils(r, basis)
        u = pupils / r.capacity if pupils is not None and r.capacity else None
        broken = bool(breaches(r, lang))
        n_breach += broken
        styles.append({
            "radius": marker_radius(r.enrolment, largest),
            "fillColor": band_colour(scale, scale.classify(u)) if u is not None else NO_DATA_COLOUR,
            "fillOpacity": 0.9,
            "color": BREACH_RING if broken else SCHOOL_EDGE,
            "weight": 3.5 if broken else 1.0,
            "className": "catchment-school catchment-breach" if broken else "catchment-school",
        })
    return styles, n_breach > 0


def overcrowding_legend(scale: BandScale, *, breached: bool, lang: Lang) -> list[LegendItem]:
    """The overcrowding legend: the bands, no data, marker size, and the breach ring when any school has it."""
    items = band_legend(scale, lang) + [LegendItem("fill", NO_DATA_COLOUR, label("no_data", lang)),
                                        LegendItem("circle", "#ffffff", label("marker_size", lang))]
    if breached:
        items.append(LegendItem("ring", BREACH_RING, label("breach_legend", lang)))
    return items


def _profile_bands(profile_key: str) -> BandScale:
    try:
        return get_profile(profile_key).utilisation_bands
    except InvalidInput:
        # A report made under a profile this build no longer ships: the project's default bands.
        return UTILISATION_BANDS


def pooled_utilisation(rows: Mapping[str, CapacityRow], codes: Sequence[str], *, basis: Basis = "enrolment") -> float | None:
    """Pupils over seats of several schools together (a shared zone); None when any figure is missing."""
    members = [rows[c] for c in codes if c in rows]
    pupils = [_pupils(r, basis) for r in members]
    seats = [r.capacity for r in members]
    if not members or any(p is None for p in pupils) or not all(seats):
        return None
    return sum(p or 0.0 for p in pupils) / sum(c or 0.0 for c in seats)
