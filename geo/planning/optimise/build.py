"""Build the :class:`~geo.planning.optimise.model.Model` from units, schools, costs and options.

Checks that need no solver run first and raise at once: a unit with no school it may go to, a
lock on a closed or unknown school, locked units that alone exceed a school's seats, all units
together exceeding all seats.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import shapely
from numpy.typing import NDArray
from scipy import sparse

from geo.errors import Infeasible, InsufficientCapacity, InvalidInput
from geo.models import School, SchoolStatus
from geo.planning.demand import DemandUnit
from geo.planning.optimise.inputs import OptimiseOptions
from geo.planning.optimise.model import Model, _Rows, active_schools, contiguity, home_units, pair_ranks

_SCALE = {"m": 1000.0, "s": 60.0}  # travel term per km or per minute


def _candidates(costs: NDArray[np.float64], start: NDArray[np.intp], locked: NDArray[np.intp], homes: NDArray[np.intp],
                opt: OptimiseOptions, unit_ids: Sequence[str]) -> NDArray[np.bool_]:
    n_u, n_s = costs.shape
    mask = np.zeros((n_u, n_s), dtype=bool)
    k = min(opt.k_nearest, n_s)
    finite = np.isfinite(costs)
    if k:
        near = np.argpartition(costs, k - 1, axis=1)[:, :k] if k < n_s else np.tile(np.arange(n_s), (n_u, 1))
        rows = np.repeat(np.arange(n_u), near.shape[1])
        mask[rows, near.ravel()] = True
    has = start >= 0
    mask[np.flatnonzero(has), start[has]] = True
    mask &= finite
    if opt.max_travel is not None:
        mask &= costs <= opt.max_travel
    lk = locked >= 0
    mask[np.flatnonzero(lk), locked[lk]] = True
    mask[homes, np.arange(n_s)] = True
    none = np.flatnonzero(~mask.any(axis=1))
    if none.size:
        why = f"within {opt.max_travel:g}" if opt.max_travel is not None else "reachable"
        msg = f"{none.size} unit(s) have no school {why} (first: {unit_ids[int(none[0])]})"
        raise Infeasible(msg, where="max_travel" if opt.max_travel is not None else "costs",
                         shortfalls=[{"schools": (), "area": f"units {', '.join(unit_ids[int(i)] for i in none[:10])}",
                                      "units": none.size}])
    return mask


def _locks(opt: OptimiseOptions, index: Mapping[str, int], codes: Mapping[str, int], closed: set[str], n_u: int) -> NDArray[np.intp]:
    out = np.full(n_u, -1, dtype=np.intp)
    for uid, code in opt.locked.items():
        if uid not in index:
            raise InvalidInput(f"locked unit {uid} is not among the demand units", where="locked")
        if code in closed:
            raise Infeasible(f"unit {uid} is locked to {code}, which is closed", where="locked")
        if code not in codes:
            raise InvalidInput(f"unit {uid} is locked to unknown school {code}", where="locked")
        out[index[uid]] = codes[code]
    return out


def check_seats(demand: NDArray[np.float64], limit: NDArray[np.float64], locked: NDArray[np.intp],
                schools: Sequence[School]) -> None:
    """Raise InsufficientCapacity when locked units alone, or all units, exceed the seats."""
    lk = locked >= 0
    load = np.bincount(locked[lk], weights=demand[lk], minlength=len(schools))
    short = np.flatnonzero(load > limit + 1e-6)
    if short.size:
        falls = [{"schools": (schools[int(k)].code,), "area": schools[int(k)].name, "demand": round(float(load[k]), 1),
                  "seats": round(float(limit[k]), 1), "short": round(float(load[k] - limit[k]), 1)} for k in short]
        names = ", ".join(f"{f['area']} ({f['short']:g} pupils)" for f in falls[:5])
        raise InsufficientCapacity(f"locked units alone exceed the seats of {names}", shortfalls=falls, where="locked")
    if np.isfinite(limit).all() and demand.sum() > limit.sum() + 1e-6:
        total, seats = float(demand.sum()), float(limit.sum())
        raise InsufficientCapacity(
            f"{total:,.0f} pupils but only {seats:,.0f} seats within the capacity limit: {total - seats:,.0f} short",
            shortfalls=[{"schools": tuple(s.code for s in schools), "area": "all schools", "demand": round(total, 1),
                         "seats": round(seats, 1), "short": round(total - seats, 1)}], where="capacity")


def build_model(units: Sequence[DemandUnit], schools: Sequence[School], *, start: Mapping[str, str],
                costs: NDArray[np.float64], cost_unit: str, adjacency: sparse.csr_matrix, xy: NDArray[np.float64],
                options: OptimiseOptions) -> Model:
    """The MIP for ``units`` and ``schools``; ``costs`` is aligned to units x :func:`active_schools`.

    Raises
    ------
    Infeasible, InsufficientCapacity
        What can be seen before solving (see the module docstring).
    """
    opt = options
    active = active_schools(list(schools))
    codes = {s.code: k for k, s in enumerate(active)}
    closed = {s.code for s in schools if s.status is SchoolStatus.CLOSED}
    n_u, n_s = len(units), len(active)
    index = {u.id: i for i, u in enumerate(units)}
    demand = np.array([u.count(opt.level, grades=opt.grades) for u in units], dtype=float)
    s0 = np.array([codes.get(start.get(u.id, ""), -1) for u in units], dtype=np.intp)
    locked = _locks(opt, index, codes, closed, n_u)
    mu = np.array([opt.max_utilisation_by_school.get(s.code, opt.max_utilisation) for s in active])
    cap = np.array([np.inf if s.capacity is None else float(s.capacity) for s in active])
    limit = mu * cap
    check_seats(demand, limit, locked, active)
    geoms = np.array([u.geometry for u in units], dtype=object)
    homes = home_units(geoms, xy, active, s0)
    for k, h in enumerate(homes):
        if locked[h] >= 0 and locked[h] != k and active[k].status is SchoolStatus.OPEN:
            msg = f"unit {units[h].id} is locked to {active[int(locked[h])].code} but holds school {active[k].code}"
            raise Infeasible(msg, where="locked")
    mask = _candidates(costs, s0, locked, homes, opt, [u.id for u in units])
    pu, ps = np.nonzero(mask)
    pu, ps = pu.astype(np.intp), ps.astype(np.intp)
    n_p = pu.size
    keys = pu.astype(np.int64) * n_s + ps
    pcost = costs[pu, ps]
    capped = np.flatnonzero(np.isfinite(limit))
    planned = np.array([k for k, s in enumerate(active) if s.status is SchoolStatus.PLANNED], dtype=np.intp)
    # nesting: one z per (school, upper school) that any candidate pair could need
    nest_pairs = np.zeros((0, 2), dtype=np.intp)
    upper = np.full(n_u, -1, dtype=np.intp)
    if opt.nest_in is not None:
        upper_codes = {c: i for i, c in enumerate(sorted(set(opt.nest_in.values())))}
        upper = np.array([upper_codes.get(opt.nest_in.get(u.id, ""), -1) for u in units], dtype=np.intp)
        has = upper[pu] >= 0
        nest_pairs = np.unique(np.column_stack((ps[has], upper[pu[has]])), axis=0).astype(np.intp)
    c_over = n_p
    c_open = c_over + capped.size
    c_nest = c_open + planned.size
    n_cols = c_nest + nest_pairs.shape[0]
    col_lo, col_hi = np.zeros(n_cols), np.ones(n_cols)
    col_hi[c_over:c_open] = np.inf
    integer = np.ones(n_cols, dtype=bool)
    integer[c_over:c_open] = False
    home_cols = np.searchsorted(keys, homes.astype(np.int64) * n_s + np.arange(n_s))
    lk = np.flatnonzero(locked >= 0)
    col_lo[np.searchsorted(keys, lk.astype(np.int64) * n_s + locked[lk])] = 1.0
    is_open = np.array([s.status is SchoolStatus.OPEN for s in active], dtype=bool)
    col_lo[home_cols[is_open]] = 1.0

    rows = _Rows()
    rows.add(pu, np.arange(n_p), np.ones(n_p), n_u, 1.0, 1.0)
    cap_pos = np.full(n_s, -1, dtype=np.intp)
    cap_pos[capped] = np.arange(capped.size)
    on_cap = cap_pos[ps] >= 0
    rows.add(np.concatenate([cap_pos[ps[on_cap]], np.arange(capped.size)]),
             np.concatenate([np.flatnonzero(on_cap), c_over + np.arange(capped.size)]),
             np.concatenate([demand[pu[on_cap]], -np.ones(capped.size)]), capped.size, -np.inf, limit[capped])
    if planned.size:
        ppos = np.full(n_s, -1, dtype=np.intp)
        ppos[planned] = np.arange(planned.size)
        at = np.flatnonzero(ppos[ps] >= 0)
        rows.add(np.repeat(np.arange(at.size), 2), np.column_stack((at, c_open + ppos[ps[at]])).ravel(),
                 np.tile([1.0, -1.0], at.size), at.size, -np.inf, 0.0)
        rows.add(np.repeat(np.arange(planned.size), 2),
                 np.column_stack((home_cols[planned], c_open + np.arange(planned.size))).ravel(),
                 np.tile([1.0, -1.0], planned.size), planned.size, 0.0, 0.0)
    n_contig = 0
    support = (np.zeros(0, dtype=np.intp), np.zeros(0, dtype=np.intp))
    root = np.ones(n_p, dtype=bool)
    if opt.contiguous:
        rank, is_root = pair_ranks(adjacency, xy, s0, homes, pu, ps, pcost)
        rep, q, dead = contiguity(adjacency, rank, is_root, keys, pu, ps, n_s)
        bad = dead[col_lo[dead] > 0]
        if bad.size:
            u, k = int(pu[bad[0]]), int(ps[bad[0]])
            msg = (f"{bad.size} locked unit(s) cannot join their school's zone through neighbouring units "
                   f"(first: {units[u].id} locked to {active[k].code})")
            raise Infeasible(msg, where="locked")
        col_hi[dead] = 0.0
        support = (rep, q)
        root = np.asarray(np.logical_or(is_root, np.diff(adjacency.indptr)[pu] == 0), dtype=bool)
        heads = np.unique(rep)
        row_of = np.full(n_p, -1, dtype=np.intp)
        row_of[heads] = np.arange(heads.size)
        rows.add(np.concatenate([row_of[heads], row_of[rep]]), np.concatenate([heads, q]),
                 np.concatenate([np.ones(heads.size), -np.ones(q.size)]), heads.size, -np.inf, 0.0)
        n_contig = int(heads.size)
    if nest_pairs.shape[0]:
        nkeys = nest_pairs[:, 0].astype(np.int64) * (upper.max() + 1) + nest_pairs[:, 1]
        hn = np.flatnonzero(upper[pu] >= 0)
        zcol = c_nest + np.searchsorted(nkeys, ps[hn].astype(np.int64) * (upper.max() + 1) + upper[pu[hn]])
        rows.add(np.repeat(np.arange(hn.size), 2), np.column_stack((hn, zcol)).ravel(),
                 np.tile([1.0, -1.0], hn.size), hn.size, -np.inf, 0.0)
        rows.add(nest_pairs[:, 0], c_nest + np.arange(nest_pairs.shape[0]), np.ones(nest_pairs.shape[0]), n_s, -np.inf, 1.0)
    a, row_lo, row_hi = rows.matrix(n_cols)

    moved = (ps != s0[pu]) & (s0[pu] >= 0)
    terms = {name: np.zeros(n_cols) for name in ("moved", "units_moved", "travel", "overflow", "compactness")}
    terms["moved"][:n_p] = np.where(moved, demand[pu], 0.0)
    terms["units_moved"][:n_p] = moved.astype(float)
    terms["travel"][:n_p] = demand[pu] * pcost / _SCALE.get(cost_unit, 1.0)
    terms["overflow"][c_over:c_open] = 1.0
    if opt.weights.compactness:
        coslat = np.cos(np.radians(xy[:, 1].mean()))
        sxy = np.array([[s.lon, s.lat] for s in active])
        km = np.hypot((xy[pu, 0] - sxy[ps, 0]) * coslat, xy[pu, 1] - sxy[ps, 1]) * 111.32
        area = shapely.area(geoms) * (111.32**2) * coslat
        terms["compactness"][:n_p] = area[pu] * km
    w = opt.weights
    weights = {"moved": w.moved, "units_moved": w.units_moved, "travel": w.travel, "overflow": w.overflow,
               "compactness": w.compactness}
    return Model(n_u, active, pu, ps, capped.astype(np.intp), planned, nest_pairs, a, row_lo, row_hi, col_lo, col_hi,
                 integer, terms, weights, homes, n_contig, demand, limit, pcost, cost_unit, s0, upper,
                 adjacency.tocsr(), support, root)


def solution_vector(model: Model, school_of_unit: NDArray[np.intp]) -> NDArray[np.float64]:
    """A full column vector for an assignment (school position per unit; -1 or a non-candidate
    pair falls back to the unit's cheapest candidate), for a warm start."""
    cols = model.column_of(np.arange(model.n_units), school_of_unit)
    missing = np.flatnonzero(cols < 0)
    if missing.size:
        first = np.searchsorted(model.pair_u, missing)
        last = np.searchsorted(model.pair_u, missing, side="right")
        for u, a, b in zip(missing.tolist(), first.tolist(), last.tolist(), strict=True):
            cols[u] = a + int(np.argmin(np.where(model.col_hi[a:b] > 0, model.pair_cost[a:b], np.inf)))
    v = np.zeros(model.n_cols)
    v[cols] = 1.0
    # locked units at their lock
    locked_cols = np.flatnonzero(model.col_lo[: model.n_pairs] > 0)
    for c in locked_cols.tolist():
        u = int(model.pair_u[c])
        a, b = np.searchsorted(model.pair_u, [u, u + 1])
        v[a:b] = 0.0
        v[c] = 1.0
    x = v[: model.n_pairs]
    load = np.bincount(model.pair_s, weights=x * model.demand[model.pair_u], minlength=len(model.schools))
    n_p = model.n_pairs
    v[n_p: n_p + model.over_s.size] = np.maximum(0.0, load[model.over_s] - model.limit[model.over_s])
    used = np.bincount(model.pair_s, weights=x, minlength=len(model.schools)) > 0
    c_open = n_p + model.over_s.size
    v[c_open: c_open + model.open_s.size] = used[model.open_s].astype(float)
    if model.nest.shape[0]:
        c_nest = c_open + model.open_s.size
        chosen = np.flatnonzero(x > 0.5)
        up = model.upper[model.pair_u[chosen]]
        ok = up >= 0
        width = int(model.upper.max()) + 1
        nkeys = model.nest[:, 0].astype(np.int64) * width + model.nest[:, 1]
        v[c_nest + np.searchsorted(nkeys, model.pair_s[chosen[ok]].astype(np.int64) * width + up[ok])] = 1.0
    return v
