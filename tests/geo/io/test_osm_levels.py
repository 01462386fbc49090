"""OSM school tags -> levels: universities and kindergartens out, levels from isced/school/grades/name."""

from __future__ import annotations

from geo.io.osm_levels import school_stages, select_schools
from geo.io.osm_schools import read_osm_schools
from geo.models import School
from tests.geo.network_data import PORTLAND

DENTISTRY = "Oregon Health & Sciences University School of Dentistry"


def _school(code: str, name: str, **tags: str) -> School:
    return School(code=code, name=name, lon=-122.7, lat=45.5, attributes=tags)


def test_stages_from_each_tag_in_order_of_trust() -> None:
    assert school_stages({"isced:level": "1;2", "grades": "9-12"}, "x").stages == {1, 2}
    assert school_stages({"isced:level": "2-3"}, "x").stages == {2, 3}
    assert school_stages({"school": "secondary"}, "x").stages == {2, 3}
    assert school_stages({"school:level": "primary"}, "x").basis == "school:level=primary"
    assert school_stages({"grades": "6-8"}, "x").stages == {2}
    assert school_stages({"grades": "PK-6"}, "x").stages == {1}
    assert school_stages({"grades": "9-12"}, "x").stages == {3}
    assert school_stages({}, "Lincoln High School").stages == {3}
    assert school_stages({}, "Science building").basis is None


def test_select_keeps_fitting_levels_and_says_why_it_skips() -> None:
    schools = [
        _school("a", "Abernethy", **{"amenity": "school", "isced:level": "1"}),
        _school("b", "Beaumont", amenity="school", grades="6-8"),
        _school("c", "Portland Community College", amenity="college"),
        _school("d", "Little Sprouts", amenity="kindergarten"),
        _school("e", "Reed", **{"amenity": "school", "isced:level": "6"}),
        _school("f", "Unnamed campus", amenity="school"),
        _school("g", "St Mary's College", amenity="school"),  # a secondary school in Australia
    ]
    sel = select_schools(schools, ["middle"])
    assert [s.code for s in sel.schools] == ["b", "f", "g"] and [s.code for s in sel.assumed] == ["f", "g"]
    assert all(s.levels == ("middle",) for s in sel.schools)
    reasons = {s.code: s.reason for s in sel.skipped}
    assert reasons["a"].startswith("not middle (isced:level=1")
    assert "college (amenity=college)" in reasons["c"] and "kindergarten" in reasons["d"]
    assert "beyond school age" in reasons["e"]
    both = select_schools(schools, ["elementary", "middle"])
    assert {s.code: s.levels for s in both.schools}["a"] == ("elementary",)


def test_portland_dentistry_school_is_skipped_with_its_reason() -> None:
    found = read_osm_schools(PORTLAND, name_pattern=r"\bschool\b")
    assert DENTISTRY in {s.name for s in found}  # the extract's one amenity=school
    sel = select_schools(found, ["middle"])
    kept = {s.name: s for s in sel.schools}
    assert DENTISTRY not in kept and {"West Sylvan Middle School", "Warren Middle School"} <= set(kept)
    assert sel.skipped_by_reason() == {"university or professional school (by its name; no tag gives a school level)": [DENTISTRY]}
    elementary = select_schools(found, ["elementary"])
    assert "Warren Middle School" in {s.name for s in elementary.skipped}
