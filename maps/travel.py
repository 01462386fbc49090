"""The travel map: every demand unit coloured by its distance (or time) to its assigned school.

Bands come from the standard (a service radius r gives r / 2r / 4r / beyond, e.g. 500 m, 1 km,
2 km, beyond for primary); schools carry rings at the service radius; a summary box gives the
share of pupils within the standard, the median and the 90th percentile, per pupil.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Literal

import folium
import numpy as np
from numpy.typing import ArrayLike, NDArray

from geo.errors import InvalidInput
from geo.models import School
from geo.network.paths import TravelSummary, summarise_costs
from geo.planning.demand import DemandUnit
from geo.standards import BandScale
from maps.base import OSM, TilesArg, add_info_box, add_layer_control, add_legend, base_map, register_layers, school_layer
from maps.geometry import bounds_of, display_tolerance_deg
from maps.layer import LightGeoJson
from maps.styles import (
    LINE_COLOUR,
    NO_DATA_COLOUR,
    Lang,
    LegendItem,
    band_colour,
    band_legend,
    check_lang,
    distance_bands,
    escape,
    fmt_distance,
    fmt_int,
    fmt_minutes,
    fmt_share,
    label,
    level_label,
    time_bands,
)

Mode = Literal["straight", "walk", "drive"]
Unit = Literal["m", "s"]


def _fmt(value: float, unit: Unit, lang: Lang) -> str:
    if not math.isfinite(value):
        return label("unreachable", lang)
    return fmt_distance(value, lang) if unit == "m" else fmt_minutes(value, lang)


def summary_html(summary: TravelSummary, *, standard: float, unit: Unit, mode: Mode, lang: Lang,
                 pupils: float, level: str | None) -> str:
    """The summary box: pupils, share within the standard, median and 90th percentile."""
    title = label("travel_title" if unit == "m" else "travel_time_title", lang)
    if level:
        title = f"{title} — {level_label(level, lang)}"
    share = fmt_share(summary.share_within) if summary.share_within is not None else label("unknown", lang)
    rows = [
        (label("mode", lang), label(f"mode_{mode}", lang)),
        (label("total_pupils", lang), fmt_int(pupils, lang)),
        (f"{label('within_standard', lang)} (≤ {_fmt(standard, unit, lang)})", share),
        (label("median", lang), _fmt(summary.median, unit, lang)),
        (label("p90", lang), _fmt(summary.p90, unit, lang)),
    ]
    body = "".join(f"<tr><td>{escape(k)}</td><td><b>{escape(v)}</b></td></tr>" for k, v in rows)
    return f"<h4>{escape(title)}</h4><table>{body}</table>"


def travel_map(
    units: Sequence[DemandUnit],
    cost: ArrayLike,
    pupils: ArrayLike,
    schools: Sequence[School],
    *,
    standard: float,
    unit: Unit = "m",
    mode: Mode = "straight",
    assigned: Sequence[str | None] | None = None,
    bands: BandScale | None = None,
    level: str | None = None,
    lang: str = "en",
    tiles: TilesArg = OSM,
    rings: bool = True,
    tolerance_deg: float | None = None,
) -> folium.Map:
    """Demand units coloured by travel to their assigned school, with rings and a summary.

    Parameters
    ----------
    units
        Blocks, compounds (小区) or address points; geometries EPSG:4326.
    cost
        Per unit: metres (``unit="m"``) or seconds (``unit="s"``) to its assigned school;
        ``inf`` or NaN when it has none or no route reaches it.
    pupils
        Per unit: pupils of the level (the weights of the summary).
    schools
        Schools to mark (and ring).
    standard
        The service radius in metres, or the time standard in seconds.
    unit
        ``"m"`` or ``"s"``.
    mode
        How ``cost`` was measured: ``"straight"``, ``"walk"`` or ``"drive"`` (shown in the summary).
    assigned
        Per unit: code of its assigned school, for the popups.
    bands
        Bands of ``cost``; default :func:`maps.styles.distance_bands` / :func:`maps.styles.time_bands`
        of ``standard``.
    level
        Level name for the titles.
    lang, tiles
        See :func:`maps.base.base_map`.
    rings
        Draw a circle of the service radius around each school (distance standards only).
    tolerance_deg
        Simplification tolerance for polygon units; default from the extent.
    """
    lg = check_lang(lang)
    c, w = _checked(units, cost, pupils, assigned=assigned, unit=unit, mode=mode)
    scale = bands or (distance_bands(standard) if unit == "m" else time_bands(standard))
    by_code: Mapping[str, School] = {s.code: s for s in schools}
    geoms = [u.geometry for u in units]
    bounds = bounds_of(geoms, points=[(s.lon, s.lat) for s in schools] if not geoms else ())
    tol = display_tolerance_deg(bounds) if tolerance_deg is None else tolerance_deg
    m = base_map(bounds=bounds, lang=lg, tiles=tiles)

    unit_layer = _units_layer(units, c, w, scale, by_code, assigned=assigned, unit=unit, lang=lg, tol=tol)
    group = folium.FeatureGroup(name=label("demand_units", lg))
    unit_layer.add_to(group)
    group.add_to(m)
    ring_text = f"{label('service_radius', lg)} ({fmt_distance(standard, lg)})"
    if rings and unit == "m":
        _rings(schools, standard, ring_text).add_to(m)
    school_rows = [[(label("code", lg), s.code), (label("enrolment", lg), fmt_int(s.enrolment, lg))] for s in schools]
    layer = school_layer(schools, lang=lg, rows=school_rows, m=m)
    summary = summarise_costs(np.where(np.isfinite(c), c, np.inf), weights=w, within=standard, unit=unit)
    add_info_box(m, summary_html(summary, standard=standard, unit=unit, mode=mode, lang=lg, pupils=float(w.sum()),
                                 level=level))
    add_legend(m, label("travel_title" if unit == "m" else "travel_time_title", lg),
               travel_legend(scale, rings=ring_text if rings and unit == "m" else None, lang=lg))
    add_layer_control(m)
    register_layers(m, {"units": unit_layer, "schools": layer})
    return m


def _checked(units: Sequence[DemandUnit], cost: ArrayLike, pupils: ArrayLike, *, assigned: Sequence[str | None] | None,
             unit: str, mode: str) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Cost and pupils as arrays, one value per unit, with a known unit and mode; else InvalidInput."""
    c = np.asarray(cost, dtype=float)
    w = np.asarray(pupils, dtype=float)
    if c.shape != (len(units),) or w.shape != (len(units),) or (assigned is not None and len(assigned) != len(units)):
        msg = f"cost, pupils and assigned need one value per unit ({len(units)})"
        raise InvalidInput(msg, where="units")
    if unit not in ("m", "s") or mode not in ("straight", "walk", "drive"):
        msg = f"unit {unit!r} / mode {mode!r}: use unit m or s and mode straight, walk or drive"
        raise InvalidInput(msg, where="mode")
    return c, w


