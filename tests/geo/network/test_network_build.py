"""Building street networks from OSM: tag rules, geodesic lengths, the graph, save/load, speed."""

from __future__ import annotations

import time
from pathlib import Path

import networkx as nx
import numpy as np
import osmium
import pytest
from osmium.osm import mutable
from pyproj import Geod
from scipy.sparse.csgraph import connected_components, dijkstra

from geo.errors import InvalidInput, UnsupportedFile
from geo.network.build import build_network, parse_maxspeed
from geo.network.graph import StreetNetwork
from tests.geo.network_data import HELSINKI, PORTLAND, helsinki

GEOD = Geod(ellps="WGS84")


def _write_osm(path: Path, ways: dict[int, tuple[list[int], dict[str, str]]]) -> Path:
    """A small OSM file: nodes 1..9 on a 0.001 degree grid near (10, 50); node 99 is missing."""
    with osmium.SimpleWriter(str(path)) as w:
        for i in range(1, 10):
            w.add_node(mutable.Node(id=i, location=(10.0 + 0.001 * ((i - 1) % 3), 50.0 + 0.001 * ((i - 1) // 3))))
        for wid, (nodes, tags) in ways.items():
            w.add_way(mutable.Way(id=wid, nodes=nodes, tags=tags))
    return path


RULE_WAYS = {
    101: ([1, 2], {"highway": "residential", "oneway": "yes"}),
    102: ([2, 3], {"highway": "residential", "oneway": "-1"}),
    103: ([3, 6], {"highway": "primary", "junction": "roundabout"}),
    104: ([4, 5], {"highway": "motorway"}),
    105: ([1, 4], {"highway": "footway"}),
    106: ([2, 5], {"highway": "residential", "foot": "no"}),
    107: ([5, 6], {"highway": "service", "access": "private"}),
    108: ([4, 7], {"highway": "trunk", "sidewalk": "both"}),
    109: ([7, 8], {"highway": "trunk"}),
    110: ([8, 9], {"highway": "residential", "maxspeed": "20 mph"}),
    111: ([5, 8], {"highway": "residential", "oneway": "reversible"}),
    112: ([6, 99, 9], {"highway": "tertiary"}),
    113: ([3, 6], {"highway": "construction"}),
    114: ([1, 2], {"highway": "residential", "oneway": "no", "junction": "roundabout"}),
}


@pytest.fixture(scope="module")
def rules_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _write_osm(tmp_path_factory.mktemp("osm") / "rules.osm.pbf", RULE_WAYS)


def _ways(net: StreetNetwork) -> dict[int, tuple[bool, bool]]:
    return {int(w): (bool(f), bool(b)) for w, f, b in zip(net.edge_way_id, net.edge_forward, net.edge_backward, strict=True)}


def test_walk_rules(rules_file: Path) -> None:
    ways = _ways(build_network(rules_file, mode="walk"))
    # Pedestrians use oneway streets both ways; foot=no, private, motorways and bare trunks are out.
    assert ways[101] == (True, True) and ways[102] == (True, True)
    assert {105, 108, 110, 111, 103} <= set(ways)
    assert not {104, 106, 107, 109, 113} & set(ways)
    assert all(f and b for f, b in ways.values())


def test_drive_rules(rules_file: Path) -> None:
    net = build_network(rules_file, mode="drive")
    ways = _ways(net)
    assert ways[101] == (True, False)
    assert ways[102] == (False, True)
    assert ways[103] == (True, False)  # roundabout implies oneway
    assert ways[104] == (True, False)  # motorway implies oneway
    assert ways[114] == (True, True)  # explicit oneway=no wins over the roundabout
    assert not {105, 107, 111, 113} & set(ways)
    # 20 mph = 32.19 km/h: seconds = metres / (32.19 / 3.6).
    e = int(np.flatnonzero(net.edge_way_id == 110)[0])
    assert net.edge_weight[e] == pytest.approx(net.edge_length_m[e] / (20 * 1.609344 / 3.6))
    # Class default for a residential street without maxspeed (30 km/h).
    e = int(np.flatnonzero(net.edge_way_id == 101)[0])
    assert net.edge_weight[e] == pytest.approx(net.edge_length_m[e] / (30 / 3.6))


def test_way_clipped_by_missing_node_is_split(rules_file: Path) -> None:
    net = build_network(rules_file, mode="walk")
    assert not (net.edge_way_id == 112).any()  # each side of the gap keeps one node only
    osm = set(net.node_osm_id.tolist())
    assert 99 not in osm and {1, 2, 3, 4, 5, 6, 7, 8, 9} >= osm


@pytest.mark.parametrize(("value", "kmh"), [
    ("50", 50.0), ("30 mph", 30 * 1.609344), ("25mph", 25 * 1.609344), ("10 knots", 18.52),
    ("60;40", 60.0), ("DE:urban", 50.0), ("FR:zone30", 30.0), ("DE:zone:20", 20.0), ("walk", 6.0),
    ("none", None), ("signals", None), ("", None), (None, None), ("0", None),
])
def test_parse_maxspeed(value: str | None, kmh: float | None) -> None:
    got = parse_maxspeed(value)
    assert got == (pytest.approx(kmh) if kmh is not None else None)


@pytest.mark.parametrize("mode", ["walk", "drive"])
def test_edge_lengths_are_geodesic(mode: str) -> None:
    net = helsinki(mode)  # type: ignore[arg-type]
    lengths = np.array([GEOD.line_length(*net.edge_coords(e)) for e in range(net.n_edges)])
    np.testing.assert_allclose(net.edge_length_m, lengths, rtol=1e-9, atol=1e-6)
    # Edges end on their nodes.
    first, last = net.geom_offsets[:-1], net.geom_offsets[1:] - 1
    np.testing.assert_array_equal(net.geom_lon[first], net.node_lon[net.edge_u])
    np.testing.assert_array_equal(net.geom_lat[last], net.node_lat[net.edge_v])


def _networkx(net: StreetNetwork) -> nx.MultiDiGraph:
    g = nx.MultiDiGraph()
    g.add_nodes_from(range(net.n_nodes))
    for u, v, w, f, b in zip(net.edge_u, net.edge_v, net.edge_weight, net.edge_forward, net.edge_backward, strict=True):
        if f:
            g.add_edge(int(u), int(v), weight=float(w))
        if b:
            g.add_edge(int(v), int(u), weight=float(w))
    return g


@pytest.mark.parametrize(("mode", "tol"), [("walk", 0.1), ("drive", 0.01)])
def test_shortest_paths_match_networkx(mode: str, tol: float) -> None:
    net = helsinki(mode)  # type: ignore[arg-type]
    g = _networkx(net)
    # Sources in the largest strongly connected part, so each search reaches most of the city.
    _, labels = connected_components(net.graph, directed=True, connection="strong")
    main = np.flatnonzero(labels == np.bincount(labels).argmax())
    sources = np.random.default_rng(7).choice(main, size=5, replace=False)
    ours = dijkstra(net.graph, indices=sources)
    for row, s in zip(ours, sources, strict=True):
        theirs = np.full(net.n_nodes, np.inf)
        for node, d in nx.single_source_dijkstra_path_length(g, int(s), weight="weight").items():
            theirs[node] = d
        assert np.array_equal(np.isinf(row), np.isinf(theirs))
        np.testing.assert_allclose(row[np.isfinite(row)], theirs[np.isfinite(theirs)], atol=tol, rtol=0)
        assert np.isfinite(row).sum() > net.n_nodes // 2


def test_save_load_round_trip(tmp_path: Path) -> None:
    net = helsinki("drive")
    path = net.save(tmp_path / "helsinki-drive")
    assert path.suffix == ".npz"
    back = StreetNetwork.load(path)
    assert back.key == net.key and back.mode == "drive" and back.source == "Helsinki.osm.pbf"
    for name in ("node_lon", "edge_u", "edge_weight", "edge_forward", "geom_offsets", "geom_lat"):
        np.testing.assert_array_equal(getattr(back, name), getattr(net, name))
    assert (back.graph != net.graph).nnz == 0
    # Compact: well under the size of the OSM extract it came from.
    assert path.stat().st_size < HELSINKI.stat().st_size


def test_load_rejects_other_files(tmp_path: Path) -> None:
    bad = tmp_path / "x.npz"
    np.savez(bad, a=np.arange(3))
    with pytest.raises(UnsupportedFile):
        StreetNetwork.load(bad)
    with pytest.raises(UnsupportedFile):
        StreetNetwork.load(HELSINKI)


def test_build_rejects_bad_input(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput):
        build_network(HELSINKI, mode="bike")  # type: ignore[arg-type]
    junk = tmp_path / "junk.osm.pbf"
    junk.write_bytes(b"not an osm file at all")
    with pytest.raises(UnsupportedFile):
        build_network(junk, mode="walk")
    empty = _write_osm(tmp_path / "empty.osm.pbf", {1: ([1, 2], {"highway": "motorway"})})
    with pytest.raises(InvalidInput):
        build_network(empty, mode="walk")


def test_portland_builds_fast_with_progress() -> None:
    ticks: list[int] = []
    start = time.perf_counter()
    net = build_network(PORTLAND, mode="walk", progress=ticks.append)
    elapsed = time.perf_counter() - start
    assert elapsed < 30.0, f"Portland walk network took {elapsed:.1f} s"
    assert sum(ticks) > 15_000  # ways read, then one tick per later stage
    comp = net.components()
    assert net.n_nodes > 10_000 and (comp == 0).mean() > 0.95
