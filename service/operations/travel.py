"""Travel use cases: distance or time from each demand unit to its school, walk-sheds, and
plans drawn by nearest school along the streets."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from numpy.typing import NDArray

from geo.distance import geodesic_m
from geo.errors import InvalidInput
from geo.index.zones import ZoneIndex
from geo.models import Plan, Zone
from geo.network.paths import SchoolTravel, summarise_costs
from geo.network.zones import nearest_school_zones, reach_polygon
from geo.planning.demand import DemandUnit, assign_units
from geo.planning.findings import count_by_code
from geo.standards import get_profile
from service.networks import Travel, check_mode, pick_travel
from service.operations.context import PlanContext, breaks_coverage, plan_context, validate_stored
from service.operations.jsonable import to_jsonable
from service.schemas import PlanRef
from service.settings import Settings
from service.state import Snapshot
from service.storage.base import Repository


@dataclass
class Places:
    """Where pupils live for a travel report: ids, points (EPSG:4326), pupils, assigned school."""

    ids: list[str]
    lon: NDArray[np.float64]
    lat: NDArray[np.float64]
    pupils: NDArray[np.float64]
    school: list[str | None]
    kind: str


def unit_places(units: list[DemandUnit], zones: list[Zone], level: str) -> Places:
    asg = assign_units(units, zones)
    best_zone = np.full(len(units), -1)
    best_share = np.zeros(len(units))
    for u, z, sh in zip(asg.unit_pos, asg.zone_pos, asg.share, strict=True):
        if sh > best_share[u]:
            best_share[u], best_zone[u] = sh, z
    pts = [u.geometry.representative_point() for u in units]
    pupils = []
    for u in units:
        try:
            pupils.append(u.count(level))
        except InvalidInput:
            pupils.append(0.0)
    return Places([u.id for u in units], np.array([p.x for p in pts]), np.array([p.y for p in pts]), np.array(pupils),
                  [zones[z].school_codes[0] if z >= 0 else None for z in best_zone], "demand units")


def node_places(t: Travel, zones: list[Zone], plan: Plan) -> Places:
    net = t.travel.network
    index = ZoneIndex([(plan, z) for z in zones])
    pi, zi = index.query_bulk(net.node_lon, net.node_lat)
    first = np.full(net.n_nodes, -1)
    first[pi[::-1]] = zi[::-1]
    keep = first >= 0
    return Places([f"node-{i}" for i in np.flatnonzero(keep)], net.node_lon[keep], net.node_lat[keep], np.ones(int(keep.sum())),
                  [zones[z].school_codes[0] for z in first[keep]], "street nodes (one per intersection, unweighted)")


def travel_costs(snap: Snapshot, places: Places, mode: str, schools: dict[str, Any]) -> dict[str, NDArray[Any]]:
    """Cost to the assigned school, nearest school and its cost, snap distance, too-far flags."""
    n = len(places.ids)
    if mode == "straight":
        slon = np.array([schools[c].lon if c in schools else np.nan for c in places.school])
        slat = np.array([schools[c].lat if c in schools else np.nan for c in places.school])
        cost = np.where(np.isfinite(slon), geodesic_m(places.lon, places.lat, np.nan_to_num(slon), np.nan_to_num(slat)), np.inf)
        return {"cost": cost, "nearest": np.array([None] * n, dtype=object), "nearest_cost": np.full(n, np.nan),
                "snap_m": np.zeros(n), "too_far": np.zeros(n, dtype=bool)}
    t = pick_travel(snap.travels, mode, codes=[c for c in places.school if c])
    idx = t.index_of()
    pts = t.travel.snap(places.lon, places.lat)
    assigned = np.array([idx.get(c, -1) if c else -1 for c in places.school])
    cost = t.travel.point_assigned(pts, assigned)
    near = t.travel.point_nearest(pts)
    codes = np.array(t.travel.codes + ("",), dtype=object)
    return {"cost": cost, "nearest": codes[np.where(near.school >= 0, near.school, -1)], "nearest_cost": near.cost,
            "snap_m": np.asarray(pts.snap_m), "too_far": np.asarray(pts.too_far)}



@dataclass(frozen=True)
class TravelRun:
    """Where pupils live, the plan they are assigned by, and the cost of each to its school."""

    ctx: PlanContext
    places: Places
    costs: dict[str, NDArray[Any]]
    mode: str
    unit: str


def travel_run(repo: Repository, snap: Snapshot, *, level: str | None, plan: int | None, district: str | None,
               year: int | None, mode: str, demand: str | None, units: str) -> TravelRun:
    """Travel from every demand unit (or street node) of a plan to its school, by ``mode``."""
    check_mode(mode, allow_straight=True)
    ctx = plan_context(repo, plan_id=plan, level=level, year=year, district=district, demand=demand, with_demand=units == "demand")
    schools = {s.code: s for s in ctx.schools}
    if units == "nodes":
        if mode == "straight":
            raise InvalidInput("units=nodes needs mode=walk or mode=drive (the street nodes of a network)", where="units")
        places = node_places(pick_travel(snap.travels, mode, codes=list(schools)), ctx.zones, ctx.plan)
    elif ctx.units:
        places = unit_places(ctx.units, ctx.zones, ctx.plan.level)
    else:
        raise InvalidInput("no demand units cover this plan: load them (`catchment import demand`) or use units=nodes",
                           where="demand")
    return TravelRun(ctx, places, travel_costs(snap, places, mode, schools), mode, "s" if mode == "drive" else "m")


def travel_rows(run: TravelRun) -> list[dict[str, Any]]:
    """One row per unit: its school, cost, nearest school and its cost, snap distance."""
    places, res, unit = run.places, run.costs, run.unit
    return [{"unit_id": places.ids[i], "lon": round(float(places.lon[i]), 6), "lat": round(float(places.lat[i]), 6),
             "pupils": round(float(places.pupils[i]), 3), "school": places.school[i],
             f"cost_{unit}": None if not np.isfinite(res["cost"][i]) else round(float(res["cost"][i]), 1),
             "nearest_school": res["nearest"][i] or None,
             f"nearest_cost_{unit}": None if not np.isfinite(res["nearest_cost"][i]) else round(float(res["nearest_cost"][i]), 1),
             "snap_m": round(float(res["snap_m"][i]), 1), "too_far": bool(res["too_far"][i])} for i in range(len(places.ids))]


def travel_summary(run: TravelRun, settings: Settings) -> dict[str, Any]:
    """Mean, median, 90th percentile, share within the profile's service radius, and counts."""
    places, res = run.places, run.costs
    profile = get_profile(settings.profile)
    radius = profile.for_level(run.ctx.plan.level).service_radius_m if run.unit == "m" else None
    summary = summarise_costs(res["cost"], weights=places.pupils, within=radius, unit=run.unit)
    assigned_is_nearest = None
    if run.mode != "straight":
        has = np.array([bool(n) for n in res["nearest"]])
        same = np.array([a == b for a, b in zip(places.school, res["nearest"], strict=True)])
        w = places.pupils * has
        assigned_is_nearest = float((w * same).sum() / w.sum()) if w.sum() > 0 else None
    return {"plan": PlanRef.from_domain(run.ctx.plan).model_dump(), "level": run.ctx.plan.level, "mode": run.mode,
            "unit": run.unit, "places": places.kind, "demand": run.ctx.demand_name, "profile": profile.key,
            "service_radius_m": radius, "summary": to_jsonable(summary), "share_assigned_is_nearest": assigned_is_nearest,
            "too_far_from_street": int(np.sum(res["too_far"])), "unreachable": int(np.sum(~np.isfinite(res["cost"])))}


