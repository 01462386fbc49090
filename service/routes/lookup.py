"""Which school serves this point: single (cheap, on the event loop) and batch (streamed)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Query, Request, Response
from fastapi.responses import StreamingResponse
from starlette._utils import get_route_path
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import URLPath
from starlette.routing import BaseRoute, Match, NoMatchFound
from starlette.types import ASGIApp, Receive, Scope, Send

from geo.errors import InvalidInput
from service.deps import RemoteDep, SettingsDep, SnapDep, get_remote
from service.openapi import problems
from service.operations import batch as batch_op
from service.operations.lookup import lookup_json
from service.query import lookup_query
from service.schemas import BatchPoint, LookupOut

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
BATCH_OUT: dict[int | str, dict[str, Any]] = {200: {"description": (
    "One row per point, in order: JSON rows `{id, lon, lat, levels: {<level>: {zones, schools, odds}}}` or CSV columns "
    "`<level>_schools`, `<level>_zones`. In a shared zone (多校划片) whose plan has admission data, `odds` lists each "
    "priority category's chance at its first-choice school (as `GET /v1/lookup`'s `admission`), and the CSV has a "
    "`<level>_odds` column: `school/category=probability` joined by `;`"), "content": {
    "application/json": {"schema": {"type": "object", "properties": {"levels": {"type": "array", "items": {"type": "string"}},
                                                                     "rows": {"type": "array", "items": {"type": "object"}}}}},
    "text/csv": _CSV}}}


@router.get("", response_model=LookupOut, summary="Which zones and schools serve an address, or (lon, lat)",
            responses=problems(404, 409, 429))
async def lookup(request: Request, snap: SnapDep, settings: SettingsDep, remote: RemoteDep,
                 lon: Annotated[float | None, Query(description="longitude (EPSG:4326), or x in crs")] = None,
                 lat: Annotated[float | None, Query(description="latitude (EPSG:4326), or y in crs")] = None,
                 address: Annotated[str | None, Query(description="free address text, instead of lon/lat")] = None,
                 crs: Annotated[str | None, Query(description="crs of lon/lat: EPSG:<code>, gcj02 or bd09 (default EPSG:4326)")] = None,
                 level: str | None = None, grade: str | None = None,
                 year: Annotated[int | None, Query(ge=1900, le=2200)] = None) -> Response:
    """Documents the operation (parameters, answer, errors); :func:`lean_lookup` serves it."""
    body = await lookup_json(snap, settings, request.app.state.answer_cache, remote=remote, lon=lon, lat=lat,
                             address=address, crs=crs, level=level, grade=grade, year=year)
    return Response(body, media_type="application/json")


_HEADERS = [(b"content-type", b"application/json")]


async def lean_lookup(scope: Scope, receive: Receive, send: Send) -> None:
    """``GET /v1/lookup`` without FastAPI's per-request dependency solving: the query string is read
    and checked by :func:`service.query.lookup_query` (the same 422s), the answer comes from the
    per-cell cache where it can (``service.operations.lookup_cache``), and is sent as bytes.
    Errors are raised to the application's handlers, as from any route."""
    app = scope["app"]
    state = app.state
    q = lookup_query(scope.get("query_string", b""))
    remote = await get_remote(Request(scope)) if q["address"] is not None else None
    body = await lookup_json(state.holder.current(), state.settings, state.answer_cache, remote=remote, **q)
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-length", str(len(body)).encode("latin-1")), *_HEADERS]})
    await send({"type": "http.response.body", "body": body})


class LeanRoute(BaseRoute):
    """Matches ``GET`` and ``HEAD`` of one exact path only (anything else goes on to the declared
    routes, so their 405 and trailing-slash answers are unchanged)."""

    def __init__(self, path: str, app: ASGIApp) -> None:
        self.path = path
        self.app = app

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] == "http" and scope["method"] in ("GET", "HEAD") and get_route_path(scope) == self.path:
            return Match.FULL, {"endpoint": self.app, "path_params": {}}
        return Match.NONE, {}

    def url_path_for(self, name: str, /, **path_params: Any) -> URLPath:
        raise NoMatchFound(name, path_params)

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)


def install_lean(app: FastAPI) -> None:
    """Serve ``GET /v1/lookup`` by :func:`lean_lookup`, ahead of every other route; the declared
    route above stays for the OpenAPI (and its documentation)."""
    app.router.routes.insert(0, LeanRoute("/v1/lookup", lean_lookup))


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
