"""Which school serves this point: single (cheap, on the event loop) and batch (streamed)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from geo.errors import InvalidInput
from service.deps import RemoteDep, SettingsDep, SnapDep
from service.openapi import problems
from service.operations import batch as batch_op
from service.operations.lookup import lookup as lookup_op
from service.schemas import BatchPoint
from service.schemas_districts import LookupWithDistrictsOut

router = APIRouter(prefix="/v1/lookup", tags=["lookup"])

# The batch reads its body itself (JSON, CSV or a multipart upload, streamed out): declared here.
_CSV = {"schema": {"type": "string"}}
BATCH_IN: dict[str, Any] = {"requestBody": {"required": True, "content": {
    "application/json": {"schema": {"type": "object", "required": ["points"],
                                    "properties": {"points": {"type": "array", "items": BatchPoint.model_json_schema()}}}},
    "text/csv": _CSV,
    "multipart/form-data": {"schema": {"type": "object", "required": ["file"],
                                       "properties": {"file": {"type": "string", "format": "binary",
                                                               "description": "CSV with lon, lat (and id) columns"}}}}}}}
BATCH_OUT: dict[int | str, dict[str, Any]] = {200: {"description": "One row per point, in order: JSON or CSV", "content": {
    "application/json": {"schema": {"type": "object", "properties": {"levels": {"type": "array", "items": {"type": "string"}},
                                                                     "rows": {"type": "array", "items": {"type": "object"}}}}},
    "text/csv": _CSV}}}


@router.get("", response_model=LookupWithDistrictsOut, summary="Which zones and schools serve an address, or (lon, lat)",
            responses=problems(404, 409, 429))
async def lookup(snap: SnapDep, settings: SettingsDep, remote: RemoteDep,
                 lon: Annotated[float | None, Query(description="longitude (EPSG:4326), or x in crs")] = None,
                 lat: Annotated[float | None, Query(description="latitude (EPSG:4326), or y in crs")] = None,
                 address: Annotated[str | None, Query(description="free address text, instead of lon/lat")] = None,
                 crs: Annotated[str | None, Query(description="crs of lon/lat: EPSG:<code>, gcj02 or bd09 (default EPSG:4326)")] = None,
                 level: str | None = None, grade: str | None = None,
                 year: Annotated[int | None, Query(ge=1900, le=2200)] = None) -> Response:
    got = await lookup_op(snap, settings, remote=remote, lon=lon, lat=lat, address=address, crs=crs, level=level,
                          grade=grade, year=year)
    out = LookupWithDistrictsOut.from_answer(got.answer, input=got.at.input, in_crs=got.at.in_crs,
                                             missing_networks=got.missing_networks)
    # Serialised once here: returning the model would make FastAPI validate it a second time.
    return Response(out.model_dump_json(), media_type="application/json")


@router.post("/batch", summary="Look up many points (JSON body, or a CSV upload); streamed JSON or CSV",
             responses=problems(429) | BATCH_OUT, openapi_extra=BATCH_IN)
async def batch(request: Request, snap: SnapDep, settings: SettingsDep,
                format: Annotated[str | None, Query(pattern="^(json|csv)$")] = None,
                level: str | None = None, grade: str | None = None,
                year: Annotated[int | None, Query(ge=1900, le=2200)] = None) -> StreamingResponse:
    ctype = request.headers.get("content-type", "")
    if ctype.startswith("multipart/form-data"):
        async with request.form() as form:
            upload = form.get("file")
            if upload is None or isinstance(upload, str):
                raise InvalidInput("multipart upload needs a 'file' field with the CSV", where="file")
            raw = await upload.read()
        is_csv = True
    else:
        raw = await request.body()
        is_csv = ctype.startswith("text/csv")
    frame = await run_in_threadpool(batch_op.points_from, raw, csv=is_csv)
    want_csv = format == "csv" or (format is None and "text/csv" in request.headers.get("accept", ""))
    got = batch_op.batch(snap, settings, frame, level=level, grade=grade, year=year, want_csv=want_csv)
    return StreamingResponse(got.rows, media_type=got.media_type)
