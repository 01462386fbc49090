"""Street-network benchmark on Portland: the nearest-school pass and the schools x nodes matrix.

Run from the repository root: ``python -m bench.bench_network [--runs N] [--sites S]``.
Prints a table and writes ``bench/results/network.json``.

Data: ``data/osm/portland.osm.pbf`` (OpenStreetMap, ODbL), walking network. Two source sets:
the schools read from the extract (``amenity=school`` plus buildings named "... School": the
extract tags only one amenity=school) and ``--sites`` candidate school sites drawn with a fixed
seed from the network's nodes (to show how the matrix scales with the number of schools).

Every library searches the same graph: ours (scipy.sparse.csgraph on the CSR matrix with the
schools as virtual nodes), the same arcs loaded into networkx and, if installed, igraph. Times
are medians of ``--runs`` runs measured in the same process, and ratios are other / ours. The
answers are compared (max absolute difference, metres) so a fast wrong answer cannot pass.

- nearest pass: for every node, the nearest school and its distance. scipy: one multi-source
  Dijkstra (``min_only``). networkx: ``multi_source_dijkstra`` (the source comes from the path).
  igraph: no multi-source search, so one search from a super-source joined to every school
  (distance only, without which school).
- matrix: cost from every school to every node. scipy: ``dijkstra(indices=schools)``;
  networkx: ``single_source_dijkstra_path_length`` per school; igraph: ``Graph.distances``.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import scipy
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra

from geo.io.osm_schools import read_osm_schools
from geo.network.build import build_network
from geo.network.graph import StreetNetwork
from geo.network.paths import SchoolTravel

try:
    import igraph
except ImportError:  # optional: the benchmark reports igraph only when it is installed
    igraph = None

ROOT = Path(__file__).resolve().parent.parent
PBF = ROOT / "data" / "osm" / "portland.osm.pbf"
OUT = ROOT / "bench" / "results" / "network.json"


def timed(fn: Callable[[], Any], runs: int) -> tuple[float, Any]:
    """Median wall time (s) over ``runs`` calls and the last result."""
    times = []
    result: Any = None
    for _ in range(runs):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def scipy_nearest(graph: sp.csr_matrix, sources: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    dist, _, src = dijkstra(graph, indices=sources, min_only=True, return_predecessors=True)
    return dist, src


def nx_nearest(g: nx.DiGraph, sources: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    dist, paths = nx.multi_source_dijkstra(g, {int(s) for s in sources}, weight="weight")
    d = np.full(n, np.inf)
    src = np.full(n, -9999)
    for node, value in dist.items():
        d[node] = value
        src[node] = paths[node][0]
    return d, src


def nx_matrix(g: nx.DiGraph, sources: np.ndarray, n: int) -> np.ndarray:
    out = np.full((sources.size, n), np.inf)
    for i, s in enumerate(sources):
        for node, value in nx.single_source_dijkstra_path_length(g, int(s), weight="weight").items():
            out[i, node] = value
    return out


def bench_sources(net: StreetNetwork, label: str, lons: np.ndarray, lats: np.ndarray, runs: int) -> dict[str, Any]:
    travel = SchoolTravel(net, lons, lats)
    graph = travel.graph
    n = graph.shape[0]
    sources = net.n_nodes + np.arange(travel.n_schools)
    coo = graph.tocoo()
    g = nx.DiGraph()
    g.add_nodes_from(range(n))
    g.add_weighted_edges_from(zip(coo.row.tolist(), coo.col.tolist(), coo.data.tolist(), strict=True))
    row: dict[str, Any] = {"sources": label, "schools": int(travel.n_schools), "nodes": int(net.n_nodes),
                           "arcs": int(graph.nnz)}

    t, (d_ours, src_ours) = timed(lambda: scipy_nearest(graph, sources), runs)
    row["nearest_scipy_s"] = t
    t_e2e, _ = timed(lambda: SchoolTravel(net, lons, lats).node_nearest(), runs)
    row["nearest_scipy_end_to_end_s"] = t_e2e  # snapping + graph + search, nothing cached
    t, (d_nx, src_nx) = timed(lambda: nx_nearest(g, sources, n), max(1, runs // 2))
    row["nearest_networkx_s"] = t
    row["nearest_networkx_ratio"] = t / row["nearest_scipy_s"]
    fin = np.isfinite(d_ours)
    row["nearest_networkx_max_diff_m"] = float(np.abs(d_ours[fin] - d_nx[fin]).max())
    row["nearest_networkx_same_school_share"] = float((src_ours[fin] == src_nx[fin]).mean())

    t, m_ours = timed(lambda: dijkstra(graph, indices=sources), runs)
    row["matrix_scipy_s"] = t
    t, m_nx = timed(lambda: nx_matrix(g, sources, n), max(1, runs // 2))
    row["matrix_networkx_s"] = t
    row["matrix_networkx_ratio"] = t / row["matrix_scipy_s"]
    fin = np.isfinite(m_ours)
    row["matrix_networkx_max_diff_m"] = float(np.abs(m_ours[fin] - m_nx[fin]).max())

    if igraph is not None:
        ig = igraph.Graph(n=n + 1, edges=list(zip(coo.row.tolist(), coo.col.tolist(), strict=True)), directed=True)
        ig.es["weight"] = coo.data.tolist()
        # A super-source (node n) joined to every school at zero cost gives the nearest distance.
        ig.add_edges([(n, int(s)) for s in sources])
        ig.es[-sources.size:]["weight"] = [0.0] * sources.size
        t, d_ig = timed(lambda: np.asarray(ig.distances(source=[n], weights="weight", mode="out"))[0, :n], runs)
        row["nearest_igraph_s"] = t
        row["nearest_igraph_ratio"] = t / row["nearest_scipy_s"]
        row["nearest_igraph_max_diff_m"] = float(np.abs(d_ours[np.isfinite(d_ours)] - d_ig[np.isfinite(d_ours)]).max())
        t, m_ig = timed(lambda: np.asarray(ig.distances(source=sources.tolist(), weights="weight", mode="out"))[:, :n], runs)
        row["matrix_igraph_s"] = t
        row["matrix_igraph_ratio"] = t / row["matrix_scipy_s"]
        row["matrix_igraph_max_diff_m"] = float(np.abs(m_ours[fin] - m_ig[fin]).max())
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="runs per measurement (median reported)")
    parser.add_argument("--sites", type=int, default=50, help="candidate school sites drawn from the nodes")
    parser.add_argument("--seed", type=int, default=2024)
    args = parser.parse_args()

    build_s, net = timed(lambda: build_network(PBF, mode="walk"), 3)
    schools = read_osm_schools(PBF, name_pattern=r"\bschool\b")
    rng = np.random.default_rng(args.seed)
    main_nodes = np.flatnonzero(net.components() == 0)
    sites = rng.choice(main_nodes, size=args.sites, replace=False)
    rows = [
        bench_sources(net, "OSM schools", np.array([s.lon for s in schools]), np.array([s.lat for s in schools]), args.runs),
        bench_sources(net, f"{args.sites} sites", net.node_lon[sites], net.node_lat[sites], args.runs),
    ]
    result = {
        "data": PBF.name, "mode": "walk", "build_s": build_s, "nodes": net.n_nodes, "edges": net.n_edges,
        "runs": args.runs, "python": platform.python_version(), "machine": platform.machine(),
        "versions": {"scipy": scipy.__version__, "networkx": nx.__version__,
                     "igraph": igraph.__version__ if igraph is not None else None},
        "rows": rows,
    }
    print(f"Portland walk network: {net.n_nodes} nodes, {net.n_edges} edges, built in {build_s:.2f} s (median of 3)")
    header = f"{'sources':<18}{'task':<10}{'scipy s':>10}{'networkx s':>12}{'ratio':>8}{'igraph s':>10}{'ratio':>8}{'max diff m':>12}"
    print(header)
    print("-" * len(header))
    for r in rows:
        for task in ("nearest", "matrix"):
            ig_s = r.get(f"{task}_igraph_s")
            ig = f"{ig_s:>10.4f}{r[f'{task}_igraph_ratio']:>8.1f}" if ig_s is not None else f"{'-':>10}{'-':>8}"
            diff = max(r[f"{task}_networkx_max_diff_m"], r.get(f"{task}_igraph_max_diff_m", 0.0))
            print(f"{r['sources'] + ' (' + str(r['schools']) + ')':<18}{task:<10}{r[f'{task}_scipy_s']:>10.4f}"
                  f"{r[f'{task}_networkx_s']:>12.4f}{r[f'{task}_networkx_ratio']:>8.1f}{ig}{diff:>12.2e}")
        print(f"{'':<18}{'nearest, end to end (snap + graph + search)':<50}{r['nearest_scipy_end_to_end_s']:.4f} s")
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(result, indent=2), encoding="utf-8")
    print(f"wrote {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