def _units_layer(units: Sequence[DemandUnit], c: NDArray[np.float64], w: NDArray[np.float64], scale: BandScale,
                 by_code: Mapping[str, School], *, assigned: Sequence[str | None] | None, unit: Unit, lang: Lang,
                 tol: float) -> LightGeoJson:
    """The demand units coloured by their band of travel (points sized by pupils), with popups."""
    largest = float(w.max()) if w.size else 0.0
    styles, rows = [], []
    for i, u in enumerate(units):
        ok = bool(np.isfinite(c[i]))
        band = scale.classify(float(c[i])) if ok else None
        st: dict[str, object] = {
            "fillColor": band_colour(scale, band) if band else NO_DATA_COLOUR,
            "fillOpacity": 0.75 if w[i] > 0 else 0.25,
            "color": "#ffffff", "weight": 0.3, "className": "catchment-unit",
        }
        if u.geometry.geom_type == "Point":
            st.update({"radius": 2.0 + (6.0 * math.sqrt(w[i] / largest) if largest > 0 else 0.0),
                       "color": LINE_COLOUR, "weight": 0.5})
        styles.append(st)
        r = [(label("pupils", lang), f"{w[i]:,.1f}"),
             (label("distance" if unit == "m" else "time", lang), _fmt(float(c[i]), unit, lang))]
        if assigned is not None and assigned[i]:
            s = by_code.get(str(assigned[i]))
            r.append((label("assigned_school", lang), f"{s.name} ({s.code})" if s else str(assigned[i])))
        rows.append(r)
    geoms = [u.geometry for u in units]
    polygons = all(g.geom_type in ("Polygon", "MultiPolygon") for g in geoms)
    return LightGeoJson(geoms, names=[u.id for u in units], styles=styles, rows=rows,
                        tolerance_deg=tol if polygons else 0.0, coverage=polygons, highlight=polygons)


def _rings(schools: Sequence[School], standard: float, name: str) -> folium.FeatureGroup:
    """A circle of the service radius around each school."""
    ring_group = folium.FeatureGroup(name=name)
    for s in schools:
        folium.Circle(location=[s.lat, s.lon], radius=float(standard), color=LINE_COLOUR, weight=1.2,
                      dash_array="4 4", fill=False, interactive=False, class_name="catchment-ring").add_to(ring_group)
    return ring_group


def travel_legend(scale: BandScale, *, rings: str | None, lang: Lang) -> list[LegendItem]:
    """The travel legend: the bands, unreachable units, the service radius when drawn, schools."""
    items = band_legend(scale, lang) + [LegendItem("fill", NO_DATA_COLOUR, label("unreachable", lang))]
    if rings is not None:
        items.append(LegendItem("dash", LINE_COLOUR, rings))
    items.append(LegendItem("circle", "#ffffff", label("school", lang)))
    return items
