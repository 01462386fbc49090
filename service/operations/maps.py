"""Map pages: each use case returns the page's HTML, for the HTTP routes and the CLI alike."""

from __future__ import annotations

import asyncio
from typing import Any

import numpy as np
import shapely

from geo.address.geocode import Geocoder
from geo.capacity.utilisation import capacity_report
from geo.errors import InvalidInput, NotFound
from geo.lookup.nearby import zones_near
from geo.lookup.resolve import choose_plans
from geo.models import Plan, PlanStatus, check_slug
from geo.planning.demand import DemandUnit
from geo.standards import get_profile
from maps.assets import render_html
from maps.base import parse_tiles
from maps.compare import compare_map
from maps.coverage import coverage_map
from maps.districts import DistrictGroup
from maps.lookup import lookup_map
from maps.overcrowding import overcrowding_map
from maps.travel import travel_map
from service.operations.context import plan_context, schools_of
from service.operations.districts import effective_for
from service.operations.lookup import LookupAnswer, lookup, school_year
from service.operations.reports import demand_for
from service.operations.travel import Places, travel_run
from service.problem_cache import ProblemCache
from service.settings import Settings
from service.state import Snapshot
from service.storage.base import DistrictStatus, Repository


def tiles_for(settings: Settings, given: str | None) -> Any:
    """The tile layer asked for (``osm``, ``none``, ``URL|ATTRIBUTION``), else the configured one."""
    text = given if given is not None else settings.maps.tiles
    if "|" not in text and text.startswith("http") and settings.maps.tiles_attribution:
        text = f"{text}|{settings.maps.tiles_attribution}"
    return parse_tiles(text)


def page(m: Any, settings: Settings, nonce: str | None = None) -> str:
    """The page's HTML; with ``nonce`` every script carries it (the page's Content-Security-Policy allows only those)."""
    return render_html(m, inline=settings.maps.inline_assets, nonce=nonce)


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


def coverage_page(repo: Repository, settings: Settings, problems: ProblemCache, *, level: str | None = None,
                  year: int | None = None, plan: int | None = None, district: str | None = None, lang: str = "en",
                  tiles: str | None = None, nonce: str | None = None, by: str = "school") -> str:
    """Every zone by school, one layer per level (or one plan's zones with ``plan``); ``by="district"``
    colours them by the 学区 in force for the year instead."""
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
    groups = district_groups(repo, settings, levels=list(levels), year=year, named=named) if by == "district" else None
    m = coverage_map(levels, schools + extra, lang=lang, tiles=tiles_for(settings, tiles), problems=found, districts=groups)
    return page(m, settings, nonce)


def district_groups(repo: Repository, settings: Settings, *, levels: list[str], year: int | None,
                    named: set[str]) -> list[DistrictGroup]:
    """The 学区 in force for the year of any of ``levels`` that hold a school on the map, by name."""
    y = school_year(settings, year)
    found = repo.districts.list(status=DistrictStatus.EFFECTIVE)
    chosen = {d.id: d for lv in levels for d in effective_for(found, level=lv, year=y).values() if set(d.schools) & named}
    return [DistrictGroup(d.name, d.lead, d.schools) for d in sorted(chosen.values(), key=lambda d: (d.name, d.id or 0))]


def overcrowding_page(repo: Repository, settings: Settings, *, level: str | None = None, year: int | None = None,
                      plan: int | None = None, district: str | None = None, demand: str | None = None, lang: str = "en",
                      tiles: str | None = None, nonce: str | None = None) -> str:
    """Zones and schools by utilisation band."""
    ctx = plan_context(repo, plan_id=plan, level=level, year=year, district=district, demand=demand)
    profile = get_profile(settings.profile)
    zone_dem, _ = demand_for(ctx)
    report = capacity_report(ctx.schools, ctx.zones, level=ctx.plan.level, profile=profile, zone_demand=zone_dem, year=year)
    m = overcrowding_map(report, ctx.zones, ctx.schools, lang=lang, tiles=tiles_for(settings, tiles),
                         bands=profile.utilisation_bands)
    return page(m, settings, nonce)


def travel_page(repo: Repository, snap: Snapshot, settings: Settings, *, level: str | None = None, plan: int | None = None,
                district: str | None = None, year: int | None = None, mode: str = "straight", demand: str | None = None,
                units: str = "demand", standard: float | None = None, lang: str = "en", tiles: str | None = None, nonce: str | None = None) -> str:
    """Each demand unit (or street node) by distance or time to its school."""
    run = travel_run(repo, snap, level=level, plan=plan, district=district, year=year, mode=mode, demand=demand, units=units)
    places: Places = run.places
    if units == "nodes":
        shown = [DemandUnit(id=i, geometry=shapely.Point(x, y)) for i, x, y in zip(places.ids, places.lon, places.lat, strict=True)]
    else:
        shown = run.ctx.units
    radius = get_profile(settings.profile).for_level(run.ctx.plan.level).service_radius_m
    std = standard or (radius if run.unit == "m" and radius else (900.0 if run.unit == "s" else 1000.0))
    m = travel_map(shown, np.asarray(run.costs["cost"]), places.pupils, run.ctx.schools, standard=std, unit=run.unit,  # type: ignore[arg-type]
                   mode=mode, assigned=places.school, level=run.ctx.plan.level, lang=lang, tiles=tiles_for(settings, tiles))
    return page(m, settings, nonce)


async def lookup_page(snap: Snapshot, settings: Settings, *, remote: Geocoder | None, lon: float | None = None,
                      lat: float | None = None, address: str | None = None, crs: str | None = None,
                      level: str | None = None, grade: str | None = None, year: int | None = None, lang: str = "en",
                      tiles: str | None = None, nonce: str | None = None) -> str:
    """A parent's answer on a map: the same lookup (and checks) as ``/v1/lookup``, drawn.

    The lookup is cheap and may wait on a remote geocoder; drawing the page is heavier, so it
    runs in a worker thread, off the event loop.
    """
    got = await lookup(snap, settings, remote=remote, lon=lon, lat=lat, address=address, crs=crs, level=level,
                       grade=grade, year=year)
    return await asyncio.to_thread(_draw_lookup, got, snap, settings, lang, tiles, nonce)


def _draw_lookup(got: LookupAnswer, snap: Snapshot, settings: Settings, lang: str, tiles: str | None,
                 nonce: str | None) -> str:
    result = got.answer.result
    plans = {h.plan.id for a in result.levels for h in a.hits}
    nearby = zones_near(snap.index, result.lon, result.lat, plan_ids=plans)
    m = lookup_map(result, nearby=nearby, explanation=got.answer.explanation, lang=lang, tiles=tiles_for(settings, tiles))
    return page(m, settings, nonce)


def compare_page(repo: Repository, settings: Settings, *, a: int, b: int, side_by_side: bool = False, lang: str = "en",
                 tiles: str | None = None, nonce: str | None = None, demand: str | None = None) -> str:
    """Two plans: changed areas highlighted, or side by side. A proposal against its parent (or any
    two plans with ``demand``) also outlines the demand units that change school."""
    from service.operations.proposal import moved_units, related

    pa, pb = repo.get_plan(a), repo.get_plan(b)
    za, zb = repo.zones(a), repo.zones(b)
    schools = schools_of(repo, za + zb, pa.level)
    moved = moved_units(repo, za, zb, level=pa.level, demand=demand) if demand or related(pa, pb) else []
    m = compare_map(za, zb, schools, plan_a=pa, plan_b=pb, lang=lang, tiles=tiles_for(settings, tiles), side_by_side=side_by_side,
                    moved_units=moved)
    return page(m, settings, nonce)
