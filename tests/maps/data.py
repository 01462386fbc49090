"""Real sample data for the map tests, built with geo.io.read as the importer does.

Greater Sydney (data/boundaries/nsw): 902 catchments (683 primary, 219 high) and 955 schools.
Fairfax County (data/boundaries/fairfax): 138 elementary zones, schools with capacity and
membership, 9,404 census blocks with today's and an alternative ("scenario2") assignment.
See data/boundaries/README.md for sources and licences.
"""

from __future__ import annotations

import dataclasses
from functools import cache
from pathlib import Path

import numpy as np
import shapely

from geo.capacity.utilisation import CapacityReport, capacity_report
from geo.distance import geodesic_m
from geo.index.zones import ZoneIndex
from geo.io.read import apply_where, parse_schools, parse_zones, read_frame
from geo.lookup.resolve import SchoolBook, resolve
from geo.models import LookupResult, Plan, PlanStatus, School, Zone
from geo.planning.demand import DemandUnit, assign_units, calibrate_rates, units_from_frame, zone_demand
from geo.planning.impact import zones_in_force
from geo.standards import StandardsProfile, get_profile

DATA = Path(__file__).resolve().parents[2] / "data" / "boundaries"
NSW = DATA / "nsw"
FAIRFAX = DATA / "fairfax"

NSW_SCHOOL_MAP = {"code": "School_code", "name": "School_name", "levels": "Level_of_schooling", "grades": "School_subtype",
                  "enrolment": "latest_year_enrolment_FTE", "address": "Street"}
NSW_LEVEL_MAP = {"Primary School": ["primary"], "Infants School": ["primary"], "Secondary School": ["high"],
                 "Central/Community School": ["primary", "high"]}
NSW_WHERE = {"primary": "CATCH_TYPE=PRIMARY,INFANTS,CENTRAL_PRIMARY", "high": "CATCH_TYPE=HIGH_COED,HIGH_GIRLS,HIGH_BOYS,CENTRAL_HIGH"}


@cache
def nsw_levels() -> dict[str, tuple[Zone, ...]]:
    """Every Greater Sydney catchment by level (current and phasing-in zones alike)."""
    frame = read_frame(NSW / "greater_sydney_catchments.geojson")
    out = {}
    for level, where in NSW_WHERE.items():
        zones, report = parse_zones(apply_where(frame, [where]), mapping={"school_code": "USE_ID", "name": "USE_DESC"})
        assert not report.rejected
        out[level] = tuple(zones)
    return out


@cache
def nsw_current() -> dict[str, tuple[Zone, ...]]:
    """The zones in force now: phasing zones (from a later school year) left out."""
    return {lv: tuple(z for z in zs if not z.phasing) for lv, zs in nsw_levels().items()}


@cache
def nsw_schools() -> tuple[School, ...]:
    out, report = parse_schools(read_frame(NSW / "greater_sydney_schools.geojson"), mapping=NSW_SCHOOL_MAP,
                                level_map=NSW_LEVEL_MAP)
    assert not report.rejected
    return tuple(out)


def nsw_lookup(lon: float, lat: float) -> LookupResult:
    """A real lookup over the current Sydney zones (one adopted plan per level)."""
    entries = []
    for pid, (level, zones) in enumerate(nsw_current().items(), start=1):
        plan = Plan(id=pid, name=f"NSW {level} catchments", level=level, school_year=2026, status=PlanStatus.ADOPTED)
        entries.extend((plan, z) for z in zones)
    return resolve(ZoneIndex(entries), SchoolBook(nsw_schools()), lon, lat)


@cache
def fairfax_schools() -> tuple[School, ...]:
    out, report = parse_schools(read_frame(FAIRFAX / "schools.geojson"), mapping={
        "code": "OBJECTID", "name": "SCHOOL_NAM", "levels": "SCHOOL_TYP", "grades": "GRADES", "capacity": "capacity",
        "enrolment": "membership", "address": "ADDRESS"}, level_map={"ES": ["es"], "MS": ["ms"], "HS": ["hs"]})
    assert not report.rejected
    return tuple(out)


