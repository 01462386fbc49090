"""ZoneIndex (cell grid + exact fallback) against the plain shapely predicate, on real zones.

The reference is ``shapely.intersects_xy`` run on fresh copies of the polygons, zone by zone
(covers semantics: a point on an edge or a vertex counts for every zone holding it). Points:
200,000 random ones over the Greater Sydney extent, every vertex of 50 zones, the midpoint of
every edge of those zones, vertices snapped onto the grid's cell lines, and where their edges
cross those lines.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import shapely
import shapely.ops
from numpy.typing import NDArray

from geo.index.grid_build import DEFAULT_EXPONENTS, build_grid
from geo.index.zones import ZoneIndex
from geo.io.read import parse_zones, read_frame
from geo.models import Plan, PlanStatus, Zone

DATA = Path(__file__).resolve().parents[3] / "data" / "boundaries"
FINEST = 2.0 ** DEFAULT_EXPONENTS[-1]  # cells per degree at the grid's finest level


def _plan(pid: int, level: str) -> Plan:
    return Plan(id=pid, name=f"plan {pid}", level=level, school_year=2026, status=PlanStatus.ADOPTED)


def _zones(path: Path, code_field: str) -> list[Zone]:
    zones, report = parse_zones(read_frame(path), mapping={"school_code": code_field})
    assert not report.rejected
    return zones


@pytest.fixture(scope="module")
def sydney() -> ZoneIndex:
    """All 902 Greater Sydney catchments (primary and high overlap: most points hit two)."""
    zones = _zones(DATA / "nsw" / "greater_sydney_catchments.geojson", "USE_ID")
    primary, high = _plan(1, "primary"), _plan(2, "high")
    return ZoneIndex([(primary if i % 3 else high, z) for i, z in enumerate(zones)], version=3)


def reference(geoms: NDArray[np.object_], xs: NDArray[np.float64], ys: NDArray[np.float64]) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """(point, zone) pairs by the plain predicate, zone by zone on unprepared copies; sorted."""
    fresh = shapely.from_wkb(shapely.to_wkb(geoms))
    pts, zs = [], []
    for z, (g, (x0, y0, x1, y1)) in enumerate(zip(fresh, shapely.bounds(fresh), strict=True)):
        near = np.flatnonzero((xs >= x0) & (xs <= x1) & (ys >= y0) & (ys <= y1))
        hit = near[shapely.intersects_xy(g, xs[near], ys[near])]
        pts.append(hit)
        zs.append(np.full(hit.size, z))
    p, z = np.concatenate(pts), np.concatenate(zs)
    order = np.lexsort((z, p))
    return p[order], z[order]


def edge_points(geoms: NDArray[np.object_]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Vertices, edge midpoints, vertices snapped to cell lines, and edge/cell-line crossings."""
    rings = shapely.get_rings(shapely.get_parts(geoms))
    xy, ring = shapely.get_coordinates(rings, return_index=True)
    same = ring[:-1] == ring[1:]
    a, b = xy[:-1][same], xy[1:][same]
    mid = (a + b) / 2
    snapped = np.round(xy * FINEST) / FINEST
    # Where an edge crosses a vertical cell line: on (or within rounding of) the edge and the line.
    k = np.ceil(np.minimum(a[:, 0], b[:, 0]) * FINEST)
    crosses = (k / FINEST <= np.maximum(a[:, 0], b[:, 0])) & (a[:, 0] != b[:, 0])
    lx = k[crosses] / FINEST
    t = (lx - a[crosses, 0]) / (b[crosses, 0] - a[crosses, 0])
    ly = a[crosses, 1] + t * (b[crosses, 1] - a[crosses, 1])
    pts = np.concatenate([xy, mid, snapped, np.column_stack([lx, ly])])
    return pts[:, 0].copy(), pts[:, 1].copy()


