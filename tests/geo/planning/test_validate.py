"""Plan validation on the real Fairfax elementary zones, clean and with defects made from them."""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Sequence
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
from pyproj import Transformer
from shapely.geometry import MultiPolygon, Point, Polygon

from geo.errors import InvalidInput
from geo.io.read import parse_schools, parse_zones, read_frame
from geo.models import SchoolStatus, Zone
from geo.planning.findings import Finding, Severity, count_by_code, findings_geojson
from geo.planning.validate import validate_plan
from tests.geo.planning_data import K6, by_name, neighbours, schools, shift_m, square, utm, utm_area, zones


def _run(zs: Sequence[Zone], **kw: object) -> list[Finding]:
    return validate_plan(zs, schools=kw.pop("schools", schools()), **kw)  # type: ignore[arg-type]


def _pos(name: str) -> int:
    return next(i for i, z in enumerate(zones()) if z.name == name)


@pytest.fixture(scope="module")
def baseline() -> list[Finding]:
    return _run(zones(), level_grades=K6)


def test_fairfax_is_a_clean_coverage_with_known_findings(baseline: list[Finding]) -> None:
    counts = count_by_code(baseline)
    # Dissolved from census blocks: no overlap, no invalid polygon, no real gap, every code known.
    assert shapely.coverage_is_valid([z.geometry for z in zones()])
    for code in ("overlap", "grade_twice", "gap", "invalid_geometry", "unknown_school", "closed_school"):
        assert code not in counts
    # Zones in several parts, counted by hand in UTM 18N from the source file.
    frame = gpd.read_file("data/boundaries/fairfax/zones_ES.geojson").to_crs(32618).explode(index_parts=True)
    frame["area"] = frame.area
    detached = frame.groupby(level=0)["area"].apply(lambda a: (a.sort_values().iloc[:-1] >= 100).any())
    assert counts["not_contiguous"] == int(detached.sum()) == 45
    assert all(f.severity is Severity.WARNING for f in baseline if f.code == "not_contiguous")


def test_schools_outside_their_zone_are_the_real_ones(baseline: list[Finding]) -> None:
    outside = {f.school_codes[0]: f for f in baseline if f.code == "school_outside_zone"}
    assert {schools()[c].name for c in outside} == {"Graham", "Rose"}
    graham = next(f for f in outside.values() if schools()[f.school_codes[0]].name == "Graham")
    zone = by_name("Graham Road")
    by_hand = utm(Point(schools()[graham.school_codes[0]].lon, schools()[graham.school_codes[0]].lat)).distance(utm(zone.geometry))
    assert graham.detail["distance_m"] == pytest.approx(by_hand, rel=0.01)
    assert graham.zone_ids == (zone.id,)
    assert isinstance(graham.location, Point)


def test_the_one_hole_in_the_county_is_a_sliver_gap(baseline: list[Finding]) -> None:
    union = shapely.union_all([z.geometry for z in zones()])
    holes = [Polygon(r) for p in shapely.get_parts(union) for r in p.interiors]
    assert len(holes) == 1
    slivers = [f for f in baseline if f.code == "sliver"]
    assert len(slivers) == 1 and slivers[0].detail["kind"] == "gap"
    assert slivers[0].area_m2 == pytest.approx(utm_area(holes[0]), rel=0.01)
    assert slivers[0].location is not None and slivers[0].location.equals(holes[0])
    # It is a hole in one zone's polygon, found by hand: that zone is the one named.
    around = [z.id for z in zones() if any(Polygon(r).equals(holes[0]) for p in z.geometry.geoms for r in p.interiors)]
    assert slivers[0].zone_ids == tuple(around) and len(around) == 1


def test_grades_missing_where_schools_stop_early(baseline: list[Finding]) -> None:
    missing = {tuple(f.detail["grades"]): f for f in baseline if f.code == "grade_missing"}
    assert set(missing) == {("3",), ("4", "5"), ("6",)}
    # Grade 6: every zone whose schools teach no grade 6 (K-2, K-3, K-5 schools), no other zone on top.
    lacking = [z for z in zones() if "6" not in {g for c in z.school_codes for g in schools()[c].grades}]
    assert len(lacking) == len(missing[("6",)].zones) > 0
    assert missing[("6",)].area_m2 == pytest.approx(sum(utm_area(z.geometry) for z in lacking), rel=0.005)


