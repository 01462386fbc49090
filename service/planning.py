"""Choosing what a report or map is about (the plan, its zones, schools and demand), and the rules of plan writes."""

from __future__ import annotations

from dataclasses import dataclass

import shapely

from geo.errors import Conflict, InvalidInput, NotFound, PreconditionRequired, StaleVersion
from geo.lookup.resolve import choose_plans
from geo.models import Plan, PlanStatus, School, Zone, check_slug
from geo.planning.demand import DemandUnit
from service.storage.base import Repository

#: Plans whose zones the public is answered from, or was: never changed in place.
READ_ONLY = (PlanStatus.ADOPTED, PlanStatus.ARCHIVED)


def etag(version: int) -> str:
    return f'"{version}"'


def parse_if_match(value: str | None) -> int:
    """``If-Match: "7"`` -> 7. Every plan write needs one (428 without), so that no write
    silently replaces a version its author never saw."""
    if value is None or not value.strip():
        msg = ("this plan write needs If-Match with the plan's ETag (from GET /v1/plans/{id}), so concurrent "
               "writes never overwrite each other / 修改方案须带 If-Match（方案的 ETag，见 GET /v1/plans/{id}），以免覆盖他人的修改")
        raise PreconditionRequired(msg, where="If-Match")
    text = value.strip().removeprefix("W/").strip('"')
    if not text.isdigit():
        msg = f"If-Match {value!r} must be an ETag from this API, like \"3\""
        raise InvalidInput(msg, where="If-Match")
    return int(text)


def read_only_message(plan: Plan) -> str:
    return (f"plan {plan.id} is {plan.status.value} and read-only; copy it to a draft (POST /v1/plans/{plan.id}/copy) "
            f"and change the draft / 方案 {plan.id} 已{'采用' if plan.status is PlanStatus.ADOPTED else '归档'}，只读："
            f"请复制为草稿（POST /v1/plans/{plan.id}/copy）后修改草稿")


def writable_plan(repo: Repository, plan_id: int, if_match: str | None, *, drafts_only: bool = False) -> tuple[Plan, int]:
    """The plan a write is about and the version it expects, checked in this order: If-Match given
    (428), the plan exists (404), the version is current (412), the plan may change (409).

    The version is checked before anything else is looked up (zone ids, units), so a stale
    client hears "reload" rather than "no such zone". The repository checks it again inside its
    transaction.
    """
    version = parse_if_match(if_match)
    plan = repo.get_plan(plan_id)
    if plan.version != version:
        msg = f"plan {plan_id} is at version {plan.version}, not {version}; reload it and retry"
        raise StaleVersion(msg, where="If-Match")
    if plan.status in READ_ONLY:
        raise Conflict(read_only_message(plan), where="plan_id")
    if drafts_only and plan.status is not PlanStatus.DRAFT:
        msg = f"plan {plan_id} is {plan.status.value}; only drafts are edited: copy it first (POST /v1/plans/{plan_id}/copy)"
        raise Conflict(msg, where="plan_id")
    return plan, version


@dataclass(frozen=True)
class PlanContext:
    plan: Plan
    zones: list[Zone]
    schools: list[School]
    demand_name: str | None
    units: list[DemandUnit]


def resolve_plan(repo: Repository, *, plan_id: int | None, level: str | None, year: int | None,
                 district: str | None) -> Plan:
    """The plan asked for: by id, or the adopted plan in force for (district, level, year)."""
    if plan_id is not None:
        return repo.get_plan(plan_id)
    if level is None:
        raise InvalidInput("give plan= or level= (and district= when the level exists in several districts)", where="level")
    level = check_slug(level, what="level")
    plans = repo.list_plans(level=level, status=PlanStatus.ADOPTED,
                            district=check_slug(district, what="district") if district else None)
    if not plans:
        msg = f"no adopted plan for level {level!r}" + (f" in district {district!r}" if district else "")
        raise NotFound(msg, where="level")
    chosen = [p for p in plans if p.id in choose_plans(plans, year)]
    if len(chosen) > 1:
        names = ", ".join(sorted(p.district for p in chosen))
        msg = f"level {level!r} has adopted plans in districts {names}: add district= or plan="
        raise InvalidInput(msg, where="district")
    return chosen[0]


def schools_of(repo: Repository, zones: list[Zone], level: str) -> list[School]:
    """Schools named by the zones, plus open schools of the level inside the zones' extent."""
    named = {c for z in zones for c in z.school_codes}
    if not zones:
        return []
    x0, y0, x1, y1 = shapely.total_bounds([z.geometry for z in zones])
    nearby = repo.list_schools(bbox=(float(x0), float(y0), float(x1), float(y1)), level=level)
    out = {s.code: s for s in nearby}
    for code in named - set(out):
        try:
            out[code] = repo.get_school(code)
        except NotFound:
            continue
    return sorted(out.values(), key=lambda s: s.code)


def pick_demand(repo: Repository, zones: list[Zone], name: str | None) -> tuple[str | None, list[DemandUnit]]:
    """The demand set asked for, or the one set whose extent overlaps the zones (None if none)."""
    if name is not None:
        return name, repo.demand_units(name)
    if not zones:
        return None, []
    box = shapely.box(*shapely.total_bounds([z.geometry for z in zones]))
    candidates = []
    for s in repo.demand_sets():
        bbox = (s.get("report") or {}).get("bbox")
        if bbox and box.intersects(shapely.box(*bbox)):
            candidates.append(s["name"])
    if len(candidates) > 1:
        msg = f"several demand sets cover this area ({', '.join(candidates)}): add demand="
        raise InvalidInput(msg, where="demand")
    if not candidates:
        return None, []
    return candidates[0], repo.demand_units(candidates[0])


def plan_context(repo: Repository, *, plan_id: int | None, level: str | None, year: int | None, district: str | None,
                 demand: str | None = None, with_demand: bool = True) -> PlanContext:
    plan = resolve_plan(repo, plan_id=plan_id, level=level, year=year, district=district)
    zones = repo.zones(plan.id)
    schools = schools_of(repo, zones, plan.level)
    name, units = pick_demand(repo, zones, demand) if with_demand else (None, [])
    return PlanContext(plan, zones, schools, name, units)
