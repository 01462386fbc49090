"""Capacity repair by ejection chains: route a full school's overflow through neighbouring zones.

Single-unit moves (``local.py``) stall when every school next to an over-full one is itself
full: moving a unit across only moves the overflow. An ejection chain moves one boundary unit
from the over-full school ``A`` to a neighbour ``B``, one from ``B`` to ``C``, ... until a school
``Z`` with spare seats takes the last one. The chain is a shortest path (in hops) from ``A`` to
a school with seats left in the graph of schools joined by a valid single move; along it each
step picks the cheapest unit that sends on at least what the step received (else the largest).
Every move is checked against the model's contiguity rows at the moment it is made (the unit
joins through an earlier neighbour already in its new school, and no unit it held up is left
without support), so the plan stays a valid warm start. A chain that does not lower the
weighted objective is undone and its first hop is not tried again for that school.
"""

from __future__ import annotations

import time
from collections import deque
from itertools import pairwise

import numpy as np
from numpy.typing import NDArray

from geo.planning.optimise.model import Model


class _State:
    """The plan as one column per unit, with loads and contiguity support counts kept current."""

    def __init__(self, model: Model, v: NDArray[np.float64]) -> None:
        self.m = model
        n_p = model.n_pairs
        self.x = v[:n_p] > 0.5
        self.col = np.full(model.n_units, -1, dtype=np.intp)
        self.col[model.pair_u[self.x]] = np.flatnonzero(self.x)
        self.head, self.supp = model.support
        order = np.argsort(self.supp, kind="stable")
        self.by_supp = order
        self.supp_start = np.searchsorted(self.supp[order], np.arange(n_p + 1))
        self.count = np.bincount(self.head[self.x[self.supp]], minlength=n_p)
        self.load = np.bincount(model.pair_s[self.x], weights=model.demand[model.pair_u[self.x]],
                                minlength=len(model.schools)).astype(float)
        fixed = np.zeros(model.n_units, dtype=bool)
        fixed[model.pair_u[model.col_lo[:n_p] > 0]] = True
        self.usable = (model.col_hi[:n_p] > 0) & ~fixed[model.pair_u]
        n_s = len(model.schools)
        self.w_over = np.zeros(n_s)
        self.w_over[model.over_s] = model.cost[n_p: n_p + model.over_s.size]
        self.lim = np.where(np.isfinite(model.limit), model.limit, np.inf)

    def heads_of(self, c: int) -> NDArray[np.intp]:
        return self.head[self.by_supp[self.supp_start[c]: self.supp_start[c + 1]]]

    def valid(self, b: int) -> bool:
        """Whether unit ``pair_u[b]`` may move to column ``b`` now."""
        m = self.m
        u = int(m.pair_u[b])
        a = int(self.col[u])
        if self.x[b] or not self.usable[b] or a == b or not (m.root[b] or self.count[b] > 0):
            return False
        hs = self.heads_of(a)
        return not bool(np.any(self.x[hs] & (self.count[hs] < 2) & ~m.root[hs]))

    def move(self, b: int) -> int:
        """Move ``pair_u[b]`` to column ``b`` (unchecked); returns the column it left."""
        m = self.m
        u = int(m.pair_u[b])
        a = int(self.col[u])
        self.x[a], self.x[b] = False, True
        self.col[u] = b
        self.count[self.heads_of(a)] -= 1
        self.count[self.heads_of(b)] += 1
        self.load[m.pair_s[a]] -= m.demand[u]
        self.load[m.pair_s[b]] += m.demand[u]
        return a

    def objective(self) -> float:
        over = np.where(np.isfinite(self.lim), np.maximum(0.0, self.load - np.where(np.isfinite(self.lim), self.lim, 0)), 0)
        return float(self.m.cost[: self.m.n_pairs] @ self.x + self.w_over @ over)

    def moves(self) -> NDArray[np.intp]:
        """Every column a unit could move to now (vectorised :meth:`valid`)."""
        m = self.m
        h, s = self.head, self.supp
        blocked = self.x[h] & self.x[s] & (self.count[h] < 2) & ~m.root[h]
        stuck = np.zeros(m.n_pairs, dtype=bool)
        stuck[s[blocked]] = True
        ok = self.usable & ~self.x & ~stuck[self.col[m.pair_u]] & ((self.count > 0) | m.root) & (m.demand[m.pair_u] > 0)
        return np.flatnonzero(ok)


