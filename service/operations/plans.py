"""Plans and their zones: list, create (empty or generated along the streets), whether an adopted
plan is served, zones as GeoJSON, replace them (a versioned write), adopt."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from geo.io.read import ImportReport, frame_from_geojson, parse_zones
from geo.io.write import zone_feature
from geo.models import Plan, PlanStatus, check_slug
from service.operations.imports import RejectedRows
from service.operations.versions import parse_if_match, writable_plan
from service.state import Snapshot
from service.storage.base import Repository


def list_plans(repo: Repository, *, district: str | None, level: str | None, school_year: int | None,
               status: PlanStatus | None) -> list[Plan]:
    return repo.list_plans(district=check_slug(district, what="district") if district else None,
                           level=check_slug(level, what="level") if level else None, school_year=school_year, status=status)


def create_plan(repo: Repository, snap: Snapshot, *, name: str, district: str, level: str, school_year: int,
                description: str | None, generate: str | None, mode: str, actor: str) -> tuple[Plan, dict[str, Any] | None]:
    """An empty draft, or with ``generate="network-nearest"`` a draft whose zones are the areas
    nearest each school of the level along the streets (and how they came out)."""
    if generate:
        from service.operations.travel import generate_network_plan

        return generate_network_plan(repo, snap, name=name, district=district, level=level, year=school_year, mode=mode,
                                     actor=actor)
    plan = repo.create_plan(name=name, district=district, level=level, school_year=school_year, actor=actor,
                            description=description)
    return plan, None


def not_served_reason(snap: Snapshot, plan: Plan) -> str | None:
    """Why lookups do not answer from an adopted plan (its zones cannot be indexed), or None."""
    skipped = snap.skipped.get(plan.id)
    return None if skipped is None else f"not served: {skipped[1]} / 此方案未提供查询：分区无法建立索引"


def zones_geojson(repo: Repository, plan_id: int) -> tuple[Plan, dict[str, Any]]:
    """The plan and its zones as a GeoJSON FeatureCollection (EPSG:4326)."""
    plan = repo.get_plan(plan_id)
    return plan, {"type": "FeatureCollection", "features": [zone_feature(z) for z in repo.zones(plan_id)]}


def replace_zones(repo: Repository, plan_id: int, doc: Any, *, if_match: str | None, actor: str) -> tuple[Plan, ImportReport]:
    """Make a FeatureCollection the plan's zones, all or nothing; a feature's ``zone_id`` keeps that zone's id."""
    _, version = writable_plan(repo, plan_id, if_match)
    zones, report = parse_zones(frame_from_geojson(doc))
    if report.rejected:
        raise RejectedRows(report)
    plan = repo.replace_zones(plan_id, zones, actor=actor, expected_version=version)
    report.written = len(zones)
    return plan, report


@dataclass(frozen=True)
class Adopted:
    """The adopted plan, the plans its adoption archived, and those still adopted for earlier years."""

    plan: Plan
    archived: list[int]
    still_adopted: list[int]


def adopt(repo: Repository, plan_id: int, *, effective_year: int | None, if_match: str | None, actor: str) -> Adopted:
    """Adopt the plan from its school year (or ``effective_year``), the version reviewed (If-Match)."""
    done = repo.adopt(plan_id, actor=actor, effective_year=effective_year, expected_version=parse_if_match(if_match))
    plan = done.plan
    earlier = [p.id for p in repo.list_plans(district=plan.district, level=plan.level, status=PlanStatus.ADOPTED)
               if p.school_year < plan.school_year]
    return Adopted(plan=plan, archived=list(done.archived), still_adopted=earlier)
