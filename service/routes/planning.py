"""Planners at work: copy a plan to a draft, edit it (versioned, If-Match), undo/redo, validate,
compare two plans, propose, and publish the change notice. Adoption is in ``plans.py``."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import shapely
from fastapi import APIRouter, Header, Query, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from geo.errors import Conflict, Forbidden, InvalidInput, NotFound
from geo.models import ApiKey, Plan, PlanStatus, Role, School, SchoolStatus
from geo.planning import edit
from geo.planning.findings import count_by_code, findings_geojson
from geo.planning.impact import compare_plans
from geo.planning.notice import changed_areas, notice_text
from geo.standards import get_profile
from service.deps import NoticesDep, PlannerDep, RepoDep, SettingsDep, actor
from service.openapi import ok_as, problems
from service.operations.context import pick_demand, schools_of, validate_stored
from service.operations.jsonable import to_jsonable
from service.operations.reports import csv_text
from service.operations.rules import rules_notice
from service.operations.versions import etag, writable_plan
from service.params import Id
from service.schemas import PlanOut, SchoolIn
from service.storage.base import Repository

router = APIRouter(prefix="/v1/plans", tags=["planning"])


class CopyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=200)
    school_year: int | None = Field(default=None, ge=1900, le=2200)


class EditIn(BaseModel):
    """One edit of a draft. ``op`` says which; geometries are GeoJSON in EPSG:4326."""

    model_config = ConfigDict(extra="forbid")

    op: Literal["replace_geometry", "move_units", "split", "merge", "add_school"]
    zone_id: Id | None = None
    zone_ids: list[Id] | None = None
    geometry: dict[str, Any] | None = None
    take_from_neighbours: bool = False
    demand: str | None = None
    moves: dict[str, str] | None = Field(default=None, description="demand unit id -> school code")
    school_codes: list[str] | None = None
    name: str | None = None
    school: SchoolIn | None = None
    grades: list[str] | None = None


def _geometry(doc: dict[str, Any] | None, where: str) -> shapely.Geometry:
    if doc is None:
        msg = f"this edit needs '{where}' (a GeoJSON geometry, EPSG:4326)"
        raise InvalidInput(msg, where=where)
    try:
        return shapely.geometry.shape(doc)
    except (KeyError, TypeError, ValueError, AttributeError, shapely.errors.GEOSException) as exc:
        msg = f"'{where}' is not a valid GeoJSON geometry: {exc}"
        raise InvalidInput(msg, where=where) from exc


def _need(value: Any, name: str) -> Any:
    if value is None:
        msg = f"this edit needs '{name}'"
        raise InvalidInput(msg, where=name)
    return value


def _summary(repo: Repository, plan: Plan) -> dict[str, Any]:
    zones = repo.zones(plan.id)
    findings = validate_stored(repo, plan, zones=zones)
    return {"plan": PlanOut.from_domain(plan).model_dump(mode="json"), "zones": len(zones),
            "validation": {"counts": count_by_code(findings),
                           "errors": sum(1 for f in findings if f.severity == "error")}}


@router.post("/{plan_id}/copy", response_model=PlanOut, status_code=201, summary="Copy any plan into a new draft")
def copy(plan_id: Id, repo: RepoDep, user: PlannerDep, response: Response, body: CopyIn | None = None) -> PlanOut:
    src = repo.get_plan(plan_id)
    name = body.name if body and body.name else f"Draft from {src.name}"
    plan = repo.copy_plan(plan_id, name=name, actor=actor(user), school_year=body.school_year if body else None)
    response.headers["Location"] = f"/v1/plans/{plan.id}"
    response.headers["ETag"] = etag(plan.version)
    return PlanOut.from_domain(plan)


@router.post("/{plan_id}/edits", summary="Apply one edit to a draft (If-Match required; 412 when stale)")
def apply_edit(plan_id: Id, body: EditIn, repo: RepoDep, user: PlannerDep,
               if_match: Annotated[str | None, Header()] = None) -> JSONResponse:
    _, version = writable_plan(repo, plan_id, if_match, drafts_only=True)
    zones = repo.zones(plan_id)
    new_schools = []
    if body.op == "replace_geometry":
        zones = edit.replace_zone_geometry(zones, zone_id=_need(body.zone_id, "zone_id"),
                                           geometry=edit.as_zone_geometry(_geometry(body.geometry, "geometry")),
                                           take_from_neighbours=body.take_from_neighbours)
    elif body.op == "move_units":
        moves = _need(body.moves, "moves")
        _, units = pick_demand(repo, zones, body.demand)
        wanted = [u for u in units if u.id in moves]
        missing = sorted(set(moves) - {u.id for u in wanted})
        if missing:
            msg = f"unknown demand unit id(s) {', '.join(missing[:5])}"
            raise InvalidInput(msg, where="moves")
        zones = edit.move_units(zones, units=wanted, to_school=moves)
    elif body.op == "split":
        zones = edit.split_zone(zones, zone_id=_need(body.zone_id, "zone_id"), by=_geometry(body.geometry, "geometry"),
                                school_codes=body.school_codes)
    elif body.op == "merge":
        zones = edit.merge_zones(zones, zone_ids=_need(body.zone_ids, "zone_ids"), school_codes=body.school_codes, name=body.name)
    else:
        school, create = _school_to_add(repo, body, user)
        planned, zones = edit.add_planned_school(zones, school=school, geometry=_geometry(body.geometry, "geometry"),
                                                 take_from_neighbours=body.take_from_neighbours, grades=body.grades)
        new_schools = [planned] if create else []
    updated = repo.replace_zones(plan_id, zones, actor=actor(user), expected_version=version, action=f"edit.{body.op}",
                                 new_schools=new_schools)
    return JSONResponse(_summary(repo, updated), headers={"ETag": etag(updated.version)})


def _school_to_add(repo: Repository, body: EditIn, user: ApiKey) -> tuple[School, bool]:
    """The school an ``add_school`` edit zones, and whether the edit creates it.

    Schools are admin data: a planner's edit may only reference a school stored already as
    planned (``school_codes: [code]``, or ``school`` with that code); creating one needs an admin key.
    """
    given = body.school.to_domain() if body.school is not None else None
    codes = body.school_codes or []
    code = given.code if given is not None else (codes[0] if len(codes) == 1 else None)
    if code is None:
        raise InvalidInput("add_school needs 'school' (a new school: admin key) or 'school_codes' with one planned school's code",
                           where="school")
    try:
        stored = repo.get_school(code)
    except NotFound:
        stored = None
    if stored is not None:
        if stored.status is not SchoolStatus.PLANNED:
            msg = f"school {code} is {stored.status.value}; add_school zones a planned school (POST /v1/schools with status planned)"
            raise Conflict(msg, where="school.code")
        return stored, False
    if given is None:
        msg = f"no school with code {code!r}; an admin creates it first (POST /v1/schools with status planned)"
        raise NotFound(msg, where="school_codes")
    if user.role is not Role.ADMIN:
        msg = (f"school {code} does not exist and schools are admin data: an admin key creates it here, or an admin adds it "
               f"as planned first and this edit references its code / 学校 {code} 不存在，学校由管理员维护：请管理员先新增（规划中）学校")
        raise Forbidden(msg, where="school")
    return given, True


def _stacks(history: list[dict[str, Any]]) -> tuple[list[int], list[int]]:
    """Replay the plan's zone history: (applied versions, redoable versions)."""
    applied: list[int] = []
    redo: list[int] = []
    for rec in history:
        if rec["action"] == "undo" and applied:
            redo.append(applied.pop())
        elif rec["action"] == "redo" and redo:
            applied.append(redo.pop())
        elif rec["action"] not in {"undo", "redo"}:
            applied.append(rec["version"])
            redo.clear()
    return applied, redo


