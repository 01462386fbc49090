"""The optimiser's model solved with OR-Tools CP-SAT: the peer HiGHS was measured against.

CP-SAT needs integer coefficients, so the model's rows and costs are scaled and rounded
(demand to 0.1 pupil, objective to 0.01); the plan it returns is then scored with the model's
exact (unrounded) objective, so both solvers are judged on the same numbers.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
from numpy.typing import NDArray

from geo.planning.optimise.model import Model

ROW_SCALE = 10.0
COST_SCALE = 100.0


def solve_cpsat(model: Model, *, time_limit_s: float, gap: float, threads: int, warm: NDArray[np.float64] | None = None
                ) -> dict[str, Any]:
    """Solve with CP-SAT; returns status, seconds, the exact objective of its plan, bound, gap, values."""
    from ortools.sat.python import cp_model

    m = cp_model.CpModel()
    a = model.a.tocsr()
    ub = np.where(np.isfinite(model.col_hi), model.col_hi, 0)
    n_p = model.n_pairs
    over_cols = np.arange(n_p, n_p + model.over_s.size)
    # overflow is continuous in the MIP; here an integer in tenths of a pupil
    big = int(np.ceil(model.demand.sum() * ROW_SCALE)) + 1
    xs = []
    for j in range(model.n_cols):
        if n_p <= j < n_p + model.over_s.size:
            xs.append(m.NewIntVar(0, big, f"o{j}"))
        else:
            xs.append(m.NewIntVar(int(model.col_lo[j]), int(ub[j]), f"v{j}"))
    is_over = np.zeros(model.n_cols, dtype=bool)
    is_over[over_cols] = True
    for i in range(a.shape[0]):
        lo, hi = model.row_lo[i], model.row_hi[i]
        idx = a.indices[a.indptr[i]:a.indptr[i + 1]]
        val = a.data[a.indptr[i]:a.indptr[i + 1]]
        fractional = not np.allclose(val, np.round(val)) or is_over[idx].any()
        scale = ROW_SCALE if fractional else 1.0
        coef = [int(np.rint(v * scale)) if not is_over[j] else int(np.rint(v)) for j, v in zip(idx, val, strict=True)]
        expr = sum(c * xs[j] for c, j in zip(coef, idx, strict=True))
        if np.isfinite(lo) and np.isfinite(hi) and lo == hi:
            m.Add(expr == int(np.rint(lo * scale)))
        else:
            if np.isfinite(lo):
                m.Add(expr >= int(np.ceil(lo * scale - 1e-9)))
            if np.isfinite(hi):
                m.Add(expr <= int(np.floor(hi * scale + 1e-9)))
    cost = model.cost.copy()
    cost[over_cols] /= ROW_SCALE
    m.Minimize(sum(int(np.rint(c * COST_SCALE)) * xs[j] for j, c in enumerate(cost) if np.rint(c * COST_SCALE) != 0))
    if warm is not None:
        for j, v in enumerate(warm):
            m.AddHint(xs[j], int(np.rint(v * ROW_SCALE)) if is_over[j] else int(np.rint(v)))
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = float(time_limit_s)
    solver.parameters.num_workers = int(threads)
    solver.parameters.relative_gap_limit = float(gap)
    t = time.perf_counter()
    status = solver.Solve(m)
    seconds = time.perf_counter() - t
    name = solver.StatusName(status)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return {"status": name, "seconds": seconds, "objective": None, "bound": None, "gap": None, "values": None}
    values = np.array([solver.Value(x) for x in xs], dtype=float)
    values[over_cols] /= ROW_SCALE
    obj = float(model.cost @ values)
    bound = solver.BestObjectiveBound() / COST_SCALE
    return {"status": name, "seconds": seconds, "objective": obj, "bound": bound,
            "gap": (obj - bound) / max(abs(obj), 1e-9), "values": values}
