"""Wire models of the optimiser: the body of ``POST /v1/plans/{id}/optimise``.

Kept apart from ``service/schemas.py``; the job it starts is a ``JobOut`` like every job.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from service.operations.optimise import OptimiseRequest

Code = Annotated[str, Field(min_length=1, max_length=64)]


class WeightsIn(BaseModel):
    """Objective weights in "pupils moved" equivalents (defaults: moved 1, units_moved 0.05, travel 0.2
    per km or minute, overflow 1000, compactness 0)."""

    model_config = ConfigDict(extra="forbid")

    moved: float | None = Field(default=None, ge=0, le=1e6, description="per pupil moved from the starting plan")
    units_moved: float | None = Field(default=None, ge=0, le=1e6, description="per unit that changes school")
    travel: float | None = Field(default=None, ge=0, le=1e6, description="per pupil per km (metres) or per minute (seconds)")
    overflow: float | None = Field(default=None, ge=0, le=1e9, description="per pupil above the capacity limit")
    compactness: float | None = Field(default=None, ge=0, le=1e6, description="per km2 x km of unit area times distance (0 = off)")


class OptimiseOptionsIn(BaseModel):
    """How to optimise; every field optional."""

    model_config = ConfigDict(extra="forbid")

    max_utilisation: float = Field(default=1.0, gt=0, le=10, description="demand allowed at each school, share of capacity")
    max_utilisation_by_school: dict[Code, Annotated[float, Field(gt=0, le=10)]] = Field(
        default_factory=dict, max_length=5000, description="school code -> its own max_utilisation")
    capacity: Literal["hard", "soft"] = Field(default="hard", description="hard: 422 when seats cannot hold the pupils; soft: minimise the overflow")
    time_limit_s: float = Field(default=60.0, gt=0, le=3600, description="solver time limit (per point with tradeoff)")
    gap: float = Field(default=0.01, ge=0, lt=1, description="stop once the relative optimality gap is this small")
    locks: dict[Code, Code] = Field(default_factory=dict, max_length=20_000,
                                    description="demand unit id -> school code the unit must keep")
    cost: Literal["straight", "walk", "drive", "matrix"] = Field(
        default="straight", description="geodesic straight line, a loaded walk or drive network, or a CSV matrix")
    matrix: str | None = Field(default=None, min_length=1, max_length=255, pattern=r"^[^/\\]+$",
                               description="cost=matrix: a CSV in CATCHMENT_JOBS_INPUT_DIR (unit id, then a column per school)")
    matrix_unit: Literal["s", "m"] = Field(default="s", description="the matrix's unit: seconds or metres")
    k: int = Field(default=5, ge=0, le=50, description="candidate schools per unit: its own plus the k nearest")
    max_travel: float | None = Field(default=None, gt=0, le=1e7, description="largest cost allowed per pupil, in the cost's unit")
    weights: WeightsIn | None = None
    tradeoff: int = Field(default=0, ge=0, le=12, description="N > 0: run N stability weights and return the curve")
    contiguous: bool = Field(default=True, description="every zone connected through shared unit edges")


class OptimiseIn(BaseModel):
    """Start an optimisation from a plan: the proposal is stored as a new draft (its child)."""

    model_config = ConfigDict(extra="forbid")

    demand: str | None = Field(default=None, min_length=1, max_length=64, description="demand set (default: the one covering the plan)")
    level: str | None = Field(default=None, min_length=1, max_length=64, description="must be the plan's level when given")
    name: str | None = Field(default=None, min_length=1, max_length=200, description="name of the new draft")
    options: OptimiseOptionsIn = Field(default_factory=OptimiseOptionsIn)

    def to_request(self, matrix: Path | None) -> OptimiseRequest:
        o = self.options
        weights = {k: v for k, v in (o.weights.model_dump() if o.weights else {}).items() if v is not None}
        return OptimiseRequest(demand=self.demand, level=self.level, name=self.name, max_utilisation=o.max_utilisation,
                               max_utilisation_by_school=dict(o.max_utilisation_by_school), capacity=o.capacity,
                               time_limit_s=o.time_limit_s, gap=o.gap, locks=dict(o.locks), cost=o.cost, matrix=matrix,
                               matrix_unit=o.matrix_unit, k=o.k, max_travel=o.max_travel, weights=weights,
                               tradeoff=o.tradeoff, contiguous=o.contiguous)
