"""Maps served as HTML pages: coverage, travel, overcrowding, a parent's lookup, plans, comparison."""

from __future__ import annotations

from typing import Annotated, Any

import numpy as np
import shapely
from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse

from geo.capacity.utilisation import capacity_report
from geo.errors import InvalidInput, NotFound
from geo.lookup.explain import explain
from geo.lookup.resolve import choose_plans, resolve
from geo.models import Plan, PlanStatus, check_slug
from geo.planning.demand import DemandUnit
from geo.standards import get_profile
from maps.assets import render_html
from maps.base import parse_tiles
from maps.compare import compare_map
from maps.coverage import coverage_map
from maps.lookup import lookup_map
from maps.overcrowding import overcrowding_map
from maps.travel import travel_map
from service.deps import ProblemsDep, RepoDep, SettingsDep, SnapDep
from service.headers import new_nonce, page_csp
from service.planning import plan_context, schools_of
from service.routes.lookup import school_year
from service.routes.reports import demand_for
from service.routes.travel import Places, _node_places, _unit_places, travel_costs
from service.settings import Settings
from service.storage.base import Repository
from service.travel import check_mode, pick_travel

router = APIRouter(prefix="/v1/maps", tags=["maps"])

Lang = Annotated[str, Query(pattern="^(en|zh)$", description="labels and legends: en or zh")]
Tiles = Annotated[str | None, Query(description="'osm', 'none' (offline) or 'URL|ATTRIBUTION'; default from CATCHMENT_TILES")]


def tiles_for(settings: Settings, given: str | None) -> Any:
    text = given if given is not None else settings.maps.tiles
    if "|" not in text and text.startswith("http") and settings.maps.tiles_attribution:
        text = f"{text}|{settings.maps.tiles_attribution}"
    return parse_tiles(text)


def page(m: Any, settings: Settings) -> HTMLResponse:
    """A map page whose scripts run under a per-response nonce (see service/headers.py)."""
    nonce = new_nonce()
    return HTMLResponse(render_html(m, inline=settings.maps.inline_assets, nonce=nonce),
                        headers={"Content-Security-Policy": page_csp(nonce, settings.http)})


def adopted_levels(repo: Repository, *, level: str | None, year: int | None, district: str | None) -> dict[str, Plan]:
    """The adopted plans in force, one per level, for one district."""
    plans = repo.list_plans(status=PlanStatus.ADOPTED, level=check_slug(level, what="level") if level else None,
                            district=check_slug(district, what="district") if district else None)
    chosen = [p for p in plans if p.id in choose_plans(plans, year)]
    districts = sorted({p.district for p in chosen})
    if not chosen:
        raise NotFound("no adopted plan matches: check level=, district= and year=", where="level")
    if len(districts) > 1:
        msg = f"adopted plans exist in districts {', '.join(districts)}: add district= (or plan=)"
        raise InvalidInput(msg, where="district")
    return {p.level: p for p in sorted(chosen, key=lambda p: p.level)}


@router.get("/coverage", response_class=HTMLResponse, summary="Every zone by school, one layer per level")
def coverage(repo: RepoDep, settings: SettingsDep, problems: ProblemsDep, level: str | None = None,
             year: Annotated[int | None, Query(ge=1900, le=2200)] = None, plan: int | None = None,
             district: str | None = None, lang: Lang = "en", tiles: Tiles = None) -> HTMLResponse:
    if plan is not None:
        p = repo.get_plan(plan)
        plans = {p.level: p}
    else:
        plans = adopted_levels(repo, level=level, year=year, district=district)
    levels = {lv: repo.zones(p.id) for lv, p in plans.items()}
    found = {lv: problems.get(repo, p) for lv, p in plans.items()}
    zones = [z for zs in levels.values() for z in zs]
    schools = schools_of(repo, zones, next(iter(levels)))
    named = {c for z in zones for c in z.school_codes} | {s.code for s in schools}
    extra = [repo.get_school(c) for c in named - {s.code for s in schools}]
    m = coverage_map(levels, schools + extra, lang=lang, tiles=tiles_for(settings, tiles), problems=found)
    return page(m, settings)


@router.get("/plan/{plan_id}", response_class=HTMLResponse, summary="One plan's zones")
def plan_map(plan_id: int, repo: RepoDep, settings: SettingsDep, problems: ProblemsDep, lang: Lang = "en",
             tiles: Tiles = None) -> HTMLResponse:
    return coverage(repo, settings, problems, plan=plan_id, lang=lang, tiles=tiles)


