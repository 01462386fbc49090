"""Zones by nearest school along the streets, walk-sheds, and schools read from OSM."""

from __future__ import annotations

import time

import numpy as np
import pytest
import shapely
from shapely.geometry import MultiPolygon

from geo.distance import geodesic_m
from geo.errors import InvalidGeometry, UnsupportedFile
from geo.io.osm_schools import read_osm_schools
from geo.network.graph import TravelMode
from geo.network.paths import SchoolTravel
from geo.network.zones import NetworkZones, coverage_gaps_overlaps, nearest_school_zones, reach_polygon
from tests.geo.network_data import HELSINKI, PORTLAND, helsinki, helsinki_schools, portland_walk


def _assert_clean_coverage(z: NetworkZones, travel: SchoolTravel) -> None:
    geoms = np.array([g for _, g in z.zones], dtype=object)
    assert all(isinstance(g, MultiPolygon) and g.is_valid and not g.is_empty for g in geoms)
    assert bool(shapely.coverage_is_valid(geoms))
    union = shapely.union_all(geoms)
    assert union.symmetric_difference(z.area).area <= 1e-6 * z.area.area
    valid, gap_m2, overlap_m2 = coverage_gaps_overlaps(z.zones, z.area)
    assert valid and gap_m2 < 1.0 and overlap_m2 < 1.0


@pytest.mark.parametrize("mode", ["walk", "drive"])
def test_helsinki_zones_cover_the_area_and_follow_the_streets(mode: TravelMode) -> None:
    net = helsinki(mode)
    travel = SchoolTravel.from_schools(net, helsinki_schools())
    z = nearest_school_zones(travel)
    assert [c for c, _ in z.zones] == list(travel.codes) and not z.schools_without_zone
    _assert_clean_coverage(z, travel)
    assert z.unreachable_nodes == int((travel.node_nearest().school < 0).sum()) > 0
    for code, geom in z.zones:  # every school lies in its own zone
        i = travel.codes.index(code)
        assert geom.covers(shapely.Point(travel.schools.lon[i], travel.schools.lat[i]))
    # Places inside a zone are (nearly always) nearest along the streets to that zone's school.
    rng = np.random.default_rng(1)
    minx, miny, maxx, maxy = z.area.bounds
    x, y = rng.uniform(minx, maxx, 2000), rng.uniform(miny, maxy, 2000)
    keep = shapely.contains_xy(z.area, x, y)
    x, y = x[keep], y[keep]
    near = travel.point_nearest(travel.snap(x, y))
    zone_of = np.full(x.size, -1)
    for code, geom in z.zones:
        zone_of[shapely.contains_xy(geom, x, y)] = travel.codes.index(code)
    routed = near.school >= 0
    assert routed.sum() > 500
    assert (zone_of[routed] == near.school[routed]).mean() > 0.95
    zones = z.to_zones(source="network-nearest")
    assert [zn.school_codes for zn in zones] == [(c,) for c, _ in z.zones]


def test_zones_clip_to_a_given_area() -> None:
    net = helsinki("walk")
    travel = SchoolTravel.from_schools(net, helsinki_schools())
    lon0, lat0 = float(np.median(net.node_lon)), float(np.median(net.node_lat))
    area = shapely.box(lon0 - 0.006, lat0 - 0.003, lon0 + 0.006, lat0 + 0.003)
    z = nearest_school_zones(travel, area=area, spacing_m=15.0)
    _assert_clean_coverage(z, travel)
    assert z.area.equals(MultiPolygon([area]))
    with pytest.raises(InvalidGeometry):
        nearest_school_zones(travel, area=shapely.Polygon([(0, 0), (1, 1), (1, 0), (0, 1)]))


def test_walk_shed_is_bounded_and_grows() -> None:
    net = helsinki("walk")
    travel = SchoolTravel.from_schools(net, helsinki_schools())
    i, buffer_m = 1, 40.0
    small = reach_polygon(travel, i, within=400.0, buffer_m=buffer_m)
    large = reach_polygon(travel, i, within=900.0, buffer_m=buffer_m)
    assert small.is_valid and large.is_valid and not small.is_empty
    school = shapely.Point(travel.schools.lon[i], travel.schools.lat[i])
    assert small.covers(school)
    assert large.buffer(1e-7).covers(small) and large.area > small.area
    # Every node within the walk is in the shed.
    cost = travel.school_costs(i)
    inside = cost <= 400.0
    assert inside.sum() > 10
    assert shapely.covers(small, shapely.points(net.node_lon[inside], net.node_lat[inside])).all()
    # Streets are never shorter than the straight line: the shed fits in a disc of walk + band.
    x, y = shapely.get_coordinates(small).T
    crow = geodesic_m(travel.schools.lon[i], travel.schools.lat[i], x, y)
    assert crow.max() <= 400.0 + buffer_m + 1.0


def test_osm_schools_helsinki() -> None:
    schools = read_osm_schools(HELSINKI)
    assert len(schools) == 3 and all(s.code.startswith("osm-w") for s in schools)
    assert len({s.code for s in schools}) == 3
    net = helsinki("walk")
    for s in schools:
        assert net.node_lon.min() < s.lon < net.node_lon.max() and net.node_lat.min() < s.lat < net.node_lat.max()
        assert s.attributes["source"] == "OpenStreetMap"
    by_name = {s.name: s for s in schools}
    assert by_name["Kruununhaan yläasteen koulu"].address == "18 Snellmaninkatu, Helsinki, 00170"
    # building=school adds schools mapped only as buildings, never one already on a school site.
    more = read_osm_schools(HELSINKI, include_buildings=True)
    assert {s.code for s in schools} < {s.code for s in more}
    assert all(s.name != "School osm-w37264739" for s in more)  # the Ressu building lies on the Ressu site
    english = [s for s in more if s.name_local]
    assert english and all(s.name != s.name_local for s in english)
    with pytest.raises(UnsupportedFile):
        read_osm_schools(PORTLAND.with_suffix(".missing"))


def test_portland_network_nearest_plan_is_a_clean_coverage() -> None:
    start = time.perf_counter()
    net = portland_walk()  # build time itself: test_network_build.py
    # The extract tags one amenity=school; the other schools are named buildings.
    schools = read_osm_schools(PORTLAND, name_pattern=r"\bschool\b")
    assert len(schools) >= 3 and "osm-w56202411" in {s.code for s in schools}
    travel = SchoolTravel.from_schools(net, schools)
    near = travel.node_nearest()
    assert near.reachable.mean() > 0.95 and set(near.school[near.reachable].tolist()) == set(range(len(schools)))
    z = nearest_school_zones(travel)
    assert len(z.zones) == len(schools)
    _assert_clean_coverage(z, travel)
    assert time.perf_counter() - start < 20.0
