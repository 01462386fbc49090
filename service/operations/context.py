"""Choosing what a report or map is about (the plan, its zones, schools and demand), and the rules of plan writes."""

from __future__ import annotations

from dataclasses import dataclass

import shapely

from geo.errors import InvalidInput, NotFound
from geo.lookup.resolve import choose_plans
from geo.models import Plan, PlanStatus, School, Zone, check_slug
from geo.planning.demand import DemandUnit
from geo.planning.findings import Finding
from geo.planning.validate import DEFAULT_SLIVER_M2, validate_plan
from service.storage.base import Repository

#: Plans whose zones the public is answered from, or was: never changed in place.


@dataclass(frozen=True)
class PlanContext:
    plan: Plan
    zones: list[Zone]
    schools: list[School]
    demand_name: str | None
    units: list[DemandUnit]


def resolve_plan(repo: Repository, *, plan_id: int | None, level: str | None, year: int | None,
                 district: str | None) -> Plan:
    """The plan asked for: by id, or the adopted plan in force for (district, level, year)."""
    if plan_id is not None:
        return repo.get_plan(plan_id)
    if level is None:
        raise InvalidInput("give plan= or level= (and district= when the level exists in several districts)", where="level")
    level = check_slug(level, what="level")
    plans = repo.list_plans(level=level, status=PlanStatus.ADOPTED,
                            district=check_slug(district, what="district") if district else None)
    if not plans:
        msg = f"no adopted plan for level {level!r}" + (f" in district {district!r}" if district else "")
        raise NotFound(msg, where="level")
    chosen = [p for p in plans if p.id in choose_plans(plans, year)]
    if len(chosen) > 1:
        names = ", ".join(sorted(p.district for p in chosen))
        msg = f"level {level!r} has adopted plans in districts {names}: add district= or plan="
        raise InvalidInput(msg, where="district")
    return chosen[0]


def schools_of(repo: Repository, zones: list[Zone], level: str) -> list[School]:
    """Schools named by the zones, plus open schools of the level inside the zones' extent."""
    named = {c for z in zones for c in z.school_codes}
    if not zones:
        return []
    x0, y0, x1, y1 = shapely.total_bounds([z.geometry for z in zones])
    nearby = repo.list_schools(bbox=(float(x0), float(y0), float(x1), float(y1)), level=level)
    out = {s.code: s for s in nearby}
    for code in named - set(out):
        try:
            out[code] = repo.get_school(code)
        except NotFound:
            continue
    return sorted(out.values(), key=lambda s: s.code)


def pick_demand(repo: Repository, zones: list[Zone], name: str | None) -> tuple[str | None, list[DemandUnit]]:
    """The demand set asked for, or the one set whose extent overlaps the zones (None if none)."""
    if name is not None:
        return name, repo.demand_units(name)
    if not zones:
        return None, []
    box = shapely.box(*shapely.total_bounds([z.geometry for z in zones]))
    candidates = []
    for s in repo.demand_sets():
        bbox = (s.get("report") or {}).get("bbox")
        if bbox and box.intersects(shapely.box(*bbox)):
            candidates.append(s["name"])
    if len(candidates) > 1:
        msg = f"several demand sets cover this area ({', '.join(candidates)}): add demand="
        raise InvalidInput(msg, where="demand")
    if not candidates:
        return None, []
    return candidates[0], repo.demand_units(candidates[0])


def plan_context(repo: Repository, *, plan_id: int | None, level: str | None, year: int | None, district: str | None,
                 demand: str | None = None, with_demand: bool = True) -> PlanContext:
    plan = resolve_plan(repo, plan_id=plan_id, level=level, year=year, district=district)
    zones = repo.zones(plan.id)
    schools = schools_of(repo, zones, plan.level)
    name, units = pick_demand(repo, zones, demand) if with_demand else (None, [])
    return PlanContext(plan, zones, schools, name, units)


#: Findings that mean the zones are not a clean coverage of their area: invalid shapes, overlaps
#: and gaps, also those small enough to be reported as slivers (a zone's own tiny detached part
#: is a sliver too, but no hole or double cover).
COVERAGE_CODES = frozenset({"invalid_geometry", "overlap", "gap"})


def breaks_coverage(f: Finding) -> bool:
    """True when the finding is a gap, an overlap or an invalid shape (sliver-sized or not)."""
    return f.code in COVERAGE_CODES or (f.code == "sliver" and f.detail.get("kind") in ("gap", "overlap"))


def validate_stored(repo: Repository, plan: Plan, *, zones: list[Zone] | None = None,
                    sliver_m2: float = DEFAULT_SLIVER_M2) -> list[Finding]:
    """The one validation of a stored plan, used by ``/validation``, every edit's answer and the
    plan generator, so they never disagree for the same version.

    Gaps are looked for inside the area of this district and level's adopted plan when there is
    one (another plan), else inside the union of the plan's own zones (holes only).
    """
    zones = repo.zones(plan.id) if zones is None else zones
    adopted = [p for p in repo.list_plans(district=plan.district, level=plan.level, status=PlanStatus.ADOPTED) if p.id != plan.id]
    area = shapely.union_all([z.geometry for z in repo.zones(adopted[-1].id)]) if adopted else None
    by_code = {s.code: s for s in schools_of(repo, zones, plan.level)}
    return validate_plan(zones, schools=by_code, area=area if area is not None and not area.is_empty else None,
                         sliver_m2=sliver_m2)
