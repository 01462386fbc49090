"""How the optimiser searches a large model: relaxation, repair, LP diving, branch and cut.

On Fairfax elementary (9,404 blocks, 47k binaries, 47k contiguity rows) HiGHS' branch and cut
on the whole model spends 30-40 s in presolve and then finds nothing better than the warm start
within a minute, while the LP relaxation takes about 5 s and leaves only ~430 units fractional.
So, in order, each step offering its plan and the best kept:

1. the relaxation (dual simplex; from the last basis on a re-solve): its objective bounds every
   plan from below, so the reported gap is a true optimality gap;
2. the warm start repaired by single-unit moves (``local.py``), then ejection chains for 2 s;
3. unless the plan in hand is already within ``_CLOSE`` of the bound (a re-solve after locks),
   LP diving (``dive.py``): round a batch of fractional columns that are already joined to their
   school, re-solve from the basis, until the relaxation is integral or time runs short;
4. branch and cut on the units the last relaxation left fractional (and their neighbours), the
   rest fixed where the relaxation holds them whole through whole neighbours;
5. ejection chains (``eject.py``: overflow routed through full neighbouring zones to a school
   with seats left, one boundary unit per hop) and the repair again;
6. with time left and the gap above target, windows (``windows.py``): branch and cut on each
   cluster of units where the plan and the relaxation disagree, one cluster at a time, wider
   each pass; then branch and cut once more around the over-full schools (or the
   disagreements), warm-started from the best plan, with ejection chains after each round
   while overflow is left.

Fixing a unit the relaxation holds whole only through two half neighbours would be a trap (the
relaxation's ribbons of halves have no integer completion: measured, the small problem was
infeasible), hence "held" (:func:`~geo.planning.optimise.dive.held`).
"""

from __future__ import annotations

import time
from collections.abc import Callable

import highspy
import numpy as np
from numpy.typing import NDArray

from geo.planning.optimise.build import solution_vector
from geo.planning.optimise.dive import dive, held
from geo.planning.optimise.eject import eject
from geo.planning.optimise.highs import Progress, Relaxation, Solution, _highs, solve_highs
from geo.planning.optimise.local import improve, repair
from geo.planning.optimise.model import Model
from geo.planning.optimise.windows import over_full, windows

#: Models up to this many columns go straight to branch and cut, which proves their optimum fast.
_SMALL = 5_000
#: A warm start within this gap of the relaxation skips the dive (step 3) and its branch and cut (step 4).
_CLOSE = 0.2


def _fixings(model: Model, x: NDArray[np.float64], rings: int) -> NDArray[np.bool_]:
    """Columns to fix at 1: :func:`held` ones, except within ``rings`` neighbours of the rest."""
    fixed = held(model, x)
    settled = np.zeros(model.n_units, dtype=bool)
    settled[model.pair_u[fixed]] = True
    free = ~settled
    for _ in range(rings):
        free = free | (model.adjacency @ free.astype(np.int8) > 0)
    return fixed & ~free[model.pair_u]


