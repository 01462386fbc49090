"""Travel: distance or time from each demand unit to its school, networks, walk-sheds."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from fastapi.responses import JSONResponse

from service.deps import RepoDep, SettingsDep, SnapDep
from service.openapi import ok_as, problems
from service.operations import travel as ops
from service.operations.reports import csv_text
from service.params import Id

router = APIRouter(tags=["travel"])


@router.get("/v1/reports/travel", summary="Distance or time from each demand unit to its school: distribution and per-unit rows",
            responses=problems(404) | ok_as("text/csv"))
def travel_report(repo: RepoDep, snap: SnapDep, settings: SettingsDep, level: str | None = None, plan: Id | None = None,
                  district: str | None = None, year: Annotated[int | None, Query(ge=1900, le=2200)] = None,
                  mode: str = "straight", demand: str | None = None,
                  units: Annotated[str, Query(pattern="^(demand|nodes)$")] = "demand",
                  format: Annotated[str, Query(pattern="^(json|csv)$")] = "json") -> Response:
    run = ops.travel_run(repo, snap, level=level, plan=plan, district=district, year=year, mode=mode, demand=demand, units=units)
    if format == "csv":
        return Response(csv_text(ops.travel_rows(run)), media_type="text/csv")
    return JSONResponse(ops.travel_summary(run, settings))


@router.get("/v1/networks", summary="Registered street networks")
def networks(repo: RepoDep) -> list[dict[str, Any]]:
    return ops.networks_listing(repo)


@router.get("/v1/schools/{code}/walkshed", summary="Area reachable from a school within a distance (walk) or time (drive)")
def walkshed(code: str, repo: RepoDep, snap: SnapDep, within: Annotated[float, Query(gt=0, le=20_000)] = 1000.0,
             mode: str = "walk") -> dict[str, Any]:
    return ops.walkshed(repo, snap, code, within=within, mode=mode)
