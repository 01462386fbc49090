"""What the optimiser reads: travel costs, unit adjacency, the starting plan, the options.

Costs are a dense (units x schools) matrix with its unit of measure, so every source looks the
same to the model: geodesic straight lines (:func:`geodesic_costs`, the default), a street
network matrix computed elsewhere (the service builds it with ``geo.network``; this package may
not import it), or a supplied table such as the Fairfax drive-time CSV (:func:`read_cost_matrix`).
Coordinates are EPSG:4326 (lon, lat); straight-line costs are geodesic metres on WGS84.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray
from pyproj import Geod
from scipy import sparse

from geo.errors import InvalidInput
from geo.models import School, Zone
from geo.planning.demand import DemandUnit, assign_units

_GEOD = Geod(ellps="WGS84")


@dataclass(frozen=True, eq=False)
class TravelCosts:
    """Cost of sending one pupil of each unit to each school.

    ``values[i, j]`` is the cost from ``unit_ids[i]`` to ``school_codes[j]`` in ``unit`` ("m" for
    metres, "s" for seconds); ``inf`` marks a pair that cannot be travelled (no route).
    """

    unit_ids: tuple[str, ...]
    school_codes: tuple[str, ...]
    values: NDArray[np.float64]
    unit: Literal["m", "s"]
    source: str

    def __post_init__(self) -> None:
        if self.values.shape != (len(self.unit_ids), len(self.school_codes)):
            msg = f"cost matrix is {self.values.shape}, expected {len(self.unit_ids)} units x {len(self.school_codes)} schools"
            raise InvalidInput(msg, where="costs")
        if np.isnan(self.values).any() or (self.values < 0).any():
            msg = "costs must be numbers >= 0 (inf for no route); the matrix has NaN or negative values"
            raise InvalidInput(msg, where="costs")

    def aligned(self, unit_ids: Sequence[str], school_codes: Sequence[str]) -> NDArray[np.float64]:
        """The matrix reordered to ``unit_ids`` x ``school_codes``; raises when any is missing."""
        urow = {u: i for i, u in enumerate(self.unit_ids)}
        scol = {s: j for j, s in enumerate(self.school_codes)}
        missing_u = [u for u in unit_ids if u not in urow]
        missing_s = [s for s in school_codes if s not in scol]
        if missing_u or missing_s:
            what = f"{len(missing_u)} unit(s) (first {missing_u[0]})" if missing_u else f"school(s) {missing_s[:5]}"
            msg = f"the cost matrix ({self.source}) has no column or row for {what}"
            raise InvalidInput(msg, where="costs")
        return self.values[np.ix_([urow[u] for u in unit_ids], [scol[s] for s in school_codes])]


def unit_points(units: Sequence[DemandUnit]) -> NDArray[np.float64]:
    """(n, 2) lon/lat of each unit: a point inside it (the point itself for a point unit)."""
    geoms = np.array([u.geometry for u in units], dtype=object)
    pts = shapely.point_on_surface(geoms)
    return np.column_stack((shapely.get_x(pts), shapely.get_y(pts)))


def geodesic_costs(units: Sequence[DemandUnit], schools: Sequence[School]) -> TravelCosts:
    """Geodesic straight-line metres (WGS84) from a point inside each unit to each school.

    Parameters
    ----------
    units
        Demand units (EPSG:4326).
    schools
        Schools with ``lon``/``lat``.
    """
    xy = unit_points(units)
    n, m = len(units), len(schools)
    lon = np.repeat(xy[:, 0], m)
    lat = np.repeat(xy[:, 1], m)
    slon = np.tile(np.array([s.lon for s in schools], dtype=float), n)
    slat = np.tile(np.array([s.lat for s in schools], dtype=float), n)
    _, _, dist = _GEOD.inv(lon, lat, slon, slat)
    return TravelCosts(tuple(u.id for u in units), tuple(s.code for s in schools),
                       np.asarray(dist, dtype=float).reshape(n, m), "m", "geodesic straight line (WGS84)")


def read_cost_matrix(path: Path, *, id_column: str, columns: Mapping[str, str], unit: Literal["m", "s"],
                     source: str | None = None) -> TravelCosts:
    """A cost table from CSV: one row per unit, one column per school.

    Parameters
    ----------
    path
        CSV file (e.g. ``drive_seconds_hs.csv``: ``geoid20`` then one column per school name).
    id_column
        Column of unit ids.
    columns
        CSV column -> school code (columns not named here are ignored).
    unit
        "s" (seconds) or "m" (metres).
    source
        Where the numbers come from, quoted in reports (default: the file name).
    """
    frame = pd.read_csv(path, dtype={id_column: str})
    missing = [c for c in [id_column, *columns] if c not in frame.columns]
    if missing:
        msg = f"{path.name} has no column(s) {missing[:5]}; columns are {list(frame.columns)[:10]}"
        raise InvalidInput(msg, where=missing[0])
    values = frame[list(columns)].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
    values = np.where(np.isnan(values), np.inf, values)
    return TravelCosts(tuple(frame[id_column].astype(str)), tuple(columns.values()), values, unit, source or path.name)


def unit_adjacency(units: Sequence[DemandUnit]) -> sparse.csr_matrix:
    """Symmetric boolean adjacency of polygon units that share an edge of positive length.

    Corner contacts do not count (two blocks meeting at a street crossing are not neighbours).
    Point units have no neighbours.
    """
    geoms = np.array([u.geometry for u in units], dtype=object)
    n = len(units)
    tree = shapely.STRtree(geoms)
    i, j = tree.query(geoms, predicate="intersects")
    keep = i < j
    i, j = i[keep], j[keep]
    # DE-9IM: the boundaries meet in a line (dimension 1), not only at points.
    line = shapely.relate_pattern(geoms[i], geoms[j], "****1****")
    i, j = i[line], j[line]
    data = np.ones(2 * i.size, dtype=bool)
    return sparse.csr_matrix((data, (np.concatenate([i, j]), np.concatenate([j, i]))), shape=(n, n))


def start_from_zones(units: Sequence[DemandUnit], zones: Sequence[Zone]) -> dict[str, str]:
    """Unit id -> school code of the zone holding most of the unit (the plan to start from).

    A unit in no zone is left out; a zone of several schools gives its first school.
    """
    a = assign_units(units, zones)
    best: dict[int, tuple[float, int]] = {}
    for u, z, share in zip(a.unit_pos.tolist(), a.zone_pos.tolist(), a.share.tolist(), strict=True):
        if u not in best or share > best[u][0]:
            best[u] = (share, z)
    return {units[u].id: zones[z].school_codes[0] for u, (_, z) in best.items() if zones[z].school_codes}


@dataclass(frozen=True, slots=True)
class Weights:
    """Objective weights, in "pupils moved" equivalents.

    ``moved`` per pupil moved from the starting plan; ``units_moved`` per unit that changes school
    (keeps empty units such as parks from drifting for free); ``travel`` per pupil per km (metre
    costs) or per minute (second costs); ``overflow`` per pupil above the capacity limit;
    ``compactness`` per km2 x km of unit area times distance to its school (0 = off).
    """

    moved: float = 1.0
    units_moved: float = 0.05
    travel: float = 0.2
    overflow: float = 1000.0
    compactness: float = 0.0


@dataclass(frozen=True, slots=True)
class OptimiseOptions:
    """How to optimise. Every option is keyword-only at the call site.

    Parameters
    ----------
    level
        The level whose demand is balanced (a unit's count for it, see ``DemandUnit.count``).
    k_nearest
        Candidate schools per unit: its starting school plus the ``k_nearest`` cheapest.
    max_utilisation
        Demand allowed at each school as a share of capacity (1.0 = full).
    max_utilisation_by_school
        Per-school overrides of ``max_utilisation``.
    capacity
        "hard": overflow that cannot be removed raises :class:`~geo.errors.InsufficientCapacity`;
        "soft": it is minimised and reported.
    max_travel
        Largest cost allowed per pupil (in the cost unit), e.g. a service radius in metres.
    contiguous
        Every zone connected through shared edges and containing its school's own unit.
    locked
        Unit id -> school code the unit must keep.
    nest_in
        Unit id -> school of the level above (fixed): every zone then lies inside one zone of it.
    weights
        Objective weights.
    time_limit_s, gap
        Stop at this many seconds, or once the relative optimality gap is at most ``gap``.
    threads
        Solver threads.
    """

    level: str
    k_nearest: int = 5
    max_utilisation: float = 1.0
    max_utilisation_by_school: Mapping[str, float] = field(default_factory=dict)
    capacity: Literal["hard", "soft"] = "hard"
    max_travel: float | None = None
    contiguous: bool = True
    locked: Mapping[str, str] = field(default_factory=dict)
    nest_in: Mapping[str, str] | None = None
    weights: Weights = field(default_factory=Weights)
    time_limit_s: float = 60.0
    gap: float = 0.01
    threads: int = 2
    grades: Sequence[str] | None = None

    def __post_init__(self) -> None:
        if self.k_nearest < 0:
            raise InvalidInput(f"k_nearest must be >= 0, not {self.k_nearest}", where="k_nearest")
        for name, v in [("max_utilisation", self.max_utilisation), *self.max_utilisation_by_school.items()]:
            if not np.isfinite(v) or v <= 0:
                raise InvalidInput(f"max_utilisation for {name} must be a positive number, not {v}", where="max_utilisation")
        if self.time_limit_s <= 0 or not 0 <= self.gap < 1:
            raise InvalidInput("time_limit_s must be > 0 and gap within [0, 1)", where="time_limit_s")
        if self.capacity not in ("hard", "soft"):
            raise InvalidInput(f"capacity must be 'hard' or 'soft', not {self.capacity!r}", where="capacity")
