"""Display geometry: light GeoJSON, the tolerance, problem areas and changed areas, on real zones."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from geo.planning.validate import validate_plan
from maps.compare import changed_areas
from maps.geometry import (
    bounds_of,
    display_tolerance_deg,
    encode_geometry,
    find_problem_areas,
    fit_zoom,
    light_geojson,
    prepare_for_display,
    problems_from_findings,
    to_metric,
)
from tests.maps import data


def test_tolerance_follows_the_extent() -> None:
    sydney = bounds_of([z.geometry for z in data.nsw_levels()["primary"]])
    suburb = bounds_of([data.nsw_levels()["primary"][0].geometry])
    assert fit_zoom(sydney) < fit_zoom(suburb)
    big, small = display_tolerance_deg(sydney), display_tolerance_deg(suburb)
    assert small < big
    # A city overview simplifies to metres, not tens of metres; a suburb to well under a metre or two.
    assert 2 < big * 111_320 < 20
    assert small * 111_320 < 2


def test_light_geojson_rounds_to_five_decimals_and_keeps_properties() -> None:
    zones = data.fairfax_es()[:5]
    fc = light_geojson([z.geometry for z in zones], [{"name": z.name} for z in zones])
    assert [f["properties"]["name"] for f in fc["features"]] == [z.name for z in zones]
    coords = np.array([c for f in fc["features"] for poly in f["geometry"]["coordinates"] for ring in poly for c in ring])
    assert np.allclose(coords, np.round(coords, 5))
    with pytest.raises(ValueError):
        light_geojson([zones[0].geometry], [])


def test_coverage_simplification_keeps_shared_edges_shared() -> None:
    zones = data.fairfax_es()
    geoms = np.array([z.geometry for z in zones], dtype=object)
    assert shapely.coverage_is_valid(geoms)
    tol = display_tolerance_deg(bounds_of(list(geoms)))
    light = prepare_for_display(geoms, tolerance_deg=tol)
    assert shapely.get_num_coordinates(light).sum() < shapely.get_num_coordinates(geoms).sum()
    # Neighbours still meet along their whole shared edge: no slivers or gaps opened between them.
    area_before = shapely.area(to_metric([shapely.union_all(geoms)]))[0]
    area_sum_after = shapely.area(to_metric(light)).sum()
    area_union_after = shapely.area(to_metric([shapely.union_all(shapely.make_valid(light))]))[0]
    assert abs(area_sum_after - area_union_after) / area_before < 1e-4
    assert abs(area_union_after - area_before) / area_before < 5e-3


def test_encoded_geometry_decodes_to_the_rounded_coordinates() -> None:
    zone = data.nsw_levels()["high"][0]
    shape = prepare_for_display([zone.geometry])[0]
    enc = encode_geometry(shape)
    assert enc["type"] == "MultiPolygon"
    first = np.cumsum(np.array(enc["coordinates"][0][0]).reshape(-1, 2), axis=0) / 1e5
    assert np.allclose(first, np.asarray(shape.geoms[0].exterior.coords), atol=1e-9)
    point = encode_geometry(shapely.Point(151.2099, -33.865))
    assert point == {"type": "Point", "coordinates": [15120990, -3386500]}


def test_problem_areas_agree_with_the_validator() -> None:
    zones = data.nsw_levels()["high"]
    schools = {s.code: s for s in data.nsw_schools()}
    found = find_problem_areas(zones)
    assert found.gaps and found.overlaps
    from_validator = problems_from_findings(validate_plan(list(zones), schools=schools), slivers=False)
    assert len(from_validator.gaps) == len(found.gaps)
    mine = shapely.union_all(np.array(found.gaps, dtype=object))
    theirs = shapely.union_all(np.array(from_validator.gaps, dtype=object))
    assert shapely.area(to_metric([shapely.symmetric_difference(mine, theirs)]))[0] < 1.0
    # Every overlap piece the validator reports (same grades, current zones) that is big enough
    # to be shown (100 m²) is one of ours.
    ours = shapely.union_all(np.array(found.overlaps, dtype=object))
    pieces = np.array(from_validator.overlaps, dtype=object)
    pieces = pieces[shapely.area(to_metric(pieces)) >= 100.0]
    assert pieces.size
    missed = shapely.area(to_metric(shapely.difference(pieces, ours)))
    assert (missed <= 0.01 * shapely.area(to_metric(pieces))).all()
    # Second call: same answer, from the cache.
    assert find_problem_areas(zones) is found


def test_changed_areas_match_the_blocks_that_change_school() -> None:
    today, scenario = data.fairfax_es(), data.fairfax_scenario2()
    changes = changed_areas(today, scenario)
    school_of = {z.id: z.school_codes for z in today}
    moved = [u for u in data.fairfax_blocks()
             if school_of[int(u.attributes["elem_current"])] != school_of[int(u.attributes["elem_scenario2"])]]
    moved_area = shapely.area(to_metric([u.geometry for u in moved])).sum()
    assert moved and changes
    total = sum(c.area_m2 for c in changes)
    assert abs(total - moved_area) / moved_area < 0.005
    # Every change names the school before and after, taken from the two plans.
    for c in changes:
        assert c.before != c.after
        inside = shapely.point_on_surface(c.geometry)
        assert any(z.geometry.covers(inside) and tuple(sorted(z.school_codes)) == c.before for z in today)
    assert changed_areas(today, today) == []


def test_parts_smaller_than_the_grid_collapse_instead_of_failing() -> None:
    # A part whose points all round to one grid point (found by the API fuzz run: comparing a plan
    # with itself left such crumbs): GEOS refuses the ring that rounding leaves, so this raised.
    crumb = shapely.Polygon([(151.1234511, -33.9000001), (151.1234512, -33.9000001), (151.1234512, -33.9000002)])
    square = shapely.box(151.0, -34.0, 151.01, -33.99)
    out = prepare_for_display([shapely.MultiPolygon([square, crumb]), crumb, square], decimals=5)
    assert out[0].equals(square) and out[1].is_empty and out[2].equals(square)
