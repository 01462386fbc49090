"""The editing map of a draft, and the demand units it reassigns (GeoJSON with each unit's school)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import numpy as np
import shapely

from geo.errors import InvalidInput
from geo.models import Plan, Zone
from geo.planning.demand import DemandUnit, assign_units
from maps.editor import EditorUrls, editor_map
from maps.editor_proposal import ProposalView
from maps.geometry import light_geojson
from maps.styles import check_lang
from service.operations.context import pick_demand, schools_of
from service.operations.maps import page, tiles_for
from service.settings import Settings
from service.storage.base import Repository


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



@dataclass(frozen=True)
class PlanUnits:
    plan: Plan
    doc: dict[str, Any]


def plan_units(repo: Repository, plan_id: int, *, demand: str | None, bbox: tuple[float, float, float, float] | None,
               decimals: int) -> PlanUnits:
    """GeoJSON (EPSG:4326) of the demand units in the plan's zones (see :func:`units_geojson`)."""
    plan = repo.get_plan(plan_id)
    zones = repo.zones(plan_id)
    name, units = pick_demand(repo, zones, demand)
    doc = units_geojson(plan, zones, _units_in(units, bbox), decimals=decimals) if zones and units else {
        "type": "FeatureCollection", "features": []}
    doc |= {"plan_id": plan.id, "version": plan.version, "level": plan.level, "demand": name}
    return PlanUnits(plan, doc)


def edit_page(repo: Repository, settings: Settings, plan_id: int, *, root: str, etag: str | None = None,
              demand: str | None = None, lang: str = "en", tiles: str | None = None, nonce: str | None = None) -> str:
    """The editing map of a plan; its script calls the API under ``root`` (the app's root path)."""
    plan = repo.get_plan(plan_id)
    zones = repo.zones(plan_id)
    schools = schools_of(repo, zones, plan.level)
    base = f"{root}/v1/plans/{plan_id}"
    extra = {"demand": demand} if demand else {}
    urls = EditorUrls(edits=f"{base}/edits", undo=f"{base}/undo", redo=f"{base}/redo", zones=f"{base}/zones",
                      units=f"{base}/units?{urlencode(extra)}" if extra else f"{base}/units",
                      validation=f"{base}/validation", history=f"{base}/history",
                      capacity=f"{root}/v1/reports/capacity?{urlencode({'plan': plan_id} | extra)}")
    m = editor_map(plan, zones, schools, etag=etag or f'"{plan.version}"', urls=urls, lang=check_lang(lang),
                   tiles=tiles_for(settings, tiles), proposal=_proposal(repo, plan, zones, root=root, demand=demand))
    return page(m, settings, nonce)


def _proposal(repo: Repository, plan: Plan, zones: list[Zone], *, root: str, demand: str | None) -> ProposalView | None:
    """A draft with a parent of its level is shown against it, ready to lock units and re-run the optimiser."""
    from service.operations.proposal import demand_of, moved_units

    if plan.parent_id is None:
        return None
    parent = repo.get_plan(plan.parent_id)
    if parent.level != plan.level:
        return None
    parent_zones = repo.zones(parent.id)
    name = demand or demand_of(zones)
    # a plain copy (same zones as its parent) moves nothing: skip reading the demand units
    same = sorted((z.school_codes, z.geometry.wkb) for z in zones) == sorted((z.school_codes, z.geometry.wkb) for z in parent_zones)
    moved = [] if same else moved_units(repo, parent_zones, zones, level=plan.level, demand=name)
    return ProposalView(parent=parent, parent_zones=parent_zones, moved=[u.id for u in moved],
                        moved_pupils=sum(u.pupils for u in moved), demand=name,
                        optimise_url=f"{root}/v1/plans/{parent.id}/optimise", edit_url=f"{root}/v1/maps/plan/{{id}}/edit",
                        compare_url=f"{root}/v1/maps/compare?a={parent.id}&b={{id}}", root=root)
