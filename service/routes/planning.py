"""Planners at work: copy a plan to a draft, edit it (versioned, If-Match), undo/redo, validate,
compare two plans, propose, and publish the change notice. Adoption is in ``plans.py``; the use
cases are in :mod:`service.operations.planning`."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Query, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from service.deps import NoticesDep, PlannerDep, RepoDep, SettingsDep, actor
from service.openapi import ok_as, problems
from service.operations import planning
from service.operations.jsonable import to_jsonable
from service.operations.reports import csv_text
from service.operations.versions import etag
from service.params import Id
from service.schemas import PlanOut, SchoolIn

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

    def to_edit(self) -> planning.Edit:
        fields = self.model_dump(exclude={"school"})
        return planning.Edit(**fields, school=self.school.to_domain() if self.school is not None else None)


def _plan_json(plan: Any) -> dict[str, Any]:
    return PlanOut.from_domain(plan).model_dump(mode="json")


def _summary(done: planning.Edited) -> JSONResponse:
    body = {"plan": _plan_json(done.plan), "zones": done.zones, "validation": {"counts": done.counts, "errors": done.errors}}
    return JSONResponse(body, headers={"ETag": etag(done.plan.version)})


@router.post("/{plan_id}/copy", response_model=PlanOut, status_code=201, summary="Copy any plan into a new draft")
def copy(plan_id: Id, repo: RepoDep, user: PlannerDep, response: Response, body: CopyIn | None = None) -> PlanOut:
    plan = planning.copy_plan(repo, plan_id, name=body.name if body else None, school_year=body.school_year if body else None,
                              actor=actor(user))
    response.headers["Location"] = f"/v1/plans/{plan.id}"
    response.headers["ETag"] = etag(plan.version)
    return PlanOut.from_domain(plan)


@router.post("/{plan_id}/edits", summary="Apply one edit to a draft (If-Match required; 412 when stale)")
def apply_edit(plan_id: Id, body: EditIn, repo: RepoDep, user: PlannerDep,
               if_match: Annotated[str | None, Header()] = None) -> JSONResponse:
    return _summary(planning.apply_edit(repo, plan_id, body.to_edit(), if_match=if_match, actor=actor(user), role=user.role))


@router.post("/{plan_id}/undo", summary="Undo the last edit of a draft (a new version)")
def undo(plan_id: Id, repo: RepoDep, user: PlannerDep, if_match: Annotated[str | None, Header()] = None) -> JSONResponse:
    return _summary(planning.undo(repo, plan_id, if_match=if_match, actor=actor(user)))


@router.post("/{plan_id}/redo", summary="Redo the last undone edit")
def redo(plan_id: Id, repo: RepoDep, user: PlannerDep, if_match: Annotated[str | None, Header()] = None) -> JSONResponse:
    return _summary(planning.redo(repo, plan_id, if_match=if_match, actor=actor(user)))


@router.get("/{plan_id}/history", summary="Every stored version of the plan's zones")
def history(plan_id: Id, repo: RepoDep) -> dict[str, Any]:
    return planning.history(repo, plan_id)


@router.get("/{plan_id}/validation", summary="Findings: invalid shapes, overlaps, gaps, slivers, schools outside zones ...")
def validation(plan_id: Id, repo: RepoDep, severity: Annotated[str | None, Query(pattern="^(error|warning|info)$")] = None,
               code: str | None = None, sliver_m2: Annotated[float, Query(ge=0, le=1e7)] = 100.0) -> dict[str, Any]:
    return planning.validation(repo, plan_id, severity=severity, code=code, sliver_m2=sliver_m2)


@router.get("/compare", summary="Impact of plan b against plan a: pupils moved, utilisation, distance, balance",
            responses=problems(404) | ok_as("text/csv"))
def compare(repo: RepoDep, settings: SettingsDep, a: Id, b: Id, demand: str | None = None,
            format: Annotated[str, Query(pattern="^(json|csv)$")] = "json",
            table: Annotated[str, Query(pattern="^(units|flows|schools|distance)$")] = "schools") -> Response:
    got = planning.compare(repo, a=a, b=b, demand=demand, profile=settings.profile)
    impact = got.impact
    if format == "csv":
        return Response(csv_text(impact.to_rows(table)), media_type="text/csv")  # type: ignore[arg-type]
    labels, matrix = impact.flow_matrix()
    return JSONResponse(to_jsonable(impact) | {"a": _plan_json(got.a), "b": _plan_json(got.b), "demand": got.demand,
                                               "pupils_moved": impact.pupils_moved, "units_changed": impact.units_changed,
                                               "flow_matrix": {"schools": labels, "pupils": matrix}})


@router.post("/{plan_id}/propose", response_model=PlanOut, summary="Mark a draft as proposed (ready for adoption)")
def propose(plan_id: Id, repo: RepoDep, user: PlannerDep, response: Response,
            if_match: Annotated[str | None, Header()] = None) -> PlanOut:
    updated = planning.propose(repo, plan_id, if_match=if_match, actor=actor(user))
    response.headers["ETag"] = etag(updated.version)
    return PlanOut.from_domain(updated)


@router.get("/{plan_id}/notice", summary="Public change notice: the areas that change school, in English and Chinese")
def notice(plan_id: Id, repo: RepoDep, notices: NoticesDep) -> dict[str, Any]:
    subject = planning.notice_subject(repo, plan_id)
    return notices.get(subject.key, lambda: _notice_body(planning.notice(repo, subject)))  # type: ignore[no-any-return]


def _notice_body(n: planning.Notice) -> dict[str, Any]:
    return {"plan": _plan_json(n.subject.plan), "replaces": _plan_json(n.subject.before), "effective_year": n.subject.year,
            "text": n.text, "planned_schools": n.planned_schools,
            "rules": n.rules,  # each zone as its 招生范围 list, beside the map
            "areas": {"type": "FeatureCollection", "features": [c.as_feature() for c in n.areas]}}
