"""Shortest paths between places and schools along a street network, cached.

Schools are snapped onto edges and become *virtual nodes* appended to the graph, joined to
both ends of their edge by the partial edge costs plus the snap leg. One multi-source
Dijkstra (scipy.sparse.csgraph, ``min_only=True``) then gives every node its nearest school;
one Dijkstra per school gives the schools x nodes matrix. A snapped point's cost is read off
the costs of its edge's two ends plus the partial edge and its own snap leg (and the direct
stretch when it shares an edge with a school), so any number of points costs no more searches.

Costs are in the network's unit: metres walking, seconds driving. ``direction="to_school"``
(the default) measures the trip from the place to the school, which matters on oneway streets.
Snap legs are walked at the network's metres, or driven at ``access_speed_kmh``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike, NDArray
from scipy.sparse.csgraph import dijkstra

from geo.errors import InvalidInput
from geo.models import School
from geo.network.cache import TravelCache, hash_arrays
from geo.network.graph import StreetNetwork, directed_graph
from geo.network.snap import DEFAULT_MAX_SNAP_M, SnappedPoints, snap_points

Direction = Literal["to_school", "from_school"]
T = TypeVar("T")
#: (node_a, cost_a, node_b, cost_b): how a position on an edge joins the edge's two ends.
Ends = tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.int64], NDArray[np.float64]]
_INF = np.inf


@dataclass(frozen=True, slots=True)
class NearestSchools:
    """Nearest school per node or point: ``school`` indexes the travel's schools, -1 if none."""

    school: NDArray[np.int64]
    cost: NDArray[np.float64]
    unit: str

    @property
    def reachable(self) -> NDArray[np.bool_]:
        return self.school >= 0


@dataclass(frozen=True, slots=True)
class TravelSummary:
    """Distribution of travel costs (weighted by pupils when weights are given)."""

    count: int
    reachable: int
    mean: float
    median: float
    p90: float
    share_within: float | None
    unit: str


def exits(net: StreetNetwork, edge: NDArray[np.int64], frac: NDArray[np.float64]) -> Ends:
    """Ways off positions on edges: (node_a, cost_a, node_b, cost_b) to reach each edge end.

    ``frac`` is the share of the edge from its u end; a cost is inf where the edge's direction
    forbids the move (oneway streets when driving).
    """
    w = net.edge_weight[edge]
    ca = np.where(net.edge_forward[edge], (1.0 - frac) * w, _INF)
    cb = np.where(net.edge_backward[edge], frac * w, _INF)
    return net.edge_v[edge].astype(np.int64), ca, net.edge_u[edge].astype(np.int64), cb


def entries(net: StreetNetwork, edge: NDArray[np.int64], frac: NDArray[np.float64]) -> Ends:
    """Ways onto positions on edges: (node_a, cost_a, node_b, cost_b) from each edge end."""
    w = net.edge_weight[edge]
    ca = np.where(net.edge_forward[edge], frac * w, _INF)
    cb = np.where(net.edge_backward[edge], (1.0 - frac) * w, _INF)
    return net.edge_u[edge].astype(np.int64), ca, net.edge_v[edge].astype(np.int64), cb


