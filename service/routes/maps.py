"""Maps served as HTML pages: coverage, travel, overcrowding, a parent's lookup, plans, comparison."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse

from service.deps import ProblemsDep, RemoteDep, RepoDep, SettingsDep, SnapDep
from service.headers import new_nonce, page_csp
from service.http import Lang, Tiles, map_response
from service.openapi import problems
from service.operations import maps as ops
from service.params import Id

router = APIRouter(prefix="/v1/maps", tags=["maps"])

Year = Annotated[int | None, Query(ge=1900, le=2200)]


@router.get("/coverage", response_class=HTMLResponse, summary="Every zone by school, one layer per level",
            responses=problems(404))
def coverage(repo: RepoDep, settings: SettingsDep, problems: ProblemsDep, level: str | None = None, year: Year = None,
             plan: Id | None = None, district: str | None = None, lang: Lang = "en", tiles: Tiles = None,
             by: Annotated[Literal["school", "district"], Query(description="colour zones by school, or by 学区 (school "
                                                                "district: member zones united, members linked to the lead)")] = "school",
             ) -> HTMLResponse:
    return map_response(lambda nonce: ops.coverage_page(repo, settings, problems, level=level, year=year, plan=plan, district=district,
                                          lang=lang, tiles=tiles, nonce=nonce, by=by), settings)


@router.get("/plan/{plan_id}", response_class=HTMLResponse, summary="One plan's zones")
def plan_map(plan_id: Id, repo: RepoDep, settings: SettingsDep, problems: ProblemsDep, lang: Lang = "en",
             tiles: Tiles = None) -> HTMLResponse:
    return map_response(lambda nonce: ops.coverage_page(repo, settings, problems, plan=plan_id, lang=lang, tiles=tiles, nonce=nonce), settings)


@router.get("/overcrowding", response_class=HTMLResponse, summary="Zones and schools by utilisation band",
            responses=problems(404))
def overcrowding(repo: RepoDep, settings: SettingsDep, level: str | None = None, year: Year = None, plan: Id | None = None,
                 district: str | None = None, demand: str | None = None, lang: Lang = "en", tiles: Tiles = None) -> HTMLResponse:
    return map_response(lambda nonce: ops.overcrowding_page(repo, settings, level=level, year=year, plan=plan, district=district,
                                              demand=demand, lang=lang, tiles=tiles, nonce=nonce), settings)


@router.get("/travel", response_class=HTMLResponse, summary="Each demand unit by distance or time to its school",
            responses=problems(404))
def travel(repo: RepoDep, snap: SnapDep, settings: SettingsDep, level: str | None = None, plan: Id | None = None,
           district: str | None = None, year: Year = None, mode: str = "straight", demand: str | None = None,
           units: Annotated[str, Query(pattern="^(demand|nodes)$")] = "demand",
           standard: Annotated[float | None, Query(gt=0, description="service radius (m) or time (s); default from the profile")] = None,
           lang: Lang = "en", tiles: Tiles = None) -> HTMLResponse:
    return map_response(lambda nonce: ops.travel_page(repo, snap, settings, level=level, plan=plan, district=district, year=year, mode=mode,
                                        demand=demand, units=units, standard=standard, lang=lang, tiles=tiles, nonce=nonce), settings)


@router.get("/lookup", response_class=HTMLResponse, summary="A parent's answer on a map (the same query as /v1/lookup)",
            responses=problems(404, 409, 429))
async def lookup(snap: SnapDep, settings: SettingsDep, remote: RemoteDep,
                 lon: Annotated[float | None, Query(description="longitude (EPSG:4326), or x in crs")] = None,
                 lat: Annotated[float | None, Query(description="latitude (EPSG:4326), or y in crs")] = None,
                 address: Annotated[str | None, Query(description="free address text, instead of lon/lat")] = None,
                 crs: Annotated[str | None, Query(description="crs of lon/lat: EPSG:<code>, gcj02 or bd09")] = None,
                 level: str | None = None, grade: str | None = None, year: Year = None,
                 lang: Lang = "en", tiles: Tiles = None) -> HTMLResponse:
    nonce = new_nonce()
    html = await ops.lookup_page(snap, settings, remote=remote, lon=lon, lat=lat, address=address, crs=crs,
                                 level=level, grade=grade, year=year, lang=lang, tiles=tiles, nonce=nonce)
    return HTMLResponse(html, headers={"Content-Security-Policy": page_csp(nonce, settings.http)})


@router.get("/compare", response_class=HTMLResponse, summary="Two plans: changed areas highlighted, or side by side",
            responses=problems(404))
def compare(repo: RepoDep, settings: SettingsDep, a: Id, b: Id, side_by_side: bool = False, lang: Lang = "en",
            tiles: Tiles = None,
            demand: Annotated[str | None, Query(max_length=64, description="demand set whose units that change school are outlined "
                                                "(default: the one covering a proposal and its parent)")] = None) -> HTMLResponse:
    return map_response(lambda nonce: ops.compare_page(repo, settings, a=a, b=b, side_by_side=side_by_side, lang=lang, tiles=tiles,
                                                       nonce=nonce, demand=demand), settings)
