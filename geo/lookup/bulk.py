"""Bulk point-in-zone for many points at once, vectorised end to end.

Same answers as :func:`geo.lookup.resolve.resolve` (plan in force for the year, grade filters, phasing
zones superseding the zone they replace, points on an edge counting for both zones), without
per-point Python.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from geo.errors import InvalidInput
from geo.index.zones import ZoneIndex
from geo.lookup.resolve import choose_plans
from geo.models import Plan


@dataclass(frozen=True, slots=True)
class BulkAnswer:
    """Pairs (point position, zone position in the index) that answer, sorted by point."""

    point: NDArray[np.intp]
    zone: NDArray[np.intp]


def zone_mask(index: ZoneIndex, *, plans: Sequence[Plan], level: str | None, grade: str | None,
              year: int | None) -> NDArray[np.bool_]:
    """Which zones of the index may answer for these filters."""
    in_force = choose_plans(plans, year)
    return np.array([e.plan.id in in_force and (level is None or e.plan.level == level) and e.zone.serves(grade, year)
                     for e in index.entries], dtype=bool)


def assign(index: ZoneIndex, lons: ArrayLike, lats: ArrayLike, *, mask: NDArray[np.bool_]) -> BulkAnswer:
    """Every answering (point, zone) pair for arrays of EPSG:4326 (lon, lat)."""
    xs = np.asarray(lons, dtype=float)
    ys = np.asarray(lats, dtype=float)
    bad = ~(np.isfinite(xs) & np.isfinite(ys) & (np.abs(xs) <= 180) & (np.abs(ys) <= 90))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        msg = f"point {i} has lon/lat {xs[i]}, {ys[i]} outside EPSG:4326 range (lon -180..180, lat -90..90)"
        raise InvalidInput(msg, where=f"points[{i}]")
    pi, zi = index.query_bulk(xs, ys)
    keep = mask[zi]
    pi, zi = pi[keep], zi[keep]
    phasing = np.array([e.zone.phasing for e in index.entries], dtype=bool)
    if phasing[zi].any():
        # Where a phasing zone answers for a point, level and kind, it replaces the old zone there.
        levels = pd.Categorical(index.levels[zi])
        kinds = pd.Categorical(np.array([str(index.entries[z].zone.kind) for z in zi.tolist()], dtype=object))
        frame = pd.DataFrame({"p": pi, "lv": levels.codes, "kind": kinds.codes, "ph": phasing[zi]})
        any_ph = frame.groupby(["p", "lv", "kind"])["ph"].transform("max").to_numpy()
        sel = ~any_ph | phasing[zi]
        pi, zi = pi[sel], zi[sel]
    return BulkAnswer(pi, zi)
