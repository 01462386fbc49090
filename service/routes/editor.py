"""The editing map of a draft, and the demand units it reassigns (GeoJSON with each unit's school)."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

import numpy as np
import shapely
from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse

from geo.errors import InvalidInput
from geo.models import Plan, Zone
from geo.planning.demand import DemandUnit, assign_units
from maps.editor import EditorUrls, editor_map
from maps.geometry import light_geojson
from maps.styles import check_lang
from service.deps import RepoDep, SettingsDep
from service.openapi import GeoJSONResponse
from service.params import Id
from service.planning import pick_demand, schools_of
from service.routes.maps import Lang, Tiles, page, tiles_for
from service.routes.plans import etag
from service.routes.schools import parse_bbox

router = APIRouter(tags=["planning"])

BBox = Annotated[str | None, Query(description="minlon,minlat,maxlon,maxlat (EPSG:4326): only units touching it")]


def _units_in(units: list[DemandUnit], bbox: tuple[float, float, float, float] | None) -> list[DemandUnit]:
    if bbox is None or not units:
        return units
    tree = shapely.STRtree(np.array([u.geometry for u in units], dtype=object))
    hits = np.sort(tree.query(shapely.box(*bbox), predicate="intersects"))
    return [units[int(i)] for i in hits]


def _pupils(unit: DemandUnit, level: str) -> float | None:
    try:
        return round(unit.count(level), 3)
    except InvalidInput:
        return None


def units_geojson(plan: Plan, zones: list[Zone], units: list[DemandUnit], *, decimals: int) -> dict[str, Any]:
    """Units overlapping the zones, each with the zone holding most of it, its school(s) and pupils of the plan's level."""
    asg = assign_units(units, zones)
    # Rows are sorted by unit: the first row of each unit after ordering by share (descending) is its main zone.
    order = np.lexsort((-asg.share, asg.unit_pos))
    first = order[np.r_[True, asg.unit_pos[order][1:] != asg.unit_pos[order][:-1]]] if order.size else order
    geoms, props = [], []
    for row in first.tolist():
        u, z = units[int(asg.unit_pos[row])], zones[int(asg.zone_pos[row])]
        geoms.append(u.geometry)
        props.append({"id": u.id, "zone_id": z.id, "school": z.school_codes[0] if z.school_codes else None,
                      "schools": list(z.school_codes), "share": round(float(asg.share[row]), 4),
                      "pupils": _pupils(u, plan.level)})
    doc = light_geojson(geoms, props, coverage=False, decimals=decimals)
    for f in doc["features"]:
        f["id"] = f["properties"]["id"]
    return doc


@router.get("/v1/plans/{plan_id}/units", summary="Demand units overlapping the plan's zones, with their school and pupils",
            response_class=GeoJSONResponse)
def plan_units(plan_id: Id, repo: RepoDep, demand: str | None = None, bbox: BBox = None,
               decimals: Annotated[int, Query(ge=3, le=7, description="decimal places of the coordinates (5 is about 1 m)")] = 5,
               ) -> JSONResponse:
    """GeoJSON (EPSG:4326) of the demand units in the plan's zones: ``school`` is the first school of
    the zone holding most of the unit (``schools`` all of them), ``pupils`` its children of the plan's level."""
    plan = repo.get_plan(plan_id)
    zones = repo.zones(plan_id)
    box = parse_bbox(bbox)
    name, units = pick_demand(repo, zones, demand)
    doc = units_geojson(plan, zones, _units_in(units, box), decimals=decimals) if zones and units else {
        "type": "FeatureCollection", "features": []}
    doc |= {"plan_id": plan.id, "version": plan.version, "level": plan.level, "demand": name}
    return JSONResponse(doc, media_type="application/geo+json", headers={"ETag": etag(plan.version)})


@router.get("/v1/maps/plan/{plan_id}/edit", response_class=HTMLResponse, tags=["maps"],
            summary="Edit a draft on a map: reshape zones, reassign demand units, see tallies and validation")
def edit_map(plan_id: Id, request: Request, repo: RepoDep, settings: SettingsDep, demand: str | None = None,
             lang: Lang = "en", tiles: Tiles = None) -> HTMLResponse:
    plan = repo.get_plan(plan_id)
    zones = repo.zones(plan_id)
    schools = schools_of(repo, zones, plan.level)
    base = f"{request.scope.get('root_path', '')}/v1/plans/{plan_id}"
    extra = {"demand": demand} if demand else {}
    urls = EditorUrls(edits=f"{base}/edits", undo=f"{base}/undo", redo=f"{base}/redo", zones=f"{base}/zones",
                      units=f"{base}/units?{urlencode(extra)}" if extra else f"{base}/units",
                      validation=f"{base}/validation", history=f"{base}/history",
                      capacity=f"{request.scope.get('root_path', '')}/v1/reports/capacity?{urlencode({'plan': plan_id} | extra)}")
    m = editor_map(plan, zones, schools, etag=etag(plan.version), urls=urls, lang=check_lang(lang), tiles=tiles_for(settings, tiles))
    return page(m, settings)