def search(model: Model, *, time_limit_s: float, gap: float, threads: int, warm: NDArray[np.float64] | None,
           progress: Callable[[Progress], None] | None = None, cancel: Callable[[], bool] | None = None,
           relaxation: Relaxation | None = None) -> tuple[Solution, Relaxation | None]:
    """Best plan within ``time_limit_s``; the relaxation is returned to warm-start a re-solve.

    ``relaxation`` from an earlier solve of a model with the same columns starts the dual simplex
    from its basis (after locks change a few bounds, a handful of pivots).
    """
    started = time.perf_counter()

    def left() -> float:
        return time_limit_s - (time.perf_counter() - started)

    if model.n_cols <= _SMALL:
        sol = solve_highs(model, time_limit_s=left(), gap=gap, threads=threads, warm=warm, progress=progress, cancel=cancel)
        return sol, None
    h = _highs(model, time_limit_s=left(), gap=0.0, threads=threads, seed=0, col_lo=None, col_hi=None, relax=True)
    if relaxation is not None:
        h.setBasis(relaxation.basis)
    h.run()
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal or (cancel is not None and cancel()):
        sol = solve_highs(model, time_limit_s=left(), gap=gap, threads=threads, warm=warm, progress=progress, cancel=cancel)
        return sol, None
    relax = Relaxation(float(h.getInfo().objective_function_value), np.asarray(h.getSolution().col_value, dtype=float),
                       h.getBasis(), time.perf_counter() - started)
    bound = relax.objective
    trace: list[Progress] = []
    best_v: NDArray[np.float64] | None = None

    def report(p: Progress) -> None:
        if best_v is not None and p.objective > float(model.cost @ best_v) + 1e-6:
            return  # a sub-problem's own incumbent, worse than the plan in hand
        step = Progress(time.perf_counter() - started, p.objective, bound, _gap(p.objective, bound))
        trace.append(step)
        if progress is not None:
            progress(step)

    def offer(v: NDArray[np.float64] | None) -> None:
        nonlocal best_v
        if v is None or not feasible(model, v):
            return
        if best_v is None or model.cost @ v < model.cost @ best_v - 1e-9:
            best_v = v
            report(Progress(0.0, float(model.cost @ v), bound, 0.0))

    if warm is not None:
        fixed = improve(model, repair(model, warm), time_limit_s=max(1.0, left() / 10))
        offer(fixed)
        if best_v is None:  # the forced warm start could not be mended: start from today's plan
            offer(improve(model, repair(model, solution_vector(model, model.start)), time_limit_s=max(1.0, left() / 10)))
        if _overflow(model, fixed) > 1e-6:
            offer(improve(model, eject(model, fixed, time_limit_s=min(2.0, left() / 8)), time_limit_s=max(1.0, left() / 10)))
    # a warm start already close to the bound (a re-solve from the last proposal): windows do more
    # with the time than a dive from the relaxation would
    close = best_v is not None and _gap(float(model.cost @ best_v), bound) < _CLOSE
    if not close:
        dived, x_last = dive(model, h, relax.values, time_limit_s=min(25.0, left() / 3), cancel=cancel)
        offer(dived)
    for rings in (1, 3):
        if close or left() <= 1 or (cancel is not None and cancel()):
            break
        lo = model.col_lo.copy()
        lo[np.flatnonzero(_fixings(model, x_last, rings))] = 1.0
        sub = solve_highs(model, time_limit_s=min(left(), max(5.0, left() / 2), 15.0), gap=gap / 2, threads=threads,
                          warm=None, progress=report, cancel=cancel, col_lo=lo)
        if sub.values is not None:
            offer(sub.values)
            break
    if best_v is not None and left() > 0.5 and not (cancel is not None and cancel()):
        offer(improve(model, eject(model, best_v, time_limit_s=min(left() / 4, 10.0)), time_limit_s=min(left(), 10.0)))
    rings, passes = 3, 0
    while best_v is not None and _gap(float(model.cost @ best_v), bound) > gap and left() > 1.5:
        if cancel is not None and cancel():
            break
        before = float(model.cost @ best_v)
        if passes < 3:  # windows where the plan and the relaxation disagree, wider each pass
            passes += 1
            offer(windows(model, best_v, relax.values, time_limit_s=left() - 0.5, rings=passes, threads=threads,
                          accept=lambda v: feasible(model, v), progress=report, cancel=cancel))
            if float(model.cost @ best_v) < before - 1e-6 and _overflow(model, best_v) <= 1e-6:
                continue
        lo = model.col_lo.copy()
        lo[np.flatnonzero(_neighbourhood_fixings(model, best_v, rings))] = 1.0
        sub = solve_highs(model, time_limit_s=min(left(), 20.0), gap=gap / 2, threads=threads, warm=best_v,
                          progress=report, cancel=cancel, col_lo=lo)
        offer(sub.values)
        if _overflow(model, best_v) > 1e-6 and left() > 1:
            offer(improve(model, eject(model, best_v, time_limit_s=min(left() / 4, 5.0)), time_limit_s=min(left(), 5.0)))
        if float(model.cost @ best_v) >= before - 1e-6:
            rings += 2  # nothing better this close to the trouble: look wider
    best = None if best_v is None else Solution("highs " + h.version(), "", best_v, float(model.cost @ best_v), None, None, 0.0, ())
    seconds = time.perf_counter() - started
    if best is None or best.values is None or best.objective is None:
        status = "infeasible" if best is not None and best.status == "infeasible" else (best.status if best else "no_plan")
        return Solution("highs", status, None, None, bound, None, seconds, tuple(trace)), relax
    g = _gap(best.objective, bound)
    cancelled = cancel is not None and cancel()
    status = "optimal" if g <= gap + 1e-9 else ("cancelled" if cancelled else ("time_limit" if left() <= 1.5 else "feasible"))
    return Solution(best.solver + " (LP, fix, branch and cut)", status, best.values, best.objective, bound, g, seconds,
                    tuple(trace)), relax


def _overflow(model: Model, v: NDArray[np.float64]) -> float:
    return float(v[model.n_pairs: model.n_pairs + model.over_s.size].sum())


def _gap(obj: float, bound: float) -> float:
    return max(0.0, (obj - bound) / max(abs(obj), 1e-9))


def _neighbourhood_fixings(model: Model, v: NDArray[np.float64], rings: int) -> NDArray[np.bool_]:
    """Columns of ``v`` to fix for a neighbourhood search: everything except the units within
    ``rings`` neighbours of a boundary of a school over its limit (or, when none is, of any
    boundary a unit moved across)."""
    x = v[: model.n_pairs] > 0.5
    school, hot = over_full(model, v)
    coo = model.adjacency.tocoo()
    edge = school[coo.row] != school[coo.col]
    seeds = np.zeros(model.n_units, dtype=bool)
    if hot.any():
        seeds[coo.row[edge & (hot[school[coo.row]] | hot[school[coo.col]])]] = True
    else:
        seeds[coo.row[edge & ((school[coo.row] != model.start[coo.row]) | (school[coo.col] != model.start[coo.col]))]] = True
    free = seeds
    for _ in range(rings):
        free = free | (model.adjacency @ free.astype(np.int8) > 0)
    return x & ~free[model.pair_u]


def feasible(model: Model, v: NDArray[np.float64], tol: float = 1e-6) -> bool:
    """True when ``v`` satisfies every row and bound of the model (and its binaries are 0 or 1)."""
    r = model.a @ v
    rows = bool(np.all(r >= model.row_lo - tol) and np.all(r <= model.row_hi + tol))
    cols = bool(np.all(v >= model.col_lo - tol) and np.all(v <= model.col_hi + tol))
    whole = bool(np.all(np.abs(v[model.integer] - np.round(v[model.integer])) <= tol))
    return rows and cols and whole
