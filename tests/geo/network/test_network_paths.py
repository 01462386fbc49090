"""Snapping onto edges and shortest paths to schools, checked against networkx on Helsinki."""

from __future__ import annotations

from collections import defaultdict
from itertools import pairwise

import networkx as nx
import numpy as np
import pytest
import shapely

from geo.errors import InvalidInput
from geo.network.cache import TravelCache
from geo.network.graph import StreetNetwork, TravelMode
from geo.network.paths import SchoolTravel, summarise_costs
from geo.network.snap import snap_points
from tests.geo.network_data import helsinki, helsinki_schools

ACCESS_KMH = 20.0


def _lines_xy(net: StreetNetwork) -> np.ndarray:
    x, y = net.frame.to_xy(net.geom_lon, net.geom_lat)
    parts = np.split(np.column_stack([x, y]), net.geom_offsets[1:-1])
    return np.array([shapely.LineString(p) for p in parts], dtype=object)


def _point_on_edge(net: StreetNetwork, edge: int, share: float, *, side_m: float = 0.0) -> tuple[float, float]:
    """(lon, lat) at ``share`` of an edge's length, optionally ``side_m`` metres to its left."""
    x, y = net.frame.to_xy(*net.edge_coords(edge))
    line = shapely.LineString(np.column_stack([x, y]))
    p = line.interpolate(share, normalized=True)
    q = line.interpolate(min(share + 0.01, 1.0), normalized=True)
    r = line.interpolate(max(share - 0.01, 0.0), normalized=True)
    dx, dy = q.x - r.x, q.y - r.y
    n = np.hypot(dx, dy)
    lon, lat = net.frame.to_lonlat(np.array([p.x - dy / n * side_m]), np.array([p.y + dx / n * side_m]))
    return float(lon[0]), float(lat[0])


def _graph_with_positions(net: StreetNetwork, positions: dict[str, tuple[int, float, float]]) -> nx.MultiDiGraph:
    """networkx graph of ``net`` with each named position spliced into its edge plus its snap leg."""
    g = nx.MultiDiGraph()
    on_edge: dict[int, list[tuple[float, str]]] = defaultdict(list)
    for name, (e, f, _) in positions.items():
        on_edge[e].append((f, name))
    for e in range(net.n_edges):
        u, v, w = int(net.edge_u[e]), int(net.edge_v[e]), float(net.edge_weight[e])
        chain: list[tuple[float, object]] = [(0.0, u)]
        chain += [(f, ("on", name)) for f, name in sorted(on_edge.get(e, []))]
        chain.append((1.0, v))
        for (fa, a), (fb, b) in pairwise(chain):
            if net.edge_forward[e]:
                g.add_edge(a, b, weight=(fb - fa) * w)
            if net.edge_backward[e]:
                g.add_edge(b, a, weight=(fb - fa) * w)
    for name, (_, _, leg) in positions.items():
        g.add_edge(name, ("on", name), weight=leg)
        g.add_edge(("on", name), name, weight=leg)
    return g


