"""Balance coefficient (差异系数) on examples small enough to check by hand.

The schools below are made-up worked examples for arithmetic, not data about real schools.
"""

from __future__ import annotations

import math

import pytest

from geo.capacity.balance import balance_report, unweighted_cv, weighted_cv
from geo.errors import InvalidInput
from geo.models import School
from geo.standards import GENERIC, get_profile

# Three schools, teachers above the required degree (R) and pupils (n):
#   A: R=5,  n=100 -> x = 5 per 100 pupils
#   B: R=12, n=300 -> x = 4
#   C: R=18, n=600 -> x = 3
# N = 1000, area value xbar = 35 / 1000 * 100 = 3.5 (the mean of the ratios would be 4).
# Weighted variance = 0.1*(5-3.5)^2 + 0.3*(4-3.5)^2 + 0.6*(3-3.5)^2 = 0.225 + 0.075 + 0.15 = 0.45
# CV weighted = sqrt(0.45) / 3.5 = 0.670820 / 3.5 = 0.191663
# Unweighted: mean 4, population variance (1 + 0 + 1) / 3 = 2/3, CV = 0.816497 / 4 = 0.204124
# Wrong "mean of ratios" xbar: sqrt(0.1*1 + 0.3*0 + 0.6*1) / 4 = 0.836660 / 4 = 0.209165
R = [5.0, 12.0, 18.0]
N = [100.0, 300.0, 600.0]


def test_weighted_cv_by_hand() -> None:
    assert weighted_cv(R, N) == pytest.approx(math.sqrt(0.45) / 3.5, rel=1e-12)
    assert weighted_cv(R, N) == pytest.approx(0.191663, abs=1e-6)


def test_xbar_is_area_total_not_mean_of_ratios() -> None:
    assert weighted_cv(R, N) != pytest.approx(0.209165, abs=1e-4)


def test_unweighted_differs_when_sizes_differ() -> None:
    assert unweighted_cv(R, N) == pytest.approx(math.sqrt(2 / 3) / 4, rel=1e-12)
    assert abs(weighted_cv(R, N) - unweighted_cv(R, N)) > 0.01


def test_weighted_equals_unweighted_for_equal_sizes() -> None:
    # Same pupils everywhere: weights are 1/3 and xbar is the plain mean (4), so both are 0.204124.
    r, n = [5.0, 4.0, 3.0], [100.0, 100.0, 100.0]
    assert weighted_cv(r, n) == pytest.approx(unweighted_cv(r, n), rel=1e-12)
    assert weighted_cv(r, n) == pytest.approx(0.204124, abs=1e-6)


def test_scale_free_and_zero_when_equal() -> None:
    assert weighted_cv([x * 100 for x in R], N) == pytest.approx(weighted_cv(R, N), rel=1e-12)
    assert weighted_cv([10.0, 30.0], [100.0, 300.0]) == pytest.approx(0.0, abs=1e-12)


def test_published_worked_example() -> None:
    # The circulated guide to the 2012 办法, 县域义务教育校际均衡指标计算方法（以生均图书册数为例）:
    # five primary schools with 45/37/89/76/55 pupils and 279/137/935/160/402 books give 0.52.
    cv = weighted_cv([279, 137, 935, 160, 402], [45, 37, 89, 76, 55])
    assert round(cv, 2) == 0.52


@pytest.mark.parametrize(("r", "n"), [([1.0, -1.0], [10.0, 10.0]), ([1.0, 1.0], [10.0, 0.0]), ([1.0], [1.0, 2.0]), ([], [])])
def test_bad_inputs_rejected(r: list[float], n: list[float]) -> None:
    with pytest.raises(InvalidInput):
        weighted_cv(r, n)


def _school(code: str, n: int, **res: float) -> School:
    return School(code=code, name=f"School {code}", lon=116.4, lat=39.9, levels=("primary",), enrolment=n, attributes=res)


