"""学区 formation on real schools: the 24 government primary schools of Hawkesbury (NSW), a
county-sized local government area with town and country schools.

Data: data/boundaries/nsw/greater_sydney_schools.geojson (NSW Department of Education, CC BY 4.0).
Quality score: the school's published ICSEA (Index of Community Socio-Educational Advantage).
It measures the advantage of a school's pupils, not its teaching, so it stands in here for the
"strong school / weak school" score a Chinese county would compute from its balance indicators;
urban = ASGS remoteness "Major Cities of Australia" (11 schools), rural = Inner / Outer Regional
(13). Travel: geodesic metres between the schools, checked here with pyproj directly.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest
from pyproj import Geod

from geo.capacity.balance import weighted_cv
from geo.districts.formation import form_districts
from geo.districts.model import DistrictOptions, DistrictSchool, SolveProgress, geodesic_matrix
from geo.districts.quality import attribute_quality, district_schools
from geo.errors import Cancelled, Infeasible
from geo.io.read import parse_schools, read_frame
from geo.standards import CN

NSW = Path(__file__).resolve().parents[3] / "data" / "boundaries" / "nsw"
CAP_M = 30_000.0
pytestmark = pytest.mark.slow


@cache
def hawkesbury() -> tuple[DistrictSchool, ...]:
    schools, report = parse_schools(
        read_frame(NSW / "greater_sydney_schools.geojson"),
        mapping={"code": "School_code", "name": "School_name", "levels": "Level_of_schooling",
                 "enrolment": "latest_year_enrolment_FTE"},
        level_map={"Primary School": ["primary"], "Infants School": ["primary"], "Secondary School": ["high"]})
    assert not report.rejected
    chosen = [s for s in schools if s.attributes.get("LGA") == "Hawkesbury" and "primary" in s.levels]
    quality = attribute_quality(chosen, "ICSEA_value")
    return tuple(district_schools(chosen, quality,
                                  urban=lambda s: s.attributes.get("ASGS_remoteness") == "Major Cities of Australia"))


def test_real_county_within_every_limit() -> None:
    schools = hawkesbury()
    assert len(schools) == 24 and sum(bool(s.urban) for s in schools) == 11
    travel = geodesic_matrix(schools)
    opts = DistrictOptions(max_travel=CAP_M, mix_urban_rural=True, mip_rel_gap=0.05, time_limit_s=120)
    seen: list[SolveProgress] = []
    plan = form_districts(schools, travel, opts, profile=CN, progress=seen.append)
    assert plan.status == "optimal" and plan.gap is not None and plan.gap <= 0.05
    assert seen and seen[-1].objective is not None
    by_code = {s.code: s for s in schools}
    members = [m for d in plan.districts for m in d.members]
    assert sorted(members) == sorted(by_code)  # a partition: every school once
    geod = Geod(ellps="WGS84")
    # Strong = the top 30 % by ICSEA: ceil(0.3 * 24) = 8 schools.
    strong = {s.code for s in sorted(schools, key=lambda s: (-s.quality, s.code))[:8]}
    for d in plan.districts:
        assert 2 <= len(d.members) <= 10
        lead = by_code[d.lead]
        assert d.lead in strong
        for m in d.members:
            _, _, dist = geod.inv(lead.lon, lead.lat, by_code[m].lon, by_code[m].lat)
            assert dist <= CAP_M + 1e-6
        assert any(by_code[m].urban for m in d.members) and any(not by_code[m].urban for m in d.members)
        assert any(m in strong for m in d.members)
    # Balance against nearness alone: every school to its nearest strong school.
    nearest: dict[str, list[float]] = {}
    for s in schools:
        lead = min(strong, key=lambda c: (travel[schools.index(s), schools.index(by_code[c])], c))
        nearest.setdefault(lead, []).append(s.quality)
    baseline = weighted_cv([sum(v) for v in nearest.values()], [len(v) for v in nearest.values()])
    totals = [sum(by_code[m].quality for m in d.members) for d in plan.districts]
    ours = weighted_cv(totals, [len(d.members) for d in plan.districts])
    assert ours == pytest.approx(plan.between_cv, rel=1e-9)
    assert ours < baseline / 10
    print(f"\nHawkesbury: {len(plan.districts)} districts, CV {ours:.5f} vs nearest-strong {baseline:.5f}, "
          f"solve {plan.solve_s:.2f} s, gap {plan.gap:.3f}")


def test_real_county_cap_too_tight() -> None:
    schools = hawkesbury()
    with pytest.raises(Infeasible) as err:
        form_districts(schools, geodesic_matrix(schools), DistrictOptions(max_travel=15_000.0), profile=CN)
    # Colo Heights (1346) is 20.9 km from the nearest strong school, Kurrajong East (2344).
    assert "1346 (nearest possible lead 2344 at 20.9 km)" in err.value.message
    assert err.value.where == "school 1346"


def test_cancel_during_solve() -> None:
    schools = hawkesbury()
    calls = [0]

    def cancel() -> bool:
        calls[0] += 1
        return calls[0] > 1  # let the solve start, stop at the solver's first poll

    with pytest.raises(Cancelled):
        form_districts(schools, geodesic_matrix(schools),
                       DistrictOptions(max_travel=CAP_M, mix_urban_rural=True, mip_rel_gap=0.0), cancel=cancel)
    assert calls[0] >= 2
