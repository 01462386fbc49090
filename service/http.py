"""HTTP helpers shared by the routes: ETags and If-Match, bbox parsing, the map query types.

Route modules never import each other; what several of them need lives here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Query
from fastapi.responses import HTMLResponse

from geo.errors import InvalidInput
from service.headers import new_nonce, page_csp
from service.settings import Settings

Lang = Annotated[str, Query(pattern="^(en|zh)$", description="labels and legends: en or zh")]
Tiles = Annotated[str | None, Query(description="'osm', 'none' (offline) or 'URL|ATTRIBUTION'; default from CATCHMENT_TILES")]


def parse_bbox(text: str | None) -> tuple[float, float, float, float] | None:
    """``"minlon,minlat,maxlon,maxlat"`` (EPSG:4326) -> tuple, with clear errors."""
    if text is None:
        return None
    parts = text.split(",")
    try:
        vals = tuple(float(p) for p in parts)
    except ValueError:
        vals = ()
    if len(vals) != 4:
        msg = f"bbox {text!r} must be minlon,minlat,maxlon,maxlat (EPSG:4326)"
        raise InvalidInput(msg, where="bbox")
    x0, y0, x1, y1 = vals
    if not (-180 <= x0 <= x1 <= 180 and -90 <= y0 <= y1 <= 90):
        msg = f"bbox {text!r} is not minlon <= maxlon within -180..180 and minlat <= maxlat within -90..90"
        raise InvalidInput(msg, where="bbox")
    return (x0, y0, x1, y1)


def map_response(draw: Callable[[str], str], settings: Settings) -> HTMLResponse:
    """A map page whose scripts run under a per-response nonce: ``draw(nonce)`` renders it, the
    Content-Security-Policy allows only those scripts (see service/headers.py)."""
    nonce = new_nonce()
    return HTMLResponse(draw(nonce), headers={"Content-Security-Policy": page_csp(nonce, settings.http)})
