"""Resolve "which school serves (lon, lat)" from a zone index and the schools.

Pure: no I/O. The web layer calls :func:`resolve` on the in-memory index.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

import numpy as np
from scipy.spatial import cKDTree

from geo.crs import check_lon_lat
from geo.distance import distance_to_boundary_m, geodesic_m
from geo.index.zones import ZoneIndex
from geo.models import LevelAnswer, LookupResult, Plan, School, SchoolDistance, SchoolStatus, Zone, ZoneHit


def choose_plans(plans: Sequence[Plan], year: int | None) -> set[int]:
    """Pick, per (district, level), the adopted plan in force for school ``year``.

    The plan with the latest school year not after ``year`` wins; when every plan is later,
    the earliest one answers. ``year=None`` takes the latest plan.
    """
    groups: dict[tuple[str, str], list[Plan]] = defaultdict(list)
    for p in plans:
        groups[(p.district, p.level)].append(p)
    chosen: set[int] = set()
    for group in groups.values():
        group.sort(key=lambda p: (p.school_year, p.id))
        if year is None:
            chosen.add(group[-1].id)
            continue
        past = [p for p in group if p.school_year <= year]
        chosen.add((past[-1] if past else group[0]).id)
    return chosen


class SchoolBook:
    """Schools by code, with nearest-school search per level (KD-tree shortlist, geodesic order)."""

    def __init__(self, schools: Sequence[School]) -> None:
        self.by_code: dict[str, School] = {s.code: s for s in schools}
        self._by_level: dict[str, tuple[list[School], np.ndarray, np.ndarray, cKDTree]] = {}
        per: dict[str, list[School]] = defaultdict(list)
        for s in schools:
            if s.status is SchoolStatus.CLOSED:
                continue
            for lv in s.levels:
                per[lv].append(s)
        for lv, items in per.items():
            xs = np.array([s.lon for s in items], dtype=float)
            ys = np.array([s.lat for s in items], dtype=float)
            self._by_level[lv] = (items, xs, ys, cKDTree(_unit_xyz(xs, ys)))

    def nearest(self, lon: float, lat: float, level: str, *, k: int, max_m: float | None = None) -> tuple[SchoolDistance, ...]:
        """The ``k`` open schools of ``level`` nearest to (lon, lat), geodesically, none farther than ``max_m``."""
        if level not in self._by_level or k <= 0:
            return ()
        items, xs, ys, tree = self._by_level[level]
        # Chord length on the unit sphere orders points like the great-circle distance; the
        # ellipsoid can swap near-ties, so a generous shortlist is re-ranked geodesically.
        m = min(len(items), 4 * k + 8)
        _, cand = tree.query(_unit_xyz(np.array([lon]), np.array([lat]))[0], k=m)
        cand = np.atleast_1d(cand)
        d = geodesic_m(lon, lat, xs[cand], ys[cand])
        order = np.argsort(d, kind="stable")[:k]
        if max_m is not None:
            order = order[d[order] <= max_m]
        return tuple(SchoolDistance(items[int(cand[i])], float(d[i])) for i in order)


def _unit_xyz(lons: np.ndarray, lats: np.ndarray) -> np.ndarray:
    lo, la = np.radians(lons), np.radians(lats)
    return np.column_stack((np.cos(la) * np.cos(lo), np.cos(la) * np.sin(lo), np.sin(la)))


def phase_start(zone: Zone, grade: str | None) -> int:
    """The school year from which a phasing zone serves ``grade`` (any grade: its first year)."""
    starts = zone.grade_start_years
    if grade is not None and grade in starts:
        return starts[grade]
    return min(starts.values())


def _active_hits(index: ZoneIndex, positions: list[int], grade: str | None, year: int | None) -> list[int]:
    """Drop zones that do not serve the grade/year; a phasing zone in force supersedes the old
    zone of the same level and kind there, and for one grade, of several phasing zones in force
    the one whose start for that grade came last (the latest change) wins."""
    serving = [p for p in positions if index.entries[p].zone.serves(grade, year)]
    by_level: dict[tuple[str, str | None], list[int]] = defaultdict(list)
    for p in serving:
        by_level[(index.entries[p].plan.level, index.entries[p].zone.kind)].append(p)
    out: list[int] = []
    for items in by_level.values():
        phased = [p for p in items if index.entries[p].zone.phasing]
        if not phased or grade is None:
            # Without a grade every phasing zone in force answers (they may serve different grades).
            out.extend(phased or items)
            continue
        latest = max(phase_start(index.entries[p].zone, grade) for p in phased)
        out.extend(p for p in phased if phase_start(index.entries[p].zone, grade) == latest)
    return sorted(out)


def resolve(
    index: ZoneIndex,
    schools: SchoolBook,
    lon: float,
    lat: float,
    *,
    level: str | None = None,
    grade: str | None = None,
    year: int | None = None,
    near_m: float = 50.0,
    nearest_k: int = 3,
    nearest_max_m: float | None = 50_000.0,
    plans: Sequence[Plan] | None = None,
) -> LookupResult:
    """Answer which zones and schools serve (lon, lat), EPSG:4326.

    Parameters
    ----------
    index
        The zone index over the adopted plans.
    schools
        Every school, for names and distances.
    lon, lat
        The point, degrees.
    level, grade, year
        Optional filters: one level, one grade ("K", "1".."12"), the school year asked about.
    near_m
        Report ``near_boundary_m`` when the zone edge is closer than this.
    nearest_k
        How many nearest schools to list for a level with no covering zone.
    nearest_max_m
        Farthest a nearest school may be (None = no limit). When no zone covers the point and no
        level is asked, only the levels with a school within this distance are answered, so a
        point in Sydney is not told about the elementary schools of Virginia.
    plans
        All adopted plans (to pick the one in force for ``year``); defaults to those in the index.
    """
    check_lon_lat(lon, lat)
    all_plans = list(plans) if plans is not None else list({e.plan.id: e.plan for e in index.entries}.values())
    in_force = choose_plans(all_plans, year)
    hits = [p for p in index.query(lon, lat) if index.entries[p].plan.id in in_force]
    hits = _active_hits(index, hits, grade, year)

    nearby: dict[str, tuple[SchoolDistance, ...]] = {}
    if level is not None:
        levels = [level]
    else:
        districts = {index.entries[p].plan.district for p in hits}
        pool = [p for p in all_plans if p.id in in_force and (not districts or p.district in districts)]
        levels = sorted({p.level for p in pool})
        if not hits:
            # Covered nowhere: answer only the levels with a school near enough to be of use.
            nearby = {lv: schools.nearest(lon, lat, lv, k=nearest_k, max_m=nearest_max_m) for lv in levels}
            levels = [lv for lv in levels if nearby[lv]]

    # Every answering school's distance in one vectorised geodesic call.
    served: dict[int, list[School]] = {
        p: [s for c in index.entries[p].zone.school_codes if (s := schools.by_code.get(c)) is not None] for p in hits}
    flat = [s for p in hits for s in served[p]]
    dists = iter(geodesic_m(lon, lat, [s.lon for s in flat], [s.lat for s in flat]).tolist()) if flat else iter(())
    with_d = {p: tuple(SchoolDistance(s, next(dists)) for s in served[p]) for p in hits}
    answers: list[LevelAnswer] = []
    for lv in levels:
        zone_hits: list[ZoneHit] = []
        for pos in (p for p in hits if index.entries[p].plan.level == lv):
            entry = index.entries[pos]
            # The cell grid proves most points lie far inside their zone: skip the exact distance.
            far = index.edge_clearance_m(pos, lon, lat) > near_m
            edge = None if far else distance_to_boundary_m(entry.zone.geometry, lon, lat, within_m=near_m)
            zone_hits.append(ZoneHit(entry.plan, entry.zone, with_d[pos], edge, index.on_boundary(pos, lon, lat)))
        if zone_hits:
            nearest: tuple[SchoolDistance, ...] = ()
        else:
            nearest = nearby[lv] if lv in nearby else schools.nearest(lon, lat, lv, k=nearest_k, max_m=nearest_max_m)
        answers.append(LevelAnswer(lv, tuple(zone_hits), nearest, nearest_max_m))
    return LookupResult(lon, lat, tuple(answers))