def _three() -> list[School]:
    # Per 100 pupils / per pupil, against primary thresholds 4.2, 1, 0.9, 4.5, 7.5, 2000, 2.3:
    # A (100 pupils): 5, 2, 1, 5, 8, 2500, 3        -> 7 met                     -> pass
    # B (300 pupils): 4, 1, 1, 5, 8, 2000, 3        -> 6 met, teachers 4/4.2=95% -> pass
    # C (600 pupils): 3, 0.5, 1, 5, 8, 2000, 3      -> 5 met, 71% and 50%        -> fail
    common = {"pe_art_teachers": 1.0, "teaching_area_m2": 5.0, "sports_area_m2": 8.0, "multimedia_classrooms": 3.0}

    def scaled(n: int) -> dict[str, float]:
        return {k: v * n / (100 if k in {"pe_art_teachers", "multimedia_classrooms"} else 1) for k, v in common.items()}

    return [
        _school("A", 100, teachers_above_degree=5, backbone_teachers=2, equipment_value_yuan=250_000, **scaled(100)),
        _school("B", 300, teachers_above_degree=12, backbone_teachers=3, equipment_value_yuan=600_000, **scaled(300)),
        _school("C", 600, teachers_above_degree=18, backbone_teachers=3, equipment_value_yuan=1_200_000, **scaled(600)),
    ]


def test_balance_report_by_hand() -> None:
    rep = balance_report(_three(), level="elementary", profile=get_profile("cn"))
    assert rep.profile == "cn@2024.1"
    by = {r.indicator.key: r for r in rep.indicators}
    assert len(by) == 7
    assert by["teachers_above_degree"].cv_weighted == pytest.approx(0.191663, abs=1e-6)
    assert by["teachers_above_degree"].area_value == pytest.approx(3.5)
    # Backbone: x = 2, 1, 0.5; xbar 0.8; var 0.1*1.44 + 0.3*0.04 + 0.6*0.09 = 0.21; CV 0.458258/0.8 = 0.572822 > 0.50
    assert by["backbone_teachers"].cv_weighted == pytest.approx(0.572822, abs=1e-6)
    assert by["backbone_teachers"].within_limit is False
    # Equipment: x = 2500, 2000, 2000; xbar 2050; var 0.1*450^2 + 0.4*50^2 = 22500; CV 150/2050 = 0.073171
    assert by["equipment_value_yuan"].cv_weighted == pytest.approx(150 / 2050, rel=1e-9)
    # Unweighted: mean 2166.67, population std 235.70 -> 0.108786
    assert by["equipment_value_yuan"].cv_unweighted == pytest.approx(0.108786, abs=1e-6)
    assert by["sports_area_m2"].cv_weighted == pytest.approx(0.0, abs=1e-12)
    assert all(r.cv_limit == 0.50 for r in rep.indicators)
    assert rep.all_within_limits is False
    verdict = {v.code: v for v in rep.schools}
    assert (verdict["A"].met, verdict["A"].passed) == (7, True)
    assert (verdict["B"].met, verdict["B"].below_floor, verdict["B"].passed) == (6, (), True)
    assert verdict["C"].met == 5
    assert set(verdict["C"].below_floor) == {"teachers_above_degree", "backbone_teachers"}
    assert verdict["C"].passed is False
    b_teachers = next(s for s in by["teachers_above_degree"].schools if s.code == "B")
    assert b_teachers.value == pytest.approx(4.0) and b_teachers.passed is False
    assert b_teachers.share_of_threshold == pytest.approx(4.0 / 4.2)


def test_junior_limits_and_missing_fields() -> None:
    schools = [School(code=s.code, name=s.name, lon=s.lon, lat=s.lat, levels=("middle",), enrolment=s.enrolment,
                      attributes={k: v for k, v in s.attributes.items() if not (s.code == "C" and k == "sports_area_m2")})
               for s in _three()]
    schools.append(School(code="D", name="No pupils", lon=0, lat=0, levels=("middle",), enrolment=None))
    rep = balance_report(schools, level="middle", profile=get_profile("cn"))
    by = {r.indicator.key: r for r in rep.indicators}
    assert by["teachers_above_degree"].cv_limit == 0.45
    assert by["sports_area_m2"].missing == ("C",)
    assert rep.excluded == (("D", "no enrolment"),)
    verdict = {v.code: v for v in rep.schools}
    assert verdict["C"].passed is None  # an indicator is missing: no verdict rather than a guess


def test_generic_profile_has_no_balance_standard() -> None:
    rep = balance_report(_three(), level="primary", profile=GENERIC)
    assert rep.indicators == () and rep.all_within_limits is None
    assert any("no balance standard" in n for n in rep.notes)


def test_negative_resource_rejected() -> None:
    bad = [_school("A", 100, teachers_above_degree=-1)]
    with pytest.raises(InvalidInput, match="school A"):
        balance_report(bad, level="primary", profile=get_profile("cn"))
