"""Planning reports: capacity and overcrowding, balance (差异系数)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse, Response

from service.deps import RepoDep, SettingsDep
from service.openapi import ok_as, problems
from service.operations import reports as ops
from service.params import Id

router = APIRouter(prefix="/v1/reports", tags=["reports"])

Year = Annotated[int | None, Query(ge=1900, le=2200, description="school year; ahead of the plan's year projects enrolment")]
Format = Annotated[str, Query(pattern="^(json|csv)$")]


@router.get("/capacity", summary="Capacity, demand, utilisation and class sizes per school", responses=problems(404) | ok_as("text/csv"))
def capacity(repo: RepoDep, settings: SettingsDep, level: str | None = None, year: Year = None,
             plan: Id | None = None, district: str | None = None, demand: str | None = None,
             growth_rate: Annotated[float | None, Query(ge=-0.5, le=1.0, description="yearly growth when projecting")] = None,
             format: Format = "json") -> Response:
    report, body = ops.capacity(repo, settings, level=level, year=year, plan=plan, district=district, demand=demand,
                                growth_rate=growth_rate)
    if format == "csv":
        return Response(ops.capacity_csv(report), media_type="text/csv")
    return JSONResponse(body)


@router.get("/balance", summary="Balance coefficient (差异系数) of school resources, weighted by enrolment",
            responses=problems(404) | ok_as("text/csv"))
def balance(repo: RepoDep, settings: SettingsDep, level: str | None = None, year: Year = None, plan: Id | None = None,
            district: str | None = None, format: Format = "json") -> Response:
    report, body = ops.balance(repo, settings, level=level, year=year, plan=plan, district=district)
    if format == "csv":
        return Response(ops.balance_csv(report), media_type="text/csv")
    return JSONResponse(body)
