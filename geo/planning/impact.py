"""Impact of one plan against another: who changes school, and what it does to every school.

For two sets of zones of one level (plan A "before", plan B "after") and demand units (blocks,
compounds, address points with child counts): every unit whose school changes, from and to,
with the pupils moved; pupils moved per school pair (a table and a flow matrix); per school
capacity, demand, utilisation band and class-size figures before and after; straight-line
(geodesic) distance from unit to school before and after; and the balance coefficient before
and after when schools carry the resource fields.

Units are assigned to zones by :func:`geo.planning.demand.assign_units` (polygons by area share, points
by containment). A unit's "school" is the set of schools of its zone: a shared zone
(多校划片) is one destination, and per-school demand splits it by capacity share as the capacity
report does. Geometries are EPSG:4326 (lon, lat); distances are metres.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import shapely
from numpy.typing import NDArray
from scipy import sparse

from geo.capacity.balance import balance_report
from geo.capacity.utilisation import CapacityRow, capacity_report, classes_needed
from geo.distance import geodesic_m
from geo.models import School, Zone
from geo.planning.coverage import clean_polygonal, union_polygons
from geo.planning.demand import DemandUnit, assign_units
from geo.planning.impact_report import DistanceSummary, Flow, PlanImpact, SchoolChange, SchoolSet, UnitChange, set_label
from geo.standards import GENERIC, Band, StandardsProfile

__all__ = ["DistanceSummary", "Flow", "PlanImpact", "SchoolChange", "SchoolSet", "UnitChange", "compare_plans",
           "set_label", "zones_in_force"]

_EPS = 1e-6  # share differences below this are overlay noise, not a change


def zones_in_force(zones: Sequence[Zone], *, grade: str | None = None, year: int | None = None) -> list[Zone]:
    """The zones answering for ``grade`` in ``year``, as a lookup sees them.

    Zones not serving the grade/year are dropped; where a phasing zone is in force it replaces
    the older zones of its kind under it (their geometry loses that area), and for one grade a
    phasing zone whose start came later replaces earlier ones, as
    :func:`geo.lookup.resolve.resolve` does.
    """
    serving = [z for z in zones if z.serves(grade, year)]
    if not any(z.phasing for z in serving):
        return serving

    def start(z: Zone) -> int:
        starts = z.grade_start_years
        return starts[grade] if grade is not None and grade in starts else min(starts.values())

    out: list[Zone] = []
    for z in serving:
        over = [o.geometry for o in serving if o is not z and o.phasing and o.kind == z.kind
                and (not z.phasing or (grade is not None and start(o) > start(z)))]
        out.append(dataclasses.replace(z, geometry=clean_polygonal(z.geometry.difference(union_polygons(over))))
                   if over else z)
    return out


# --------------------------------------------------------------------------- computation


@dataclass(frozen=True, eq=False)
class _Side:
    """One plan's view of the units: share of each unit per school set, and distances."""

    matrix: sparse.csr_matrix
    zone_demand: NDArray[np.float64]
    dist_m: NDArray[np.float64]
    dist_unit: NDArray[np.intp]
    dist_weight: NDArray[np.float64]
    outside: tuple[str, ...]


def _school_set(zone: Zone) -> SchoolSet:
    return tuple(dict.fromkeys(zone.school_codes))


@dataclass(frozen=True, eq=False)
class _Pairs:
    """(unit, zone, share) triples of one plan, as :class:`geo.planning.demand.ZoneAssignment` gives them."""

    unit_pos: NDArray[np.intp]
    zone_pos: NDArray[np.intp]
    share: NDArray[np.float64]
    outside: tuple[str, ...]


