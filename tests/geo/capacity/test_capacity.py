"""Capacity report on hand-made cases (made-up schools for arithmetic; Fairfax is in test_capacity_fairfax)."""

from __future__ import annotations

import pytest
from shapely.geometry import MultiPolygon, box

from geo.capacity.forecast import project_enrolment
from geo.capacity.utilisation import FLAGS, capacity_report, classes_needed, utilisation_band
from geo.errors import InvalidInput
from geo.models import School, SchoolStatus, Zone
from geo.standards import CN, GENERIC


def _zone(name: str, *codes: str, x: float = 0.0) -> Zone:
    return Zone(school_codes=codes, geometry=MultiPolygon([box(x, 0, x + 0.01, 0.01)]), name=name)


def _school(code: str, **kw: object) -> School:
    kw.setdefault("levels", ("primary",))
    return School(code=code, name=f"School {code}", lon=0.0, lat=0.0, **kw)  # type: ignore[arg-type]


def test_one_school_by_hand() -> None:
    s = _school("A", capacity=900, enrolment=990, classes=20)
    rep = capacity_report([s], [_zone("ZA", "A")], level="primary", profile=CN, zone_demand=[1000.0])
    (row,) = rep.rows
    assert rep.profile == "cn@2024.1" and rep.level_kind == "primary"
    assert row.utilisation_enrolment == pytest.approx(1.1) and row.band_enrolment and row.band_enrolment.key == "tight"
    assert row.utilisation_demand == pytest.approx(1000 / 900) and row.band_demand and row.band_demand.key == "over"
    assert (row.seats_short, row.seats_spare) == (90.0, 0.0)
    assert (row.seats_short_demand, row.seats_spare_demand) == (100.0, 0.0)
    # 990 / 45 = 22 classes needed; 1000 / 45 = 22.2 -> 23; average 990 / 20 = 49.5 -> 偏大
    assert (row.classes, row.classes_needed, row.classes_needed_demand) == (20, 22, 23)
    assert row.average_class_size == pytest.approx(49.5)
    assert row.class_size_band and row.class_size_band.key == "above_standard" and row.class_size_band.label_zh.startswith("偏大")
    assert (row.size_limit, row.size_breach) == (2000, False)
    assert row.flags == ()


def test_shared_zone_split_by_capacity() -> None:
    b = _school("B", capacity=600, enrolment=500)
    c = _school("C", capacity=300, enrolment=280)
    zones = [_zone("Z2", "B", "C"), _zone("Z3", "C", x=1)]
    rep = capacity_report([b, c], zones, level="primary", profile=CN, zone_demand=[900.0, 100.0])
    by = {r.code: r for r in rep.rows}
    # Z2: 900 split 600:300 -> B 600, C 300; C also gets Z3's 100 -> 400.
    assert by["B"].demand == pytest.approx(600.0)
    assert by["C"].demand == pytest.approx(400.0)
    assert by["C"].zones == ("Z2", "Z3")
    assert rep.totals.demand == pytest.approx(1000.0)
    assert sum(r.demand or 0 for r in rep.rows) == pytest.approx(rep.totals.demand)


def test_school_without_capacity_is_flagged_not_guessed() -> None:
    d = _school("D", enrolment=400)
    e = _school("E", capacity=500, enrolment=450)
    rep = capacity_report([d, e], [_zone("Z4", "D", "E")], level="primary", profile=CN, zone_demand=[800.0])
    by = {r.code: r for r in rep.rows}
    assert "no_capacity" in by["D"].flags and "demand_unsplit" in by["D"].flags
    assert by["D"].utilisation_enrolment is None and by["D"].band_enrolment is None
    assert by["D"].demand is None and by["E"].demand is None
    assert rep.unsplit_zones == ("Z4",)
    assert rep.totals.schools_without_capacity == 1
    assert all(f in FLAGS for r in rep.rows for f in r.flags)


def test_per_class_sizes_and_area_shares() -> None:
    # F: classes of 44, 50, 57, 60, 70 -> 2 大班额, 1 超大班额 (counted per class)
    # G: 4 classes averaging 240 / 4 = 60 -> all 4 counted 大班额 (estimate from the average)
    # H: 10 classes averaging 40 -> normal
    f = _school("F", capacity=300, enrolment=281, attributes={"class_sizes": [44, 50, 57, 60, 70]})
    g = _school("G", capacity=200, enrolment=240, classes=4)
    h = _school("H", capacity=450, enrolment=400, classes=10)
    zones = [_zone("ZF", "F"), _zone("ZG", "G", x=1), _zone("ZH", "H", x=2)]
    rep = capacity_report([f, g, h], zones, level="primary", profile=CN)
    by = {r.code: r for r in rep.rows}
    assert (by["F"].classes, by["F"].large_classes, by["F"].very_large_classes, by["F"].class_count_basis) == (5, 2, 1, "per_class")
    assert (by["G"].large_classes, by["G"].class_count_basis) == (4, "average")
    t = rep.totals
    # 19 classes; 大班额 2 + 4 = 6; 超大班额 1; G and H counted from their averages
    assert (t.classes, t.large_classes, t.very_large_classes, t.class_counts_estimated) == (19, 6, 1, 2)
    assert t.share_large == pytest.approx(6 / 19) and t.share_very_large == pytest.approx(1 / 19)
    assert t.share_large_or_more == pytest.approx(7 / 19)
    assert t.utilisation_enrolment == pytest.approx(921 / 950)
    assert by["F"].demand is None  # no demand given: none invented


