"""In-memory zone index: the fast path for "which zones cover (lon, lat)".

Built once from the adopted zones (the database stays the source of truth) and swapped whole
when the stored zone version changes. Points exactly on an edge count for every zone whose
closed polygon holds them (the ``covers`` predicate), so a point on a shared edge returns
both zones.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray

from geo.models import Plan, Zone


@dataclass(frozen=True, slots=True)
class IndexedZone:
    plan: Plan
    zone: Zone


class ZoneIndex:
    """Zones of one or more plans behind a shapely STRtree over prepared polygons.

    Parameters
    ----------
    entries
        ``(plan, zone)`` pairs; geometries are EPSG:4326.
    version
        The storage's zone version this index was built from.
    """

    def __init__(self, entries: Sequence[tuple[Plan, Zone]], *, version: int = 0) -> None:
        self.entries: tuple[IndexedZone, ...] = tuple(IndexedZone(p, z) for p, z in entries)
        self.version = version
        self.geoms: NDArray[np.object_] = np.array([e.zone.geometry for e in self.entries], dtype=object)
        shapely.prepare(self.geoms)
        self.tree = shapely.STRtree(self.geoms)
        self.levels: NDArray[np.str_] = np.array([e.plan.level for e in self.entries], dtype=str)

    def __len__(self) -> int:
        return len(self.entries)

    def query(self, lon: float, lat: float) -> list[int]:
        """Positions in ``entries`` of every zone covering (lon, lat), in index order."""
        if not len(self.entries):
            return []
        cand = self.tree.query(shapely.Point(lon, lat))
        if cand.size == 0:
            return []
        keep = shapely.intersects_xy(self.geoms[cand], lon, lat)
        return sorted(int(i) for i in cand[keep])

    def on_boundary(self, pos: int, lon: float, lat: float) -> bool:
        """True when (lon, lat) lies on the edge of zone ``pos`` rather than strictly inside."""
        return not bool(shapely.contains_xy(self.geoms[pos], lon, lat))

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
        xs = np.asarray(lons, dtype=float)
        ys = np.asarray(lats, dtype=float)
        if xs.size == 0 or not len(self.entries):
            empty = np.empty(0, dtype=np.intp)
            return empty, empty
        points = shapely.points(xs, ys)
        pi, zi = self.tree.query(points)
        keep = shapely.intersects_xy(self.geoms[zi], xs[pi], ys[pi])
        pi, zi = pi[keep], zi[keep]
        order = np.lexsort((zi, pi))
        return pi[order].astype(np.intp), zi[order].astype(np.intp)