def networks_listing(repo: Repository) -> list[dict[str, Any]]:
    """The registered networks and whether the database holds them (size, content hash), without
    any server path: the source extract by its file name only."""
    stored = {a.name: a for a in repo.assets.list("network")}
    out = []
    for n in repo.networks():
        item = {k: Path(v).name if k == "source" and v else v for k, v in n.items() if k != "path"}
        asset = stored.get(n["name"])
        item["stored"] = {"size": asset.size, "sha256": asset.sha256, "codec": asset.codec} if asset else None
        out.append(item)
    return out


def walkshed(repo: Repository, snap: Snapshot, code: str, *, within: float, mode: str) -> dict[str, Any]:
    """The area reachable from a school within a distance (walk) or time (drive), as a GeoJSON Feature."""
    check_mode(mode, allow_straight=False)
    school = repo.get_school(code)
    t = pick_travel(snap.travels, mode, codes=[school.code])
    poly = reach_polygon(t.travel, t.index_of()[school.code], within=within)
    return {"type": "Feature", "geometry": shapely.geometry.mapping(poly),
            "properties": {"school": code, "mode": mode, "within": within, "unit": t.travel.unit, "network": t.name}}


def generate_network_plan(repo: Repository, snap: Snapshot, *, name: str, district: str, level: str, year: int, mode: str,
                          actor: str) -> tuple[Plan, dict[str, Any]]:
    """A draft plan whose zones are the areas nearest each school of ``level`` along the streets."""
    check_mode(mode, allow_straight=False)
    levels_schools = [s for s in snap.schools.by_code.values() if level in s.levels]
    t = None
    for cand in snap.travels:
        if cand.mode == mode and {s.code for s in levels_schools} & set(cand.travel.codes):
            t = cand
            break
    if t is None:
        msg = f"no {mode} network holds schools of level {level!r}: build one and import the schools first"
        raise InvalidInput(msg, where="level")
    inside = [s for s in levels_schools if s.code in set(t.travel.codes)]
    travel = SchoolTravel.from_schools(t.travel.network, inside, cache=t.travel.cache)
    result = nearest_school_zones(travel)
    zones = result.to_zones(source=f"network-nearest ({mode}, network {t.name})")
    plan = repo.import_plan(name=name, district=district, level=level, school_year=year, zones=zones, adopt=False, actor=actor)
    # The same validation as GET /v1/plans/{id}/validation on the stored plan: one answer.
    findings = validate_stored(repo, plan)
    coverage = [f for f in findings if breaks_coverage(f)]
    gap_m2 = sum(f.area_m2 or 0.0 for f in coverage if f.code == "gap" or f.detail.get("kind") == "gap")
    overlap_m2 = sum(f.area_m2 or 0.0 for f in coverage if f.code == "overlap" or f.detail.get("kind") == "overlap")
    info = {"schools": len(inside), "zones": len(zones), "coverage_valid": not coverage, "gap_m2": gap_m2, "overlap_m2": overlap_m2,
            "validation": {"counts": count_by_code(findings), "errors": sum(1 for f in findings if f.severity == "error")},
            "schools_without_zone": list(result.schools_without_zone), "unreachable_nodes": int(result.unreachable_nodes),
            "network": t.name}
    return plan, info