@cache
def fairfax_es() -> tuple[Zone, ...]:
    """The 138 elementary zones; ``id`` is the FCPS zone number found on every block."""
    out, report = parse_zones(read_frame(FAIRFAX / "zones_ES.geojson"), mapping={"school_code": "object_id_school", "name": "name"})
    assert not report.rejected
    return tuple(dataclasses.replace(z, id=int(z.attributes["elem_current"])) for z in out)


@cache
def fairfax_blocks() -> tuple[DemandUnit, ...]:
    """Census blocks with elementary pupils = population x the county's membership per resident."""
    blocks = read_frame(FAIRFAX / "blocks2020.gpkg")
    membership = float(read_frame(FAIRFAX / "zones_ES.geojson")["membership"].sum())
    rates = calibrate_rates(population=float(blocks["pop"].sum()), level_totals={"es": membership},
                            source="FCPS elementary membership 2024-25")
    units, _ = units_from_frame(blocks, id_column="geoid20", population_column="pop", rates=rates,
                                attribute_columns=["elem_current", "elem_scenario2"])
    return units


@cache
def fairfax_scenario2() -> tuple[Zone, ...]:
    """Plan B: the blocks dissolved by the study's alternative elementary assignment."""
    school_of = {z.id: z.school_codes for z in fairfax_es()}
    groups: dict[int, list[shapely.Geometry]] = {}
    for u in fairfax_blocks():
        groups.setdefault(int(u.attributes["elem_scenario2"]), []).append(u.geometry)
    out = []
    for zid, geoms in sorted(groups.items()):
        merged = shapely.union_all(np.array(geoms, dtype=object))
        parts = shapely.get_parts(merged)
        mp = shapely.MultiPolygon([p for p in parts if p.geom_type == "Polygon"])
        out.append(Zone(school_codes=school_of[zid], geometry=mp, id=zid, name=f"zone {zid}"))
    return tuple(out)


def fairfax_travel() -> tuple[tuple[DemandUnit, ...], np.ndarray, np.ndarray, list[str | None]]:
    """Blocks, straight-line metres to today's assigned school, pupils, and that school's code."""
    units = fairfax_blocks()
    school_of = {z.id: z.school_codes[0] for z in fairfax_es()}
    by_code = {s.code: s for s in fairfax_schools()}
    assigned = [school_of.get(int(u.attributes["elem_current"])) for u in units]
    pts = shapely.point_on_surface(np.array([u.geometry for u in units], dtype=object))
    lon, lat = shapely.get_x(pts), shapely.get_y(pts)
    slon = np.array([by_code[c].lon if c in by_code else np.nan for c in assigned])
    slat = np.array([by_code[c].lat if c in by_code else np.nan for c in assigned])
    cost = np.where(np.isfinite(slon), geodesic_m(lon, lat, np.nan_to_num(slon), np.nan_to_num(slat)), np.inf)
    pupils = np.array([u.count("es") for u in units])
    return units, cost, pupils, assigned


@cache
def fairfax_demand() -> tuple[tuple[Zone, ...], tuple[float, ...]]:
    """Elementary zones in force and the pupils living in each (from the blocks)."""
    zones = tuple(zones_in_force(list(fairfax_es())))
    units = fairfax_blocks()
    return zones, tuple(float(d) for d in zone_demand(assign_units(units, zones), units, level="es"))


def fairfax_capacity(profile: StandardsProfile | None = None) -> tuple[CapacityReport, tuple[Zone, ...]]:
    """The elementary capacity report (default: the Chinese profile), demand from the blocks."""
    zones, demand = fairfax_demand()
    report = capacity_report(list(fairfax_schools()), zones, level="es", profile=profile or get_profile("cn"),
                             zone_demand=list(demand))
    return report, zones
