"""Demand units (planning units): blocks, compounds (小区) or address points with child counts.

Loading: a GeoDataFrame with counts per level, per grade, or a total population times a
documented per-capita rate per level (:class:`LevelRate`, configured or calibrated from the
area's totals by :func:`calibrate_rates`). Assignment to zones: a polygon unit is split among
the zones it overlaps by area share (areas measured in an equal-area projection centred on the
data, so the shares are exact ratios), a point unit goes to the zone containing it. Units
outside every zone, partly outside, or covered twice are reported, never silently dropped.

Geometries are EPSG:4326 in (lon, lat) order.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray
from pyproj import CRS, Transformer
from shapely.geometry import MultiPolygon, Point, Polygon

from geo.crs import equal_area_crs, transform_geoms
from geo.errors import InvalidGeometry, InvalidInput
from geo.io.read import repair_polygonal
from geo.models import School, Zone, normalise_grade
from geo.standards import level_kind

_SHARE_EPS = 1e-9  # shares below this are edge contacts, not overlaps
_COVER_EPS = 1e-6  # relative slack when deciding "fully inside" / "covered twice"


@dataclass(frozen=True, slots=True)
class DemandUnit:
    """A planning unit. ``geometry`` is a Polygon/MultiPolygon or Point in EPSG:4326 (lon, lat).

    ``counts`` holds children per level (``{"primary": 120.0}``), ``grade_counts`` children
    per grade (``{"K": 18.0, "1": 20.0}``); either may be empty.
    """

    id: str
    geometry: Polygon | MultiPolygon | Point
    counts: Mapping[str, float] = field(default_factory=dict)
    grade_counts: Mapping[str, float] = field(default_factory=dict)
    population: float | None = None
    attributes: Mapping[str, Any] = field(default_factory=dict)

    def count(self, level: str, *, grades: Sequence[str] | None = None) -> float:
        """Children of ``level``: the level count (by name, else by level kind), else the sum
        of ``grades``' counts. Raises InvalidInput when the unit has neither."""
        if level in self.counts:
            return float(self.counts[level])
        kind = level_kind(level)
        for name, value in self.counts.items():
            if kind is not None and level_kind(name) is kind:
                return float(value)
        if grades is not None and self.grade_counts:
            return float(sum(self.grade_counts.get(normalise_grade(g), 0.0) for g in grades))
        msg = f"demand unit {self.id} has no count for level {level!r}" + (
            "; it has grade counts: pass the grades of the level" if self.grade_counts and grades is None else "")
        raise InvalidInput(msg, where=f"unit {self.id}")


@dataclass(frozen=True, slots=True)
class LevelRate:
    """Children of ``level`` per resident. ``basis`` is "configured" or "calibrated"."""

    level: str
    rate: float
    basis: str
    source: str
    children: float | None = None
    population: float | None = None

    def explain(self) -> tuple[str, str]:
        """One sentence in English and in Chinese saying where the rate comes from."""
        if self.basis == "calibrated" and self.children is not None and self.population is not None:
            en = (f"{self.level}: {self.rate:.6f} children per resident = {self.children:,.0f} pupils "
                  f"({self.source}) / {self.population:,.0f} residents")
            zh = (f"{self.level}：每位居民 {self.rate:.6f} 名学生 = 在校生 {self.children:,.0f}（{self.source}）"
                  f" / 常住人口 {self.population:,.0f}")
            return en, zh
        return (f"{self.level}: {self.rate:.6f} children per resident, configured ({self.source})",
                f"{self.level}：每位居民 {self.rate:.6f} 名学生，配置值（{self.source}）")


def calibrate_rates(*, population: float, level_totals: Mapping[str, float],
                    source: str | Mapping[str, str]) -> tuple[LevelRate, ...]:
    """Per-capita rates = each level's pupil total / total population.

    Parameters
    ----------
    population
        Total residents of the area the totals cover (e.g. the sum of every block's population).
    level_totals
        Pupils per level over the same area (e.g. the county's membership per level).
    source
        Where the totals come from, quoted in every explanation: one text, or one per level
        (each level's own count of schools, say).
    """
    if not np.isfinite(population) or population <= 0:
        msg = f"population {population} must be a positive number to calibrate rates"
        raise InvalidInput(msg, where="population")
    out = []
    for level, total in level_totals.items():
        if not np.isfinite(total) or total < 0:
            msg = f"{level} total {total} must be a finite number, not negative"
            raise InvalidInput(msg, where=f"level {level}")
        src = source if isinstance(source, str) else source[level]
        out.append(LevelRate(level, float(total) / float(population), "calibrated", src, float(total), float(population)))
    return tuple(out)