@router.get("/overcrowding", response_class=HTMLResponse, summary="Zones and schools by utilisation band")
def overcrowding(repo: RepoDep, settings: SettingsDep, level: str | None = None,
                 year: Annotated[int | None, Query(ge=1900, le=2200)] = None, plan: int | None = None,
                 district: str | None = None, demand: str | None = None, lang: Lang = "en", tiles: Tiles = None) -> HTMLResponse:
    ctx = plan_context(repo, plan_id=plan, level=level, year=year, district=district, demand=demand)
    profile = get_profile(settings.profile)
    zone_dem, _ = demand_for(ctx)
    report = capacity_report(ctx.schools, ctx.zones, level=ctx.plan.level, profile=profile, zone_demand=zone_dem, year=year)
    m = overcrowding_map(report, ctx.zones, ctx.schools, lang=lang, tiles=tiles_for(settings, tiles),
                         bands=profile.utilisation_bands)
    return page(m, settings)


@router.get("/travel", response_class=HTMLResponse, summary="Each demand unit by distance or time to its school")
def travel(repo: RepoDep, snap: SnapDep, settings: SettingsDep, level: str | None = None, plan: int | None = None,
           district: str | None = None, year: Annotated[int | None, Query(ge=1900, le=2200)] = None,
           mode: str = "straight", demand: str | None = None,
           units: Annotated[str, Query(pattern="^(demand|nodes)$")] = "demand",
           standard: Annotated[float | None, Query(gt=0, description="service radius (m) or time (s); default from the profile")] = None,
           lang: Lang = "en", tiles: Tiles = None) -> HTMLResponse:
    check_mode(mode, allow_straight=True)
    ctx = plan_context(repo, plan_id=plan, level=level, year=year, district=district, demand=demand, with_demand=units == "demand")
    schools = {s.code: s for s in ctx.schools}
    places: Places
    if units == "nodes":
        if mode == "straight":
            raise InvalidInput("units=nodes needs mode=walk or mode=drive", where="units")
        places = _node_places(pick_travel(snap.travels, mode, codes=list(schools)), ctx.zones, ctx.plan)
        shown = [DemandUnit(id=i, geometry=shapely.Point(x, y)) for i, x, y in zip(places.ids, places.lon, places.lat, strict=True)]
    elif ctx.units:
        places = _unit_places(ctx.units, ctx.zones, ctx.plan.level)
        shown = ctx.units
    else:
        raise InvalidInput("no demand units cover this plan: load them (`catchment import demand`) or use units=nodes",
                           where="demand")
    res = travel_costs(snap, places, mode, schools)
    unit = "s" if mode == "drive" else "m"
    radius = get_profile(settings.profile).for_level(ctx.plan.level).service_radius_m
    std = standard or (radius if unit == "m" and radius else (900.0 if unit == "s" else 1000.0))
    m = travel_map(shown, np.asarray(res["cost"]), places.pupils, ctx.schools, standard=std, unit=unit, mode=mode,  # type: ignore[arg-type]
                   assigned=places.school, level=ctx.plan.level, lang=lang, tiles=tiles_for(settings, tiles))
    return page(m, settings)


@router.get("/lookup", response_class=HTMLResponse, summary="A parent's answer on a map")
def lookup(repo: RepoDep, snap: SnapDep, settings: SettingsDep,
           lon: Annotated[float, Query(ge=-180, le=180, description="EPSG:4326")],
           lat: Annotated[float, Query(ge=-90, le=90, description="EPSG:4326")],
           level: str | None = None, grade: str | None = None, year: Annotated[int | None, Query(ge=1900, le=2200)] = None,
           lang: Lang = "en", tiles: Tiles = None) -> HTMLResponse:
    result = resolve(snap.index, snap.schools, lon, lat, level=check_slug(level, what="level") if level else None,
                     grade=grade, year=school_year(settings, year), plans=snap.plans, near_m=settings.lookup.near_boundary_m,
                     nearest_k=settings.lookup.nearest_k)
    # Neighbouring zones: those of the answering plans within ~3 km, drawn faded.
    box = shapely.box(lon - 0.04, lat - 0.03, lon + 0.04, lat + 0.03)
    plans = {h.plan.id for a in result.levels for h in a.hits}
    close = shapely.intersects(snap.index.geoms, box)
    nearby = [e.zone for e, hit in zip(snap.index.entries, close.tolist(), strict=True) if hit and e.plan.id in plans]
    m = lookup_map(result, nearby=nearby, explanation=explain(result), lang=lang, tiles=tiles_for(settings, tiles))
    return page(m, settings)


@router.get("/compare", response_class=HTMLResponse, summary="Two plans: changed areas highlighted, or side by side")
def compare(repo: RepoDep, settings: SettingsDep, a: int, b: int, side_by_side: bool = False, lang: Lang = "en",
            tiles: Tiles = None) -> HTMLResponse:
    pa, pb = repo.get_plan(a), repo.get_plan(b)
    za, zb = repo.zones(a), repo.zones(b)
    schools = schools_of(repo, za + zb, pa.level)
    m = compare_map(za, zb, schools, plan_a=pa, plan_b=pb, lang=lang, tiles=tiles_for(settings, tiles), side_by_side=side_by_side)
    return page(m, settings)