@router.post("/{plan_id}/undo", summary="Undo the last edit of a draft (a new version)")
def undo(plan_id: Id, repo: RepoDep, user: PlannerDep, if_match: Annotated[str | None, Header()] = None) -> JSONResponse:
    _, version = writable_plan(repo, plan_id, if_match, drafts_only=True)
    applied, _ = _stacks(repo.plan_versions(plan_id))
    if len(applied) < 2:
        raise Conflict("nothing to undo", where="plan_id")
    zones = repo.plan_version_zones(plan_id, applied[-2])
    updated = repo.replace_zones(plan_id, zones, actor=actor(user), expected_version=version, action="undo")
    return JSONResponse(_summary(repo, updated), headers={"ETag": etag(updated.version)})


@router.post("/{plan_id}/redo", summary="Redo the last undone edit")
def redo(plan_id: Id, repo: RepoDep, user: PlannerDep, if_match: Annotated[str | None, Header()] = None) -> JSONResponse:
    _, version = writable_plan(repo, plan_id, if_match, drafts_only=True)
    _, redoable = _stacks(repo.plan_versions(plan_id))
    if not redoable:
        raise Conflict("nothing to redo", where="plan_id")
    zones = repo.plan_version_zones(plan_id, redoable[-1])
    updated = repo.replace_zones(plan_id, zones, actor=actor(user), expected_version=version, action="redo")
    return JSONResponse(_summary(repo, updated), headers={"ETag": etag(updated.version)})


@router.get("/{plan_id}/history", summary="Every stored version of the plan's zones")
def history(plan_id: Id, repo: RepoDep) -> dict[str, Any]:
    repo.get_plan(plan_id)
    records = repo.plan_versions(plan_id)
    applied, redoable = _stacks(records)
    return {"versions": records, "can_undo": len(applied) > 1, "can_redo": bool(redoable)}