def _assign_both(za: Sequence[Zone], zb: Sequence[Zone], units: Sequence[DemandUnit]) -> tuple[_Pairs, _Pairs]:
    """Assign units to both plans, overlaying only the units near zones that differ.

    A draft usually differs from its parent in a few zones; a unit that touches none of them
    has the same shares in both plans, so only the others go through the overlay again.
    """
    a = assign_units(units, za)
    pa = _Pairs(a.unit_pos, a.zone_pos, a.share, a.outside)
    same_a = {(_school_set(z), shapely.to_wkb(z.geometry)): i for i, z in enumerate(za)}
    b_to_a: dict[int, int] = {}
    kept_a: set[int] = set()
    for j, z in enumerate(zb):
        i = same_a.get((_school_set(z), shapely.to_wkb(z.geometry)), -1)
        # A zone repeated in B matches its twin in A once; the copy counts as changed.
        b_to_a[j] = i if i not in kept_a else -1
        kept_a.add(b_to_a[j])
    kept_a.discard(-1)
    differ = [z.geometry for j, z in enumerate(zb) if b_to_a[j] < 0] + [z.geometry for i, z in enumerate(za) if i not in kept_a]
    if not differ:
        a_to_b = {i: j for j, i in b_to_a.items() if i >= 0}
        return pa, _Pairs(a.unit_pos, np.array([a_to_b[int(i)] for i in a.zone_pos], dtype=np.intp), a.share, a.outside)
    geoms = np.array([u.geometry for u in units], dtype=object)
    hit = np.unique(shapely.STRtree(geoms).query(np.array(differ, dtype=object), predicate="intersects")[1])
    near = np.zeros(len(units), dtype=bool)
    near[hit] = True
    # Pairs of units away from every changed zone carry over, renumbered to B's zones.
    far = ~near[a.unit_pos]
    a_to_b = {i: j for j, i in b_to_a.items() if i >= 0}
    b_far_zone = np.array([a_to_b[int(i)] for i in a.zone_pos[far]], dtype=np.intp)
    sub = [units[int(i)] for i in hit]
    bn = assign_units(sub, zb)
    where = {u.id: i for i, u in enumerate(units)}
    outside = tuple(uid for uid in a.outside if not near[where[uid]]) + bn.outside
    unit_pos = np.concatenate([a.unit_pos[far], hit[bn.unit_pos]]).astype(np.intp)
    zone_pos = np.concatenate([b_far_zone, bn.zone_pos]).astype(np.intp)
    share = np.concatenate([a.share[far], bn.share])
    order = np.lexsort((zone_pos, unit_pos))
    return pa, _Pairs(unit_pos[order], zone_pos[order], share[order], outside)


def _side(zones: Sequence[Zone], asg: _Pairs, counts: NDArray[np.float64], key_of: Mapping[SchoolSet, int],
          lons: NDArray[np.float64], lats: NDArray[np.float64], schools: Mapping[str, School]) -> _Side:
    n, k = counts.size, len(key_of)
    cols = np.array([key_of[_school_set(z)] for z in zones], dtype=np.intp)[asg.zone_pos]
    covered = np.bincount(asg.unit_pos, weights=asg.share, minlength=n)
    rest = np.clip(1.0 - covered, 0.0, None)
    # The uncovered remainder of each unit goes to the empty set "none", so every row sums to 1.
    rows = np.concatenate([asg.unit_pos, np.arange(n)])
    vals = np.concatenate([asg.share, rest])
    cols = np.concatenate([cols, np.full(n, key_of[()], dtype=np.intp)])
    matrix = sparse.csr_matrix((vals, (rows, cols)), shape=(n, k))
    zone_demand = np.bincount(asg.zone_pos, weights=asg.share * counts[asg.unit_pos], minlength=len(zones))
    # Distance from each unit to the nearest known school of each zone it lies in: expand every
    # (unit, zone) pair into one row per school of the zone, then keep the minimum per pair.
    per_zone = [[schools[c] for c in _school_set(z) if c in schools] for z in zones]
    n_s = np.array([len(x) for x in per_zone], dtype=np.intp)
    start = np.concatenate([[0], np.cumsum(n_s)[:-1]]).astype(np.intp) if len(zones) else np.zeros(0, dtype=np.intp)
    s_lon = np.array([s.lon for x in per_zone for s in x], dtype=float)
    s_lat = np.array([s.lat for x in per_zone for s in x], dtype=float)
    rep = n_s[asg.zone_pos]
    pair = np.repeat(np.arange(asg.zone_pos.size), rep)
    within = np.arange(pair.size) - np.repeat(np.cumsum(rep) - rep, rep)
    sidx = start[asg.zone_pos[pair]] + within
    best = np.full(asg.zone_pos.size, np.inf)
    if pair.size:
        d = geodesic_m(lons[asg.unit_pos[pair]], lats[asg.unit_pos[pair]], s_lon[sidx], s_lat[sidx])
        np.minimum.at(best, pair, d)
    known = np.isfinite(best)
    return _Side(matrix, zone_demand.astype(float), best[known], asg.unit_pos[known],
                 (asg.share * counts[asg.unit_pos])[known], asg.outside)


