"""Bulk answers as columns: per level, the schools, zones, plan and plan version of every point.

The batch endpoint, the batch assignment job and the benchmarks write the same columns, built
here once from :func:`geo.lookup.bulk.assign` without per-point Python (only points answered by
several zones of a level, a few per thousand, are joined one by one).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray

from geo.index.zones import ZoneIndex
from geo.lookup.bulk import assign

#: The columns written per level, after ``id``, ``lon`` and ``lat``.
LEVEL_COLUMNS = ("schools", "zones", "plan_id", "plan_version", "edge")


class ZoneColumns:
    """What each zone of an index contributes to a row, as arrays aligned with the index entries."""

    def __init__(self, index: ZoneIndex) -> None:
        entries = index.entries
        self.level = np.array([e.plan.level for e in entries], dtype=object)
        self.codes = np.array([";".join(e.zone.school_codes) for e in entries], dtype=object)
        self.ids = np.array([str(e.zone.id) for e in entries], dtype=object)
        self.plan_id = np.array([e.plan.id for e in entries], dtype=np.int64)
        self.plan_version = np.array([e.plan.version for e in entries], dtype=np.int64)


def level_cells(point: NDArray[np.intp], zone: NDArray[np.intp], n: int, cols: ZoneColumns) -> dict[str, NDArray[np.generic]]:
    """One level's cells for ``n`` points from its (point, zone) pairs, sorted by point.

    ``edge`` is True where several zones of the level answer: the point lies on a shared edge
    (it counts for both zones) or in an overlap.
    """
    schools = np.full(n, "", dtype=object)
    zones = np.full(n, "", dtype=object)
    plan_id = np.full(n, -1, dtype=np.int64)
    plan_version = np.full(n, -1, dtype=np.int64)
    edge = np.zeros(n, dtype=bool)
    uniq, first, counts = np.unique(point, return_index=True, return_counts=True)
    one = counts == 1
    schools[uniq[one]] = cols.codes[zone[first[one]]]
    zones[uniq[one]] = cols.ids[zone[first[one]]]
    plan_id[uniq] = cols.plan_id[zone[first]]
    plan_version[uniq] = cols.plan_version[zone[first]]
    edge[uniq[~one]] = True
    for u, f, c in zip(uniq[~one].tolist(), first[~one].tolist(), counts[~one].tolist(), strict=True):
        zz = zone[f:f + c]
        schools[u] = ";".join(dict.fromkeys(";".join(cols.codes[zz]).split(";")))
        zones[u] = ";".join(cols.ids[zz])
    return {"schools": schools, "zones": zones, "plan_id": plan_id, "plan_version": plan_version, "edge": edge}


def assignment_columns(index: ZoneIndex, lons: ArrayLike, lats: ArrayLike, *, mask: NDArray[np.bool_],
                       levels: Sequence[str], cols: ZoneColumns | None = None) -> dict[str, NDArray[np.generic]]:
    """Columns ``<level>_<name>`` (names in :data:`LEVEL_COLUMNS`) for arrays of EPSG:4326 points.

    Parameters
    ----------
    index
        The zone index of the adopted plans.
    lons, lats
        The points, EPSG:4326 degrees.
    mask
        Which zones may answer (:func:`geo.lookup.bulk.zone_mask`).
    levels
        The levels to write, in column order.
    cols
        The index's :class:`ZoneColumns` when the caller keeps them (they depend on the index only).

    Returns
    -------
    dict of str to numpy array
        One array per column, each as long as the points.
    """
    xs = np.asarray(lons, dtype=float)
    n = xs.size
    cols = cols or ZoneColumns(index)
    ans = assign(index, xs, lats, mask=mask)
    out: dict[str, NDArray[np.generic]] = {}
    for lv in levels:
        sel = cols.level[ans.zone] == lv
        for name, values in level_cells(ans.point[sel], ans.zone[sel], n, cols).items():
            out[f"{lv}_{name}"] = values
    return out


def spatial_order(lons: ArrayLike, lats: ArrayLike, *, bits: int = 16) -> NDArray[np.intp]:
    """A permutation that sorts points along a Z-order (Morton) curve over their bounds.

    Points near each other on the curve are near each other on the ground, so a sorted batch
    walks the zone index's cells in order (fewer cache misses); the answers do not depend on it.
    """
    xs = np.asarray(lons, dtype=float)
    ys = np.asarray(lats, dtype=float)
    if xs.size < 2:
        return np.arange(xs.size, dtype=np.intp)
    scale = (1 << bits) - 1

    def quantise(v: NDArray[np.float64]) -> NDArray[np.uint64]:
        lo, hi = float(np.nanmin(v)), float(np.nanmax(v))
        span = hi - lo or 1.0
        return np.nan_to_num((v - lo) / span * scale).astype(np.uint64)

    qx, qy = quantise(xs), quantise(ys)
    key = np.zeros(xs.size, dtype=np.uint64)
    for b in range(bits):
        one = np.uint64(1)
        key |= ((qx >> np.uint64(b)) & one) << np.uint64(2 * b)
        key |= ((qy >> np.uint64(b)) & one) << np.uint64(2 * b + 1)
    return np.argsort(key, kind="stable").astype(np.intp)