def test_school_size_limits() -> None:
    big = _school("P", capacity=2200, enrolment=2100)
    nine = _school("Q", capacity=2600, enrolment=2400, levels=("primary", "junior"))
    rep = capacity_report([big, nine], [_zone("ZP", "P"), _zone("ZQ", "Q", x=1)], level="primary", profile=CN)
    by = {r.code: r for r in rep.rows}
    assert (by["P"].size_limit, by["P"].size_breach) == (2000, True) and "size_breach" in by["P"].flags
    assert (by["Q"].size_limit, by["Q"].size_breach) == (2500, False)
    assert rep.totals.schools_over_size == 1


def test_per_level_figures_of_a_nine_year_school() -> None:
    q = _school("Q", capacity=2600, enrolment=2700, levels=("primary", "junior"),
                attributes={"by_level": {"primary": {"capacity": 1350, "enrolment": 1500, "classes": 30},
                                         "junior": {"capacity": 1250, "enrolment": 1200, "classes": 24}}})
    rep = capacity_report([q], [_zone("ZQ", "Q")], level="junior", profile=CN)
    (row,) = rep.rows
    assert (row.capacity, row.enrolment, row.classes, row.class_size_standard) == (1250, 1200, 24, 50)
    assert row.average_class_size == pytest.approx(50.0) and row.class_size_band and row.class_size_band.key == "normal"
    # The 2500 limit counts compulsory pupils: 1500 + 1200 = 2700 > 2500.
    assert (row.size_pupils, row.size_breach) == (2700, True)


def test_generic_profile_and_unzoned_school() -> None:
    a = _school("A", capacity=500, enrolment=300, classes=10)
    lone = _school("L", capacity=100, enrolment=90, levels=("elementary",))
    closed = _school("X", capacity=100, enrolment=0, status=SchoolStatus.CLOSED)
    rep = capacity_report([a, lone, closed], [_zone("ZA", "A"), _zone("ZM", "M")], level="es", profile=GENERIC)
    by = {r.code: r for r in rep.rows}
    assert set(by) == {"A", "L"}
    assert rep.profile == "generic@2024.1"
    assert by["A"].class_size_band is None and by["A"].classes_needed is None and by["A"].size_limit is None
    assert by["A"].band_enrolment and by["A"].band_enrolment.key == "under"
    assert "no_zone" in by["L"].flags
    assert rep.missing_schools == ("M",)


def test_projected_enrolment_is_labelled() -> None:
    a = _school("A", capacity=500, enrolment=400, classes=10)
    proj = project_enrolment("A", year=2026, totals={2024: 400}, growth_rate=0.1)
    rep = capacity_report([a], [_zone("ZA", "A")], level="primary", profile=CN, projections={"A": proj}, year=2026)
    (row,) = rep.rows
    assert row.enrolment == pytest.approx(484.0) and row.enrolment_basis == "growth_rate"
    assert rep.year == 2026


def test_row_as_dict_is_flat() -> None:
    s = _school("A", capacity=900, enrolment=990, classes=20)
    d = capacity_report([s], [_zone("ZA", "A")], level="primary", profile=CN).rows[0].as_dict()
    assert d["band_enrolment"] == "tight" and d["band_enrolment_zh"].startswith("学位紧张")
    assert d["class_size_band"] == "above_standard" and d["zones"] == "ZA"
    assert all(not isinstance(v, (tuple, list, dict)) for v in d.values())


def test_lookup_band_and_helpers() -> None:
    assert utilisation_band(_school("A", capacity=100, enrolment=79), level="primary", profile=CN).key == "under"  # type: ignore[union-attr]
    assert utilisation_band(_school("A", enrolment=79), level="primary", profile=CN) is None
    assert classes_needed(90.0000001, 45) == 2 and classes_needed(91, 45) == 3 and classes_needed(0, 45) == 0


def test_bad_inputs() -> None:
    s = _school("A", capacity=900, enrolment=990)
    with pytest.raises(InvalidInput, match="zone_demand"):
        capacity_report([s], [_zone("ZA", "A")], level="primary", profile=CN, zone_demand=[1.0, 2.0])
    with pytest.raises(InvalidInput, match="not negative"):
        capacity_report([s], [_zone("ZA", "A")], level="primary", profile=CN, zone_demand=[-1.0])
    with pytest.raises(InvalidInput, match="school A"):
        capacity_report([_school("A", attributes={"by_level": {"primary": {"enrolment": -3}}})], [], level="primary", profile=CN)
