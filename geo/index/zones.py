"""In-memory zone index: the fast path for "which zones cover (lon, lat)".

Built once from the adopted zones (the database stays the source of truth) and swapped whole
when the stored zone version changes. Points exactly on an edge count for every zone whose
closed polygon holds them (the ``covers`` predicate), so a point on a shared edge returns
both zones.

How it is fast and still exact: a cell grid (:mod:`geo.index.grid`) answers from the cell a point
falls in. Cells inside zones and touched by no edge answer directly; only cells an edge passes
through (a band about 100 m wide along the edges) keep candidate zones, which get the exact
prepared-polygon test (``shapely.intersects_xy``). Answers are identical to running that test
on every zone.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray

from geo.crs import lon_lat_problem
from geo.distance import WGS84_A, WGS84_E2
from geo.index.grid import CellGrid
from geo.index.grid_build import build_grid
from geo.models import Plan, Zone


@dataclass(frozen=True, slots=True)
class IndexedZone:
    plan: Plan
    zone: Zone


def _expand(answer: NDArray[np.int32], ptr: NDArray[np.int64], idx: NDArray[np.int32]) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """(point, zone) pairs listed by each point's answer in one CSR table, in point order."""
    start = ptr[answer]
    count = ptr[answer + 1] - start
    point = np.repeat(np.arange(answer.size, dtype=np.int64), count)
    offset = np.arange(point.size, dtype=np.int64) - np.repeat(np.cumsum(count) - count, count)
    return point, idx[np.repeat(start, count) + offset].astype(np.int64)


class ZoneIndex:
    """Zones of one or more plans behind a cell grid with an exact prepared-polygon fallback.

    Parameters
    ----------
    entries
        ``(plan, zone)`` pairs; geometries are EPSG:4326.
    version
        The storage's zone version this index was built from.
    grid
        Build the cell grid (the fast path; about half a second for a city's zones). Without it
        the index answers through an STRtree over the prepared polygons, the same answers a few
        times slower, ready at once: the service swaps such an index in first after a write,
        then the gridded one.
    """

    def __init__(self, entries: Sequence[tuple[Plan, Zone]], *, version: int = 0, grid: bool = True) -> None:
        self.entries: tuple[IndexedZone, ...] = tuple(IndexedZone(p, z) for p, z in entries)
        self.version = version
        self.geoms: NDArray[np.object_] = np.array([e.zone.geometry for e in self.entries], dtype=object)
        shapely.prepare(self.geoms)
        self.levels: NDArray[np.str_] = np.array([e.plan.level for e in self.entries], dtype=str)
        self.grid: CellGrid | None = build_grid(self.geoms) if grid and len(self.entries) else None
        self.tree: shapely.STRtree | None = None if self.grid is not None else shapely.STRtree(self.geoms)
        # Per answer: sure zones, candidate zones, and the candidates' polygons as one array
        # (one vectorised shapely call costs ~1.5 us; a scalar call ~6 us).
        rows = self.grid.answers.rows if self.grid is not None else ()
        self._answers: list[tuple[tuple[int, ...], tuple[int, ...], NDArray[np.object_]]] = [
            (sure, cands, self.geoms[list(cands)]) for sure, cands in rows]

    def __len__(self) -> int:
        return len(self.entries)

    @property
    def nbytes(self) -> int:
        """Bytes held by the cell grid (the polygons themselves are extra)."""
        return self.grid.nbytes if self.grid is not None else 0

    def query(self, lon: float, lat: float) -> list[int]:
        """Positions in ``entries`` of every zone covering (lon, lat), in index order."""
        grid = self.grid
        if grid is None:
            if self.tree is None or not len(self.entries):
                return []
            cand = self.tree.query(shapely.Point(lon, lat))
            return sorted(int(i) for i in cand[shapely.intersects_xy(self.geoms[cand], lon, lat)]) if cand.size else []
        sure, cands, polygons = self._answers[grid.lookup(lon, lat)]
        if not cands:
            return list(sure)
        hits = tuple(c for c, ok in zip(cands, shapely.intersects_xy(polygons, lon, lat).tolist(), strict=True) if ok)
        return sorted(sure + hits) if hits else list(sure)

    def on_boundary(self, pos: int, lon: float, lat: float) -> bool:
        """True when (lon, lat) lies on the edge of zone ``pos`` rather than strictly inside."""
        if self.grid is not None and pos in self._answers[self.grid.lookup(lon, lat)][0]:
            # The point's cell lies inside the zone and no edge of it comes near: strictly inside.
            return False
        return not bool(shapely.contains_xy(self.geoms[pos:pos + 1], lon, lat)[0])

    def edge_clearance_m(self, pos: int, lon: float, lat: float) -> float:
        """A lower bound, in metres, on the distance from (lon, lat) to the edge of zone ``pos``.

        0.0 when an edge of the zone may pass through the point's cell or a neighbouring one;
        otherwise about one finest cell (some 55 to 110 m below 60 degrees of latitude). Cheap
        (nine cell lookups), so callers can skip an exact distance when this already exceeds
        the distance they care about.
        """
        grid = self.grid
        cell = grid.cell_of(lon, lat) if grid is not None else None
        if grid is None or cell is None:
            return 0.0
        col, row = cell
        for dr in (-1, 0, 1):
            for dc in (-1, 0, 1):
                if pos in self._answers[grid.lookup_cell(col + dc, row + dr)][1]:
                    return 0.0
        return self.cell_clearance_m(lat)

    def cell_clearance_m(self, lat: float) -> float:
        """One finest cell in metres at ``lat``, on the WGS84 ellipsoid, where it is shortest
        within a 3 x 3 block (less 1 %): the clearance of a point whose block no edge touches."""
        assert self.grid is not None
        size = 2.0**-self.grid.finest
        phi = math.radians(min(abs(lat) + 2 * size, 90.0))
        w = 1.0 - WGS84_E2 * math.sin(phi) ** 2
        east = math.radians(size) * WGS84_A * math.cos(phi) / math.sqrt(w)
        north = math.radians(size) * WGS84_A * (1.0 - WGS84_E2)
        return 0.99 * min(east, north)

    def interior(self, lon: float, lat: float) -> int | None:
        """The cell answer id of (lon, lat) when every zone covering it covers the point's whole
        3 x 3 block of finest cells and no edge of those zones touches the block; else None.

        For such a point :meth:`query` is the answer's sure zones, :meth:`on_boundary` is False
        and :meth:`edge_clearance_m` is :meth:`cell_clearance_m` for each of them: what a lookup
        says depends on the answer id (and the distances), not on where in the cells it lies.
        """
        grid = self.grid
        if grid is None:
            return None
        code, col, row, shift = grid.leaf(lon, lat)
        if shift < 0 or code == 0:
            return None
        sure, cands, _ = self._answers[code]
        if cands:
            return None
        if shift > 0 and (col - 1) >> shift == (col + 1) >> shift and (row - 1) >> shift == (row + 1) >> shift:
            return code  # the block lies inside this one leaf
        for dr in (-1, 0, 1):
            for dc in (-1, 0, 1):
                near = self._answers[grid.lookup_cell(col + dc, row + dr)][1]
                if near and any(p in near for p in sure):
                    return None
        return code

    def answer_zones(self, code: int) -> tuple[int, ...]:
        """The sure zones of cell answer ``code`` (positions in ``entries``, in index order)."""
        return self._answers[code][0]

    def query_bulk(self, lons: ArrayLike, lats: ArrayLike) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
        """Every (point, zone) pair where the zone covers the point.

        Parameters
        ----------
        lons, lats
            Arrays of EPSG:4326 degrees, one entry per point.

        Returns
        -------
        (point_positions, zone_positions)
            Two equal-length integer arrays, sorted by point then zone.
        """
        xs = np.asarray(lons, dtype=float).ravel()
        ys = np.asarray(lats, dtype=float).ravel()
        if xs.size == 0 or not len(self.entries):
            empty = np.empty(0, dtype=np.intp)
            return empty, empty
        if self.grid is None:
            assert self.tree is not None
            pi, zi = self.tree.query(shapely.points(xs, ys))
            keep = shapely.intersects_xy(self.geoms[zi], xs[pi], ys[pi])
            pi, zi = pi[keep], zi[keep]
            order = np.lexsort((zi, pi))
            return pi[order].astype(np.intp), zi[order].astype(np.intp)
        answer = self.grid.lookup_many(xs, ys)
        table = self.grid.answers
        pi, zi = _expand(answer, table.sure_ptr, table.sure_idx)
        cp, cz = _expand(answer, table.cand_ptr, table.cand_idx)
        if cp.size:
            keep = shapely.intersects_xy(self.geoms[cz], xs[cp], ys[cp])
            cp, cz = cp[keep], cz[keep]
            # Both lists are sorted by (point, zone); merge the few exact hits into the sure pairs.
            n = len(self.entries)
            at = np.searchsorted(pi * n + zi, cp * n + cz)
            pi, zi = np.insert(pi, at, cp), np.insert(zi, at, cz)
        return pi.astype(np.intp), zi.astype(np.intp)


