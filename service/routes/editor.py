"""The editing map of a draft, and the demand units it reassigns."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse

from service.deps import RepoDep, SettingsDep
from service.http import Lang, Tiles, map_response, parse_bbox
from service.openapi import GeoJSONResponse
from service.operations import editor as ops
from service.operations.versions import etag
from service.params import Id

router = APIRouter(tags=["planning"])

BBox = Annotated[str | None, Query(description="minlon,minlat,maxlon,maxlat (EPSG:4326): only units touching it")]


@router.get("/v1/plans/{plan_id}/units", summary="Demand units overlapping the plan's zones, with their school and pupils",
            response_class=GeoJSONResponse)
def plan_units(plan_id: Id, repo: RepoDep, demand: str | None = None, bbox: BBox = None,
               decimals: Annotated[int, Query(ge=3, le=7, description="decimal places of the coordinates (5 is about 1 m)")] = 5,
               ) -> JSONResponse:
    """GeoJSON (EPSG:4326) of the demand units in the plan's zones: ``school`` is the first school of
    the zone holding most of the unit (``schools`` all of them), ``pupils`` its children of the plan's level."""
    got = ops.plan_units(repo, plan_id, demand=demand, bbox=parse_bbox(bbox), decimals=decimals)
    return JSONResponse(got.doc, media_type="application/geo+json", headers={"ETag": etag(got.plan.version)})


@router.get("/v1/maps/plan/{plan_id}/edit", response_class=HTMLResponse, tags=["maps"],
            summary="Edit a draft on a map: reshape zones, reassign demand units, see tallies and validation")
def edit_map(plan_id: Id, request: Request, repo: RepoDep, settings: SettingsDep, demand: str | None = None,
             lang: Lang = "en", tiles: Tiles = None) -> HTMLResponse:
    root = str(request.scope.get("root_path", ""))
    return map_response(lambda nonce: ops.edit_page(repo, settings, plan_id, root=root, demand=demand, lang=lang, tiles=tiles,
                                                    nonce=nonce), settings)
