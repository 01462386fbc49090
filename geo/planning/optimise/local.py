"""Steepest-descent repair: move one unit at a time to the school that lowers the objective most.

Branch and cut finds a good first plan slowly on this model (capacity spread over thousands of
fractional units), so the search starts from a plan this module makes in a second or two: from
the warm start, repeatedly apply the single-unit move with the largest drop in the weighted
objective (overflow counts with its weight, so relieving a full school comes first), keeping
every row of the model true. A move of unit ``u`` from column ``a`` to ``b`` is allowed when
``b`` is usable, ``u`` is neither locked nor a school's own unit, ``b`` has an earlier neighbour
already in its school (or needs none), and every unit that ``a`` holds up has another support.
The result satisfies the MIP, so it is a valid warm start for HiGHS.
"""

from __future__ import annotations

import time

import numpy as np
from numpy.typing import NDArray

from geo.planning.optimise.model import Model


def improve(model: Model, v: NDArray[np.float64], *, time_limit_s: float, max_moves: int = 20_000) -> NDArray[np.float64]:
    """A plan at least as good as ``v`` (a full column vector satisfying the model)."""
    if model.nest.shape[0] or (model.open_s.size and not model.contiguity_rows):
        return v  # nesting and planned schools without contiguity need rows this repair does not track
    started = time.perf_counter()
    n_p = model.n_pairs
    cost = model.cost
    pc = cost[:n_p]
    x = v[:n_p] > 0.5
    pu, ps, d = model.pair_u, model.pair_s, model.demand
    col_of_unit = np.full(model.n_units, -1, dtype=np.intp)
    col_of_unit[pu[x]] = np.flatnonzero(x)
    if (col_of_unit < 0).any():
        return v
    head, supp = model.support
    n_s = len(model.schools)
    limit = model.limit
    w_over = np.zeros(n_s)
    w_over[model.over_s] = cost[n_p: n_p + model.over_s.size]
    capped = np.isfinite(limit)
    lim = np.where(capped, limit, 0.0)
    load = np.bincount(ps[x], weights=d[pu[x]], minlength=n_s).astype(float)
    count = np.bincount(head[x[supp]], minlength=n_p)
    fixed_unit = np.zeros(model.n_units, dtype=bool)
    fixed_unit[pu[model.col_lo[:n_p] > 0]] = True
    usable = (model.col_hi[:n_p] > 0) & ~fixed_unit[pu]
    blocked_edges = np.zeros(head.size, dtype=bool)
    for _ in range(max_moves):
        if time.perf_counter() - started > time_limit_s:
            break
        # a column in use cannot be left if some unit it holds up has no other support
        blocked_edges = x[head] & x[supp] & (count[head] < 2) & ~model.root[head]
        stuck = np.zeros(n_p, dtype=bool)
        stuck[supp[blocked_edges]] = True
        a = col_of_unit[pu]
        ok = usable & ~x & ~stuck[a] & ((count > 0) | model.root)
        cand = np.flatnonzero(ok)
        if not cand.size:
            break
        a = a[cand]
        s_from, s_to, du = ps[a], ps[cand], d[pu[cand]]

        def over(s: NDArray[np.intp], ld: NDArray[np.float64]) -> NDArray[np.float64]:
            return np.where(capped[s], np.maximum(0.0, ld - lim[s]), 0.0) * w_over[s]

        delta = (pc[cand] - pc[a] + over(s_from, load[s_from] - du) - over(s_from, load[s_from])
                 + over(s_to, load[s_to] + du) - over(s_to, load[s_to]))
        k = int(np.argmin(delta))
        if delta[k] >= -1e-9:
            break
        b, old = int(cand[k]), int(a[k])
        u = int(pu[b])
        x[old], x[b] = False, True
        col_of_unit[u] = b
        load[ps[old]] -= d[u]
        load[ps[b]] += d[u]
        np.subtract.at(count, head[supp == old], 1)
        np.add.at(count, head[supp == b], 1)
    out = np.zeros_like(v)
    out[np.flatnonzero(x)] = 1.0
    out[n_p:] = v[n_p:]
    n_o = model.over_s.size
    out[n_p: n_p + n_o] = np.maximum(0.0, load[model.over_s] - limit[model.over_s])
    c_open = n_p + n_o
    used = np.bincount(ps[x], minlength=n_s) > 0
    out[c_open: c_open + model.open_s.size] = used[model.open_s].astype(float)
    return out