def test_bulk_equals_plain_predicate_on_random_and_edge_points(sydney: ZoneIndex) -> None:
    rng = np.random.default_rng(20260401)
    x0, y0, x1, y1 = shapely.total_bounds(sydney.geoms)
    ex, ey = edge_points(sydney.geoms[rng.choice(len(sydney), size=50, replace=False)])
    xs = np.concatenate([rng.uniform(x0, x1, 200_000), ex])
    ys = np.concatenate([rng.uniform(y0, y1, 200_000), ey])
    pi, zi = sydney.query_bulk(xs, ys)
    rp, rz = reference(sydney.geoms, xs, ys)
    assert np.array_equal(pi, rp) and np.array_equal(zi, rz)
    # The edge points really are on edges: many of them belong to two zones of one level.
    on_edge = pi >= 200_000
    assert np.bincount(pi[on_edge] - 200_000).max() >= 3
    assert ex.size > 10_000


def test_single_query_and_on_boundary_equal_plain_predicate(sydney: ZoneIndex) -> None:
    rng = np.random.default_rng(11)
    x0, y0, x1, y1 = shapely.total_bounds(sydney.geoms)
    ex, ey = edge_points(sydney.geoms[rng.choice(len(sydney), size=50, replace=False)])
    pick = rng.choice(ex.size, size=4_000, replace=False)
    xs = np.concatenate([rng.uniform(x0, x1, 6_000), ex[pick]])
    ys = np.concatenate([rng.uniform(y0, y1, 6_000), ey[pick]])
    rp, rz = reference(sydney.geoms, xs, ys)
    expected: dict[int, list[int]] = {}
    for p, z in zip(rp.tolist(), rz.tolist(), strict=True):
        expected.setdefault(p, []).append(z)
    boundary_hits = 0
    for i, (x, y) in enumerate(zip(xs.tolist(), ys.tolist(), strict=True)):
        got = sydney.query(x, y)
        assert got == expected.get(i, []), (i, x, y)
        for z in got:
            edge = not shapely.contains_xy(sydney.geoms[z], x, y)
            assert sydney.on_boundary(z, x, y) == edge
            boundary_hits += edge
    assert boundary_hits > 1_000


def test_most_points_answer_from_cells_without_the_polygon_test(sydney: ZoneIndex) -> None:
    assert sydney.grid is not None
    rng = np.random.default_rng(5)
    x0, y0, x1, y1 = shapely.total_bounds(sydney.geoms)
    answer = sydney.grid.lookup_many(rng.uniform(x0, x1, 50_000), rng.uniform(y0, y1, 50_000))
    needs_test = np.diff(sydney.grid.answers.cand_ptr)[answer] > 0
    assert needs_test.mean() < 0.1
    assert sydney.nbytes < 50_000_000


def test_far_apart_districts_share_one_index() -> None:
    """Sydney and Fairfax County (Virginia) in one index: a top level spanning half the globe."""
    syd = _zones(DATA / "nsw" / "greater_sydney_catchments.geojson", "USE_ID")[:120]
    ffx = _zones(DATA / "fairfax" / "zones_ES.geojson", "object_id_school")
    index = ZoneIndex([(_plan(1, "primary"), z) for z in syd] + [(_plan(2, "elementary"), z) for z in ffx])
    rng = np.random.default_rng(3)
    parts = [edge_points(index.geoms[rng.choice(len(index), size=20, replace=False)])]
    for g in (index.geoms[: len(syd)], index.geoms[len(syd):]):
        x0, y0, x1, y1 = shapely.total_bounds(g)
        parts.append((rng.uniform(x0, x1, 20_000), rng.uniform(y0, y1, 20_000)))
    xs = np.concatenate([p[0] for p in parts])
    ys = np.concatenate([p[1] for p in parts])
    pi, zi = index.query_bulk(xs, ys)
    rp, rz = reference(index.geoms, xs, ys)
    assert np.array_equal(pi, rp) and np.array_equal(zi, rz)
    assert {index.levels[z] for z in zi.tolist()} == {"primary", "elementary"}


