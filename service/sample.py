"""The bundled real sample: Greater Sydney (NSW) and Fairfax County (Virginia).

Each step is the same import a user runs with ``catchment import ...`` (README lists the
commands); ``load_sample`` runs them in order when the database is empty.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from geo.io import ImportReport
from service.importer import ImportOptions, import_demand_file, import_schools_file, import_zones_file, osm_schools
from service.travel import build_and_register
from service.storage.base import Repository

NSW_SCHOOL_MAP = ("code=School_code", "name=School_name", "levels=Level_of_schooling", "grades=School_subtype",
                  "enrolment=latest_year_enrolment_FTE", "address=Street")
NSW_LEVEL_MAP = ("Primary School=primary", "Infants School=primary", "Secondary School=high",
                 "Central/Community School=primary,high")
NSW_PRIMARY = "CATCH_TYPE=PRIMARY,INFANTS,CENTRAL_PRIMARY"
NSW_HIGH = "CATCH_TYPE=HIGH_COED,HIGH_GIRLS,HIGH_BOYS,CENTRAL_HIGH"
FCPS_SCHOOL_MAP = ("code=OBJECTID", "name=SCHOOL_NAM", "levels=SCHOOL_TYP", "grades=GRADES", "capacity=capacity",
                   "enrolment=membership", "address=ADDRESS")
FCPS_LEVEL_MAP = ("ES=elementary", "MS=middle", "HS=high")
FCPS_LEVELS = ("elementary", "middle", "high")


@dataclass(frozen=True)
class Step:
    kind: str  # "schools", "zones" or "demand"
    file: str
    opts: ImportOptions
    plan: str = ""
    district: str = ""
    level: str = ""
    year: int = 0
    adopt: bool = True
    notes: tuple[str, ...] = field(default_factory=tuple)


STEPS: tuple[Step, ...] = (
    Step("schools", "nsw/greater_sydney_schools.geojson", ImportOptions(mapping=NSW_SCHOOL_MAP, level_map=NSW_LEVEL_MAP)),
    Step("zones", "nsw/greater_sydney_catchments.geojson",
         ImportOptions(mapping=("school_code=USE_ID", "name=USE_DESC"), where=(NSW_PRIMARY,)),
         plan="NSW primary catchments 2026", district="nsw", level="primary", year=2026),
    Step("zones", "nsw/greater_sydney_catchments.geojson",
         ImportOptions(mapping=("school_code=USE_ID", "name=USE_DESC"), where=(NSW_HIGH,)),
         plan="NSW high catchments 2026", district="nsw", level="high", year=2026),
    Step("schools", "fairfax/schools.geojson",
         ImportOptions(mapping=FCPS_SCHOOL_MAP, level_map=FCPS_LEVEL_MAP, code_prefix="fcps-")),
    Step("zones", "fairfax/zones_ES.geojson",
         ImportOptions(mapping=("school_code=object_id_school", "name=name"), code_prefix="fcps-"),
         plan="FCPS elementary 2024-25", district="fairfax", level="elementary", year=2024),
    Step("zones", "fairfax/zones_MS.geojson",
         ImportOptions(mapping=("school_code=object_id_school", "name=name"), code_prefix="fcps-"),
         plan="FCPS middle 2024-25", district="fairfax", level="middle", year=2024),
    Step("zones", "fairfax/zones_HS.geojson",
         ImportOptions(mapping=("school_code=object_id_school", "name=name"), code_prefix="fcps-"),
         plan="FCPS high 2024-25", district="fairfax", level="high", year=2024),
    # Children per level = block population x a rate calibrated from the county's membership.
    Step("demand", "fairfax/blocks2020.gpkg", ImportOptions(), plan="fairfax-blocks"),
    # Portland (OpenStreetMap): the walking network, its named middle schools, and a plan of
    # zones nearest each school along the streets.
    Step("network", "../osm/portland.osm.pbf", ImportOptions(), plan="portland"),
    Step("osm-schools", "../osm/portland.osm.pbf", ImportOptions(), level="middle"),
    Step("generate", "", ImportOptions(), plan="Portland middle schools by walking distance", district="portland",
         level="middle", year=2026),
)
PORTLAND_SCHOOLS = r"\b(Elementary|Middle|High) School\b"


def load_sample(repo: Repository, data_dir: Path, *, networks: Path, actor: str = "sample-loader",
                say: Callable[[str], None] = lambda _: None) -> list[ImportReport]:
    """Import every sample step; each step is its own all-or-nothing transaction.

    ``networks`` is the folder for street network files (next to the database).
    """
    reports = []
    for step in STEPS:
        path = data_dir / step.file
        if step.kind == "schools":
            report = import_schools_file(repo, path, opts=step.opts, actor=actor)
        elif step.kind == "demand":
            demand = import_demand_file(repo, path, name=step.plan, id_column="geoid20", population="pop",
                                        calibrate=FCPS_LEVELS, actor=actor)
            say(f"{step.file}: {demand['units']} demand units, rates calibrated from school membership")
            continue
        elif step.kind == "network":
            info = build_and_register(repo, path, mode="walk", name=step.plan, folder=networks, actor=actor)
            say(f"{step.file}: walking network, {info['nodes']} nodes")
            continue
        elif step.kind == "osm-schools":
            found = osm_schools(path, levels=[step.level], name_pattern=PORTLAND_SCHOOLS, only_names=PORTLAND_SCHOOLS)
            say(f"{step.file}: {repo.import_schools(found, actor=actor)} schools from OpenStreetMap")
            continue
        elif step.kind == "generate":
            from service.routes.travel import generate_network_plan
            from service.state import SnapshotHolder

            snap = SnapshotHolder(repo, check_every_s=0).refresh()
            plan, _ = generate_network_plan(repo, snap, name=step.plan, district=step.district, level=step.level,
                                            year=step.year, mode="walk", actor=actor)
            repo.adopt_plan(plan.id, actor=actor)
            say(f"plan {plan.id} '{plan.name}' generated and adopted")
            continue
        else:
            plan, report = import_zones_file(repo, path, plan_name=step.plan, district=step.district, level=step.level,
                                             year=step.year, adopt=step.adopt, opts=step.opts, actor=actor)
            report.notes.append(f"plan {plan.id} '{plan.name}' ({plan.status.value})")
        say(f"{step.file}: {report.written} {report.kind} written, {len(report.repaired)} repaired")
        reports.append(report)
    return reports


def is_empty(repo: Repository) -> bool:
    return repo.count_schools() == 0 and not repo.list_plans()