def test_shifted_zone_overlaps_its_neighbours_and_leaves_a_gap() -> None:
    zs = list(zones())
    i = _pos("Coates")
    moved = MultiPolygon(list(shapely.get_parts(shift_m(zs[i].geometry, east=150.0))))
    zs[i] = dataclasses.replace(zs[i], geometry=moved)
    found = _run(zs)
    overlaps = [f for f in found if f.code in {"overlap", "grade_twice"} or f.detail.get("kind") == "overlap"]
    assert overlaps and all(i in f.zones for f in overlaps)
    others = shapely.union_all([z.geometry for k, z in enumerate(zs) if k != i])
    assert sum(f.area_m2 or 0 for f in overlaps) == pytest.approx(utm_area(moved.intersection(others)), rel=0.01)
    big = max(overlaps, key=lambda f: f.area_m2 or 0)
    other = zs[next(k for k in big.zones if k != i)]
    assert big.location is not None and big.severity is Severity.ERROR
    assert utm_area(big.location.difference(moved)) < 1.0 and utm_area(big.location.difference(other.geometry)) < 1.0
    gaps = [f for f in found if f.code == "gap"]
    assert gaps and all(g.location is not None and utm_area(g.location.difference(zones()[i].geometry)) < 1.0 for g in gaps)


def test_deleted_zone_is_a_gap() -> None:
    union = shapely.union_all([z.geometry for z in zones()])
    inner = next(z for z in zones() if len(z.geometry.geoms) == 1 and not z.geometry.boundary.intersects(union.exterior))
    found = _run([z for z in zones() if z.id != inner.id])
    gaps = [f for f in found if f.code == "gap"]
    assert len(gaps) == 1
    assert gaps[0].area_m2 == pytest.approx(utm_area(inner.geometry), rel=0.005)
    assert gaps[0].location is not None and utm_area(gaps[0].location.symmetric_difference(inner.geometry)) < 1.0


def test_given_area_reports_land_outside_every_zone() -> None:
    union = shapely.union_all([z.geometry for z in zones()])
    ring = shift_m(union, east=500.0).union(union)
    found = _run(zones(), area=ring)
    gaps = [f for f in found if f.code == "gap"]
    assert gaps
    assert sum(f.area_m2 or 0 for f in gaps) == pytest.approx(utm_area(ring.difference(union)), rel=0.01)


def test_tiny_pieces_are_slivers() -> None:
    zs = list(zones())
    i = _pos("Coates")
    # A neighbour teaching the same grades (McNair, K-2, would make it grade_twice).
    grades = schools()[zs[i].school_codes[0]].grades
    j = _pos(next(z.name for z, _ in neighbours(zs[i]) if schools()[z.school_codes[0]].grades == grades and z.name))
    inside_j = zs[j].geometry.representative_point()
    poke = square(inside_j.x, inside_j.y, 6.0)  # 36 m², inside McNair, detached from Coates
    zs[i] = dataclasses.replace(zs[i], geometry=MultiPolygon([*zs[i].geometry.geoms, poke]))
    found = _run(zs)
    kinds = {(f.code, f.detail.get("kind")): f for f in found if i in f.zones and f.code == "sliver"}
    assert kinds[("sliver", "overlap")].area_m2 == pytest.approx(36.0, rel=0.01)
    assert set(kinds[("sliver", "overlap")].zones) == {i, j}
    assert kinds[("sliver", "part")].location is not None and kinds[("sliver", "part")].location.equals(MultiPolygon([poke]))
    assert "overlap" not in count_by_code(found)
    # Raise the threshold below the piece: it is a real overlap then.
    assert "overlap" in count_by_code(_run(zs, sliver_m2=10.0))


def test_school_moved_outside_its_zone() -> None:
    zone = by_name("Coates")
    code = zone.school_codes[0]
    far = shift_m(Point(schools()[code].lon, schools()[code].lat), north=-20_000.0)
    book = {**schools(), code: dataclasses.replace(schools()[code], lon=far.x, lat=far.y)}
    found = [f for f in _run(zones(), schools=book) if f.code == "school_outside_zone" and f.school_codes == (code,)]
    assert len(found) == 1
    assert found[0].location is not None and found[0].location.equals(far)
    assert found[0].detail["distance_m"] == pytest.approx(utm(far).distance(utm(zone.geometry)), rel=0.01)


def test_unknown_and_closed_schools() -> None:
    zs = list(zones())
    i, j = _pos("Coates"), _pos("McNair")
    zs[i] = dataclasses.replace(zs[i], school_codes=("no-such-school",))
    closed = zs[j].school_codes[0]
    book = {**schools(), closed: dataclasses.replace(schools()[closed], status=SchoolStatus.CLOSED)}
    found = _run(zs, schools=book)
    unknown = [f for f in found if f.code == "unknown_school"]
    assert [(f.zones, f.school_codes) for f in unknown] == [((i,), ("no-such-school",))]
    assert unknown[0].location is not None and zs[i].geometry.covers(unknown[0].location)
    shut = [f for f in found if f.code == "closed_school"]
    assert [(f.zones, f.severity) for f in shut] == [((j,), Severity.ERROR)]
    assert "已关闭" in shut[0].message["zh"]