def test_holes_overlaps_and_even_odd_rule() -> None:
    """A square with a hole, a zone inside the hole, and a self-overlapping MultiPolygon.

    The overlapping one is invalid (imports repair such shapes); the index still agrees with
    the prepared predicate there, which counts ring crossings (even-odd) like the grid does.
    """
    donut = shapely.Polygon([(150, -34), (150.1, -34), (150.1, -33.9), (150, -33.9)],
                            [[(150.03, -33.97), (150.07, -33.97), (150.07, -33.93), (150.03, -33.93)]])
    plug = shapely.box(150.03, -33.97, 150.07, -33.93)
    overlap = shapely.MultiPolygon([shapely.box(150.2, -34, 150.3, -33.9), shapely.box(150.25, -33.95, 150.35, -33.85)])
    geoms = [shapely.MultiPolygon([donut]), shapely.MultiPolygon([plug]), overlap]
    plan = _plan(1, "primary")
    index = ZoneIndex([(plan, Zone(school_codes=(str(i),), geometry=g)) for i, g in enumerate(geoms)])
    rng = np.random.default_rng(9)
    ex, ey = edge_points(index.geoms)
    xs = np.concatenate([rng.uniform(149.99, 150.36, 50_000), ex])
    ys = np.concatenate([rng.uniform(-34.01, -33.84, 50_000), ey])
    pi, zi = index.query_bulk(xs, ys)
    prepared = np.array(geoms, dtype=object)
    shapely.prepare(prepared)
    want = [(p, z) for z in range(3) for p in np.flatnonzero(shapely.intersects_xy(prepared[z], xs, ys)).tolist()]
    assert sorted(want) == list(zip(pi.tolist(), zi.tolist(), strict=True))
    assert index.query(150.05, -33.95) == [1]  # in the hole: only the plug
    assert index.query(150.03, -33.95) == [0, 1]  # on the hole's edge: both
    assert index.on_boundary(0, 150.03, -33.95) and not index.on_boundary(0, 150.01, -33.95)


def test_empty_outside_and_nan() -> None:
    empty = ZoneIndex([])
    assert empty.query(151.0, -33.8) == [] and len(empty) == 0
    pi, zi = empty.query_bulk([151.0], [-33.8])
    assert pi.size == zi.size == 0
    zone = Zone(school_codes=("1",), geometry=shapely.MultiPolygon([shapely.box(151, -34, 151.1, -33.9)]))
    index = ZoneIndex([(_plan(1, "primary"), zone)])
    assert index.query(151.05, -33.95) == [0]
    assert index.query(151.1, -33.9) == [0]  # the far corner, on the top cell's edge
    assert index.query(152.0, -33.95) == [] and index.query(float("nan"), -33.95) == []
    pi, zi = index.query_bulk([151.05, float("nan"), 179.9, 151.0], [-33.95, -33.95, 89.0, -34.0])
    assert pi.tolist() == [0, 3] and zi.tolist() == [0, 0]


def test_exponents_must_increase() -> None:
    with pytest.raises(ValueError, match="increasing"):
        build_grid(np.array([shapely.box(0, 0, 1, 1)], dtype=object), exponents=(4, 2))


def test_edge_clearance_is_a_lower_bound_on_the_distance_to_the_edge(sydney: ZoneIndex) -> None:
    from geo.distance import distance_to_boundary_m

    rng = np.random.default_rng(21)
    x0, y0, x1, y1 = shapely.total_bounds(sydney.geoms)
    cleared = near = 0
    for x, y in zip(rng.uniform(x0, x1, 3_000).tolist(), rng.uniform(y0, y1, 3_000).tolist(), strict=True):
        for z in sydney.query(x, y):
            bound = sydney.edge_clearance_m(z, x, y)
            exact = distance_to_boundary_m(sydney.geoms[z], x, y, within_m=bound if bound > 0 else 150.0)
            if bound > 0:
                cleared += 1
                assert bound > 50 and (exact is None or exact >= bound), (x, y, z, bound, exact)
            else:
                near += exact is not None
    # Most covered points are far from every edge; many the bound cannot clear lie within 150 m of one.
    assert cleared > 2_000 and near > 100
    vertex = shapely.get_coordinates(sydney.geoms[0])[0]
    assert sydney.edge_clearance_m(0, float(vertex[0]), float(vertex[1])) == 0.0


