"""Impact of one plan against another: who changes school, and what it does to every school.

For two sets of zones of one level (plan A "before", plan B "after") and demand units (blocks,
compounds, address points with child counts): every unit whose school changes, from and to,
with the pupils moved; pupils moved per school pair (a table and a flow matrix); per school
capacity, demand, utilisation band and class-size figures before and after; straight-line
(geodesic) distance from unit to school before and after; and the balance coefficient before
and after when schools carry the resource fields.

Units are assigned to zones by :func:`geo.demand.assign_units` (polygons by area share, points
by containment). A unit's "school" is the set of schools of its zone: a shared zone
(多校划片) is one destination, and per-school demand splits it by capacity share as the capacity
report does. Geometries are EPSG:4326 (lon, lat); distances are metres.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely
from numpy.typing import NDArray
from scipy import sparse

from geo.balance import balance_report
from geo.capacity import CapacityRow, capacity_report
from geo.coverage import clean_polygonal, union_polygons
from geo.demand import DemandUnit, assign_units
from geo.distance import geodesic_m
from geo.errors import InvalidInput
from geo.models import School, Zone
from geo.standards import GENERIC, Band, StandardsProfile

SchoolSet = tuple[str, ...]
_EPS = 1e-6  # share differences below this are overlay noise, not a change


def zones_in_force(zones: Sequence[Zone], *, grade: str | None = None, year: int | None = None) -> list[Zone]:
    """The zones answering for ``grade`` in ``year``, as a lookup sees them.

    Zones not serving the grade/year are dropped; where a phasing zone is in force it replaces
    the older zones under it (their geometry loses that area), as :func:`geo.lookup.resolve` does.
    """
    serving = [z for z in zones if z.serves(grade, year)]
    phased = [z.geometry for z in serving if z.phasing]
    if not phased:
        return serving
    cover = union_polygons(phased)
    return [z if z.phasing else dataclasses.replace(z, geometry=clean_polygonal(z.geometry.difference(cover)))
            for z in serving]


def set_label(codes: SchoolSet) -> str:
    """``("a", "b")`` -> ``"a+b"``; the empty set (no zone) -> ``"none"``."""
    return "+".join(codes) if codes else "none"


@dataclass(frozen=True, slots=True)
class UnitChange:
    """Part of one unit that changes school: ``pupils`` of it go from one school set to another."""

    unit_id: str
    from_schools: SchoolSet
    to_schools: SchoolSet
    pupils: float
    share: float
    lon: float
    lat: float

    def as_dict(self) -> dict[str, Any]:
        return {"unit_id": self.unit_id, "from": set_label(self.from_schools), "to": set_label(self.to_schools),
                "pupils": round(self.pupils, 3), "share": round(self.share, 6), "lon": self.lon, "lat": self.lat}


@dataclass(frozen=True, slots=True)
class Flow:
    """Pupils moved from one school set to another, over ``units`` units."""

    from_schools: SchoolSet
    to_schools: SchoolSet
    pupils: float
    units: int

    def as_dict(self) -> dict[str, Any]:
        return {"from": set_label(self.from_schools), "to": set_label(self.to_schools),
                "pupils": round(self.pupils, 3), "units": self.units}


@dataclass(frozen=True, slots=True)
class SchoolChange:
    """One school before and after. Utilisation is demand / capacity; class sizes are demand / classes."""

    code: str
    name: str
    capacity: float | None
    demand_before: float | None
    demand_after: float | None
    utilisation_before: float | None
    utilisation_after: float | None
    band_before: Band | None
    band_after: Band | None
    classes: int | None
    class_size_standard: int | None
    class_size_before: float | None
    class_size_after: float | None
    class_size_band_before: Band | None
    class_size_band_after: Band | None
    classes_needed_before: int | None
    classes_needed_after: int | None

    @property
    def change(self) -> float | None:
        if self.demand_before is None or self.demand_after is None:
            return None
        return self.demand_after - self.demand_before

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            if isinstance(v, Band) or (v is None and "band" in f.name):
                out[f.name] = v.key if v else None
                out[f"{f.name}_en"] = v.label_en if v else None
                out[f"{f.name}_zh"] = v.label_zh if v else None
            else:
                out[f.name] = round(v, 4) if isinstance(v, float) else v
        out["change"] = None if self.change is None else round(self.change, 4)
        return out


@dataclass(frozen=True, slots=True)
class DistanceSummary:
    """Pupil-weighted straight-line distance from units to their zone's nearest school (metres)."""

    pupils: float
    median_m: float | None
    p90_m: float | None
    mean_m: float | None
    radius_m: float | None
    share_within: float | None

    def as_dict(self) -> dict[str, Any]:
        return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in dataclasses.asdict(self).items()}


