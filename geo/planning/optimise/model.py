"""The assignment MIP as plain arrays: variables, rows, bounds and one cost vector per term.

Variables: ``x[u, s]`` (binary) for each unit ``u`` and candidate school ``s``, then one overflow
``o[s]`` (pupils above the capacity limit, continuous, >= 0) per capacitated school, then
``y[s]`` (binary, "opened") per planned school, then ``z[s, m]`` (binary) for nesting.

Rows: every unit to exactly one school; demand minus overflow within the limit; contiguity; the
planned-school links; nesting. Contiguity is the ordered-neighbour condition: ``u`` may join ``s``
only if a neighbour ``v`` of ``u`` that comes earlier in an ordering of the units for ``s`` joins
``s`` too (``x[u,s] <= sum x[v,s]``); only the school's own unit (and the first unit of each
detached piece its zone already has today) needs no such neighbour. Following the chain of
earlier neighbours from any unit of a zone ends at one of those, so every zone is connected and
contains its school's unit. The ordering for ``s`` puts today's zone of ``s`` first (by
distance along the adjacency inside that zone) and every other unit after it (by distance along
the adjacency from the school's unit), so today's plan satisfies the rows and is a warm start.
The solver sees only arrays, so HiGHS and CP-SAT are fed the same model.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from numpy.typing import NDArray
from scipy import sparse
from scipy.sparse.csgraph import connected_components, dijkstra

from geo.models import School, SchoolStatus

_LATER = 1e15  # rank offset of units outside today's zone of the school


@dataclass(eq=False)
class Model:
    """Solver-neutral MIP: minimise ``cost @ v`` subject to ``row_lo <= A v <= row_hi``."""

    n_units: int
    schools: tuple[School, ...]          # candidate schools (open and planned), model order
    pair_u: NDArray[np.intp]             # x variables: unit position ...
    pair_s: NDArray[np.intp]             # ... and school position (columns 0 .. n_pairs-1)
    over_s: NDArray[np.intp]             # overflow columns: school position of each
    open_s: NDArray[np.intp]             # y columns: school position of each planned school
    nest: NDArray[np.intp]               # z columns: (school position, upper-school position)
    a: sparse.csr_matrix
    row_lo: NDArray[np.float64]
    row_hi: NDArray[np.float64]
    col_lo: NDArray[np.float64]
    col_hi: NDArray[np.float64]
    integer: NDArray[np.bool_]
    terms: dict[str, NDArray[np.float64]]  # objective term -> coefficient per column (unweighted)
    weights: dict[str, float]
    homes: NDArray[np.intp]              # home unit per school position
    contiguity_rows: int
    demand: NDArray[np.float64]          # pupils per unit
    limit: NDArray[np.float64]           # allowed demand per school position (inf: no capacity)
    pair_cost: NDArray[np.float64]       # travel cost of each x column, in ``cost_unit``
    cost_unit: str
    start: NDArray[np.intp]              # school position of each unit in the starting plan, -1 none
    upper: NDArray[np.intp]              # upper-level school of each unit for nesting, -1 none
    adjacency: sparse.csr_matrix         # unit adjacency (shared edges)
    support: tuple[NDArray[np.intp], NDArray[np.intp]]  # contiguity: (column, earlier-neighbour column)
    root: NDArray[np.bool_]              # x columns that need no earlier neighbour

    @property
    def n_pairs(self) -> int:
        return int(self.pair_u.size)

    @property
    def n_cols(self) -> int:
        return int(self.col_lo.size)

    @property
    def cost(self) -> NDArray[np.float64]:
        out = np.zeros(self.n_cols)
        for name, coef in self.terms.items():
            out += self.weights[name] * coef
        return out

    def column_of(self, unit: NDArray[np.intp], school: NDArray[np.intp]) -> NDArray[np.intp]:
        """Column of each (unit, school) pair; -1 where the pair is not a candidate."""
        n_s = len(self.schools)
        keys = self.pair_u.astype(np.int64) * n_s + self.pair_s
        want = unit.astype(np.int64) * n_s + school
        pos = np.searchsorted(keys, want)
        pos = np.minimum(pos, keys.size - 1)
        return np.where(keys[pos] == want, pos, -1).astype(np.intp)


class _Rows:
    """COO rows collected as arrays."""

    def __init__(self) -> None:
        self.r: list[NDArray[np.intp]] = []
        self.c: list[NDArray[np.intp]] = []
        self.v: list[NDArray[np.float64]] = []
        self.lo: list[NDArray[np.float64]] = []
        self.hi: list[NDArray[np.float64]] = []
        self.n = 0

    def add(self, row: NDArray[np.intp], col: NDArray[np.intp], val: NDArray[np.float64], n_rows: int,
            lo: NDArray[np.float64] | float, hi: NDArray[np.float64] | float) -> int:
        self.r.append(np.asarray(row, dtype=np.intp) + self.n)
        self.c.append(np.asarray(col, dtype=np.intp))
        self.v.append(np.asarray(val, dtype=float))
        self.lo.append(np.broadcast_to(np.asarray(lo, dtype=float), (n_rows,)).copy())
        self.hi.append(np.broadcast_to(np.asarray(hi, dtype=float), (n_rows,)).copy())
        first = self.n
        self.n += n_rows
        return first

    def matrix(self, n_cols: int) -> tuple[sparse.csr_matrix, NDArray[np.float64], NDArray[np.float64]]:
        a = sparse.csr_matrix((np.concatenate(self.v), (np.concatenate(self.r), np.concatenate(self.c))),
                              shape=(self.n, n_cols))
        a.sum_duplicates()
        return a, np.concatenate(self.lo), np.concatenate(self.hi)


def home_units(units_geoms: NDArray[np.object_], xy: NDArray[np.float64], schools: tuple[School, ...],
               start: NDArray[np.intp]) -> NDArray[np.intp]:
    """The unit each school's zone must contain: the unit under the school's point when today's plan
    gives it to that school (or the school has no zone today), else the school's nearest unit today.

    Two schools never share a home: a second school on the same unit takes its nearest unit today.
    """
    tree = shapely.STRtree(units_geoms)
    pts = shapely.points(np.array([[s.lon, s.lat] for s in schools], dtype=float))
    sidx, uidx = tree.query(pts, predicate="intersects")
    under = np.full(len(schools), -1, dtype=np.intp)
    under[sidx[::-1]] = uidx[::-1]  # first hit wins
    coslat = np.cos(np.radians(np.mean(xy[:, 1]))) if xy.size else 1.0
    homes = np.full(len(schools), -1, dtype=np.intp)
    taken: set[int] = set()
    for k, s in enumerate(schools):
        mine = np.flatnonzero(start == k)
        u = int(under[k])
        if u >= 0 and u not in taken and (start[u] == k or mine.size == 0):
            homes[k] = u
        else:
            pool = mine if mine.size else np.arange(start.size)
            pool = pool[np.array([int(m) not in taken for m in pool], dtype=bool)]
            d = ((xy[pool, 0] - s.lon) * coslat) ** 2 + (xy[pool, 1] - s.lat) ** 2
            homes[k] = int(pool[np.argmin(d)])
        taken.add(int(homes[k]))
    return homes


def _edge_lengths(adj: sparse.csr_matrix, xy: NDArray[np.float64]) -> sparse.csr_matrix:
    coo = adj.tocoo()
    coslat = np.cos(np.radians(np.mean(xy[:, 1]))) if xy.size else 1.0
    dx = (xy[coo.row, 0] - xy[coo.col, 0]) * coslat
    dy = xy[coo.row, 1] - xy[coo.col, 1]
    # metres on a local equirectangular plane: ordering only, so the approximation is harmless;
    # a floor keeps coincident points strictly ordered.
    w = np.hypot(dx, dy) * 111_320.0 + 1e-3
    return sparse.csr_matrix((w, (coo.row, coo.col)), shape=adj.shape)


def pair_ranks(adj: sparse.csr_matrix, xy: NDArray[np.float64], start: NDArray[np.intp], homes: NDArray[np.intp],
               pair_u: NDArray[np.intp], pair_s: NDArray[np.intp], cost: NDArray[np.float64]
               ) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
    """Rank of each (unit, school) pair in the school's ordering, and which pairs are roots."""
    n_u = adj.shape[0]
    w = _edge_lengths(adj, xy).tocoo()
    same = (start[w.row] == start[w.col]) & (start[w.row] >= 0)
    inside = sparse.csr_matrix((w.data[same], (w.row[same], w.col[same])), shape=(n_u, n_u))
    _, comp = connected_components(inside, directed=False)
    # Distances inside today's zones start from each school's unit (when its zone holds it).
    roots = {int(h) for k, h in enumerate(homes) if start[h] == k}
    home_comp = {int(comp[h]): k for k, h in enumerate(homes) if start[h] == k}
    root_pairs: set[tuple[int, int]] = {(int(h), k) for k, h in enumerate(homes)}
    # A piece of today's zone not joined to the school's unit keeps its first unit (the one
    # cheapest to reach the school) as a root, so today's detached pieces stay allowed.
    has_start = np.flatnonzero(start >= 0)
    order = has_start[np.lexsort((cost[has_start], comp[has_start]))]
    seen: set[int] = set()
    for u in order.tolist():
        c = int(comp[u])
        if c in seen:
            continue
        seen.add(c)
        if home_comp.get(c) != int(start[u]):
            roots.add(u)
            root_pairs.add((u, int(start[u])))
    d0 = dijkstra(inside, directed=False, indices=sorted(roots), min_only=True)
    d1 = dijkstra(w.tocsr(), directed=False, indices=homes)
    in_zone = start[pair_u] == pair_s
    rank = np.where(in_zone, d0[pair_u], _LATER + d1[pair_s, pair_u])
    is_root = np.array([(int(u), int(s)) in root_pairs for u, s in zip(pair_u, pair_s, strict=True)], dtype=bool)
    return rank, is_root