def test_index_without_grid_gives_the_same_answers(sydney: ZoneIndex) -> None:
    """``grid=False`` (ready at once after a write, STRtree path) answers like the gridded index."""
    plain = ZoneIndex([(e.plan, e.zone) for e in sydney.entries], grid=False)
    assert plain.grid is None
    rng = np.random.default_rng(4)
    ex, ey = edge_points(sydney.geoms[rng.choice(len(sydney), size=10, replace=False)])
    x0, y0, x1, y1 = shapely.total_bounds(sydney.geoms)
    xs = np.concatenate([rng.uniform(x0, x1, 20_000), ex])
    ys = np.concatenate([rng.uniform(y0, y1, 20_000), ey])
    for a, b in zip(plain.query_bulk(xs, ys), sydney.query_bulk(xs, ys), strict=True):
        assert np.array_equal(a, b)
    for x, y in zip(xs[::50].tolist(), ys[::50].tolist(), strict=True):
        assert plain.query(x, y) == sydney.query(x, y)
        assert plain.edge_clearance_m(0, x, y) == 0.0


def test_build_index_leaves_out_a_plan_outside_lon_lat_and_indexes_the_rest() -> None:
    from geo.index.zones import build_index

    good = [(_plan(1, "primary"), Zone(school_codes=("a",), geometry=shapely.MultiPolygon([shapely.box(151.0, -33.9, 151.1, -33.8)])))]
    # Web Mercator metres stored as degrees: the grid would overflow (the reported start-up failure).
    metres = [(_plan(2, "primary"), Zone(school_codes=("b",),
                                         geometry=shapely.MultiPolygon([shapely.box(16828167.0, -3999299.0, 16829167.0, -3998299.0)])))]
    index, skipped = build_index(good + metres, version=3)
    assert list(skipped) == [2] and "EPSG:3857" in skipped[2]
    assert [index.entries[i].plan.id for i in index.query(151.05, -33.85)] == [1]
    assert index.version == 3 and index.grid is not None


def test_distance_to_the_boundary_matches_a_projected_reference(sydney: ZoneIndex) -> None:
    """The edge distance (a box of the boundary in local metres, the foot measured geodesically)
    against an independent reference: the boundary near the point, densified and projected to an azimuthal equidistant
    frame centred on it (pyproj; distances from the centre are geodesic), then shapely's distance."""
    from pyproj import Proj

    from geo.distance import distance_to_boundary_m

    rng = np.random.default_rng(8)
    ex, ey = edge_points(sydney.geoms[rng.choice(len(sydney), size=40, replace=False)])
    pick = rng.choice(ex.size, size=min(ex.size, 300), replace=False)
    xs = ex[pick] + rng.normal(0, 0.0002, pick.size)  # within about 20 m of an edge
    ys = ey[pick] + rng.normal(0, 0.0002, pick.size)
    checked = 0
    for x, y in zip(xs.tolist(), ys.tolist(), strict=True):
        for z in sydney.query(x, y):
            got = distance_to_boundary_m(sydney.geoms[z], x, y, within_m=50.0)
            aeqd = Proj(f"+proj=aeqd +lat_0={y} +lon_0={x} +ellps=WGS84")
            # Densified first: a straight line in degrees is curved in the projected frame.
            near = shapely.segmentize(shapely.clip_by_rect(shapely.boundary(sydney.geoms[z]), x - 0.002, y - 0.002,
                                                           x + 0.002, y + 0.002), 0.00002)
            c = shapely.get_coordinates(near)
            px, py = aeqd(c[:, 0], c[:, 1])
            want = shapely.distance(shapely.Point(0, 0), shapely.transform(near, lambda _, px=px, py=py: np.column_stack((px, py))))
            if want < 49.0:
                assert got is not None and got == pytest.approx(want, rel=1e-5, abs=0.001), (x, y, z)
                checked += 1
            elif want > 51.0:
                assert got is None
    assert checked > 20
