"""The bundled real sample: Greater Sydney (NSW) and Fairfax County (Virginia).

Each step is the same import a user runs with ``catchment import ...`` (README lists the
commands); ``load_sample`` runs them in order when the database is empty.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import shapely

from geo.errors import NotFound
from geo.io.read import ImportReport, RowProblem, apply_where, parse_mapping, parse_zones, read_frame
from geo.models import PlanStatus, Zone
from service.networks import build_and_register
from service.operations.addresses import import_addresses_file
from service.operations.imports import (
    ImportOptions,
    RejectedRows,
    import_demand_file,
    import_osm_schools,
    import_schools_file,
    import_zones_file,
)
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
    # Address points for the offline gazetteer (the NSW schools' published street addresses).
    Step("addresses", "nsw/sydney_addresses.csv", ImportOptions(), plan="sydney"),
    # NSW future catchments, phasing in grade by grade from 2027, added to the adopted NSW plans.
    Step("future-zones", "nsw/nsw_catchments_future.geojson",
         ImportOptions(mapping=("school_code=USE_ID", "name=USE_DESC"), where=(NSW_PRIMARY,), allow_rejects=True),
         district="nsw", level="primary"),
    Step("future-zones", "nsw/nsw_catchments_future.geojson",
         ImportOptions(mapping=("school_code=USE_ID", "name=USE_DESC"), where=(NSW_HIGH,), allow_rejects=True),
         district="nsw", level="high"),
)
#: A future zone whose school, grades and start years match a zone already in the plan, and whose
#: area overlaps it by at least this share (intersection over union), is the same zone.
SAME_ZONE_IOU = 0.98
PORTLAND_SCHOOLS = r"\b(Elementary|Middle|High) School\b"


def load_sample(repo: Repository, data_dir: Path, *, actor: str = "sample-loader",
                say: Callable[[str], None] = lambda _: None) -> list[ImportReport]:
    """Import every sample step; each step is its own all-or-nothing transaction (the street
    network too: it is stored in the database, see :mod:`service.storage.assets`)."""
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
            info = build_and_register(repo, path, mode="walk", name=step.plan, actor=actor, replace=True)
            say(f"{step.file}: walking network, {info['nodes']} nodes")
            continue
        elif step.kind == "osm-schools":
            _, written = import_osm_schools(repo, path, levels=[step.level], name_pattern=PORTLAND_SCHOOLS,
                                            only_names=PORTLAND_SCHOOLS, actor=actor)
            say(f"{step.file}: {written} schools from OpenStreetMap")
            continue
        elif step.kind == "addresses":
            dataset, n = import_addresses_file(repo, path, dataset=step.plan, actor=actor)
            say(f"{step.file}: {n} address points for the gazetteer (dataset {dataset!r})")
            continue
        elif step.kind == "future-zones":
            report = append_future_zones(repo, path, district=step.district, level=step.level, opts=step.opts, actor=actor)
            say(f"{step.file} ({step.level}): {report.notes[-1]}")
            for p in report.rejected:
                say(f"  skipped row {p.row}: {p.reason}")
        elif step.kind == "generate":
            from service.operations.travel import generate_network_plan
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


def append_future_zones(repo: Repository, path: Path, *, district: str, level: str, opts: ImportOptions,
                        actor: str) -> ImportReport:
    """Add the zones of ``path`` (phasing in from a later year) to the adopted plan of ``district``
    and ``level``, in one versioned change.

    Zones already in the plan (same school, grades and start years, same area) are skipped and
    counted in the notes; zones naming a school that is not stored are rejected with the reason
    (new schools with no published location are not invented).
    """
    plan = next((p for p in repo.list_plans(district=district, level=level, status=PlanStatus.ADOPTED)), None)
    if plan is None:
        msg = f"no adopted {level} plan in district {district!r} to add the future zones to"
        raise NotFound(msg, where="plan")
    frame = apply_where(read_frame(path, crs=opts.crs, layer=opts.layer), opts.where)
    zones, report = parse_zones(frame, mapping=parse_mapping(opts.mapping), code_prefix=opts.code_prefix)
    bad_rows = {p.row for p in report.rejected}
    rows = [i for i in range(len(frame)) if i + 1 not in bad_rows]  # report rows count from 1
    known = {s.code for s in repo.list_schools()}
    existing = repo.zones(plan.id)
    new: list[Zone] = []
    same = 0
    for row, z in zip(rows, zones, strict=True):
        missing = [c for c in z.school_codes if c not in known]
        if missing:
            # Report the feature's position in the file, not in the --where selection.
            report.rejected.append(RowProblem(int(frame.index[row]) + 1, f"school {', '.join(missing)} ({z.name}) is not in the schools table: "
                                                   "a school outside the sample or not open yet, with no stored location",
                                              ",".join(z.school_codes)))
        elif any(_same_zone(z, e) for e in existing):
            same += 1
        else:
            new.append(z)
    if report.rejected and not opts.allow_rejects:
        raise RejectedRows(report)
    report.rejected.sort(key=lambda p: p.row)
    repo.append_zones(plan.id, new, actor=actor, action="zones.append-future")
    report.written = len(new)
    report.notes.append(f"plan {plan.id} '{plan.name}': {len(new)} zones added, {same} already in the plan "
                        f"(same school, grades, start years and area), {len(report.rejected)} rejected")
    return report


def _same_zone(a: Zone, b: Zone) -> bool:
    if (a.school_codes, a.grades, dict(a.grade_start_years)) != (b.school_codes, b.grades, dict(b.grade_start_years)):
        return False
    union = shapely.union(a.geometry, b.geometry).area
    return bool(union > 0 and shapely.intersection(a.geometry, b.geometry).area / union >= SAME_ZONE_IOU)


def is_empty(repo: Repository) -> bool:
    return repo.count_schools() == 0 and not repo.list_plans()
