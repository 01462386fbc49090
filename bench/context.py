"""What every benchmark section shares: the statewide data loaded once, the points, the results."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

from bench.common import DataFiles, Results
from service.state import Snapshot


@dataclass(frozen=True)
class Options:
    data: Path | None = None
    points: int = 1_000_000
    runs: int = 5
    slow_runs: int = 3
    single_points: int = 20_000
    quick: bool = False
    only: tuple[str, ...] = ()
    skip: tuple[str, ...] = ()
    pg_url: str = "postgresql://postgres@127.0.0.1:5432/"
    http_seconds: float = 5.0
    http_connections: int = 16
    profile_http: bool = False

    def wants(self, section: str) -> bool:
        return (not self.only or section in self.only) and section not in self.skip


@dataclass
class Context:
    options: Options
    files: DataFiles
    results: Results
    db_path: Path
    snap: Snapshot
    xs: np.ndarray
    ys: np.ndarray
    reference: tuple[np.ndarray, np.ndarray] = field(default_factory=lambda: (np.zeros(0, np.intp), np.zeros(0, np.intp)))
    _zones_frame: gpd.GeoDataFrame | None = None

    @property
    def geoms(self) -> np.ndarray:
        return self.snap.index.geoms

    def zones_frame(self) -> gpd.GeoDataFrame:
        """The indexed zones as a GeoDataFrame (``pos`` = position in the index), for peers."""
        if self._zones_frame is None:
            fresh = shapely.from_wkb(shapely.to_wkb(self.geoms))  # unprepared copies: peers start cold
            self._zones_frame = gpd.GeoDataFrame({"pos": np.arange(len(fresh))}, geometry=fresh, crs=4326)
        return self._zones_frame


def exact_pairs(geoms: np.ndarray, xs: np.ndarray, ys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The exact predicate done plainly: STRtree on bounding boxes, then prepared ``intersects_xy``.

    (point, zone) pairs sorted by point then zone; points on an edge count for every zone.
    """
    tree = shapely.STRtree(geoms)
    pi, zi = tree.query(shapely.points(xs, ys))
    keep = shapely.intersects_xy(geoms[zi], xs[pi], ys[pi])
    pi, zi = pi[keep], zi[keep]
    order = np.lexsort((zi, pi))
    return pi[order].astype(np.intp), zi[order].astype(np.intp)


def mismatched_points(a: tuple[np.ndarray, np.ndarray], b: tuple[np.ndarray, np.ndarray], n_zones: int) -> int:
    """How many points have a different set of zones in ``a`` and ``b``."""
    ka = np.sort(a[0].astype(np.int64) * n_zones + a[1])
    kb = np.sort(b[0].astype(np.int64) * n_zones + b[1])
    if ka.size == kb.size and np.array_equal(ka, kb):
        return 0
    only_a = ka[~_isin_sorted(ka, kb)]
    only_b = kb[~_isin_sorted(kb, ka)]
    return int(np.union1d(only_a // n_zones, only_b // n_zones).size)


def _isin_sorted(values: np.ndarray, pool: np.ndarray) -> np.ndarray:
    if pool.size == 0:
        return np.zeros(values.size, dtype=bool)
    at = np.minimum(np.searchsorted(pool, values), pool.size - 1)
    return pool[at] == values
