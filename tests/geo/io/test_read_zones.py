"""Reading zones: per-row school code columns and phase-in years in every spelling we write."""

from __future__ import annotations

import pytest
import shapely

from geo.io.read import frame_from_geojson, parse_start_years, parse_zones

SQUARE = shapely.geometry.mapping(shapely.box(151.0, -33.9, 151.01, -33.89))


def _feature(**props: object) -> dict:
    return {"type": "Feature", "geometry": SQUARE, "properties": props}


def test_mixed_school_code_and_school_codes_columns() -> None:
    doc = {"type": "FeatureCollection", "features": [
        _feature(school_code="1001", name="one school"),
        _feature(school_codes=["1002", "1003"], name="shared 多校划片"),
        _feature(school_codes="1004,1005"),
        _feature(school_code="1006", school_codes=None),
    ]}
    zones, report = parse_zones(frame_from_geojson(doc))
    assert report.rejected == []
    assert [z.school_codes for z in zones] == [("1001",), ("1002", "1003"), ("1004", "1005"), ("1006",)]
    assert all("school_code" not in z.attributes and "school_codes" not in z.attributes for z in zones)


def test_start_years_every_spelling() -> None:
    want = {"K": 2027, "1": 2028}
    assert parse_start_years({"1": 2028, "K": 2027}) == want
    assert parse_start_years('{"K": 2027, "1": "2028"}') == want
    assert parse_start_years("K:2027,1:2028") == want
    with pytest.raises(ValueError, match="grade:year"):
        parse_start_years("2027")
    with pytest.raises(ValueError, match="between 1900 and 2200"):
        parse_start_years({"K": 27})
    doc = {"type": "FeatureCollection", "features": [
        _feature(school_code="1", grades="K,1,2", grade_start_years="K:2027,1:2028", zone_id=7, plan_id=3),
        _feature(school_code="2", grades="K", grade_start_years={"2": 2027}),
    ]}
    zones, report = parse_zones(frame_from_geojson(doc))
    assert dict(zones[0].grade_start_years) == want and zones[0].grades == ("K", "1", "2")
    # Our identity fields are assigned by the store, not kept as attributes.
    assert zones[0].attributes == {}
    assert len(report.rejected) == 1 and "grade(s) 2" in report.rejected[0].reason
