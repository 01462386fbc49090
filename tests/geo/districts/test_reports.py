"""Quality scores, district balance reports and teacher exchange (轮岗), worked by hand.

All schools here are made-up examples for arithmetic, not data about real schools.
"""

from __future__ import annotations

import math

import pytest

from geo.districts.quality import attribute_quality, balance_quality, district_schools
from geo.districts.report import districts_report
from geo.districts.rotation import teacher_moves
from geo.errors import InvalidInput
from geo.models import School
from geo.standards import CN, GENERIC


def _school(code: str, n: int, lon: float = 116.4, **res: float) -> School:
    return School(code=code, name=f"School {code}", lon=lon, lat=39.9, levels=("primary",), enrolment=n, attributes=res)


def test_balance_quality_by_hand() -> None:
    # 100 pupils; shares of the primary thresholds (4.2, 1.0, 0.9, 4.5, 7.5, 2000, 2.3):
    # 5/4.2, 2/1 -> capped 1.5, 1/0.9, 5/4.5, 8/7.5, 2500/2000, 3/2.3.
    s = _school("A", 100, teachers_above_degree=5, backbone_teachers=2, pe_art_teachers=1, teaching_area_m2=500,
                sports_area_m2=800, equipment_value_yuan=250_000, multimedia_classrooms=3)
    want = (5 / 4.2 + 1.5 + 1 / 0.9 + 5 / 4.5 + 8 / 7.5 + 2500 / 2000 + 3 / 2.3) / 7
    assert balance_quality([s], level="primary", profile=CN)["A"] == pytest.approx(want, rel=1e-12)
    # Only two indicators known, 200 pupils: 8.4 -> 4.2 per 100 = share 1.0; 1 -> 0.5 per 100 = 0.5.
    t = _school("T", 200, teachers_above_degree=8.4, backbone_teachers=1)
    assert balance_quality([t], level="primary", profile=CN)["T"] == pytest.approx((1.0 + 0.5) / 2, rel=1e-12)
    with pytest.raises(InvalidInput, match="sets no balance thresholds"):
        balance_quality([s], level="primary", profile=GENERIC)


def test_attribute_quality_and_inputs() -> None:
    a = _school("A", 100, score=3.5)
    b = _school("B", 100)
    assert attribute_quality([a], "score") == {"A": 3.5}
    with pytest.raises(InvalidInput) as err:
        attribute_quality([a, b], "score")
    assert err.value.where == "school B"
    ds = district_schools([a, b], {"A": 3.5}, urban=lambda s: s.code == "A")
    assert [(d.code, d.quality, d.urban, d.level) for d in ds] == [("A", 3.5, True, "primary")]


def test_districts_report_by_hand() -> None:
    # Teachers above the degree (R) and pupils (n): A 5/100, B 12/300 in district A; C 18/600 alone.
    # Inside A: x = 5 and 4, xbar = 17/400*100 = 4.25, var = 0.25*0.75^2 + 0.75*0.25^2 = 0.1875,
    # CV = sqrt(0.1875) / 4.25 = 0.101885.
    # Between: district A 17/400 -> 4.25, district C 18/600 -> 3; xbar = 35/1000*100 = 3.5;
    # var = 0.4*0.75^2 + 0.6*0.5^2 = 0.375; CV = sqrt(0.375) / 3.5 = 0.174964.
    schools = [_school("A", 100, teachers_above_degree=5), _school("B", 300, teachers_above_degree=12),
               _school("C", 600, teachers_above_degree=18)]
    rep = districts_report(schools, {"A": ("A", "B"), "C": ("C",)}, level="primary", profile=CN)
    assert rep.profile == "cn@2024.1"
    inside = next(i for i in rep.districts[0].report.indicators if i.indicator.key == "teachers_above_degree")
    assert inside.cv_weighted == pytest.approx(math.sqrt(0.1875) / 4.25, rel=1e-12)
    between = next(b for b in rep.between if b.indicator.key == "teachers_above_degree")
    assert between.values == pytest.approx({"A": 4.25, "C": 3.0})
    assert between.cv_weighted == pytest.approx(math.sqrt(0.375) / 3.5, rel=1e-12)
    assert between.cv_limit == 0.50 and between.within_limit is True
    assert next(b for b in rep.between if b.indicator.key == "sports_area_m2").cv_weighted is None
    assert "0.175" in rep.text["en"] and "0.175" in rep.text["zh"]
    with pytest.raises(InvalidInput, match="school Z is not among"):
        districts_report(schools, {"A": ("A", "Z")}, level="primary", profile=CN)


def test_teacher_moves_fewest_and_nearest() -> None:
    # Backbone teachers, threshold 1.0 per 100 pupils (primary), need = ceil(n / 100):
    #   A 400 pupils, 8 -> need 4, surplus 4 (at lon 116.40)
    #   C 250 pupils, 1 -> need 3, deficit 2 (116.41)
    #   B 300 pupils, 1 -> need 3, deficit 2 (116.50)
    #   D 200 pupils, 4 -> need 2, surplus 2 (116.51)
    # Total deficit 4 = fewest moves. Nearest pairing: D -> B 2, A -> C 2 (each ~0.85 km), not
    # A -> B (8.5 km). Second district: E 100/1 (need 1, no surplus), F 200/0 (deficit 2) -> short 2.
    # Third: G 300/4 (surplus 1), H 100/0 (deficit 1), I 200/0 (deficit 2): the one spare teacher
    # goes to the smaller deficit (H reaches the threshold), I stays 2 short.
    schools = [_school("A", 400, 116.40, backbone_teachers=8), _school("C", 250, 116.41, backbone_teachers=1),
               _school("B", 300, 116.50, backbone_teachers=1), _school("D", 200, 116.51, backbone_teachers=4),
               _school("E", 100, backbone_teachers=1), _school("F", 200, backbone_teachers=0),
               _school("G", 300, backbone_teachers=4), _school("H", 100, backbone_teachers=0),
               _school("I", 200, backbone_teachers=0)]
    plan = teacher_moves(schools, {"A": ("A", "B", "C", "D"), "E": ("E", "F"), "G": ("G", "H", "I")},
                         level="primary", profile=CN)
    assert {(m.from_school, m.to_school, m.count) for m in plan.moves} == {("D", "B", 2), ("A", "C", 2), ("G", "H", 1)}
    assert sum(m.count for m in plan.moves) == 5
    assert {(s.school, s.teachers_short) for s in plan.short} == {("F", 2), ("I", 2)}
    assert plan.rows()[0].keys() == {"district", "from_school", "to_school", "count"}
    assert plan.threshold == 1.0 and plan.profile == "cn@2024.1"
    assert "5" in plan.text["en"] and "县级以上骨干教师数" in plan.text["zh"]


def test_teacher_moves_bad_input() -> None:
    with pytest.raises(InvalidInput, match="no per-100-pupil threshold"):
        teacher_moves([], {}, level="primary", profile=CN, indicator="sports_area_m2")
    with pytest.raises(InvalidInput, match="not a whole number"):
        teacher_moves([_school("A", 100, backbone_teachers=1.5)], {"A": ("A",)}, level="primary", profile=CN)
    with pytest.raises(InvalidInput, match="no per-100-pupil threshold"):
        teacher_moves([], {}, level="primary", profile=GENERIC)
