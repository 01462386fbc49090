"""Planning reports: capacity and overcrowding, balance (差异系数), as domain objects or JSON-ready dicts."""

from __future__ import annotations

import csv
import io
from typing import Any

from geo.capacity.balance import BalanceReport, balance_report
from geo.capacity.forecast import Projection, project_enrolment
from geo.capacity.utilisation import CapacityReport, capacity_report
from geo.errors import InvalidInput
from geo.planning.demand import assign_units, zone_demand
from geo.standards import get_profile
from service.operations.context import PlanContext, plan_context
from service.operations.jsonable import to_jsonable
from service.schemas import PlanRef
from service.settings import Settings
from service.storage.base import Repository


def csv_text(rows: list[dict[str, Any]]) -> str:
    """Rows of one shape as CSV text (header from the first row)."""
    buf = io.StringIO()
    if rows:
        writer = csv.DictWriter(buf, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return buf.getvalue()


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



def capacity(repo: Repository, settings: Settings, *, level: str | None, year: int | None, plan: int | None,
             district: str | None, demand: str | None, growth_rate: float | None) -> tuple[CapacityReport, dict[str, Any]]:
    """The capacity report of a plan (by id, or the adopted one in force) and its JSON body."""
    ctx = plan_context(repo, plan_id=plan, level=level, year=year, district=district, demand=demand)
    profile = get_profile(settings.profile)
    zone_dem, demand_info = demand_for(ctx)
    projections, notes = projections_for(ctx, year, growth_rate)
    report = capacity_report(ctx.schools, ctx.zones, level=ctx.plan.level, profile=profile, zone_demand=zone_dem,
                             projections=projections, year=year)
    body = to_jsonable(report) | {"plan": PlanRef.from_domain(ctx.plan).model_dump(), "demand_source": demand_info,
                                  "profile_detail": {"name": profile.key}, "projection_notes": notes}
    body["rows"] = [r.as_dict() for r in report.rows]
    return report, body


def capacity_csv(report: CapacityReport) -> str:
    return csv_text([r.as_dict() for r in report.rows])


def balance(repo: Repository, settings: Settings, *, level: str | None, year: int | None, plan: int | None,
            district: str | None) -> tuple[BalanceReport, dict[str, Any]]:
    """The balance report (差异系数) of the schools of a plan, and its JSON body."""
    ctx = plan_context(repo, plan_id=plan, level=level, year=year, district=district, with_demand=False)
    report = balance_report(ctx.schools, level=ctx.plan.level, profile=get_profile(settings.profile))
    return report, to_jsonable(report) | {"plan": PlanRef.from_domain(ctx.plan).model_dump()}


def balance_csv(report: BalanceReport) -> str:
    rows = [{"indicator": r.indicator.key, "cv_weighted": r.cv_weighted, "cv_unweighted": r.cv_unweighted,
             "cv_limit": r.cv_limit, "within_limit": r.within_limit, "area_value": r.area_value} for r in report.indicators]
    return csv_text(rows)
