"""Standards profiles: numbers, sources, bands and level names."""

from __future__ import annotations

import pytest

from geo.errors import InvalidInput
from geo.standards import CN, GENERIC, LevelKind, get_profile, level_kind


@pytest.mark.parametrize(
    ("name", "kind"),
    [("primary", LevelKind.PRIMARY), ("Elementary", LevelKind.PRIMARY), ("infants", LevelKind.PRIMARY), ("ES", LevelKind.PRIMARY),
     ("小学", LevelKind.PRIMARY), ("junior", LevelKind.JUNIOR), ("Middle School", LevelKind.JUNIOR),
     ("junior-high", LevelKind.JUNIOR), ("high", LevelKind.HIGH), ("secondary", LevelKind.HIGH), ("senior", LevelKind.HIGH),
     ("HS", LevelKind.HIGH), ("高中", LevelKind.HIGH)],
)
def test_level_kinds(name: str, kind: LevelKind) -> None:
    assert level_kind(name) is kind


def test_unknown_level_has_no_numbers() -> None:
    assert level_kind("kindergarten") is None
    assert CN.for_level("kindergarten").class_size is None


def test_cn_numbers() -> None:
    p, j, h = CN.for_level("primary"), CN.for_level("junior"), CN.for_level("high")
    assert (p.class_size, j.class_size, h.class_size) == (45, 50, 50)
    assert (p.school_size_max, j.school_size_max, CN.combined_school_size_max) == (2000, 2000, 2500)
    assert (p.service_radius_m, j.service_radius_m, h.service_radius_m) == (500.0, 1000.0, None)
    assert (p.balance_cv_limit, j.balance_cv_limit, h.balance_cv_limit) == (0.50, 0.45, None)
    assert dict(p.balance_thresholds) == {"teachers_above_degree": 4.2, "backbone_teachers": 1.0, "pe_art_teachers": 0.9,
                                          "teaching_area_m2": 4.5, "sports_area_m2": 7.5, "equipment_value_yuan": 2000.0,
                                          "multimedia_classrooms": 2.3}
    assert dict(j.balance_thresholds) == {"teachers_above_degree": 5.3, "backbone_teachers": 1.0, "pe_art_teachers": 0.9,
                                          "teaching_area_m2": 5.8, "sports_area_m2": 10.2, "equipment_value_yuan": 2500.0,
                                          "multimedia_classrooms": 2.4}
    assert {i.key for i in CN.balance_indicators} == set(p.balance_thresholds)
    refs = {s.reference for s in CN.sources}
    assert {"教督〔2017〕6号", "GB 50099-2011", "GB 50180-2018", "建标〔2002〕102号"} <= refs


@pytest.mark.parametrize(
    ("level", "avg", "key"),
    [("primary", 45.0, "normal"), ("primary", 45.5, "above_standard"), ("primary", 55.9, "above_standard"),
     ("primary", 56.0, "large"), ("primary", 65.9, "large"), ("primary", 66.0, "very_large"), ("primary", 80.0, "very_large"),
     ("junior", 50.0, "normal"), ("junior", 50.5, "above_standard"), ("junior", 56.0, "large")],
)
def test_class_size_bands(level: str, avg: float, key: str) -> None:
    bands = CN.for_level(level).class_size_bands
    assert bands is not None
    band = bands.classify(avg)
    assert band.key == key and band.label_zh and band.label_en


def test_class_band_labels_in_chinese() -> None:
    bands = CN.for_level("primary").class_size_bands
    assert bands is not None
    assert [b.label_zh[:3] for b in bands.bands] == ["正常班", "偏大班", "大班额", "超大班"]


@pytest.mark.parametrize(("u", "key"), [(0.0, "under"), (0.7999, "under"), (0.8, "ok"), (1.0, "ok"), (1.0001, "tight"),
                                        (1.1, "tight"), (1.1001, "over"), (3.0, "over")])
def test_utilisation_bands(u: float, key: str) -> None:
    assert GENERIC.utilisation_bands.classify(u).key == key
    assert CN.utilisation_bands.classify(u).key == key


def test_nan_is_not_banded() -> None:
    with pytest.raises(InvalidInput):
        CN.utilisation_bands.classify(float("nan"))


def test_generic_has_bands_only() -> None:
    assert GENERIC.levels == {} and GENERIC.balance_indicators == ()
    assert GENERIC.for_level("primary").class_size is None


def test_get_profile() -> None:
    assert get_profile("cn") is CN
    assert get_profile(" CN@2024.1 ") is CN
    assert get_profile("generic").key == "generic@2024.1"
    with pytest.raises(InvalidInput, match="unknown standards profile"):
        get_profile("uk")
    with pytest.raises(InvalidInput, match="version"):
        get_profile("cn@1999")


def test_profile_as_dict_names_sources() -> None:
    d = CN.as_dict()
    assert d["key"] == "cn@2024.1"
    assert d["levels"]["primary"]["class_size"] == 45
    assert any(s["reference"] == "教督〔2017〕6号" for s in d["sources"])


def test_admission_and_district_numbers() -> None:
    # 学区 of at most 10 schools, at most 10 % admitted from outside the zone, at least 85 % of
    # migrant children in public (or government-bought) places; each with its document.
    assert (CN.district_max_schools, CN.out_of_zone_share_max, CN.migrant_public_share_min) == (10, 0.10, 0.85)
    assert (GENERIC.district_max_schools, GENERIC.out_of_zone_share_max, GENERIC.migrant_public_share_min) == (None, None, None)
    by_title = {s.title: s for s in CN.sources}
    assert by_title["关于进一步做好小学升入初中免试就近入学工作的实施意见"].reference == "教基一〔2014〕1号"
    assert "10 schools per 学区" in by_title["关于进一步做好小学升入初中免试就近入学工作的实施意见"].gives
    cities = by_title["关于进一步做好重点大城市义务教育免试就近入学工作的通知"]
    assert cities.reference is None and "90 %" in cities.gives and "not confirmed" in cities.gives
    assert "85 %" in by_title["县域义务教育优质均衡发展督导评估办法"].gives
    d = CN.as_dict()
    assert (d["district_max_schools"], d["out_of_zone_share_max"], d["migrant_public_share_min"]) == (10, 0.10, 0.85)
