"""How much do separator cuts lift the optimiser's bound? ``python -m bench.optimise_separators [--rounds N]``

The measurement behind ``geo/planning/optimise/__init__.py`` ("Why the elementary gap stays
above 1 %"). On Fairfax elementary it solves the LP relaxation of the assignment model, then,
round by round, finds violated separator inequalities and re-solves with them added:

for a column ``x[u, s]`` (unit ``u`` in school ``s``'s zone) and any set ``C`` of columns of ``s``
that every chain of earlier neighbours from ``u`` to a root of ``s`` passes through,
``x[u, s] <= sum(x[c, s] for c in C)`` holds for every plan the model allows (a unit joins a zone
only through an earlier neighbour in it, and chains end at a root). The most violated ``C`` is a
minimum vertex cut, found by max-flow with the LP values as vertex capacities on the chain graph
(all of ``u``'s ancestors, zeros included, so the cut is valid for every plan, not just the LP's).
Columns whose widest chain already carries their value are skipped: no cut can be violated there.
"""

from __future__ import annotations

import argparse
import time

import highspy
import numpy as np
from numpy.typing import NDArray
from scipy import sparse
from scipy.sparse.csgraph import breadth_first_order, maximum_flow

from bench.fairfax import load_fairfax
from geo.planning.optimise import OptimiseOptions, prepare, unit_adjacency
from geo.planning.optimise.highs import _highs
from geo.planning.optimise.model import Model

_SCALE = 10_000  # max-flow wants integer capacities
_BIG = 10**8


def chain_graph(model: Model) -> sparse.csr_matrix:
    """Row ``c``: the earlier-neighbour columns that can carry ``c`` (columns that may be 1)."""
    rep, q = model.support
    alive = model.col_hi[: model.n_pairs] > 0
    keep = alive[rep] & alive[q]
    n = model.n_pairs
    return sparse.csr_matrix((np.ones(int(keep.sum())), (rep[keep], q[keep])), shape=(n, n))


def widest(graph: sparse.csr_matrix, root: NDArray[np.bool_], x: NDArray[np.float64]) -> NDArray[np.float64]:
    """Per column, the largest bottleneck value over chains to a root (at most its own value)."""
    w = np.where(root, x, 0.0)
    g = graph.copy()
    for _ in range(5_000):
        g.data = w[g.indices]
        best = np.asarray(g.max(axis=1).todense()).ravel()
        new = np.where(root, x, np.minimum(x, best))
        if np.allclose(new, w):
            return new
        w = new
    return w


def min_separator(graph: sparse.csr_matrix, root: NDArray[np.bool_], x: NDArray[np.float64], c: int) -> list[int] | None:
    """The minimum vertex cut between ``c`` and the roots when it is below ``x[c]``, else None."""
    nodes = [int(v) for v in breadth_first_order(graph, c, directed=True, return_predecessors=False)][1:]
    pos = {v: k for k, v in enumerate(nodes)}
    source, sink = 2 * len(nodes), 2 * len(nodes) + 1  # node k: in 2k, out 2k+1
    arcs: list[tuple[int, int, int]] = []
    for v in nodes:
        k = pos[v]
        arcs.append((2 * k, 2 * k + 1, int(x[v] * _SCALE)))
        if root[v]:
            arcs.append((source, 2 * k, _BIG))
    for v in [c, *nodes]:
        for q in graph.indices[graph.indptr[v]: graph.indptr[v + 1]]:
            if int(q) in pos:
                arcs.append((2 * pos[int(q)] + 1, sink if v == c else 2 * pos[v], _BIG))
    n = 2 * len(nodes) + 2
    a = np.array(arcs, dtype=np.int64)
    g = sparse.csr_matrix((a[:, 2].astype(np.int32), (a[:, 0], a[:, 1])), shape=(n, n))
    flow = maximum_flow(g, source, sink)
    if flow.flow_value >= (x[c] - 0.005) * _SCALE:
        return None
    f = flow.flow.tocsr()
    residual = (g - f) + f.T.multiply(f.T > 0)
    residual.data = (residual.data > 0).astype(np.int8)
    residual.eliminate_zeros()
    reached = np.zeros(n, dtype=bool)
    reached[breadth_first_order(residual, source, directed=True, return_predecessors=False)] = True
    return [v for v in nodes if reached[2 * pos[v]] and not reached[2 * pos[v] + 1]]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=10)
    args = ap.parse_args()
    es = load_fairfax("elementary")
    opt = OptimiseOptions(level="elementary", capacity="soft", time_limit_s=600, gap=0.01)
    model = prepare(es.units, es.schools, start=es.start, options=opt, adjacency=unit_adjacency(es.units)).model
    graph, root = chain_graph(model), model.root
    h = _highs(model, time_limit_s=600, gap=0.0, threads=2, seed=0, col_lo=None, col_hi=None, relax=True)
    t = time.perf_counter()
    h.run()
    print(f"LP bound {h.getInfo().objective_function_value:,.1f} in {time.perf_counter() - t:.1f} s")
    total = 0
    for k in range(args.rounds):
        t = time.perf_counter()
        x = np.asarray(h.getSolution().col_value, dtype=float)[: model.n_pairs]
        short = np.flatnonzero((x - widest(graph, root, x) > 0.005) & ~root)
        cuts = [(int(c), cut) for c in short if (cut := min_separator(graph, root, x, int(c))) is not None]
        if not cuts:
            print(f"round {k}: {short.size} columns checked, no violated separator")
            break
        for c, cut in cuts:
            idx = np.array([c, *cut], dtype=np.int32)
            h.addRow(-highspy.kHighsInf, 0.0, idx.size, idx, np.array([1.0] + [-1.0] * len(cut)))
        total += len(cuts)
        h.run()
        print(f"round {k}: {short.size} columns checked, {len(cuts)} cuts ({total} in all), "
              f"bound {h.getInfo().objective_function_value:,.1f}, {time.perf_counter() - t:.1f} s")


if __name__ == "__main__":
    main()