class SchoolTravel:
    """Travel costs between places and one set of schools on one network.

    Parameters
    ----------
    network
        The street network; costs are in its unit (``network.unit``).
    lons, lats
        School locations, EPSG:4326.
    codes
        School codes, one per location (defaults to ``"0"``, ``"1"`` ...).
    max_snap_m
        Schools (and points snapped through :meth:`snap`) farther than this from any street
        are not routed; see :attr:`unsnapped`.
    direction
        ``"to_school"``: cost of the trip from a place to the school; ``"from_school"``: back.
    access_speed_kmh
        Speed of the snap leg when driving (the leg is in metres when walking).
    cache
        Shared :class:`TravelCache`; a private one is used when None.
    """

    def __init__(self, network: StreetNetwork, lons: ArrayLike, lats: ArrayLike, *, codes: Sequence[str] | None = None,
                 max_snap_m: float = DEFAULT_MAX_SNAP_M, direction: Direction = "to_school",
                 access_speed_kmh: float = 20.0, cache: TravelCache | None = None) -> None:
        if direction not in ("to_school", "from_school"):
            msg = f"direction must be 'to_school' or 'from_school', not {direction!r}"
            raise InvalidInput(msg, where="direction")
        self.network = network
        self.direction: Direction = direction
        self.max_snap_m = float(max_snap_m)
        self.access_speed_kmh = float(access_speed_kmh)
        self.schools = snap_points(network, lons, lats, max_snap_m=max_snap_m)
        n = len(self.schools)
        self.codes: tuple[str, ...] = tuple(codes) if codes is not None else tuple(str(i) for i in range(n))
        if len(self.codes) != n:
            msg = f"{len(self.codes)} codes for {n} schools"
            raise InvalidInput(msg, where="codes")
        self.cache = cache if cache is not None else TravelCache()
        self.key = hash_arrays(network.key, self.schools.lon, self.schools.lat, self.codes, self.max_snap_m,
                                direction, self.access_speed_kmh)
        self._school_cost = self.snap_cost(self.schools)

    @classmethod
    def from_schools(cls, network: StreetNetwork, schools: Sequence[School], **options: Any) -> SchoolTravel:
        """Travel to :class:`~geo.models.School` objects (in the given order)."""
        return cls(network, [s.lon for s in schools], [s.lat for s in schools],
                   codes=[s.code for s in schools], **options)

    @property
    def n_schools(self) -> int:
        return len(self.schools)

    @property
    def unit(self) -> str:
        return self.network.unit

    @property
    def unsnapped(self) -> tuple[str, ...]:
        """Codes of schools too far from any street to be routed (their costs are inf)."""
        return tuple(c for c, far in zip(self.codes, self.schools.too_far, strict=True) if far)

    def snap(self, lons: ArrayLike, lats: ArrayLike) -> SnappedPoints:
        """Snap places (addresses, demand units) with this travel's ``max_snap_m``."""
        return snap_points(self.network, lons, lats, max_snap_m=self.max_snap_m)

    def snap_cost(self, snapped: SnappedPoints) -> NDArray[np.float64]:
        """Cost of each snap leg in the network's unit; inf for points flagged ``too_far``."""
        leg = snapped.snap_m if self.network.mode == "walk" else snapped.snap_m / (self.access_speed_kmh / 3.6)
        return np.where(snapped.too_far, _INF, leg)

    def _cached(self, op: str, compute: Callable[[], T], *params: object) -> T:
        return self.cache.get_or_compute((self.network.key, self.key, op, *params), lambda: _frozen(compute()))

    # -- graph with schools as virtual nodes ------------------------------------------------
    @property
    def graph(self) -> sp.csr_matrix:
        """(N + S) x (N + S) graph; node N + i is school i. Reversed when ``direction="to_school"``."""
        return self._cached("graph", self._build_graph)

    def _build_graph(self) -> sp.csr_matrix:
        net, s = self.network, self.schools
        n = net.n_nodes
        # A source arc virtual -> x means "x is joined to the school" in the searched direction.
        a, ca, b, cb = (entries if self.direction == "to_school" else exits)(net, s.edge, s.fraction)
        virt = n + np.arange(self.n_schools, dtype=np.int64)
        rows = np.concatenate([virt, virt])
        cols = np.concatenate([a, b])
        w = np.concatenate([ca, cb]) + np.tile(self._school_cost, 2)
        ok = np.isfinite(w)
        extra = (rows[ok], cols[ok], w[ok])
        if self.direction == "to_school":  # search the reversed graph: cost *to* the sources
            return directed_graph(n, net.edge_v, net.edge_u, net.edge_weight, net.edge_forward, net.edge_backward,
                                  extra=extra, size=n + self.n_schools)
        return directed_graph(n, net.edge_u, net.edge_v, net.edge_weight, net.edge_forward, net.edge_backward,
                              extra=extra, size=n + self.n_schools)

    # -- per node ---------------------------------------------------------------------------
    def node_nearest(self, *, limit: float = _INF) -> NearestSchools:
        """Nearest school of every network node (one multi-source Dijkstra, ``min_only``)."""
        return self._cached("node_nearest", lambda: self._node_nearest(limit), float(limit))

    def _node_nearest(self, limit: float) -> NearestSchools:
        n = self.network.n_nodes
        if self.n_schools == 0:
            return NearestSchools(np.full(n, -1, dtype=np.int64), np.full(n, _INF), self.unit)
        dist, _, src = dijkstra(self.graph, indices=n + np.arange(self.n_schools), min_only=True,
                                limit=limit, return_predecessors=True)
        school = np.where(src >= n, src - n, -1).astype(np.int64)[:n]
        return NearestSchools(school, np.asarray(dist[:n], dtype=float), self.unit)

    def node_matrix(self, *, limit: float = _INF) -> NDArray[np.float64]:
        """Schools x nodes matrix of costs (inf beyond ``limit`` or unreachable)."""
        return self._cached("node_matrix", lambda: self._node_matrix(limit), float(limit))

    def _node_matrix(self, limit: float) -> NDArray[np.float64]:
        n = self.network.n_nodes
        if self.n_schools == 0:
            return np.empty((0, n))
        dist = dijkstra(self.graph, indices=n + np.arange(self.n_schools), limit=limit)
        return np.ascontiguousarray(np.asarray(dist, dtype=float)[:, :n])

    def school_costs(self, school: int, *, limit: float = _INF) -> NDArray[np.float64]:
        """Cost between one school and every node (one bounded Dijkstra), for radii and walk-sheds."""
        def run() -> NDArray[np.float64]:
            d = dijkstra(self.graph, indices=self.network.n_nodes + int(school), limit=limit)
            return np.asarray(d, dtype=float)[: self.network.n_nodes]
        return self._cached("school_costs", run, int(school), float(limit))

    # -- per place -------------------------------------------------------------------------
    def _check(self, pts: SnappedPoints) -> SnappedPoints:
        if pts.network_key != self.network.key:
            msg = "places were snapped onto another street network; snap them with travel.snap()"
            raise InvalidInput(msg, where="points")
        return pts

    def _ends(self, pts: SnappedPoints) -> Ends:
        """(node_a, cost_a, node_b, cost_b) joining each place to the graph, snap leg included."""
        self._check(pts)
        a, ca, b, cb = (exits if self.direction == "to_school" else entries)(self.network, pts.edge, pts.fraction)
        leg = self.snap_cost(pts)
        return a, ca + leg, b, cb + leg

    def _direct(self, pts: SnappedPoints) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64]]:
        """(school, point, cost) for places on the same edge as a school, going straight along it."""
        self._check(pts)
        s = self.schools
        order = np.argsort(s.edge, kind="stable")
        lo = np.searchsorted(s.edge[order], pts.edge, side="left")
        hi = np.searchsorted(s.edge[order], pts.edge, side="right")
        cnt = hi - lo
        if not cnt.any():
            empty = np.empty(0, dtype=np.int64)
            return empty, empty, np.empty(0)
        p = np.repeat(np.arange(len(pts)), cnt)
        si = order[np.repeat(lo, cnt) + (np.arange(int(cnt.sum())) - np.repeat(np.cumsum(cnt) - cnt, cnt))]
        e = pts.edge[p]
        # Moving "forward" means from the trip's start towards its end along u -> v.
        start, end = (pts.fraction[p], s.fraction[si]) if self.direction == "to_school" else (s.fraction[si], pts.fraction[p])
        net = self.network
        ok = np.where(end >= start, net.edge_forward[e], net.edge_backward[e])
        cost = np.where(ok, np.abs(end - start) * net.edge_weight[e], _INF)
        cost = cost + self.snap_cost(pts)[p] + self._school_cost[si]
        return si.astype(np.int64), p.astype(np.int64), cost

    def point_matrix(self, pts: SnappedPoints, *, limit: float = _INF) -> NDArray[np.float64]:
        """Schools x places matrix of costs (inf beyond ``limit``, unreachable or too far)."""
        return self._cached("point_matrix", lambda: self._point_matrix(pts, limit), _points_key(pts), float(limit))

    def _point_matrix(self, pts: SnappedPoints, limit: float) -> NDArray[np.float64]:
        m = self.node_matrix(limit=limit)
        a, ca, b, cb = self._ends(pts)
        out = np.minimum(m[:, a] + ca, m[:, b] + cb)
        si, p, c = self._direct(pts)
        np.minimum.at(out, (si, p), c)
        out[out > limit] = _INF
        return out

    def point_nearest(self, pts: SnappedPoints, *, limit: float = _INF) -> NearestSchools:
        """Nearest school of each place, from the multi-source search (no matrix needed)."""
        return self._cached("point_nearest", lambda: self._point_nearest(pts, limit), _points_key(pts), float(limit))

    def _point_nearest(self, pts: SnappedPoints, limit: float) -> NearestSchools:
        near = self.node_nearest(limit=limit)
        a, ca, b, cb = self._ends(pts)
        via_a, via_b = near.cost[a] + ca, near.cost[b] + cb
        cost = np.minimum(via_a, via_b)
        school = np.where(via_a <= via_b, near.school[a], near.school[b])
        si, p, c = self._direct(pts)
        for k in np.argsort(c):  # few places share an edge with a school
            if c[k] < cost[p[k]]:
                cost[p[k]], school[p[k]] = c[k], si[k]
        none = ~np.isfinite(cost) | (cost > limit)
        return NearestSchools(np.where(none, -1, school), np.where(none, _INF, cost), self.unit)

    def point_top_k(self, pts: SnappedPoints, *, k: int, limit: float = _INF) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
        """The ``k`` cheapest schools per place: (school indices, costs), each places x k.

        Missing entries (fewer than ``k`` schools in reach) are -1 and inf.
        """
        m = self.point_matrix(pts, limit=limit)
        k = max(0, min(int(k), self.n_schools))
        order = np.argsort(m, axis=0, kind="stable")[:k].T
        cost = np.take_along_axis(m.T, order, axis=1)
        return np.where(np.isfinite(cost), order, -1).astype(np.int64), cost

    def point_assigned(self, pts: SnappedPoints, assigned: ArrayLike, *, limit: float = _INF) -> NDArray[np.float64]:
        """Cost from each place to its assigned school (index into the schools; -1 = none -> inf)."""
        idx = np.asarray(assigned, dtype=np.int64)
        if idx.shape != (len(pts),) or ((idx < -1) | (idx >= self.n_schools)).any():
            msg = f"assigned must hold one school index in -1..{self.n_schools - 1} per place"
            raise InvalidInput(msg, where="assigned")

        def run() -> NDArray[np.float64]:
            m = self.point_matrix(pts, limit=limit)
            return np.where(idx >= 0, m[np.maximum(idx, 0), np.arange(idx.size)], _INF)
        return self._cached("point_assigned", run, _points_key(pts), hash_arrays(idx), float(limit))

    def from_place(self, lon: float, lat: float) -> tuple[NDArray[np.float64], SnappedPoints]:
        """Cost between one place and every school (the lookup's ``walk_m`` / ``drive_s``).

        Reads the cached schools x nodes matrix: after the first call a lookup costs one snap
        and a few array reads, but the matrix holds 8 x schools x nodes bytes. For many schools
        on a large network use :meth:`search_from_place`.
        """
        pts = self.snap([lon], [lat])
        return self._point_matrix(pts, _INF)[:, 0], pts

    def search_from_place(self, lon: float, lat: float, *, limit: float = _INF) -> tuple[NDArray[np.float64], SnappedPoints]:
        """Like :meth:`from_place`, by a (bounded) search from the place instead of the matrix.

        Two Dijkstra runs from the ends of the place's edge over the graph with the schools as
        targets; ``limit`` (network unit) stops them early, schools beyond it are inf.
        """
        pts = self.snap([lon], [lat])
        a, ca, b, cb = self._ends(pts)
        # The transpose of the search graph runs the other way: from places to the schools.
        graph_t = self._cached("graph_t", lambda: self.graph.T.tocsr())
        n = self.network.n_nodes
        d = np.asarray(dijkstra(graph_t, indices=[int(a[0]), int(b[0])], limit=limit), dtype=float)[:, n:]
        out = np.minimum(d[0] + ca[0], d[1] + cb[0])
        si, _, c = self._direct(pts)
        np.minimum.at(out, si, c)
        out[out > limit] = _INF
        return out, pts


