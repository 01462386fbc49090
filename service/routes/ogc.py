"""OGC API - Features under /ogc: landing page, conformance, collections, items; GeoJSON or HTML."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse

from geo.models import Role
from maps.ogc_page import ogc_html
from service.deps import OptionalUserDep, RepoDep
from service.openapi import ok_as, problems
from service.operations import ogc as ops

router = APIRouter(prefix="/ogc", tags=["ogc"])

#: Items and features answer GeoJSON, or HTML with f=html / Accept: text/html.
GEO_OR_HTML: dict[int | str, dict[str, Any]] = {200: {"content": {"application/geo+json": {"schema": {"type": "object"}},
                                                                   "text/html": {"schema": {"type": "string"}}}}}

Format = Annotated[str | None, Query(pattern="^(json|html)$", description="json or html (default: by the Accept header)")]
CrsUri = Annotated[str | None, Query(max_length=200, description="an OGC CRS URI: CRS84 (default), EPSG 4326, 3857 or 4490")]


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def _html(request: Request, f: str | None) -> bool:
    if f is not None:
        return f == "html"
    accept = request.headers.get("accept", "")
    return "text/html" in accept and "json" not in accept


def _answer(request: Request, f: str | None, doc: dict[str, Any], *, title: str, media: str = "application/json",
            headers: dict[str, str] | None = None) -> Response:
    if _html(request, f):
        return HTMLResponse(ogc_html(doc, title=title), headers=headers)
    return JSONResponse(doc, media_type=media, headers=headers)


def _planner(user: Any) -> bool:
    return user is not None and user.role in (Role.PLANNER, Role.ADMIN)


@router.get("", summary="OGC API landing page (links: service-desc, conformance, data)", responses=ok_as("text/html"))
def landing(request: Request, f: Format = None) -> Response:
    return _answer(request, f, ops.landing(_base(request)), title=ops.TITLE)


@router.get("/api", summary="The OpenAPI 3.0 definition of the OGC API",
            responses={200: {"content": {"application/vnd.oai.openapi+json;version=3.0": {"schema": {"type": "object"}}}}})
def api(request: Request) -> JSONResponse:
    return JSONResponse(ops.api_definition(_base(request)), media_type="application/vnd.oai.openapi+json;version=3.0")


@router.get("/conformance", summary="OGC API conformance classes", responses=ok_as("text/html"))
def conformance(request: Request, f: Format = None) -> Response:
    return _answer(request, f, ops.conformance(), title="Conformance / 符合性")


@router.get("/collections", summary="The collections: schools, zones of each adopted plan (drafts for planners), demand units, 学区",
            responses=problems(401, 404) | ok_as("text/html"))
def collections(request: Request, repo: RepoDep, user: OptionalUserDep, f: Format = None) -> Response:
    return _answer(request, f, ops.collections_doc(repo, _base(request), planner=_planner(user)), title="Collections / 数据集")


@router.get("/collections/{collection_id}", summary="One collection", responses=problems(401, 404) | ok_as("text/html"))
def collection(collection_id: str, request: Request, repo: RepoDep, user: OptionalUserDep,
               f: Format = None) -> Response:
    ref = ops.find_ref(repo, collection_id, planner=_planner(user))
    return _answer(request, f, ops.collection_doc(ref, _base(request)), title=ref.title)


@router.get("/collections/{collection_id}/items", summary="A page of a collection's features",
            responses=problems(401, 404) | GEO_OR_HTML)
def items(collection_id: str, request: Request, repo: RepoDep, user: OptionalUserDep,
          limit: Annotated[int, Query(ge=1, le=ops.MAX_LIMIT)] = 10, offset: Annotated[int, Query(ge=0, le=10**9)] = 0,
          bbox: Annotated[str | None, Query(max_length=200)] = None,
          bbox_crs: Annotated[str | None, Query(alias="bbox-crs", max_length=200)] = None, crs: CrsUri = None,
          f: Format = None) -> Response:
    page = ops.items(repo, collection_id, base=_base(request), planner=_planner(user), limit=limit, offset=offset, bbox=bbox,
                     bbox_crs=bbox_crs, crs=crs, query=list(request.query_params.multi_items()))
    return _answer(request, f, page.doc, title=collection_id, media=ops.GEOJSON, headers={"Content-Crs": f"<{page.crs}>"})


@router.get("/collections/{collection_id}/items/{feature_id}", summary="One feature", responses=problems(401, 404) | GEO_OR_HTML)
def feature(collection_id: str, feature_id: str, request: Request, repo: RepoDep, user: OptionalUserDep, crs: CrsUri = None,
            f: Format = None) -> Response:
    page = ops.item(repo, collection_id, feature_id, base=_base(request), planner=_planner(user), crs=crs)
    return _answer(request, f, page.doc, title=f"{collection_id} {feature_id}", media=ops.GEOJSON,
                   headers={"Content-Crs": f"<{page.crs}>"})
