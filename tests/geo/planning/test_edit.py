"""Zone edits on the real Fairfax elementary zones: every result is checked by validation and by hand."""

from __future__ import annotations

import dataclasses

import pytest
import shapely
from shapely.geometry import LineString, MultiPolygon, Point

from geo.errors import InvalidGeometry, InvalidInput, NotFound
from geo.models import School, SchoolStatus, Zone
from geo.planning.edit import add_planned_school, merge_zones, move_units, replace_zone_geometry, split_zone
from geo.planning.findings import count_by_code
from geo.planning.validate import validate_plan
from tests.geo.planning_data import by_name, neighbours, schools, shift_m, transfer, units, utm_area, zones


def _coverage_ok(zs: list[Zone]) -> bool:
    return bool(shapely.coverage_is_valid([z.geometry for z in zs]))


def _total_area(zs: list[Zone]) -> float:
    return utm_area(shapely.union_all([z.geometry for z in zs]))


def test_move_blocks_keeps_a_clean_coverage() -> None:
    src, dst, moved = transfer("Coates", 6)
    out = move_units(list(zones()), units=units(), to_school={uid: dst.school_codes[0] for uid in moved})
    assert _coverage_ok(out) and len(out) == len(zones())
    piece = shapely.union_all([u.geometry for u in units() if u.id in set(moved)])
    new_src = next(z for z in out if z.id == src.id)
    new_dst = next(z for z in out if z.id == dst.id)
    # The blocks changed hands: the target holds them, the source does not.
    assert utm_area(piece.difference(new_dst.geometry)) < 1.0
    assert utm_area(piece.intersection(new_src.geometry)) < 1.0
    assert utm_area(new_dst.geometry) - utm_area(dst.geometry) == pytest.approx(utm_area(piece), rel=0.001)
    assert _total_area(out) == pytest.approx(_total_area(list(zones())), rel=1e-6)
    # Zones far from the move are the same objects; neighbours cleaned for edge matching only
    # gained vertices, not area.
    same = [new is old for old, new in zip(zones(), out, strict=True)]
    assert sum(same) >= len(out) - 10
    for old, new in zip(zones(), out, strict=True):
        if new is not old and old.id not in (src.id, dst.id) and not old.geometry.intersects(piece):
            assert new.id == old.id and utm_area(new.geometry.symmetric_difference(old.geometry)) < 1.0
    found = count_by_code(validate_plan(out, schools=schools()))
    assert "overlap" not in found and "gap" not in found


def test_move_to_a_school_without_zone_creates_one() -> None:
    _, _, moved = transfer("Coates", 3)
    out = move_units(list(zones()), units=units(), to_school={uid: "new-school" for uid in moved})
    created = [z for z in out if z.school_codes == ("new-school",)]
    assert len(created) == 1 and created[0].id is None
    assert _coverage_ok(out)


def test_move_refuses_unknown_and_point_units() -> None:
    with pytest.raises(NotFound):
        move_units(list(zones()), units=units(), to_school={"no-such-block": "x"})
    u = units()[0]
    dot = dataclasses.replace(u, geometry=Point(u.geometry.representative_point()))
    with pytest.raises(InvalidInput):
        move_units(list(zones()), units=[dot], to_school={dot.id: "x"})


def test_replace_geometry_taking_from_neighbours() -> None:
    zone = by_name("Coates")
    grown = shapely.union_all([zone.geometry, shift_m(zone.geometry, east=300.0)])
    # Without taking: the new shape overlaps the neighbours and validation says so.
    plain = replace_zone_geometry(list(zones()), zone_id=zone.id or 0, geometry=grown)
    assert {"overlap", "grade_twice"} & set(count_by_code(validate_plan(plain, schools=schools())))
    taken = replace_zone_geometry(list(zones()), zone_id=zone.id or 0, geometry=grown, take_from_neighbours=True)
    found = count_by_code(validate_plan(taken, schools=schools()))
    assert not {"overlap", "grade_twice", "gap"} & set(found)
    assert _coverage_ok(taken)
    gained = utm_area(grown) - utm_area(zone.geometry)
    lost = sum(utm_area(a.geometry) - utm_area(b.geometry) for a, b in zip(zones(), taken, strict=True) if a.id != zone.id)
    assert lost == pytest.approx(gained, rel=0.002)