@dataclass(frozen=True, slots=True)
class PlanImpact:
    """Everything :func:`compare_plans` found; ``to_rows`` gives CSV tables, ``as_dict`` JSON."""

    level: str
    year: int | None
    profile: str
    changes: tuple[UnitChange, ...]
    flows: tuple[Flow, ...]
    schools: tuple[SchoolChange, ...]
    distance_before: DistanceSummary
    distance_after: DistanceSummary
    moved_distance_before: DistanceSummary
    moved_distance_after: DistanceSummary
    balance_before: Mapping[str, float | None] = field(default_factory=dict)
    balance_after: Mapping[str, float | None] = field(default_factory=dict)
    outside_before: tuple[str, ...] = ()
    outside_after: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def pupils_moved(self) -> float:
        return float(sum(f.pupils for f in self.flows))

    @property
    def units_changed(self) -> int:
        return len({c.unit_id for c in self.changes})

    def flow_matrix(self) -> tuple[list[str], list[list[float]]]:
        """(labels, matrix): ``matrix[i][j]`` pupils moving from set ``labels[i]`` to ``labels[j]``."""
        keys = sorted({f.from_schools for f in self.flows} | {f.to_schools for f in self.flows})
        pos = {k: i for i, k in enumerate(keys)}
        m = [[0.0] * len(keys) for _ in keys]
        for f in self.flows:
            m[pos[f.from_schools]][pos[f.to_schools]] += round(f.pupils, 3)
        return [set_label(k) for k in keys], m

    def to_rows(self, table: str) -> list[dict[str, Any]]:
        """Rows of one table for CSV: ``"units"``, ``"flows"``, ``"schools"`` or ``"distance"``."""
        if table == "units":
            return [c.as_dict() for c in self.changes]
        if table == "flows":
            return [f.as_dict() for f in self.flows]
        if table == "schools":
            return [s.as_dict() for s in self.schools]
        if table == "distance":
            pairs = (("all", "before", self.distance_before), ("all", "after", self.distance_after),
                     ("moved", "before", self.moved_distance_before), ("moved", "after", self.moved_distance_after))
            return [{"pupils_of": who, "when": when, **d.as_dict()} for who, when, d in pairs]
        msg = f"unknown table {table!r}; choose units, flows, schools or distance"
        raise InvalidInput(msg, where="table")

    def as_dict(self) -> dict[str, Any]:
        labels, matrix = self.flow_matrix()
        return {
            "level": self.level, "year": self.year, "profile": self.profile,
            "pupils_moved": round(self.pupils_moved, 3), "units_changed": self.units_changed,
            "units": self.to_rows("units"), "flows": self.to_rows("flows"),
            "flow_matrix": {"labels": labels, "matrix": matrix},
            "schools": self.to_rows("schools"),
            "distance": {"before": self.distance_before.as_dict(), "after": self.distance_after.as_dict(),
                         "moved_before": self.moved_distance_before.as_dict(),
                         "moved_after": self.moved_distance_after.as_dict()},
            "balance": {"before": dict(self.balance_before), "after": dict(self.balance_after)},
            "outside_before": list(self.outside_before), "outside_after": list(self.outside_after),
            "notes": list(self.notes),
        }


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


def _side(zones: Sequence[Zone], units: Sequence[DemandUnit], counts: NDArray[np.float64], key_of: Mapping[SchoolSet, int],
          lons: NDArray[np.float64], lats: NDArray[np.float64], schools: Mapping[str, School]) -> _Side:
    asg = assign_units(units, zones)
    n, k = len(units), len(key_of)
    cols = np.array([key_of[_school_set(z)] for z in zones], dtype=np.intp)[asg.zone_pos]
    covered = np.bincount(asg.unit_pos, weights=asg.share, minlength=n)
    rest = np.clip(1.0 - covered, 0.0, None)
    # The uncovered remainder of each unit goes to the empty set "none", so every row sums to 1.
    rows = np.concatenate([asg.unit_pos, np.arange(n)])
    vals = np.concatenate([asg.share, rest])
    cols = np.concatenate([cols, np.full(n, key_of[()], dtype=np.intp)])
    matrix = sparse.csr_matrix((vals, (rows, cols)), shape=(n, k))
    zone_demand = np.bincount(asg.zone_pos, weights=asg.share * counts[asg.unit_pos], minlength=len(zones))
    # Distance from each unit to the nearest known school of each zone it lies in.
    du, dz, dc = [], [], []
    for code_pos, zone in enumerate(zones):
        del code_pos
    for z_idx, zone in enumerate(zones):
        for code in _school_set(zone):
            if code in schools:
                du.append(z_idx)
                dc.append(code)
    pair_zone = asg.zone_pos
    best = np.full(pair_zone.size, np.inf)
    for z_idx, code in zip(du, dc, strict=True):
        sel = np.flatnonzero(pair_zone == z_idx)
        if sel.size:
            s = schools[code]
            d = geodesic_m(lons[asg.unit_pos[sel]], lats[asg.unit_pos[sel]], s.lon, s.lat)
            best[sel] = np.minimum(best[sel], d)
    known = np.isfinite(best)
    del dz
    return _Side(matrix, zone_demand.astype(float), best[known], asg.unit_pos[known],
                 (asg.share * counts[asg.unit_pos])[known], asg.outside)