@router.get("/{plan_id}/validation", summary="Findings: invalid shapes, overlaps, gaps, slivers, schools outside zones ...")
def validation(plan_id: Id, repo: RepoDep, severity: Annotated[str | None, Query(pattern="^(error|warning|info)$")] = None,
               code: str | None = None, sliver_m2: Annotated[float, Query(ge=0, le=1e7)] = 100.0) -> dict[str, Any]:
    plan = repo.get_plan(plan_id)
    findings = validate_stored(repo, plan, sliver_m2=sliver_m2)
    counts = count_by_code(findings)
    shown = [f for f in findings if (severity is None or f.severity == severity) and (code is None or f.code == code)]
    doc = findings_geojson(shown)
    return {"plan_id": plan.id, "version": plan.version, "counts": counts,
            "errors": sum(1 for f in findings if f.severity == "error"), "findings": doc}


@router.get("/compare", summary="Impact of plan b against plan a: pupils moved, utilisation, distance, balance",
            responses=problems(404) | ok_as("text/csv"))
def compare(repo: RepoDep, settings: SettingsDep, a: Id, b: Id, demand: str | None = None,
            format: Annotated[str, Query(pattern="^(json|csv)$")] = "json",
            table: Annotated[str, Query(pattern="^(units|flows|schools|distance)$")] = "schools") -> Response:
    pa, pb = repo.get_plan(a), repo.get_plan(b)
    if pa.level != pb.level:
        msg = f"plans {a} and {b} are for different levels ({pa.level}, {pb.level})"
        raise InvalidInput(msg, where="b")
    za, zb = repo.zones(a), repo.zones(b)
    name, units = pick_demand(repo, za + zb, demand)
    if not units:
        raise InvalidInput("no demand units cover these plans: load them with `catchment import demand`", where="demand")
    schools = {s.code: s for s in schools_of(repo, za + zb, pa.level)}
    impact = compare_plans(za, zb, units=units, schools=schools, level=pa.level, profile=get_profile(settings.profile))
    if format == "csv":
        return Response(csv_text(impact.to_rows(table)), media_type="text/csv")  # type: ignore[arg-type]
    labels, matrix = impact.flow_matrix()
    body = to_jsonable(impact) | {"a": PlanOut.from_domain(pa).model_dump(mode="json"), "b": PlanOut.from_domain(pb).model_dump(mode="json"),
                            "demand": name, "pupils_moved": impact.pupils_moved, "units_changed": impact.units_changed,
                            "flow_matrix": {"schools": labels, "pupils": matrix}}
    return JSONResponse(body)


@router.post("/{plan_id}/propose", response_model=PlanOut, summary="Mark a draft as proposed (ready for adoption)")
def propose(plan_id: Id, repo: RepoDep, user: PlannerDep, response: Response,
            if_match: Annotated[str | None, Header()] = None) -> PlanOut:
    plan, _ = writable_plan(repo, plan_id, if_match)
    if plan.status is not PlanStatus.DRAFT:
        msg = f"plan {plan_id} is {plan.status.value}; only a draft can be proposed"
        raise Conflict(msg, where="status")
    updated = repo.set_plan_status(plan_id, PlanStatus.PROPOSED, actor=actor(user))
    response.headers["ETag"] = etag(updated.version)
    return PlanOut.from_domain(updated)


@router.get("/{plan_id}/notice", summary="Public change notice: the areas that change school, in English and Chinese")
def notice(plan_id: Id, repo: RepoDep, notices: NoticesDep) -> dict[str, Any]:
    plan = repo.get_plan(plan_id)
    before_id = plan.parent_id
    if before_id is None:
        others = [p for p in repo.list_plans(district=plan.district, level=plan.level) if p.id != plan.id
                  and p.status in (PlanStatus.ADOPTED, PlanStatus.ARCHIVED)]
        before_id = others[-1].id if others else None
    if before_id is None:
        raise InvalidInput(f"plan {plan_id} has no earlier plan to compare with", where="plan_id")
    before = repo.get_plan(before_id)
    # Both plans' versions (and the effective year, which moves on adoption) key the cached notice.
    year = plan.effective_year or plan.school_year
    key = ("notice", plan.id, plan.version, before.id, before.version, year)
    return notices.get(key, lambda: _notice(repo, plan, before, year))  # type: ignore[no-any-return]


def _notice(repo: Repository, plan: Plan, before: Plan, year: int) -> dict[str, Any]:
    old, new = repo.zones(before.id), repo.zones(plan.id)
    schools = {s.code: s for s in schools_of(repo, old + new, plan.level)}
    changes = changed_areas(old, new, schools=schools, year=year)
    planned = [s.code for s in schools.values() if s.status is SchoolStatus.PLANNED]
    return {"plan": PlanOut.from_domain(plan).model_dump(mode="json"), "replaces": PlanOut.from_domain(before).model_dump(mode="json"),
            "effective_year": year, "text": notice_text(changes, plan_name=plan.name, year=year),
            "planned_schools": planned,
            "rules": rules_notice(repo, plan.id),  # each zone as its 招生范围 list, beside the map
            "areas": {"type": "FeatureCollection", "features": [c.as_feature() for c in changes]}}
