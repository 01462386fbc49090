"""Capacity report on the real Fairfax County data (data/boundaries/fairfax, see its README section).

Schools and zones carry FCPS's published capacity and membership (2024-25); demand comes from
the 2020 census blocks' population times a per-capita rate calibrated on the county's
membership of the level.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest

from geo.capacity.utilisation import CapacityReport, capacity_report
from geo.io.read import parse_schools, parse_zones, read_frame
from geo.models import School, Zone
from geo.planning.demand import (
    DemandLoadReport,
    DemandUnit,
    ZoneAssignment,
    assign_units,
    calibrate_rates,
    level_totals_from_schools,
    units_from_frame,
    zone_demand,
)
from geo.standards import get_profile

FAIRFAX = Path(__file__).resolve().parents[3] / "data" / "boundaries" / "fairfax"
LEVELS = ("ES", "MS", "HS")


@pytest.fixture(scope="module")
def blocks() -> gpd.GeoDataFrame:
    return read_frame(FAIRFAX / "blocks2020.gpkg")


@pytest.fixture(scope="module")
def schools() -> list[School]:
    frame = read_frame(FAIRFAX / "schools.geojson")
    out, report = parse_schools(frame, mapping={"code": "OBJECTID", "name": "SCHOOL_NAM", "levels": "SCHOOL_TYP",
                                                "grades": "GRADES", "enrolment": "membership", "address": "ADDRESS"})
    assert not report.rejected
    return out


@pytest.fixture(scope="module")
def zone_frames() -> dict[str, gpd.GeoDataFrame]:
    return {lv: read_frame(FAIRFAX / f"zones_{lv}.geojson") for lv in LEVELS}


@pytest.fixture(scope="module")
def demand(blocks: gpd.GeoDataFrame, zone_frames: dict[str, gpd.GeoDataFrame]) -> tuple[tuple[DemandUnit, ...], DemandLoadReport]:
    # County membership of each level over the county's whole 2020 population.
    totals = {lv.lower(): float(zone_frames[lv]["membership"].sum()) for lv in LEVELS}
    rates = calibrate_rates(population=float(blocks["pop"].sum()), level_totals=totals,
                            source="FCPS membership 2024-25, sum over the level's zones")
    return units_from_frame(blocks, id_column="geoid20", population_column="pop", rates=rates)


def _zones(frame: gpd.GeoDataFrame) -> list[Zone]:
    zones, report = parse_zones(frame, mapping={"school_code": "object_id_school"})
    assert not report.rejected
    return zones


def test_calibration_is_reported(demand: tuple[tuple[DemandUnit, ...], DemandLoadReport],
                                 zone_frames: dict[str, gpd.GeoDataFrame], blocks: gpd.GeoDataFrame) -> None:
    units, rep = demand
    assert rep.units == len(blocks) == len(units)
    assert rep.method == "population_rate"
    for lv in LEVELS:
        rate = next(r for r in rep.rates if r.level == lv.lower())
        assert rate.basis == "calibrated"
        assert rate.rate == pytest.approx(zone_frames[lv]["membership"].sum() / blocks["pop"].sum())
        # Rates are calibrated on the county total, so county demand equals county membership.
        assert rep.totals[lv.lower()] == pytest.approx(zone_frames[lv]["membership"].sum())
    assert len(rep.explanations) == 3 and all("FCPS membership" in en for en, _ in rep.explanations)


def test_level_totals_from_schools_match_the_zones(schools: list[School], zone_frames: dict[str, gpd.GeoDataFrame]) -> None:
    totals = level_totals_from_schools(schools, [lv.lower() for lv in LEVELS])
    for lv in LEVELS:
        assert totals[lv.lower()] == zone_frames[lv]["membership"].sum()


@pytest.fixture(scope="module")
def reports(schools: list[School], zone_frames: dict[str, gpd.GeoDataFrame],
            demand: tuple[tuple[DemandUnit, ...], DemandLoadReport]) -> dict[str, tuple[CapacityReport, ZoneAssignment, np.ndarray]]:
    units, _ = demand
    out = {}
    for lv in LEVELS:
        zones = _zones(zone_frames[lv])
        assignment = assign_units(units, zones)
        per_zone = zone_demand(assignment, units, level=lv.lower())
        report = capacity_report(schools, zones, level=lv.lower(), profile=get_profile("generic"), zone_demand=per_zone.tolist())
        out[lv] = (report, assignment, per_zone)
    return out


@pytest.mark.parametrize("lv", LEVELS)
def test_reproduces_published_capacity_and_membership(lv: str, reports: dict, zone_frames: dict[str, gpd.GeoDataFrame]) -> None:
    report, _, _ = reports[lv]
    rows = {r.code: r for r in report.rows}
    frame = zone_frames[lv]
    assert report.profile == "generic@2024.1"
    for sid, cap, mem, name in zip(frame["object_id_school"], frame["capacity"], frame["membership"], frame["name"], strict=True):
        row = rows[str(sid)]
        assert row.capacity == cap, name
        assert row.enrolment == mem, name
        assert row.utilisation_enrolment == pytest.approx(mem / cap)
        assert row.zones == (name,)
    assert report.missing_schools == ()


@pytest.mark.parametrize("lv", LEVELS)
def test_demand_from_blocks(lv: str, reports: dict, zone_frames: dict[str, gpd.GeoDataFrame],
                            demand: tuple[tuple[DemandUnit, ...], DemandLoadReport]) -> None:
    report, assignment, per_zone = reports[lv]
    units, load = demand
    frame = zone_frames[lv]
    # Zones were dissolved from these blocks: every block lies inside, none twice.
    assert assignment.outside == () and assignment.partly_outside == () and assignment.covered_twice == ()
    inside_total = sum(u.count(lv.lower()) for u in units)
    assert per_zone.sum() == pytest.approx(inside_total, rel=1e-9)
    assert report.totals.demand == pytest.approx(load.totals[lv.lower()], rel=1e-9)
    # Each zone's demand is its published population times the level's rate.
    rate = next(r.rate for r in load.rates if r.level == lv.lower())
    assert per_zone == pytest.approx(frame["pop"].to_numpy() * rate, rel=1e-6, abs=1e-6)
    rows = {r.code: r for r in report.rows}
    zoned = [rows[str(s)] for s in frame["object_id_school"]]
    assert sum(r.demand or 0.0 for r in zoned) == pytest.approx(per_zone.sum(), rel=1e-9)
    assert all(r.utilisation_demand == pytest.approx((r.demand or 0.0) / (r.capacity or 1.0)) for r in zoned)


def test_elementary_schools_without_capacity_are_flagged(reports: dict) -> None:
    report, _, _ = reports["ES"]
    raw = read_frame(FAIRFAX / "schools.geojson")
    no_cap = {str(c) for c in raw.loc[(raw["SCHOOL_TYP"] == "ES") & raw["capacity"].isna(), "OBJECTID"]}
    assert no_cap  # the FCPS file has upper-grade campuses of paired schools with no capacity
    flagged = {r.code for r in report.rows if "no_capacity" in r.flags}
    assert flagged == no_cap
    for r in report.rows:
        if r.code in no_cap:
            assert r.utilisation_enrolment is None and r.band_enrolment is None and "no_zone" in r.flags
    assert report.totals.schools_without_capacity == len(no_cap)
