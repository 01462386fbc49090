"""The two pages people open first: find your school (``/``) and the planners' workspace (``/plan``).

Also mounts the files these pages load: ``/static/`` (our scripts and styles, the vendored API
documentation) and ``/static/leaflet/`` (the Leaflet copy the maps already ship).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, FastAPI, Header, Query, Request
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from maps.assets import ASSET_DIR
from service.deps import SettingsDep, SnapDep
from service.operations import pages as ops

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"

router = APIRouter(include_in_schema=False)

LangQuery = Annotated[str | None, Query(description="en or zh; default from Accept-Language")]


def _root(request: Request) -> str:
    return str(request.scope.get("root_path", "")).rstrip("/")


@router.get("/", response_class=HTMLResponse)
async def find(request: Request, snap: SnapDep, settings: SettingsDep, lang: LangQuery = None,
               accept_language: Annotated[str | None, Header()] = None) -> HTMLResponse:
    chosen = ops.pick_lang(lang, accept_language)
    return HTMLResponse(ops.find_page(snap, settings, lang=chosen, root=_root(request)), headers={"Vary": "Accept-Language"})


@router.get("/plan", response_class=HTMLResponse)
async def plan(request: Request, snap: SnapDep, settings: SettingsDep, lang: LangQuery = None,
               accept_language: Annotated[str | None, Header()] = None) -> HTMLResponse:
    chosen = ops.pick_lang(lang, accept_language)
    return HTMLResponse(ops.plan_page(snap, settings, lang=chosen, root=_root(request)), headers={"Vary": "Accept-Language"})


def install(app: FastAPI) -> None:
    """Add the pages and mount their files (the Leaflet folder first: it is the more specific path)."""
    app.include_router(router)
    app.mount("/static/leaflet", StaticFiles(directory=ASSET_DIR), name="leaflet")
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
