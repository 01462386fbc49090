"""Results of a plan comparison (:func:`geo.planning.impact.compare_plans`): tables for CSV, a dict for JSON.

A "school set" is the tuple of school codes of a zone (several = a shared zone, 多校划片); the
empty tuple means "no zone".
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from geo.errors import InvalidInput
from geo.standards import Band

SchoolSet = tuple[str, ...]


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