def _path(st: _State, source: int, banned: set[tuple[int, int]], max_hops: int = 8) -> list[int] | None:
    """Schools from ``source`` to a school with seats left (nearest in hops among those with room
    for a unit's worth of the overflow, else the nearest with any), or None; ``banned`` holds
    (first hop, target) pairs already tried."""
    m = st.m
    cand = st.moves()
    frm = m.pair_s[st.col[m.pair_u[cand]]]
    to = m.pair_s[cand]
    nxt: dict[int, set[int]] = {}
    for a, b in set(zip(frm.tolist(), to.tolist(), strict=True)):
        nxt.setdefault(a, set()).add(b)
    spare = st.lim - st.load
    want = min(float(st.load[source] - st.lim[source]), 10.0)
    best: tuple[tuple[bool, int, float], list[int]] | None = None
    paths = {source: [source]}
    queue = deque([source])
    while queue:
        s = queue.popleft()
        if len(paths[s]) > max_hops:
            break
        for t in sorted(nxt.get(s, ())):
            if t in paths:
                continue
            paths[t] = [*paths[s], t]
            if spare[t] > 1e-6 and (paths[t][1], t) not in banned:
                key = (bool(spare[t] < want), len(paths[t]), -float(spare[t]))
                if best is None or key < best[0]:
                    best = (key, paths[t])
            queue.append(t)
    return None if best is None else best[1]


def _step(st: _State, a: int, b: int, need: float, room: float | None) -> int | None:
    """A valid move of a unit of ``a`` to ``b``: on the way, the cheapest carrying at least
    ``need`` pupils (else the largest); into the last school (``room`` seats left), the one
    leaving least overflow at either end. None when there is none."""
    m = st.m
    cols = np.flatnonzero((m.pair_s == b) & ~st.x & st.usable)
    cols = cols[(m.pair_s[st.col[m.pair_u[cols]]] == a) & (m.demand[m.pair_u[cols]] > 0)]
    cols = np.array([c for c in cols.tolist() if st.valid(c)], dtype=np.intp)
    if not cols.size:
        return None
    d = m.demand[m.pair_u[cols]]
    delta = m.cost[cols] - m.cost[st.col[m.pair_u[cols]]]
    if room is not None:
        w = float(st.w_over[a] or 1000.0)
        return int(cols[int(np.argmin(w * (np.maximum(0.0, need - d) + np.maximum(0.0, d - room)) + delta))])
    enough = d >= need - 1e-9
    if enough.any():
        return int(cols[enough][np.lexsort((delta[enough], d[enough]))[0]])
    return int(cols[int(np.argmax(d))])


def eject(model: Model, v: NDArray[np.float64], *, time_limit_s: float, max_chains: int = 2_000) -> NDArray[np.float64]:
    """A plan at least as good as ``v`` (a full column vector satisfying the model), with
    overflow routed along ejection chains where that lowers the objective."""
    if not model.contiguity_rows or model.nest.shape[0] or model.open_s.size or not model.over_s.size:
        return v
    started = time.perf_counter()
    st = _State(model, v)
    if (st.col < 0).any():
        return v
    banned: dict[int, set[tuple[int, int]]] = {}
    given_up: set[int] = set()
    for _ in range(max_chains):
        if time.perf_counter() - started > time_limit_s:
            break
        excess = st.load - st.lim
        hot = [int(k) for k in np.argsort(-excess) if excess[k] > 1e-6 and int(k) not in given_up]
        if not hot:
            break
        source = hot[0]
        path = _path(st, source, banned.get(source, set()))
        if path is None:
            given_up.add(source)
            continue
        before = st.objective()
        start_load = st.load.copy()
        done: list[int] = []
        for i, (a, b) in enumerate(pairwise(path)):
            # the source sheds its overflow; a school on the way passes on what it was given
            need = st.load[a] - (st.lim[a] if i == 0 else max(st.lim[a], start_load[a]))
            if need <= 1e-6:
                break
            last = i == len(path) - 2
            c = _step(st, a, b, need, float(st.lim[b] - st.load[b]) if last else None)
            if c is None:
                break
            done.append(st.move(c))
        if st.objective() < before - 1e-9:
            banned.clear()
            given_up.clear()
            continue
        for old in reversed(done):
            st.move(old)
        banned.setdefault(source, set()).add((path[1], path[-1]))
    out = v.copy()
    n_p = model.n_pairs
    out[:n_p] = st.x.astype(float)
    n_o = model.over_s.size
    out[n_p: n_p + n_o] = np.maximum(0.0, st.load[model.over_s] - model.limit[model.over_s])
    return out