def _summary(dist: NDArray[np.float64], weight: NDArray[np.float64], radius: float | None) -> DistanceSummary:
    keep = weight > 0
    d, w = dist[keep], weight[keep]
    total = float(w.sum())
    if total <= 0:
        return DistanceSummary(0.0, None, None, None, radius, None)
    order = np.argsort(d, kind="stable")
    d, cw = d[order], np.cumsum(w[order])

    def quantile(q: float) -> float:
        # Weighted quantile: the first distance at which the pupils counted reach q of all.
        return float(d[min(int(np.searchsorted(cw, q * total, side="left")), d.size - 1)])

    within = float(w[order][d <= radius].sum() / total) if radius is not None else None
    return DistanceSummary(total, quantile(0.5), quantile(0.9), float(np.dot(d, w[order]) / total), radius, within)


def _changes(a: sparse.csr_matrix, b: sparse.csr_matrix, keys: Sequence[SchoolSet], units: Sequence[DemandUnit],
             counts: NDArray[np.float64], lons: NDArray[np.float64], lats: NDArray[np.float64]
             ) -> tuple[list[UnitChange], list[Flow], NDArray[np.intp]]:
    diff = (b - a).tocsr()
    diff.data[np.abs(diff.data) < _EPS] = 0.0
    diff.eliminate_zeros()
    changed = np.flatnonzero(np.diff(diff.indptr) > 0)
    out: list[UnitChange] = []
    pupils: dict[tuple[SchoolSet, SchoolSet], float] = defaultdict(float)
    members: dict[tuple[SchoolSet, SchoolSet], set[int]] = defaultdict(set)
    for u in changed:
        lo, hi = diff.indptr[u], diff.indptr[u + 1]
        cols, vals = diff.indices[lo:hi], diff.data[lo:hi]
        gain = vals > 0
        into, away = cols[gain], cols[~gain]
        total_in = float(vals[gain].sum())
        for k_from, lost in zip(away, -vals[~gain], strict=True):
            for k_to, won in zip(into, vals[gain], strict=True):
                # The unit's lost share is spread over the gaining sets in proportion to their gain.
                share = float(lost) * float(won) / total_in
                moved = share * float(counts[u])
                pair = (keys[k_from], keys[k_to])
                out.append(UnitChange(units[int(u)].id, pair[0], pair[1], moved, share, float(lons[u]), float(lats[u])))
                pupils[pair] += moved
                members[pair].add(int(u))
    flows = [Flow(f, t, pupils[(f, t)], len(members[(f, t)])) for f, t in sorted(pupils, key=lambda p: -pupils[p])]
    return out, flows, changed.astype(np.intp)


def _school_rows(report_a: Sequence[CapacityRow], report_b: Sequence[CapacityRow], profile: StandardsProfile,
                 level: str) -> list[SchoolChange]:
    bands = profile.for_level(level).class_size_bands
    before, after = {r.code: r for r in report_a}, {r.code: r for r in report_b}
    out = []
    for code in dict.fromkeys([*before, *after]):
        ra, rb = before.get(code), after.get(code)
        # A school missing from one report has no zone in that plan: no demand there.
        base = ra or after[code]
        da = ra.demand if ra is not None else 0.0
        db = rb.demand if rb is not None else 0.0
        sa = da / base.classes if da is not None and base.classes else None
        sb = db / base.classes if db is not None and base.classes else None
        out.append(SchoolChange(
            code=code, name=base.name, capacity=base.capacity, demand_before=da, demand_after=db,
            utilisation_before=_ratio(da, base.capacity), utilisation_after=_ratio(db, base.capacity),
            band_before=_band(da, base.capacity, profile), band_after=_band(db, base.capacity, profile),
            classes=base.classes, class_size_standard=base.class_size_standard, class_size_before=sa, class_size_after=sb,
            class_size_band_before=bands.classify(sa) if bands is not None and sa is not None else None,
            class_size_band_after=bands.classify(sb) if bands is not None and sb is not None else None,
            classes_needed_before=_needed(da, base.class_size_standard),
            classes_needed_after=_needed(db, base.class_size_standard),
        ))
    return out


def _ratio(demand: float | None, capacity: float | None) -> float | None:
    return demand / capacity if demand is not None and capacity else None


def _band(demand: float | None, capacity: float | None, profile: StandardsProfile) -> Band | None:
    u = _ratio(demand, capacity)
    return None if u is None else profile.utilisation_bands.classify(u)


def _needed(demand: float | None, standard: int | None) -> int | None:
    return classes_needed(demand, standard) if demand is not None and standard else None