def contiguity(adj: sparse.csr_matrix, rank: NDArray[np.float64], is_root: NDArray[np.bool_], model_keys: NDArray[np.int64],
               pair_u: NDArray[np.intp], pair_s: NDArray[np.intp], n_s: int
               ) -> tuple[NDArray[np.intp], NDArray[np.intp], NDArray[np.intp]]:
    """For each non-root pair: its earlier neighbours' columns (as (pair, neighbour column) arrays)
    and the pairs that have none (they cannot be used)."""
    deg = np.diff(adj.indptr)[pair_u]
    rep = np.repeat(np.arange(pair_u.size), deg)
    offs = np.arange(rep.size) - np.repeat(np.cumsum(deg) - deg, deg)
    nbr = adj.indices[np.repeat(adj.indptr[pair_u], deg) + offs]
    want = nbr.astype(np.int64) * n_s + pair_s[rep]
    pos = np.minimum(np.searchsorted(model_keys, want), model_keys.size - 1)
    found = model_keys[pos] == want
    rep, q = rep[found], pos[found]
    earlier = rank[q] < rank[rep]
    rep, q = rep[earlier], q[earlier]
    rep_keep = ~is_root[rep]
    rep, q = rep[rep_keep], q[rep_keep]
    supported = np.zeros(pair_u.size, dtype=bool)
    supported[rep] = True
    isolated = deg == 0  # units with no neighbour (points, islands): exempt
    dead = np.flatnonzero(~supported & ~is_root & ~isolated)
    return rep.astype(np.intp), q.astype(np.intp), dead.astype(np.intp)


def active_schools(schools: list[School]) -> tuple[School, ...]:
    """Schools that may receive pupils: open and planned (closed ones get nothing)."""
    return tuple(s for s in schools if s.status is not SchoolStatus.CLOSED)
