"""学区 (school districts): list and read (public), create, edit, delete (planners, audited),
form as a job and adopt a job's proposals. Thin adapters over service.operations.districts."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Header, Path, Query, Response
from fastapi.responses import JSONResponse

from geo.districts.model import DistrictOptions
from service.deps import HolderDep, JobsDep, PlannerDep, RepoDep, SettingsDep, actor
from service.errors import status_for_name
from service.openapi import problems
from service.operations import districts as ops
from service.operations.versions import etag, parse_if_match
from service.schemas import JobOut
from service.schemas_districts import AdoptIn, DistrictIn, DistrictOut, FormIn

router = APIRouter(tags=["districts"])
P = "/v1/districts"

DistrictId = Annotated[int, Path(ge=1, le=2**63 - 1)]
JobId = Annotated[int, Path(ge=1, le=2**63 - 1)]
IfMatch = Annotated[str | None, Header(description="the district's ETag (its version); optional, 412 when stale")]


def _version(if_match: str | None) -> int | None:
    return parse_if_match(if_match) if if_match is not None else None


@router.get("/v1/reports/districts", responses=problems(404),
            summary="Per 学区 the 差异系数 of each indicator, the between-district CV, teacher exchange (轮岗) moves")
def report(repo: RepoDep, settings: SettingsDep, level: Annotated[str, Query(min_length=1, max_length=64)],
           year: Annotated[int | None, Query(ge=1900, le=2200)] = None) -> dict[str, Any]:
    """Which profile was used is in ``profile``; ``teacher_moves`` is a from/to/count table (null with
    ``teacher_moves_note`` when the profile sets no teacher threshold)."""
    return ops.districts_report_json(repo, level=level, year=year or date.today().year, profile=settings.profile)


@router.get(P, response_model=list[DistrictOut], summary="Districts (学区), by level, school year, status or formation job")
def list_districts(repo: RepoDep, level: Annotated[str | None, Query(max_length=64)] = None,
                   year: Annotated[int | None, Query(ge=1900, le=2200)] = None,
                   status: Annotated[Literal["proposed", "effective"] | None, Query()] = None,
                   job: Annotated[int | None, Query(ge=1, le=2**63 - 1, description="the formation job's proposals")] = None,
                   ) -> list[DistrictOut]:
    return [DistrictOut.from_domain(d) for d in ops.list_districts(repo, level=level, school_year=year, status=status, job_id=job)]


@router.get(P + "/{district_id:int}", response_model=DistrictOut, summary="One district; its ETag is its version")
def get_district(district_id: DistrictId, repo: RepoDep, response: Response) -> DistrictOut:
    d = repo.districts.get(district_id)
    response.headers["ETag"] = etag(d.version)
    return DistrictOut.from_domain(d)


@router.post(P, response_model=DistrictOut, status_code=201, responses=problems(409, 422),
             summary="Create a district by hand (planners; audited)")
def create_district(body: DistrictIn, repo: RepoDep, holder: HolderDep, settings: SettingsDep, user: PlannerDep,
                    response: Response) -> DistrictOut:
    d = ops.create_district(repo, body.to_domain(), profile=settings.profile, actor=actor(user))
    holder.refresh_after_write()
    response.headers["Location"] = f"/v1/districts/{d.id}"
    response.headers["ETag"] = etag(d.version)
    return DistrictOut.from_domain(d)


@router.put(P + "/{district_id:int}", response_model=DistrictOut, responses=problems(409, 412, 422),
            summary="Replace a district's name, levels, year, lead, members or status (planners; audited)")
def update_district(district_id: DistrictId, body: DistrictIn, repo: RepoDep, holder: HolderDep, settings: SettingsDep,
                    user: PlannerDep, response: Response, if_match: IfMatch = None) -> DistrictOut:
    d = ops.update_district(repo, district_id, body.to_domain(), profile=settings.profile, actor=actor(user),
                            expected_version=_version(if_match))
    holder.refresh_after_write()
    response.headers["ETag"] = etag(d.version)
    return DistrictOut.from_domain(d)


@router.delete(P + "/{district_id:int}", status_code=204, responses=problems(412),
               summary="Delete a district (planners; audited)")
def delete_district(district_id: DistrictId, repo: RepoDep, holder: HolderDep, user: PlannerDep, if_match: IfMatch = None) -> Response:
    repo.districts.delete(district_id, actor=actor(user), expected_version=_version(if_match))
    holder.refresh_after_write()
    return Response(status_code=204)


@router.post(P + "/form", response_model=JobOut, status_code=202, responses=problems(422),
             summary="Form balanced districts (强弱搭配、相对就近) as a job; its result is a proposal set with the report")
def form(body: Annotated[FormIn, Body()], runner: JobsDep, settings: SettingsDep, user: PlannerDep) -> Response:
    """202 with the job (``GET /v1/jobs/{id}``: progress, then the districts and the report;
    ``DELETE`` cancels). Options no partition can meet are a 422 with the reason, before any job."""
    options = DistrictOptions(max_schools=body.max_schools, max_travel=body.max_travel_m, strong_share=body.strong_share,
                              lead_codes=tuple(body.lead_codes) if body.lead_codes else None,
                              mix_urban_rural=body.mix_urban_rural, districts=body.districts, travel_weight=body.travel_weight,
                              time_limit_s=body.time_limit_s, mip_rel_gap=body.mip_rel_gap)
    job = ops.submit_formation(runner, level=body.level, school_year=body.school_year, score=body.score,
                               urban_column=body.urban_column, options=options, profile=settings.profile, actor=actor(user),
                               where=body.where, bbox=body.bbox)
    out = JobOut.from_domain(job, status_of=status_for_name)
    return JSONResponse(out.model_dump(mode="json"), status_code=202, headers={"Location": out.href})


@router.post(P + "/proposals/{job_id:int}/adopt", response_model=list[DistrictOut], responses=problems(404, 422),
             summary="Put a formation job's proposed districts in force, all or nothing (planners; audited)")
def adopt(job_id: JobId, repo: RepoDep, holder: HolderDep, user: PlannerDep,
          body: Annotated[AdoptIn | None, Body()] = None) -> list[DistrictOut]:
    got = ops.adopt_proposals(repo, job_id, actor=actor(user), replace_existing=bool(body and body.replace_existing))
    holder.refresh_after_write()
    return [DistrictOut.from_domain(d) for d in got]
