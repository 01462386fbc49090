"""A proposal against its parent: the demand units that change school, for the compare and editing maps."""

from __future__ import annotations

from geo.errors import InvalidInput, NotFound
from geo.models import Plan, Zone
from geo.planning.optimise import start_from_zones
from maps.compare import MovedUnit
from service.operations.context import pick_demand
from service.storage.base import Repository


def related(a: Plan, b: Plan) -> bool:
    """True when one plan is the other's parent (a proposal and the plan it started from)."""
    return b.parent_id == a.id or a.parent_id == b.id


def demand_of(zones: list[Zone]) -> str | None:
    """The demand set an optimiser draft's zones were dissolved from, if any."""
    names = {str(z.attributes["demand"]) for z in zones if z.attributes and z.attributes.get("demand")}
    return names.pop() if len(names) == 1 else None


def moved_units(repo: Repository, a: list[Zone], b: list[Zone], *, level: str, demand: str | None) -> list[MovedUnit]:
    """Units whose school (the zone holding most of the unit) differs between zones ``a`` and ``b``.

    The demand set is ``demand``, else the one an optimiser draft was dissolved from (its zones'
    ``attributes["demand"]``), else the one set covering the zones; none (or several) gives no
    units: the maps then show the changed areas only.
    """
    demand = demand or demand_of(b) or demand_of(a)
    try:
        _, units = pick_demand(repo, a + b, demand)
    except (InvalidInput, NotFound):
        if demand is not None:
            raise
        return []
    if not units:
        return []
    before, after = start_from_zones(units, a), start_from_zones(units, b)
    out = []
    for u in units:
        was, now = before.get(u.id), after.get(u.id)
        if was != now:
            try:
                pupils = u.count(level)
            except InvalidInput:
                pupils = 0.0
            out.append(MovedUnit(u.id, u.geometry, was, now, pupils))  # type: ignore[arg-type]
    return out