def test_replace_geometry_refuses_bad_shapes() -> None:
    zid = by_name("Coates").id or 0
    with pytest.raises(InvalidGeometry):
        replace_zone_geometry(list(zones()), zone_id=zid, geometry=LineString([(0, 0), (1, 1)]))
    with pytest.raises(InvalidGeometry):
        replace_zone_geometry(list(zones()), zone_id=zid, geometry=shapely.box(500_000, 4_300_000, 501_000, 4_301_000))
    with pytest.raises(NotFound):
        replace_zone_geometry(list(zones()), zone_id=-5, geometry=shapely.box(0, 0, 1, 1))


def test_split_by_line_keeps_the_school_side() -> None:
    zone = by_name("Coates")
    school = schools()[zone.school_codes[0]]
    x0, y0, x1, y1 = zone.geometry.bounds
    cut = LineString([((x0 + x1) / 2, y0 - 0.01), ((x0 + x1) / 2, y1 + 0.01)])
    out = split_zone(list(zones()), zone_id=zone.id or 0, by=cut, schools=schools())
    assert len(out) > len(zones())
    kept = next(z for z in out if z.id == zone.id)
    new = out[len(zones()):]
    assert kept.geometry.covers(Point(school.lon, school.lat))
    assert all(z.id is None and z.school_codes == zone.school_codes for z in new)
    union = shapely.union_all([kept.geometry, *(z.geometry for z in new)])
    assert utm_area(union.symmetric_difference(zone.geometry)) < 1.0
    assert _coverage_ok(out)


def test_split_by_polygon_gives_the_inside_to_new_schools() -> None:
    zone = by_name("Coates")
    corner = shapely.box(*zone.geometry.bounds[:2], zone.geometry.centroid.x, zone.geometry.centroid.y)
    out = split_zone(list(zones()), zone_id=zone.id or 0, by=corner, school_codes=["planned-1"])
    new = out[-1]
    assert new.school_codes == ("planned-1",)
    assert utm_area(new.geometry) == pytest.approx(utm_area(zone.geometry.intersection(corner)), rel=1e-6)
    assert _coverage_ok(out)
    with pytest.raises(InvalidInput):
        split_zone(list(zones()), zone_id=zone.id or 0, by=LineString([(0, 0), (0.001, 0.001)]))


def test_merge_neighbours_into_a_shared_zone() -> None:
    a = by_name("Coates")
    b, _ = next((z, s) for z, s in neighbours(a) if z.grades == a.grades)
    out = merge_zones(list(zones()), zone_ids=[a.id or 0, b.id or 0])
    assert len(out) == len(zones()) - 1
    merged = next(z for z in out if z.id == a.id)
    assert merged.school_codes == a.school_codes + b.school_codes
    assert utm_area(merged.geometry) == pytest.approx(utm_area(a.geometry) + utm_area(b.geometry), rel=1e-6)
    assert _coverage_ok(out)
    split_grades = [dataclasses.replace(z, grades=("K",)) if z.id == b.id else z for z in zones()]
    with pytest.raises(InvalidInput):
        merge_zones(split_grades, zone_ids=[a.id or 0, b.id or 0])


def test_add_planned_school_cuts_its_zone_out() -> None:
    host = by_name("Coates")
    site = host.geometry.representative_point()
    school = School(code="planned-ff-1", name="New Elementary", lon=site.x, lat=site.y, grades=("K", "1", "2", "3", "4", "5", "6"))
    area = shift_m(Point(site.x, site.y), east=0.0).buffer(0.01)
    stored, out = add_planned_school(list(zones()), school=school, geometry=area)
    assert stored.status is SchoolStatus.PLANNED
    assert out[-1].school_codes == (school.code,) and out[-1].id is None
    assert isinstance(out[-1].geometry, MultiPolygon)
    found = count_by_code(validate_plan(out, schools={**schools(), school.code: stored}))
    assert not {"overlap", "grade_twice", "unknown_school"} & set(found)
    assert _coverage_ok(out)
    with pytest.raises(InvalidInput):
        add_planned_school(out, school=school, geometry=area)
