"""Planning reports: capacity and overcrowding, balance (差异系数)."""

from __future__ import annotations

import csv
import io
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse, Response

from geo.capacity.balance import balance_report
from geo.capacity.forecast import Projection, project_enrolment
from geo.capacity.utilisation import capacity_report
from geo.errors import InvalidInput
from geo.planning.demand import assign_units, zone_demand
from geo.standards import get_profile
from service.deps import RepoDep, SettingsDep
from service.jsonable import plain
from service.openapi import ok_as, problems
from service.params import Id
from service.planning import PlanContext, plan_context
from service.schemas import PlanRef

router = APIRouter(prefix="/v1/reports", tags=["reports"])

Year = Annotated[int | None, Query(ge=1900, le=2200, description="school year; ahead of the plan's year projects enrolment")]
Format = Annotated[str, Query(pattern="^(json|csv)$")]


def to_csv(rows: list[dict[str, Any]]) -> Response:
    buf = io.StringIO()
    if rows:
        writer = csv.DictWriter(buf, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return Response(buf.getvalue(), media_type="text/csv")


def projections_for(ctx: PlanContext, year: int | None, growth_rate: float | None) -> tuple[dict[str, Projection] | None, list[str]]:
    """Enrolment projected to ``year`` for each school, when ``year`` is after the plan's year."""
    if year is None or year <= ctx.plan.school_year:
        return None, []
    out: dict[str, Projection] = {}
    notes: list[str] = []
    for s in ctx.schools:
        history = s.attributes.get("grade_history")
        totals = dict(s.attributes.get("enrolment_history") or {})
        if s.enrolment is not None:
            totals.setdefault(str(ctx.plan.school_year), s.enrolment)
        try:
            out[s.code] = project_enrolment(
                s.code, year=year,
                history={int(y): g for y, g in history.items()} if isinstance(history, dict) else None,
                totals={int(y): float(v) for y, v in totals.items()} or None, growth_rate=growth_rate)
        except InvalidInput as exc:
            notes.append(f"{s.code}: not projected ({exc.message})")
    return out, notes


def demand_for(ctx: PlanContext) -> tuple[list[float] | None, dict[str, Any]]:
    if not ctx.units:
        return None, {"demand": None, "note": "no demand units cover this plan: load them with `catchment import demand`"}
    assignment = assign_units(ctx.units, ctx.zones)
    demand = zone_demand(assignment, ctx.units, level=ctx.plan.level)
    info = {"demand": ctx.demand_name, "units": len(ctx.units), "units_outside_zones": len(assignment.outside),
            "units_partly_outside": len(assignment.partly_outside), "units_covered_twice": len(assignment.covered_twice),
            "outside_examples": list(assignment.outside[:20]), "area_crs": assignment.area_crs}
    return [float(x) for x in demand], info


@router.get("/capacity", summary="Capacity, demand, utilisation and class sizes per school", responses=problems(404) | ok_as("text/csv"))
def capacity(repo: RepoDep, settings: SettingsDep, level: str | None = None, year: Year = None,
             plan: Id | None = None, district: str | None = None, demand: str | None = None,
             growth_rate: Annotated[float | None, Query(ge=-0.5, le=1.0, description="yearly growth when projecting")] = None,
             format: Format = "json") -> Response:
    ctx = plan_context(repo, plan_id=plan, level=level, year=year, district=district, demand=demand)
    profile = get_profile(settings.profile)
    zone_dem, demand_info = demand_for(ctx)
    projections, notes = projections_for(ctx, year, growth_rate)
    report = capacity_report(ctx.schools, ctx.zones, level=ctx.plan.level, profile=profile, zone_demand=zone_dem,
                             projections=projections, year=year)
    if format == "csv":
        return to_csv([r.as_dict() for r in report.rows])
    body = plain(report) | {"plan": PlanRef.from_domain(ctx.plan).model_dump(), "demand_source": demand_info,
                            "profile_detail": {"name": profile.key}, "projection_notes": notes}
    body["rows"] = [r.as_dict() for r in report.rows]
    return JSONResponse(body)


@router.get("/balance", summary="Balance coefficient (差异系数) of school resources, weighted by enrolment",
            responses=problems(404) | ok_as("text/csv"))
def balance(repo: RepoDep, settings: SettingsDep, level: str | None = None, year: Year = None, plan: Id | None = None,
            district: str | None = None, format: Format = "json") -> Response:
    ctx = plan_context(repo, plan_id=plan, level=level, year=year, district=district, with_demand=False)
    report = balance_report(ctx.schools, level=ctx.plan.level, profile=get_profile(settings.profile))
    if format == "csv":
        rows = [{"indicator": r.indicator.key, "cv_weighted": r.cv_weighted, "cv_unweighted": r.cv_unweighted,
                 "cv_limit": r.cv_limit, "within_limit": r.within_limit, "area_value": r.area_value} for r in report.indicators]
        return to_csv(rows)
    return JSONResponse(plain(report) | {"plan": PlanRef.from_domain(ctx.plan).model_dump()})
