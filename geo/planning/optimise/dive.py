"""LP diving: round the relaxation a batch at a time, re-solving it from its basis after each batch.

Each round fixes every unit the relaxation assigns whole through a chain of whole units (see
:func:`held`), then rounds up the largest fractional columns that already have such a neighbour
in their school (so contiguity cannot break), and re-solves the relaxation with the dual
simplex from where it stopped. A batch that makes the relaxation infeasible is halved; a single
column that does is forbidden instead. The plan it ends with satisfies every row.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import highspy
import numpy as np
from numpy.typing import NDArray

from geo.planning.optimise.model import Model

_WHOLE = 1.0 - 1e-6


def held(model: Model, x: NDArray[np.float64]) -> NDArray[np.bool_]:
    """Columns at 1 that reach their school's root through columns at 1 (an integer-safe fixing:
    a whole unit held up by two half neighbours is not, as the halves may have no integer completion)."""
    n_p = model.n_pairs
    whole = x[:n_p] >= _WHOLE
    if not model.contiguity_rows:
        return whole
    head, supp = model.support
    live = whole[head] & whole[supp]
    head, supp = head[live], supp[live]
    out = whole & model.root
    while True:
        grown = out.copy()
        grown[head[out[supp]]] = True
        if grown.sum() == out.sum():
            return out
        out = grown


def dive(model: Model, h: highspy.Highs, x: NDArray[np.float64], *, time_limit_s: float,
         batch_share: float = 0.25, cancel: Callable[[], bool] | None = None
         ) -> tuple[NDArray[np.float64] | None, NDArray[np.float64]]:
    """Round the relaxation held in ``h`` (already solved, values ``x``) to a plan.

    Returns the plan (None when time ran out, ``cancel`` said stop, or a rounding could not be
    undone) and the last relaxation's values, nearly integral, for the caller to finish by
    branch and cut. ``cancel`` is polled before each re-solve."""
    started = time.perf_counter()
    h.setOptionValue("time_limit", float("inf"))
    n_p = model.n_pairs
    lo = model.col_lo.copy()
    hi = model.col_hi.copy()
    head, supp = model.support
    while time.perf_counter() - started < time_limit_s:
        if cancel is not None and cancel():
            return None, x
        fixed = held(model, x)
        done = np.zeros(model.n_units, dtype=bool)
        done[model.pair_u[fixed]] = True
        if done.all():
            v = np.zeros(model.n_cols)
            v[np.flatnonzero(fixed)] = 1.0
            v[n_p:] = x[n_p:]
            return v, x
        # held columns stay free: the relaxation may still move them to make room for a rounding
        frac = (x[:n_p] > 1e-6) & ~done[model.pair_u]
        ok = model.root.copy()
        if model.contiguity_rows:
            ok[head[fixed[supp]]] = True
        cand = np.flatnonzero(frac & ok)
        if not cand.size:
            cand = np.flatnonzero(frac)
        # one column per unit: its largest
        order = cand[np.lexsort((-x[cand], model.pair_u[cand]))]
        keep = np.ones(order.size, dtype=bool)
        keep[1:] = model.pair_u[order][1:] != model.pair_u[order][:-1]
        order = order[keep]
        order = order[np.argsort(-x[order])]
        size = max(1, int(np.ceil(order.size * batch_share)))
        while True:
            if cancel is not None and cancel():
                return None, x
            pick = order[:size]
            trial = lo.copy()
            trial[pick] = 1.0
            h.changeColsBounds(model.n_cols, np.arange(model.n_cols, dtype=np.int32), trial, hi)
            h.run()
            if h.getModelStatus() == highspy.HighsModelStatus.kOptimal:
                lo = trial
                break
            if size == 1:
                hi[pick] = 0.0
                h.changeColsBounds(model.n_cols, np.arange(model.n_cols, dtype=np.int32), lo, hi)
                h.run()
                if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
                    return None, x
                break
            size = max(1, size // 2)
        x = np.asarray(h.getSolution().col_value, dtype=float)
    return None, x