def _balance(schools: Sequence[School], demand: Mapping[str, float | None], *, level: str,
             profile: StandardsProfile) -> dict[str, float | None]:
    keys = [i.key for i in profile.balance_indicators]
    if not keys or not any(k in s.attributes for s in schools for k in keys):
        return {}
    # Pupils are the modelled demand of each school under the plan (reported enrolment where unknown).
    moved = [dataclasses.replace(s, enrolment=round(d)) if (d := demand.get(s.code)) is not None else s for s in schools]
    report = balance_report(moved, level=level, profile=profile)
    return {r.indicator.key: r.cv_weighted for r in report.indicators}


def compare_plans(
    a_zones: Sequence[Zone],
    b_zones: Sequence[Zone],
    *,
    units: Sequence[DemandUnit],
    schools: Mapping[str, School],
    level: str,
    profile: StandardsProfile = GENERIC,
    grades: Sequence[str] | None = None,
    year: int | None = None,
    service_radius_m: float | None = None,
) -> PlanImpact:
    """Compare plan B (after) with plan A (before) for one level.

    Parameters
    ----------
    a_zones, b_zones
        Zones of the two plans (EPSG:4326); phasing zones are resolved for ``year`` as a lookup
        would (:func:`zones_in_force`).
    units
        Demand units with counts for ``level`` (:class:`geo.planning.demand.DemandUnit`).
    schools
        Schools by code; those named by either plan get a row.
    level
        The level compared (unit counts and standards are read for it).
    profile
        Standards profile: utilisation bands, class-size standard and bands, balance indicators.
    grades
        Grades of the level, for units that only carry per-grade counts.
    year
        School year, to choose the zones in force.
    service_radius_m
        Radius for "share within"; default the profile's service radius for the level.

    Returns
    -------
    PlanImpact
    """
    za, zb = zones_in_force(a_zones, year=year), zones_in_force(b_zones, year=year)
    keys = sorted({()} | {_school_set(z) for z in (*za, *zb)})
    key_of = {k: i for i, k in enumerate(keys)}
    counts = np.array([u.count(level, grades=grades) for u in units], dtype=float)
    geoms = np.array([u.geometry for u in units], dtype=object)
    pts = shapely.point_on_surface(geoms) if geoms.size else geoms
    lons = np.asarray(shapely.get_x(pts), dtype=float) if geoms.size else np.zeros(0)
    lats = np.asarray(shapely.get_y(pts), dtype=float) if geoms.size else np.zeros(0)
    pairs_a, pairs_b = _assign_both(za, zb, units)
    side_a = _side(za, pairs_a, counts, key_of, lons, lats, schools)
    side_b = _side(zb, pairs_b, counts, key_of, lons, lats, schools)
    changes, flows, changed = _changes(side_a.matrix, side_b.matrix, keys, units, counts, lons, lats)
    named = [schools[c] for c in dict.fromkeys(c for k in keys for c in k) if c in schools]
    rep_a = capacity_report(named, za, level=level, profile=profile, zone_demand=list(side_a.zone_demand), year=year)
    rep_b = capacity_report(named, zb, level=level, profile=profile, zone_demand=list(side_b.zone_demand), year=year)
    radius = service_radius_m if service_radius_m is not None else profile.for_level(level).service_radius_m
    moved_a = np.isin(side_a.dist_unit, changed)
    moved_b = np.isin(side_b.dist_unit, changed)
    notes = [f"standards profile {profile.key}", "distances are straight-line (geodesic) to the zone's nearest school",
             "shared zones (多校划片) count as one destination; school demand splits them by capacity share"]
    return PlanImpact(
        level=level, year=year, profile=profile.key, changes=tuple(changes), flows=tuple(flows),
        schools=tuple(_school_rows(rep_a.rows, rep_b.rows, profile, level)),
        distance_before=_summary(side_a.dist_m, side_a.dist_weight, radius),
        distance_after=_summary(side_b.dist_m, side_b.dist_weight, radius),
        moved_distance_before=_summary(side_a.dist_m[moved_a], side_a.dist_weight[moved_a], radius),
        moved_distance_after=_summary(side_b.dist_m[moved_b], side_b.dist_weight[moved_b], radius),
        balance_before=_balance(named, {r.code: r.demand for r in rep_a.rows}, level=level, profile=profile),
        balance_after=_balance(named, {r.code: r.demand for r in rep_b.rows}, level=level, profile=profile),
        outside_before=side_a.outside, outside_after=side_b.outside, notes=tuple(notes),
    )
