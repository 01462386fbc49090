"""A small real-shaped optimiser instance from the bundled Fairfax sample (not made up).

Four neighbouring FCPS elementary zones (Terraset 4954, over capacity by block demand, and its
neighbours Armstrong 4953, Crossfield 4955, Hutchison 4956) copied into a draft plan of their own
district (``ffx-small``, so validation looks for gaps inside these zones only), and the 145 census
blocks inside them as the demand set ``ffx-small`` (children per block as the sample computes
them). Today's plan puts about 877 pupils into Terraset's 718 seats.
"""

from __future__ import annotations

from dataclasses import dataclass

import shapely

from geo.models import Plan, PlanStatus
from service.storage.base import Repository

CODES = ("fcps-4953", "fcps-4954", "fcps-4955", "fcps-4956")
OVER = "fcps-4954"
#: Eleven zones around Coates (782 blocks, 5 schools over capacity): with gap 0 the solver is
#: still improving after 40 s on this machine, so a cancel has a running solve to stop.
MEDIUM = tuple(f"fcps-{c}" for c in (4949, 4950, 4956, 4957, 4968, 4971, 5079, 4963, 4964, 4962, 4969))


@dataclass(frozen=True)
class SmallPlan:
    plan: Plan
    demand: str
    units: tuple[str, ...]


def small_plan(repo: Repository, codes: tuple[str, ...] = CODES, name: str = "ffx-small", *, own_demand: bool = True) -> SmallPlan:
    """Store the plan of ``codes``' zones and its demand set ``name`` (both in district ``name``);
    without ``own_demand`` the plan uses the sample's ``fairfax-blocks`` (the one set covering it,
    so the workspace's reports find it without ``demand=``)."""
    adopted = repo.list_plans(district="fairfax", level="elementary", status=PlanStatus.ADOPTED)[0]
    zones = [z for z in repo.zones(adopted.id) if z.school_codes[0] in codes]
    plan = repo.import_plan(name=f"{name} area 2024-25", district=name, level="elementary", school_year=2024,
                            zones=zones, adopt=False, actor="test")
    area = shapely.union_all([z.geometry for z in zones])
    prepared = shapely.prepared.prep(area.buffer(1e-6))
    units = [u for u in repo.demand_units("fairfax-blocks") if prepared.contains(u.geometry.representative_point())]
    if not own_demand:
        return SmallPlan(plan, "fairfax-blocks", tuple(u.id for u in units))
    repo.import_demand(name, units, kind="blocks", report={"bbox": list(area.bounds), "units": len(units)}, actor="test")
    return SmallPlan(plan, name, tuple(u.id for u in units))
