"""What the planners' workspace charts beyond the reports: pupils by distance to school."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from service.deps import RepoDep, SnapDep
from service.openapi import problems
from service.operations.workspace import travel_distribution

router = APIRouter(tags=["travel"])


@router.get("/v1/reports/travel/distribution", summary="Pupils by distance (or time) to their school, in equal bins",
            responses=problems(404))
def distribution(repo: RepoDep, snap: SnapDep, plan: int, mode: str = "straight", demand: str | None = None,
                 bins: Annotated[int, Query(ge=2, le=50)] = 12) -> dict[str, Any]:
    return travel_distribution(repo, snap, plan=plan, mode=mode, demand=demand, bins=bins)