def level_totals_from_schools(schools: Sequence[School], levels: Sequence[str]) -> dict[str, float]:
    """Sum of reported enrolment of the schools of each level (schools without enrolment add 0)."""
    return {lv: float(sum(s.enrolment or 0 for s in schools if lv in s.levels)) for lv in levels}


@dataclass(frozen=True, slots=True)
class DemandLoadReport:
    """What a load read and how counts were made; ``explanations`` are (English, Chinese) pairs."""

    units: int
    method: str
    levels: tuple[str, ...]
    totals: Mapping[str, float]
    population: float | None
    rates: tuple[LevelRate, ...] = ()
    explanations: tuple[tuple[str, str], ...] = ()


def _column(frame: pd.DataFrame, col: str, *, what: str) -> NDArray[np.float64]:
    if col not in frame.columns:
        msg = f"the demand file has no column {col!r} ({what}); columns are {list(frame.columns)[:20]}"
        raise InvalidInput(msg, where=col)
    values = pd.to_numeric(frame[col], errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(values) | (values < 0)
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        msg = (f"{int(bad.sum())} demand unit(s) have a missing or negative {what} in column {col!r} "
               f"(first: row {first}, value {frame[col].iloc[first]!r}); counts must be numbers >= 0")
        raise InvalidInput(msg, where=col)
    return values


def _unit_geometry(geom: Any, uid: str) -> Polygon | MultiPolygon | Point:
    if geom is not None and not geom.is_empty and geom.geom_type == "Point":
        return Point(shapely.force_2d(geom))
    try:
        poly, _ = repair_polygonal(geom)
    except InvalidGeometry as exc:
        msg = f"demand unit {uid}: {exc.message} (units are polygons or points)"
        raise InvalidGeometry(msg, where=f"unit {uid}") from exc
    return poly


def units_from_frame(
    frame: gpd.GeoDataFrame,
    *,
    id_column: str,
    level_columns: Mapping[str, str] | None = None,
    grade_columns: Mapping[str, str] | None = None,
    population_column: str | None = None,
    rates: Sequence[LevelRate] = (),
    attribute_columns: Sequence[str] = (),
) -> tuple[tuple[DemandUnit, ...], DemandLoadReport]:
    """Demand units from a GeoDataFrame (reprojected to EPSG:4326 when it is not).

    Parameters
    ----------
    frame
        One row per unit; polygons (blocks, compounds) or points (addresses).
    id_column
        Unique unit id.
    level_columns
        Level name -> column of children of that level.
    grade_columns
        Grade (``"K"``, ``"1"`` ...) -> column of children of that grade.
    population_column
        Column of residents; with ``rates`` gives ``counts[level] = population x rate``.
    rates
        Per-capita rates (:func:`calibrate_rates` or configured :class:`LevelRate`).
    attribute_columns
        Extra columns kept in ``attributes``.

    Raises
    ------
    InvalidInput
        No counts asked for, a missing column, a missing or negative count, duplicate ids.
    InvalidGeometry
        A unit that is neither a polygon nor a point.
    """
    level_columns, grade_columns = dict(level_columns or {}), dict(grade_columns or {})
    if not level_columns and not grade_columns and not (population_column and rates):
        msg = "demand needs per-level count columns, per-grade count columns, or a population column with per-capita rates"
        raise InvalidInput(msg, where="columns")
    if rates and not population_column:
        msg = "per-capita rates need a population column"
        raise InvalidInput(msg, where="population")
    if frame.crs is not None and not frame.crs.equals(CRS.from_epsg(4326)):
        frame = frame.to_crs(4326)
    if id_column not in frame.columns:
        msg = f"the demand file has no id column {id_column!r}"
        raise InvalidInput(msg, where=id_column)
    ids = [str(v) for v in frame[id_column]]
    dup = pd.Index(ids)[pd.Index(ids).duplicated()]
    if len(dup):
        msg = f"{len(dup)} demand unit id(s) appear twice in {id_column!r} (first: {dup[0]})"
        raise InvalidInput(msg, where=id_column)
    levels = {lv: _column(frame, c, what=f"{lv} count") for lv, c in level_columns.items()}
    grades = {normalise_grade(g): _column(frame, c, what=f"grade {g} count") for g, c in grade_columns.items()}
    pop = _column(frame, population_column, what="population") if population_column else None
    if pop is not None:
        for r in rates:
            levels.setdefault(r.level, pop * r.rate)
    extras = frame[list(attribute_columns)].to_dict("records") if attribute_columns else [{} for _ in ids]
    units = tuple(
        DemandUnit(
            id=uid,
            geometry=_unit_geometry(geom, uid),
            counts={lv: float(v[i]) for lv, v in levels.items()},
            grade_counts={g: float(v[i]) for g, v in grades.items()},
            population=None if pop is None else float(pop[i]),
            attributes=extras[i],
        )
        for i, (uid, geom) in enumerate(zip(ids, frame.geometry.values, strict=True))
    )
    method = "counts" if level_columns else ("grade_counts" if grades and not rates else "population_rate")
    report = DemandLoadReport(
        units=len(units), method=method, levels=tuple(levels),
        totals={lv: float(v.sum()) for lv, v in levels.items()} | {f"grade {g}": float(v.sum()) for g, v in grades.items()},
        population=None if pop is None else float(pop.sum()),
        rates=tuple(rates), explanations=tuple(r.explain() for r in rates if r.level not in level_columns),
    )
    return units, report


# --------------------------------------------------------------------------- assignment


@dataclass(frozen=True, eq=False)
class ZoneAssignment:
    """Which share of each unit lies in each zone.

    ``unit_pos``, ``zone_pos`` and ``share`` are aligned arrays (positions into the units and
    zones given); a unit's shares sum to the fraction of it inside the zones (1 when inside).
    """

    unit_pos: NDArray[np.intp]
    zone_pos: NDArray[np.intp]
    share: NDArray[np.float64]
    n_units: int
    n_zones: int
    outside: tuple[str, ...]
    partly_outside: tuple[tuple[str, float], ...]
    covered_twice: tuple[str, ...]
    area_crs: str


def _equal_area(bounds: NDArray[np.float64]) -> tuple[Transformer, CRS]:
    # Lambert azimuthal equal-area keeps areas exact anywhere, so shares are true area ratios
    # even for data spanning several UTM zones.
    crs = equal_area_crs((bounds[0] + bounds[2]) / 2.0, (bounds[1] + bounds[3]) / 2.0)
    return Transformer.from_crs(CRS.from_epsg(4326), crs, always_xy=True), crs


def _project(geoms: NDArray[np.object_], tr: Transformer) -> NDArray[np.object_]:
    return np.asarray(transform_geoms(geoms, tr), dtype=object)


def assign_units(units: Sequence[DemandUnit], zones: Sequence[Zone]) -> ZoneAssignment:
    """Assign units to zones: polygons by area share, points by containment.

    A point on an edge shared by k zones (or inside k overlapping zones) gives 1/k to each; a
    polygon whose shares add to more than 1 (overlapping zones) is scaled to 1, so demand is
    counted once. Both cases are listed in ``covered_twice``.

    Parameters
    ----------
    units
        Demand units (EPSG:4326).
    zones
        Zones of one plan (EPSG:4326).
    """
    n_u, n_z = len(units), len(zones)
    geoms = np.array([u.geometry for u in units], dtype=object)
    zgeoms = np.array([z.geometry for z in zones], dtype=object)
    is_point = shapely.get_type_id(geoms) == 0 if n_u else np.zeros(0, dtype=bool)
    pairs_u: list[NDArray[np.intp]] = []
    pairs_z: list[NDArray[np.intp]] = []
    shares: list[NDArray[np.float64]] = []
    crs_text = "EPSG:4326"
    if n_u and n_z:
        bounds = shapely.total_bounds(np.concatenate([geoms, zgeoms]))
        tr, crs = _equal_area(bounds)
        crs_text = crs.srs
        pts = np.flatnonzero(is_point)
        if pts.size:
            tree = shapely.STRtree(zgeoms)
            pu, pz = tree.query(geoms[pts], predicate="intersects")
            k = np.bincount(pu, minlength=pts.size)
            pairs_u.append(pts[pu])
            pairs_z.append(pz)
            shares.append(1.0 / k[pu])
        polys = np.flatnonzero(~is_point)
        if polys.size:
            pu, pz, ps = _polygon_shares(_project(geoms[polys], tr), _project(zgeoms, tr))
            pairs_u.append(polys[pu])
            pairs_z.append(pz)
            shares.append(ps)
    ui = np.concatenate(pairs_u).astype(np.intp) if pairs_u else np.empty(0, dtype=np.intp)
    zi = np.concatenate(pairs_z).astype(np.intp) if pairs_z else np.empty(0, dtype=np.intp)
    sh = np.concatenate(shares).astype(float) if shares else np.empty(0, dtype=float)
    covered = np.bincount(ui, weights=sh, minlength=n_u)
    pairs_per_unit = np.bincount(ui, minlength=n_u)
    twice = (covered > 1.0 + _COVER_EPS) | (is_point & (pairs_per_unit > 1))
    if twice.any():
        sh = sh / np.maximum(covered[ui], 1.0)
        covered = np.minimum(covered, 1.0)
    order = np.lexsort((zi, ui))
    part = np.flatnonzero((covered > 0) & (covered < 1.0 - _COVER_EPS))
    return ZoneAssignment(
        unit_pos=ui[order], zone_pos=zi[order], share=sh[order], n_units=n_u, n_zones=n_z,
        outside=tuple(units[int(i)].id for i in np.flatnonzero(covered <= 0)),
        partly_outside=tuple((units[int(i)].id, float(covered[i])) for i in part),
        covered_twice=tuple(units[int(i)].id for i in np.flatnonzero(twice)),
        area_crs=crs_text,
    )


def _polygon_shares(units: NDArray[np.object_], zones: NDArray[np.object_]
                    ) -> tuple[NDArray[np.intp], NDArray[np.intp], NDArray[np.float64]]:
    area = shapely.area(units)
    if (area <= 0).any():
        msg = f"{int((area <= 0).sum())} polygon demand unit(s) have no area"
        raise InvalidGeometry(msg, where="units")
    tree = shapely.STRtree(zones)
    ui, zi = tree.query(units, predicate="intersects")
    shapely.prepare(zones)
    share = np.zeros(ui.size, dtype=float)
    # Most units sit wholly inside one zone: a prepared "covers" test settles them without
    # computing an intersection; only units crossing a boundary pay for the overlay.
    inside = shapely.covers(zones[zi], units[ui])
    share[inside] = 1.0
    cut = np.flatnonzero(~inside)
    if cut.size:
        share[cut] = shapely.area(shapely.intersection(units[ui[cut]], zones[zi[cut]])) / area[ui[cut]]
    keep = share > _SHARE_EPS
    return ui[keep].astype(np.intp), zi[keep].astype(np.intp), share[keep]


def zone_demand(assignment: ZoneAssignment, units: Sequence[DemandUnit], *, level: str,
                grades: Sequence[str] | None = None) -> NDArray[np.float64]:
    """Children of ``level`` per zone (aligned with the zones assigned), from unit shares.

    Parameters
    ----------
    assignment
        From :func:`assign_units` on the same ``units``.
    units
        The demand units.
    level
        Level name (exact, or matched by kind: ``"es"`` finds ``"primary"`` counts).
    grades
        Grades of the level, for units that carry per-grade counts only.
    """
    if len(units) != assignment.n_units:
        msg = f"assignment was made for {assignment.n_units} units, got {len(units)}"
        raise InvalidInput(msg, where="units")
    counts = np.array([u.count(level, grades=grades) for u in units], dtype=float)
    if assignment.unit_pos.size == 0:
        return np.zeros(assignment.n_zones, dtype=float)
    weights = assignment.share * counts[assignment.unit_pos]
    return np.bincount(assignment.zone_pos, weights=weights, minlength=assignment.n_zones).astype(float)
