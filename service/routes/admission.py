"""Admission in shared zones (多校划片): a plan's admission data, the lottery, enrolments and the discipline report."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Header, Query, Request, Response, UploadFile
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from geo.errors import InvalidInput, UnsupportedFile
from service.deps import HolderDep, PlannerDep, RepoDep, SettingsDep, actor
from service.openapi import ok_as, problems
from service.operations import admission as adm
from service.operations import enrolments as enr
from service.operations import lottery as lot
from service.operations.reports import csv_text
from service.params import Id
from service.schemas_admission import AdmissionIn, LotteryIn

router = APIRouter(tags=["admission"])

_CSV = {"schema": {"type": "string"}}
ADMISSION_IN: dict[str, Any] = {"requestBody": {"required": True, "content": {
    "application/json": {"schema": AdmissionIn.model_json_schema()},
    "text/csv": _CSV,
    "multipart/form-data": {"schema": {"type": "object", "required": ["file"], "properties": {"file": {
        "type": "string", "format": "binary", "description": "CSV: kind (category/places/applicants), school, places, unit, "
                                                             "category, count, preferences, accept_any, zone, id"}}}}}}}


def _decode(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UnsupportedFile("the CSV must be UTF-8 / CSV 须为 UTF-8 编码", where="file") from exc


async def _admission_rows(request: Request) -> list[adm.Row]:
    ctype = request.headers.get("content-type", "")
    if ctype.startswith("multipart/form-data"):
        async with request.form() as form:
            upload = form.get("file")
            if upload is None or isinstance(upload, str):
                raise InvalidInput("multipart upload needs a 'file' field with the CSV", where="file")
            return adm.rows_from_csv(_decode(await upload.read()))
    raw = await request.body()
    if ctype.startswith("text/csv"):
        return adm.rows_from_csv(_decode(raw))
    try:
        body = AdmissionIn.model_validate_json(raw)
    except ValueError as exc:
        msg = "the body must be JSON with categories, places and applicants lists, or a CSV (text/csv)"
        raise InvalidInput(f"{msg}: {str(exc)[:300]}", where="body") from None
    return adm.rows_from_json(body.model_dump())


@router.put("/v1/plans/{plan_id}/admission", summary="Replace the plan's admission data in shared zones: categories, places, "
            "applicants (JSON, CSV or a CSV upload; all-or-nothing, a bad row is a 422 naming row and field)",
            openapi_extra=ADMISSION_IN, responses=problems(413, 415))
async def put_admission(plan_id: Id, request: Request, repo: RepoDep, holder: HolderDep, user: PlannerDep,
                        if_match: Annotated[str | None, Header()] = None) -> dict[str, Any]:
    await run_in_threadpool(lot.check_version, repo, plan_id, if_match)
    rows = await _admission_rows(request)
    data = await run_in_threadpool(adm.import_admission, repo, plan_id, rows, actor=actor(user))
    holder.refresh_after_write()
    return await run_in_threadpool(adm.admission_dict, data, repo.zones(plan_id))


@router.get("/v1/plans/{plan_id}/admission", summary="The plan's admission data and each shared zone's odds by category")
def get_admission(plan_id: Id, repo: RepoDep) -> dict[str, Any]:
    plan = repo.get_plan(plan_id)
    return adm.admission_dict(repo.admission.get(plan.id), repo.zones(plan.id))


@router.post("/v1/plans/{plan_id}/lottery", status_code=201,
             summary="Lottery of a shared zone: step publish (notice: seed or its SHA-256, algorithm, list hashes), then "
                     "step draw (reproducible bit for bit; audited). If-Match required")
def lottery(plan_id: Id, body: LotteryIn, repo: RepoDep, user: PlannerDep,
            if_match: Annotated[str | None, Header()] = None) -> Response:
    if body.step == "publish":
        d = lot.publish(repo, plan_id, if_match=if_match, zone=body.zone, seed=body.seed, seed_sha256=body.seed_sha256,
                        actor=actor(user))
    else:
        if body.draw_id is None:
            raise InvalidInput("step draw needs draw_id (from the publish step) / 开奖须给出 draw_id", where="draw_id")
        d = lot.draw(repo, plan_id, body.draw_id, if_match=if_match, seed=body.seed, actor=actor(user))
    return Response(json.dumps(lot.draw_dict(d), ensure_ascii=False), status_code=201, media_type="application/json",
                    headers={"Location": f"/v1/plans/{plan_id}/lottery/{d.id}"})


@router.get("/v1/plans/{plan_id}/lottery", summary="The plan's lottery notices (public): per draw the seed or its SHA-256, "
            "algorithm, list hashes and, once drawn, the results' SHA-256")
def list_lotteries(plan_id: Id, repo: RepoDep) -> dict[str, Any]:
    plan = repo.get_plan(plan_id)
    return {"plan_id": plan.id, "draws": [lot.notice_dict(d) for d in repo.admission.draws(plan.id)]}


@router.get("/v1/plans/{plan_id}/lottery/{draw_id}", summary="A draw: its notice and, once drawn, the results (JSON or CSV)",
            responses=ok_as("text/csv"))
def get_lottery(plan_id: Id, draw_id: Id, repo: RepoDep,
                format: Annotated[str, Query(pattern="^(json|csv)$")] = "json") -> Response:
    d = lot.get_draw(repo, plan_id, draw_id)
    if format == "csv":
        if d.results is None:
            raise InvalidInput(f"draw {draw_id} is published but not drawn yet / 尚未开奖", where="format")
        return Response(lot.results_csv(d.results), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="plan-{plan_id}-draw-{draw_id}.csv"'})
    return JSONResponse(lot.draw_dict(d))


@router.post("/v1/imports/enrolments", summary="Import enrolments (who attends where; ids only) from a CSV upload; "
             "replaces the levels it holds, all-or-nothing", responses=problems(413, 415))
def import_enrolments(repo: RepoDep, user: PlannerDep, file: Annotated[UploadFile, File()],
                      level: Annotated[str | None, Form(max_length=64)] = None) -> dict[str, Any]:
    text = _decode(file.file.read())
    return enr.import_enrolments(repo, text, level=level, actor=actor(user))


@router.get("/v1/reports/admission", summary="Out-of-zone share per school (limit 10% in cn) and migrant children's "
            "public share per area (at least 85% in cn), with the rows that break them", responses=problems(404) | ok_as("text/csv"))
def admission_report(repo: RepoDep, settings: SettingsDep, level: Annotated[str, Query(max_length=64)],
                     plan: Id | None = None, district: Annotated[str | None, Query(max_length=64)] = None,
                     year: Annotated[int | None, Query(ge=1900, le=2200)] = None,
                     profile: Annotated[str | None, Query(max_length=32, description="standards profile (default: configured)")] = None,
                     format: Annotated[str, Query(pattern="^(json|csv)$")] = "json") -> Response:
    _, body = enr.admission_report(repo, settings, level=level, plan=plan, district=district, year=year, profile=profile)
    if format == "csv":
        return Response(csv_text(enr.report_csv_rows(body)), media_type="text/csv; charset=utf-8")
    return JSONResponse(body)