def test_invalid_geometry_is_located_and_repaired() -> None:
    zs = list(zones())
    i = _pos("Coates")
    x0, y0, x1, y1 = zs[i].geometry.bounds
    bowtie = Polygon([(x0, y0), (x1, y1), (x1, y0), (x0, y1)])
    zs[i] = dataclasses.replace(zs[i], geometry=MultiPolygon([bowtie]))
    found = [f for f in _run(zs) if f.code == "invalid_geometry"]
    assert len(found) == 1 and found[0].zones == (i,)
    assert found[0].location is not None
    assert found[0].location.distance(Point((x0 + x1) / 2, (y0 + y1) / 2)) < 1e-9
    assert found[0].detail["repaired"] is True


def test_phasing_and_grade_split_zones() -> None:
    base = by_name("Coates")
    twin = dataclasses.replace(base, id=None, grade_start_years={"K": 2027})
    assert not [f for f in _run([*zones(), twin]) if f.code in {"overlap", "grade_twice"}]
    lower = dataclasses.replace(base, grades=("K", "1", "2"))
    upper = dataclasses.replace(base, id=None, grades=("3", "4", "5", "6"))
    rest = [z for z in zones() if z.id != base.id]
    assert not [f for f in _run([*rest, lower, upper]) if f.code in {"overlap", "grade_twice"}]
    upper3 = dataclasses.replace(upper, grades=("2", "3", "4", "5", "6"))
    twice = [f for f in _run([*rest, lower, upper3]) if f.code == "grade_twice"]
    assert len(twice) == 1 and twice[0].detail["grades"] == ["2"]
    assert twice[0].area_m2 == pytest.approx(utm_area(base.geometry), rel=0.005)


def test_grade_no_zone_serves_is_plan_wide() -> None:
    found = [f for f in _run(zones(), level_grades=(*K6, "7")) if f.code == "grade_missing" and f.location is None]
    assert [f.detail["grades"] for f in found] == [["7"]]


def test_findings_serialise_as_geojson(baseline: list[Finding]) -> None:
    doc = json.loads(json.dumps(findings_geojson(baseline)))
    assert doc["type"] == "FeatureCollection" and len(doc["features"]) == len(baseline)
    props = doc["features"][0]["properties"]
    assert set(props["message"]) == {"en", "zh"} and props["severity"] in {"error", "warning", "info"}
    assert [f.severity.rank for f in baseline] == sorted(f.severity.rank for f in baseline)


def test_bad_threshold_is_refused() -> None:
    with pytest.raises(InvalidInput):
        _run(zones(), sliver_m2=-1.0)


def test_fast_enough_after_every_edit() -> None:
    start = time.perf_counter()
    _run(zones(), level_grades=K6)
    assert time.perf_counter() - start < 1.0


@pytest.mark.slow
def test_sydney_primary_zones() -> None:
    nsw = Path("data/boundaries/nsw")
    frame = read_frame(nsw / "greater_sydney_catchments.geojson")
    frame = frame[frame["CATCH_TYPE"].isin(["PRIMARY", "INFANTS", "CENTRAL_PRIMARY"])]
    zs, _ = parse_zones(frame, mapping={"school_code": "USE_ID", "name": "USE_DESC"})
    assert len(zs) == 683
    listed, _ = parse_schools(read_frame(nsw / "greater_sydney_schools.geojson"),
                              mapping={"code": "School_code", "name": "School_name"})
    book = {s.code: s for s in listed}
    start = time.perf_counter()
    found = validate_plan(zs, schools=book, level_grades=K6, year=2026)
    assert time.perf_counter() - start < 10.0
    phasing = {i for i, z in enumerate(zs) if z.phasing}
    assert phasing
    pairs = [f for f in found if f.code in {"overlap", "grade_twice"}]
    assert pairs and not [f for f in pairs if phasing & set(f.zones)]
    one = max((f for f in pairs if f.code == "overlap"), key=lambda f: f.area_m2 or 0)
    a, b = (zs[k].geometry for k in one.zones)
    to_mga = Transformer.from_crs("EPSG:4326", "EPSG:32756", always_xy=True)  # UTM 56S, Sydney
    by_hand = shapely.area(shapely.transform(a.intersection(b), lambda xy: np.column_stack(to_mga.transform(xy[:, 0], xy[:, 1]))))
    assert one.area_m2 == pytest.approx(by_hand, rel=0.01)
