"""The shapes of the zones answering a lookup, for drawing the answer (``/v1/lookup`` stays lean)."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Query, Response

from service.deps import SettingsDep, SnapDep
from service.operations.lookup_zones import lookup_zones

router = APIRouter(prefix="/v1/lookup", tags=["lookup"])


@router.get("/zones", summary="GeoJSON of the zones covering (lon, lat), one feature per zone (EPSG:4326)",
            responses={200: {"content": {"application/geo+json": {}}}})
async def zones(snap: SnapDep, settings: SettingsDep,
                lon: Annotated[float, Query(ge=-180, le=180, description="longitude, EPSG:4326")],
                lat: Annotated[float, Query(ge=-90, le=90, description="latitude, EPSG:4326")],
                level: str | None = None, grade: str | None = None,
                year: Annotated[int | None, Query(ge=1900, le=2200)] = None) -> Response:
    doc = lookup_zones(snap, settings, lon=lon, lat=lat, level=level, grade=grade, year=year)
    return Response(json.dumps(doc, separators=(",", ":")), media_type="application/geo+json")