def _frozen(value: T) -> T:
    """Make cached arrays read-only: every caller shares them."""
    arrays = [value] if isinstance(value, np.ndarray) else [value.school, value.cost] if isinstance(value, NearestSchools) else []
    for a in arrays:
        a.flags.writeable = False
    return value


def _points_key(pts: SnappedPoints) -> str:
    return hash_arrays(pts.network_key, pts.lon, pts.lat, pts.max_snap_m)


def summarise_costs(cost: ArrayLike, *, weights: ArrayLike | None = None, within: float | None = None,
                    unit: str = "m") -> TravelSummary:
    """Mean, median, 90th percentile and share within ``within`` of finite costs.

    Parameters
    ----------
    cost
        Costs per place (inf = unreachable; those count in ``share_within`` as outside).
    weights
        Pupils per place; the statistics are then per pupil.
    within
        A service radius in the same unit; None leaves ``share_within`` None.
    unit
        Unit label carried into the summary.
    """
    c = np.asarray(cost, dtype=float)
    w = np.ones_like(c) if weights is None else np.asarray(weights, dtype=float)
    ok = np.isfinite(c) & (w > 0)
    total = float(w[w > 0].sum())
    share = None if within is None or total == 0 else float(w[ok & (c <= within)].sum() / total)
    if not ok.any():
        return TravelSummary(int(c.size), 0, float("nan"), float("nan"), float("nan"), share, unit)
    cs, ws = c[ok], w[ok]
    order = np.argsort(cs)
    cs, cum = cs[order], np.cumsum(ws[order])

    def quantile(q: float) -> float:
        return float(cs[min(int(np.searchsorted(cum, q * cum[-1], side="left")), cs.size - 1)])
    return TravelSummary(int(c.size), int(ok.sum()), float(np.average(cs, weights=ws[order])),
                         quantile(0.5), quantile(0.9), share, unit)
