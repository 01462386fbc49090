"""The optimiser on the Fairfax high-school sample (9,404 blocks, 24 schools, drive times):
every zone of the proposal is connected, no zone has more parts than today, no gaps or overlaps."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pytest

from geo.models import School
from geo.planning.demand import calibrate_rates, units_from_frame
from geo.planning.optimise import OptimiseOptions, dissolve_zones, optimise, read_cost_matrix, unit_adjacency
from geo.planning.validate import validate_plan

DATA = Path(__file__).resolve().parents[3] / "data" / "boundaries" / "fairfax"

pytestmark = pytest.mark.slow


def test_fairfax_high_proposal_is_contiguous_and_clean() -> None:
    blocks = gpd.read_file(DATA / "blocks2020.gpkg").to_crs(4326)
    zones = gpd.read_file(DATA / "zones_HS.geojson").to_crs(4326)
    sites = gpd.read_file(DATA / "schools.geojson").to_crs(4326).set_index("OBJECTID")
    rates = calibrate_rates(population=float(blocks["pop"].sum()), level_totals={"high": float(zones["membership"].sum())},
                            source="FCPS HS membership")
    units, _ = units_from_frame(blocks, id_column="geoid20", population_column="pop", rates=rates)
    schools = [School(str(int(z.object_id_school)), str(z["name"]), float(sites.geometry[int(z.object_id_school)].x),
                      float(sites.geometry[int(z.object_id_school)].y), capacity=int(z.capacity)) for _, z in zones.iterrows()]
    code = {int(z.high_current): str(int(z.object_id_school)) for _, z in zones.iterrows()}
    start = {str(g): code[int(c)] for g, c in zip(blocks["geoid20"], blocks["high_current"], strict=True)}
    costs = read_cost_matrix(DATA / "drive_seconds_hs.csv", id_column="geoid20",
                             columns={s.name: s.code for s in schools}, unit="s")
    options = OptimiseOptions(level="high", capacity="soft", time_limit_s=40, gap=0.01)
    proposal = optimise(units, schools, start=start, options=options, costs=costs, adjacency=unit_adjacency(units))
    report = proposal.report
    assert report.overflow_after <= report.overflow_before
    by_code = {s.code: s for s in schools}
    today = dissolve_zones(units, start, schools=by_code)
    draft = dissolve_zones(units, proposal.assignment, schools=by_code)
    assert len(draft) == len(schools)

    def parts(zs: list) -> dict[str, int]:
        return {z.school_codes[0]: len(z.geometry.geoms) for z in zs}

    before, after = parts(today), parts(draft)
    assert all(after[c] <= before[c] for c in after), {c: (before[c], after[c]) for c in after if after[c] > before[c]}
    area = dissolve_zones(units, {u.id: "all" for u in units})[0].geometry
    findings = validate_plan(draft, schools=by_code, area=area)
    errors = [f.code for f in findings if f.severity.value == "error"]
    assert errors == []
    # each school keeps its own block
    outside = [f for f in findings if f.code == "school_outside_zone"]
    assert len(outside) <= len([f for f in validate_plan(today, schools=by_code, area=area) if f.code == "school_outside_zone"])