#: Rounds of moving cut-off units to a neighbour's school before reverting them to the starting plan.
_REROUTE_ROUNDS = 50


def repair(model: Model, v: NDArray[np.float64]) -> NDArray[np.float64]:
    """Move units whose column breaks contiguity until none does.

    A warm start with locks forced onto it (or an old proposal under new rows) can leave units
    cut off from their school. A cut-off unit goes to the cheapest school a neighbour of it
    already joins (so that school's zone stays connected); with none, or after
    ``_REROUTE_ROUNDS`` rounds, back to its starting school. The starting plan satisfies every
    contiguity row, so reverting ends in a valid plan. Locked units and schools' own units are
    not moved; a locked unit cut off brings back the neighbours that held it up in the starting
    plan. Reverting alone (the first version) undid most of a proposal after ten locks on
    Fairfax: the cascade of reverts put about 1,500 pupils back over capacity.
    """
    n_p = model.n_pairs
    if not model.contiguity_rows:
        return v
    x = v[:n_p] > 0.5
    head, supp = model.support
    start_col = model.column_of(np.arange(model.n_units), model.start)
    pinned = np.zeros(model.n_units, dtype=bool)
    pinned[model.pair_u[model.col_lo[:n_p] > 0]] = True
    cost = model.cost[:n_p]
    usable = model.col_hi[:n_p] > 0
    for round_ in range(model.n_units):
        count = np.bincount(head[x[supp]], minlength=n_p)
        cut = np.flatnonzero(x & ~model.root & (count == 0))
        units = model.pair_u[cut]
        if round_ < _REROUTE_ROUNDS and cut.size:
            cut_mask = np.zeros(n_p, dtype=bool)
            cut_mask[cut] = True
            held = np.bincount(head[(x & ~cut_mask)[supp]], minlength=n_p) > 0
            movers = units[~pinned[units]]
            alt = np.flatnonzero(np.isin(model.pair_u, movers) & usable & ~x & (held | model.root))
            if alt.size:  # cheapest, counting the overflow a move into a full school would add
                load = np.bincount(model.pair_s[x], weights=model.demand[model.pair_u[x]], minlength=len(model.schools))
                room = model.limit[model.pair_s[alt]] - load[model.pair_s[alt]]
                extra = np.clip(model.demand[model.pair_u[alt]] - np.maximum(room, 0.0), 0.0, None)
                price = cost[alt] + model.weights.get("overflow", 0.0) * extra
                alt = alt[np.lexsort((price, model.pair_u[alt]))]
                first = np.ones(alt.size, dtype=bool)
                first[1:] = model.pair_u[alt][1:] != model.pair_u[alt][:-1]
                alt = alt[first]
                x[np.isin(model.pair_u, model.pair_u[alt]) & x] = False
                x[alt] = True
                continue
        go = units[~pinned[units] & (start_col[units] >= 0) & (start_col[units] != cut)]
        # a unit cut off that cannot revert (pinned, or already at its starting school): bring back
        # the neighbours that supported it in the starting plan
        held_up = np.isin(head, cut[pinned[units] | (start_col[units] == cut)])
        back = model.pair_u[supp[held_up]]
        back = back[~pinned[back] & (start_col[back] == supp[held_up]) & ~x[supp[held_up]]]
        go = np.union1d(go, back)
        if not go.size:
            break
        on = np.isin(model.pair_u, go) & x
        x[on] = False
        x[start_col[go]] = True
    out = v.copy()
    out[:n_p] = x.astype(float)
    n_s = len(model.schools)
    load = np.bincount(model.pair_s[x], weights=model.demand[model.pair_u[x]], minlength=n_s)
    n_o = model.over_s.size
    out[n_p: n_p + n_o] = np.maximum(0.0, load[model.over_s] - model.limit[model.over_s])
    used = np.bincount(model.pair_s[x], minlength=n_s) > 0
    out[n_p + n_o: n_p + n_o + model.open_s.size] = used[model.open_s].astype(float)
    return out