def build_index(entries: Sequence[tuple[Plan, Zone]], *, version: int = 0,
                grid: bool = True) -> tuple[ZoneIndex, dict[int, str]]:
    """The index over every plan whose zones can be indexed, and why each other plan cannot.

    Whatever is stored, this never fails for one bad plan: a plan whose zones lie outside the
    EPSG:4326 range (projected metres labelled as degrees: the grid would need billions of
    cells) is left out before building, and a plan on which the build still fails is found by
    building plan by plan and left out too. Every other plan is indexed as usual.

    Parameters
    ----------
    entries
        ``(plan, zone)`` pairs, EPSG:4326.
    version
        The storage's zone version.
    grid
        Build the cell grid (see :class:`ZoneIndex`).

    Returns
    -------
    (ZoneIndex, dict[int, str])
        The index, and plan id -> reason for every plan left out.
    """
    by_plan: dict[int, list[tuple[Plan, Zone]]] = {}
    for plan, zone in entries:
        by_plan.setdefault(plan.id, []).append((plan, zone))
    skipped: dict[int, str] = {}
    for pid, group in by_plan.items():
        bounds = shapely.total_bounds([z.geometry for _, z in group])
        problem = lon_lat_problem(*(float(v) for v in bounds))
        if problem is not None:
            skipped[pid] = f"zones not in EPSG:4326: {problem}"
    kept = [e for pid, group in by_plan.items() if pid not in skipped for e in group]
    try:
        return ZoneIndex(kept, version=version, grid=grid), skipped
    except (OverflowError, ValueError, MemoryError, shapely.errors.GEOSException):
        pass
    survivors: list[tuple[Plan, Zone]] = []
    for pid, group in by_plan.items():
        if pid in skipped:
            continue
        try:
            ZoneIndex(group, version=version, grid=grid)
        except (OverflowError, ValueError, MemoryError, shapely.errors.GEOSException) as exc:
            skipped[pid] = f"the zone index could not be built: {type(exc).__name__}: {exc}"
            continue
        survivors.extend(group)
    return ZoneIndex(survivors, version=version, grid=grid), skipped