def _random_points(net: StreetNetwork, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return (rng.uniform(net.node_lon.min(), net.node_lon.max(), n), rng.uniform(net.node_lat.min(), net.node_lat.max(), n))


@pytest.mark.parametrize(("mode", "tol"), [("walk", 0.1), ("drive", 0.01)])
def test_point_to_school_costs_match_networkx(mode: TravelMode, tol: float) -> None:
    net = helsinki(mode)
    schools = helsinki_schools()
    travel = SchoolTravel.from_schools(net, schools, access_speed_kmh=ACCESS_KMH)
    lons, lats = _random_points(net, 40, seed=3)
    # Two places on a school's own edge exercise the straight run along a shared edge.
    e0 = int(travel.schools.edge[0])
    extra = [_point_on_edge(net, e0, 0.1), _point_on_edge(net, e0, 0.9)]
    lons = np.concatenate([lons, [p[0] for p in extra]])
    lats = np.concatenate([lats, [p[1] for p in extra]])
    pts = travel.snap(lons, lats)
    ours = travel.point_matrix(pts)

    scale = 1.0 if mode == "walk" else 3.6 / ACCESS_KMH
    positions = {f"S{i}": (int(travel.schools.edge[i]), float(travel.schools.fraction[i]), float(travel.schools.snap_m[i]) * scale)
                 for i in range(travel.n_schools)}
    positions |= {f"P{j}": (int(pts.edge[j]), float(pts.fraction[j]), float(pts.snap_m[j]) * scale) for j in range(len(pts))}
    reverse = _graph_with_positions(net, positions).reverse(copy=False)
    for i in range(travel.n_schools):
        dist = nx.single_source_dijkstra_path_length(reverse, f"S{i}", weight="weight")
        theirs = np.array([dist.get(f"P{j}", np.inf) for j in range(len(pts))])
        theirs[pts.too_far] = np.inf
        assert np.array_equal(np.isinf(ours[i]), np.isinf(theirs))
        np.testing.assert_allclose(ours[i][np.isfinite(theirs)], theirs[np.isfinite(theirs)], atol=tol, rtol=0)
    assert np.isfinite(ours).mean() > 0.8
    for j in range(0, len(pts), 5):  # the lookup's search from one place agrees
        searched, _ = travel.search_from_place(float(lons[j]), float(lats[j]))
        np.testing.assert_allclose(searched, ours[:, j], atol=1e-6)


def test_snap_onto_edge_midpoint() -> None:
    net = helsinki("walk")
    lines = _lines_xy(net)
    tree = shapely.STRtree(lines)
    long_edges = np.flatnonzero((net.edge_length_m > 60) & (net.edge_u != net.edge_v))
    for e in long_edges:
        lon, lat = _point_on_edge(net, int(e), 0.5, side_m=8.0)
        px, py = net.frame.to_xy(np.array([lon]), np.array([lat]))
        near = tree.query(shapely.Point(px[0], py[0]), predicate="dwithin", distance=20.0)
        if set(near.tolist()) == {int(e)}:
            break
    else:
        pytest.fail("no isolated long edge in the extract")
    snapped = snap_points(net, [lon], [lat])
    assert int(snapped.edge[0]) == e and not snapped.too_far[0]
    assert snapped.snap_m[0] == pytest.approx(8.0, abs=0.05)
    assert snapped.fraction[0] == pytest.approx(0.5, abs=0.01)
    assert snapped.offset_m[0] == pytest.approx(net.edge_length_m[e] / 2, abs=0.5)
    # Network distance to a school standing on the edge's u node: snap leg + half the edge.
    u = int(net.edge_u[e])
    travel = SchoolTravel(net, [net.node_lon[u]], [net.node_lat[u]])
    cost = travel.point_matrix(snapped)[0, 0]
    expected = snapped.snap_m[0] + min(snapped.offset_m[0], travel.node_matrix()[0, int(net.edge_v[e])] + net.edge_length_m[e] - snapped.offset_m[0])
    assert cost == pytest.approx(expected, abs=0.01)


def _isolated_oneway_edge(net: StreetNetwork) -> int:
    lines = _lines_xy(net)
    tree = shapely.STRtree(lines)
    for e in np.flatnonzero(net.edge_forward & ~net.edge_backward & (net.edge_length_m > 50) & (net.edge_u != net.edge_v)):
        near = {int(i) for i in tree.query(lines[e].buffer(5.0), predicate="intersects")}
        touching = {i for i in near if i != e and lines[i].distance(lines[e].interpolate(0.5, normalized=True)) < 5.0}
        if not touching:
            return int(e)
    pytest.fail("no oneway street in the extract")


def test_oneway_street_in_drive_mode() -> None:
    drive = helsinki("drive")
    e = _isolated_oneway_edge(drive)
    a = _point_on_edge(drive, e, 0.25)
    b = _point_on_edge(drive, e, 0.75)
    to_b = SchoolTravel(drive, [b[0]], [b[1]])
    to_a = SchoolTravel(drive, [a[0]], [a[1]])
    from_a = to_b.point_matrix(to_b.snap([a[0]], [a[1]]))[0, 0]
    from_b = to_a.point_matrix(to_a.snap([b[0]], [b[1]]))[0, 0]
    assert from_a == pytest.approx(0.5 * drive.edge_weight[e], rel=0.01)
    assert from_b > from_a  # B -> A must go round the block (or cannot be done at all)
    # The same trip with direction="from_school" swaps the roles.
    back = SchoolTravel(drive, [a[0]], [a[1]], direction="from_school")
    assert back.point_matrix(back.snap([b[0]], [b[1]]))[0, 0] == pytest.approx(from_a, rel=1e-9)
    # Walking, the street goes both ways at the same cost.
    walk = helsinki("walk")
    wa, wb = SchoolTravel(walk, [a[0]], [a[1]]), SchoolTravel(walk, [b[0]], [b[1]])
    ab = wb.point_matrix(wb.snap([a[0]], [a[1]]))[0, 0]
    assert ab == pytest.approx(wa.point_matrix(wa.snap([b[0]], [b[1]]))[0, 0], abs=1e-6)


def test_unreachable_island_is_reported() -> None:
    net = helsinki("walk")
    travel = SchoolTravel.from_schools(net, helsinki_schools())
    near = travel.node_nearest()
    comp = net.components()
    school_comps = set(comp[net.edge_u[travel.schools.edge]].tolist())
    expected_reachable = np.isin(comp, list(school_comps))
    assert (~expected_reachable).sum() > 0  # the extract has islands
    np.testing.assert_array_equal(near.reachable, expected_reachable)
    assert np.isinf(near.cost[~expected_reachable]).all() and np.isfinite(near.cost[expected_reachable]).all()
    # A place on an island street: snapped (close to a street) but unreachable.
    island_edge = int(np.flatnonzero(~expected_reachable[net.edge_u])[0])
    lon, lat = _point_on_edge(net, island_edge, 0.5)
    pts = travel.snap([lon], [lat])
    assert not pts.too_far[0]
    assert travel.point_nearest(pts).school[0] == -1
    assert np.isinf(travel.point_matrix(pts)[:, 0]).all()


def test_point_far_from_any_street_is_flagged() -> None:
    net = helsinki("walk")
    travel = SchoolTravel.from_schools(net, helsinki_schools(), max_snap_m=250.0)
    lat = net.node_lat.min() - 0.015  # about 1.7 km south of the extract
    pts = travel.snap([24.945, 24.945], [lat, net.node_lat.mean()])
    assert pts.too_far.tolist() == [True, False]
    assert pts.snap_m[0] > 1000.0  # the distance is reported...
    assert travel.point_nearest(pts).school.tolist()[0] == -1  # ...but the point is not routed
    assert np.isinf(travel.point_matrix(pts)[:, 0]).all()
    assert np.isfinite(travel.point_matrix(pts)[:, 1]).any()
    with pytest.raises(InvalidInput):
        snap_points(net, [200.0], [10.0])
    with pytest.raises(InvalidInput):  # places snapped onto another network
        travel.point_matrix(snap_points(helsinki("drive"), [24.945], [float(net.node_lat.mean())]))


def test_nearest_topk_assigned_and_limit_agree() -> None:
    net = helsinki("walk")
    travel = SchoolTravel.from_schools(net, helsinki_schools())
    pts = travel.snap(*_random_points(net, 60, seed=11))
    m = travel.point_matrix(pts)
    near = travel.point_nearest(pts)
    ok = np.isfinite(m).any(axis=0)
    np.testing.assert_allclose(near.cost[ok], m[:, ok].min(axis=0), atol=1e-9)
    np.testing.assert_array_equal(near.school[ok], m[:, ok].argmin(axis=0))
    idx, cost = travel.point_top_k(pts, k=2)
    assert idx.shape == (len(pts), 2) and (np.diff(cost[ok], axis=1) >= 0).all()
    np.testing.assert_array_equal(idx[ok, 0], near.school[ok])
    assigned = np.where(ok, idx[:, 1], -1)
    np.testing.assert_allclose(travel.point_assigned(pts, assigned)[ok], cost[ok, 1])
    # Bounded search: equal to the full one within the limit, inf beyond it.
    limit = float(np.median(near.cost[ok]))
    bounded = travel.point_nearest(pts, limit=limit)
    inside = near.cost <= limit
    np.testing.assert_allclose(bounded.cost[inside], near.cost[inside])
    assert np.isinf(bounded.cost[~inside]).all() and (bounded.school[~inside] == -1).all()
    nodes = travel.node_nearest(limit=limit)
    full = travel.node_nearest()
    np.testing.assert_array_equal(np.isfinite(nodes.cost), full.cost <= limit)
    # The lookup path (one place against the cached matrix) gives the same costs.
    one, snapped = travel.from_place(float(pts.lon[0]), float(pts.lat[0]))
    np.testing.assert_allclose(one, m[:, 0])
    assert snapped.edge[0] == pts.edge[0]
    for j in range(0, len(pts), 7):  # ...and so does the search from the place, without the matrix
        searched, _ = travel.search_from_place(float(pts.lon[j]), float(pts.lat[j]))
        np.testing.assert_allclose(searched, m[:, j], atol=1e-6)
        bounded_one, _ = travel.search_from_place(float(pts.lon[j]), float(pts.lat[j]), limit=limit)
        np.testing.assert_allclose(bounded_one, np.where(m[:, j] <= limit, m[:, j], np.inf), atol=1e-6)
    with pytest.raises(InvalidInput):
        travel.point_assigned(pts, np.full(len(pts), 9))


def test_cache_is_keyed_and_invalidated() -> None:
    net = helsinki("walk")
    schools = helsinki_schools()
    cache = TravelCache(max_entries=8)
    a = SchoolTravel.from_schools(net, schools, cache=cache)
    first = a.node_nearest()
    assert SchoolTravel.from_schools(net, schools, cache=cache).node_nearest() is first
    assert cache.hits >= 1
    moved = SchoolTravel(net, [s.lon + 0.001 for s in schools], [s.lat for s in schools],
                         codes=[s.code for s in schools], cache=cache)
    assert moved.key != a.key and moved.node_nearest() is not first
    dropped = cache.invalidate(schools_key=a.key)
    assert dropped >= 2  # the graph and the nearest pass
    assert SchoolTravel.from_schools(net, schools, cache=cache).node_nearest() is not first
    assert cache.invalidate(network_key=net.key) >= 1 and len(cache) == 0


def test_summarise_costs_matches_numpy() -> None:
    rng = np.random.default_rng(5)
    cost = rng.gamma(2.0, 400.0, 200)
    cost[:7] = np.inf
    pupils = rng.integers(0, 6, 200)
    s = summarise_costs(cost, weights=pupils, within=800.0)
    expanded = np.repeat(cost, pupils)
    finite = expanded[np.isfinite(expanded)]
    assert s.mean == pytest.approx(finite.mean())
    assert s.median == pytest.approx(np.quantile(finite, 0.5, method="inverted_cdf"))
    assert s.p90 == pytest.approx(np.quantile(finite, 0.9, method="inverted_cdf"))
    assert s.share_within == pytest.approx((expanded <= 800.0).mean())
    assert s.reachable == int((np.isfinite(cost) & (pupils > 0)).sum())
