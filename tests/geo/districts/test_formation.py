"""学区 formation on instances small enough to solve by hand.

Six made-up schools on a line (positions in km, quality scores), for arithmetic only:

    A 0 km q90 | B 1 km q70 | C 2 km q80 | D 10 km q60 | E 11 km q40 | F 12 km q50

Sum 390, county mean qbar 65. With at most 3 per district and 6 schools there are exactly two
districts of three; the totals add to 390, so both deviate from 3 * 65 = 195 by the same amount
and the balance term is 2 * |T_A - 195| for the district led by A. Its possible partners:

    B+C 240 (45)  B+E 200 (5)  B+F 210 (15)  C+E 210 (15)  C+F 220 (25)  E+F 180 (15)

so the unique balanced optimum is {A, B, E} / {D, C, F}, though B and C are next to A and E, F
next to D. The travel term (0.05 x metres / scale, scale = the median of all pairwise distances, 9 km)
breaks no tie here.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from geo.districts.formation import form_districts
from geo.districts.model import DistrictOptions, DistrictSchool
from geo.errors import Cancelled, Infeasible, InvalidInput
from geo.standards import CN, GENERIC

POS = {"A": 0, "B": 1, "C": 2, "D": 10, "E": 11, "F": 12}
Q = {"A": 90, "B": 70, "C": 80, "D": 60, "E": 40, "F": 50}


def _line(urban: set[str] | None = None) -> tuple[list[DistrictSchool], np.ndarray]:
    schools = [DistrictSchool(c, float(Q[c]), lon=0.0, lat=0.0, urban=None if urban is None else c in urban) for c in POS]
    travel = np.array([[abs(POS[a] - POS[b]) * 1000.0 for b in POS] for a in POS])
    return schools, travel


def _groups(plan) -> set[frozenset[str]]:  # type: ignore[no-untyped-def]
    return {frozenset(d.members) for d in plan.districts}


def test_balance_beats_nearness() -> None:
    schools, travel = _line()
    plan = form_districts(schools, travel, DistrictOptions(max_schools=3, strong_share=None, lead_codes=("A", "D")))
    assert _groups(plan) == {frozenset("ABE"), frozenset("DCF")}
    assert plan.status == "optimal"
    assert [d.lead for d in plan.districts] == ["A", "D"]
    assert plan.county_mean == 65.0
    # District means 200/3 and 190/3, both 5/3 from 65 with equal sizes: CV = (5/3) / 65.
    assert plan.between_cv == pytest.approx((5 / 3) / 65, rel=1e-9)
    a, d = plan.districts
    assert a.quality_range == 50.0 and d.quality_range == 30.0  # 90-40, 80-50
    assert plan.max_within_range == 50.0
    assert a.max_travel == 11000.0 and d.max_travel == 8000.0
    # Objective: 2 * 5 / mad (mad = mean |q - 65| = 90 / 6 = 15) + 0.05 * (12 + 10 km) / 9 km.
    assert plan.objective == pytest.approx(10 / 15 + 0.05 * 22 / 9, rel=1e-6)
    assert plan.balance_term == pytest.approx(10 / 15, rel=1e-9)
    assert plan.travel_term == pytest.approx(0.05 * 22 / 9, rel=1e-6)
    assert plan.profile is None and plan.max_schools == 3
    assert plan.text["en"].startswith("6 schools in 2 districts") and plan.text["zh"].startswith("6 所学校分为 2 个学区")


def test_travel_cap_forces_near_groups() -> None:
    # Within 5 km of its lead, a school can only join the lead on its own side of the line.
    schools, travel = _line()
    plan = form_districts(schools, travel, DistrictOptions(max_schools=3, strong_share=None, lead_codes=("A", "D"),
                                                           max_travel=5000.0))
    assert _groups(plan) == {frozenset("ABC"), frozenset("DEF")}
    assert max(d.max_travel for d in plan.districts) <= 5000.0
    # Means 80 and 50: CV = 15 / 65.
    assert plan.between_cv == pytest.approx(15 / 65, rel=1e-9)


def test_strong_leads() -> None:
    # strong_share 1/3 -> the top two, A (90) and C (80), lead. A's partners with deviation 5:
    # B+E (200), D+F (200), D+E (190); travel A+{B,E} 1+11 and C+{D,F} 8+10 = 30 km, against
    # A+{D,F} 10+12 with C+{B,E} 1+9 = 32 and A+{D,E} 10+11 with C+{B,F} 1+10 = 32: {A,B,E} / {C,D,F}.
    schools, travel = _line()
    plan = form_districts(schools, travel, DistrictOptions(max_schools=3, strong_share=1 / 3))
    assert _groups(plan) == {frozenset("ABE"), frozenset("CDF")}
    assert {d.lead for d in plan.districts} == {"A", "C"}
    assert all(d.strong == 1 for d in plan.districts)


def test_urban_rural_mix() -> None:
    # Urban: A, B, E. The balanced {A, B, E} is all urban, so it is out. Deviation 15 with a mix:
    # A+{B,F} (210; D+{C,E}), A+{C,E} (210; D+{B,F}), A+{E,F} (180; D+{B,C}); travel 13+9 = 22,
    # 13+11 = 24, 23+17 = 40 km: {A,B,F} / {D,C,E}.
    schools, travel = _line(urban={"A", "B", "E"})
    plan = form_districts(schools, travel, DistrictOptions(max_schools=3, strong_share=None, lead_codes=("A", "D"),
                                                           mix_urban_rural=True))
    assert _groups(plan) == {frozenset("ABF"), frozenset("DCE")}
    assert all(d.urban >= 1 and d.rural >= 1 for d in plan.districts)


def test_levels_together() -> None:
    # Primary A, B, E and junior C, D, F: the same choice as the urban/rural mix above.
    schools, travel = _line()
    schools = [DistrictSchool(s.code, s.quality, 0.0, 0.0, level="primary" if s.code in "ABE" else "junior") for s in schools]
    plan = form_districts(schools, travel, DistrictOptions(max_schools=3, strong_share=None, lead_codes=("A", "D"),
                                                           mix_levels=True))
    assert _groups(plan) == {frozenset("ABF"), frozenset("DCE")}
    schools[1] = DistrictSchool("B", 70.0, 0.0, 0.0)
    with pytest.raises(InvalidInput, match="school B has no level"):
        form_districts(schools, travel, DistrictOptions(max_schools=3, strong_share=None, mix_levels=True))


def test_profile_gives_default_size() -> None:
    schools, travel = _line()
    plan = form_districts(schools, travel, DistrictOptions(strong_share=None, lead_codes=("A", "D")), profile=CN)
    assert plan.max_schools == CN.district_max_schools == 10
    assert plan.profile == "cn@2024.1"
    # Ten allowed: one district of all six has no deviation at all and beats any split.
    assert len(plan.districts) == 1 and plan.between_cv == 0.0
    assert GENERIC.district_max_schools is None
    assert form_districts(schools, travel, DistrictOptions(strong_share=None), profile=GENERIC).max_schools == 10


def test_stranded_school_is_named() -> None:
    schools, travel = _line()
    with pytest.raises(Infeasible) as err:
        form_districts(schools, travel, DistrictOptions(strong_share=None, lead_codes=("A",), max_travel=5000.0))
    e = err.value
    assert "D (nearest possible lead A at 10.0 km)" in e.message and "no lead within 5.0 km" in e.message
    assert "E" in e.message and "F" in e.message
    assert "5.0 公里" in e.message_zh and "没有可归属的学区长学校" in e.message_zh
    assert e.where == "school D"
    assert e.text == {"en": e.message, "zh": e.message_zh}


def test_too_few_leads() -> None:
    schools, travel = _line()
    with pytest.raises(Infeasible, match=r"6 schools at most 2 per district need at least 3 districts, but only 2"):
        form_districts(schools, travel, DistrictOptions(max_schools=2, strong_share=None, lead_codes=("A", "D")))


def test_fixed_district_count() -> None:
    schools, travel = _line()
    with pytest.raises(Infeasible, match="1 districts of at most 3 schools hold at most 3 of the 6") as err:
        form_districts(schools, travel, DistrictOptions(max_schools=3, strong_share=None, districts=1))
    assert err.value.where == "districts"
    with pytest.raises(Infeasible, match="4 districts of at least 2 schools need more than the 6"):
        form_districts(schools, travel, DistrictOptions(max_schools=3, strong_share=None, districts=4))
    # Three districts, at least two each: three pairs. Each pair should total 2 * 65 = 130, and
    # 90+40, 80+50, 70+60 do (the only way: 90 needs 40, then 80 needs 50): {A,E} {C,F} {B,D}, CV 0.
    plan = form_districts(schools, travel, DistrictOptions(max_schools=3, strong_share=None, districts=3))
    assert _groups(plan) == {frozenset("AE"), frozenset("CF"), frozenset("BD")}
    assert plan.between_cv == pytest.approx(0.0, abs=1e-12)


def test_mix_without_rural_school() -> None:
    schools, travel = _line(urban=set(POS))
    with pytest.raises(Infeasible, match="needs a rural school, but there are only 0") as err:
        form_districts(schools, travel, DistrictOptions(max_schools=3, strong_share=None, mix_urban_rural=True))
    assert "农村" in err.value.message_zh


def test_solver_proves_infeasible() -> None:
    # Each simple check passes (two leads, every school reaches one within 5 km, enough urban and
    # rural schools), but the urban schools A, B, C are all on A's side, so D's district has none.
    schools, travel = _line(urban={"A", "B", "C"})
    with pytest.raises(Infeasible, match="no partition of the 6 schools meets all the options together") as err:
        form_districts(schools, travel, DistrictOptions(max_schools=3, strong_share=None, lead_codes=("A", "D"),
                                                        max_travel=5000.0, mix_urban_rural=True))
    assert "5.0 km" in err.value.message and "城乡学校搭配" in err.value.message_zh


@pytest.mark.parametrize(("kwargs", "where"), [
    ({"quality": -1.0}, "school A"),
    ({"quality": math.nan}, "school A"),
])
def test_bad_quality(kwargs: dict[str, float], where: str) -> None:
    schools, travel = _line()
    schools[0] = DistrictSchool("A", kwargs["quality"], 0.0, 0.0)
    with pytest.raises(InvalidInput) as err:
        form_districts(schools, travel)
    assert err.value.where == where


def test_bad_matrix_and_duplicates() -> None:
    schools, travel = _line()
    with pytest.raises(InvalidInput, match="6 x 6 matrix"):
        form_districts(schools, travel[:5])
    with pytest.raises(InvalidInput, match="listed twice"):
        form_districts([*schools, schools[0]], np.zeros((7, 7)))
    with pytest.raises(InvalidInput, match="not among the schools"):
        form_districts(schools, travel, DistrictOptions(lead_codes=("Z",)))


def test_cancel_before_solving() -> None:
    schools, travel = _line()
    with pytest.raises(Cancelled):
        form_districts(schools, travel, DistrictOptions(max_schools=3, strong_share=None), cancel=lambda: True)


def test_rows_for_csv() -> None:
    schools, travel = _line()
    plan = form_districts(schools, travel, DistrictOptions(max_schools=3, strong_share=None, lead_codes=("A", "D")))
    rows = plan.rows()
    assert rows[0] == {"district": 1, "lead": "A", "school": "A", "is_lead": True}
    assert len(rows) == 6 and plan.assignment()["E"] == "A"
