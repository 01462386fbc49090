"""Solve a :class:`~geo.planning.optimise.model.Model` with HiGHS (highspy), with warm start,
time limit, progress and cancel."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import highspy
import numpy as np
from numpy.typing import NDArray

from geo.planning.optimise.model import Model
from geo.solver import new_highs, run_highs


@dataclass(frozen=True, slots=True)
class Progress:
    """One step of the search: seconds since the start, best objective, best bound, relative gap."""

    seconds: float
    objective: float
    bound: float
    gap: float


@dataclass(frozen=True, eq=False)
class Solution:
    """What the solver returned. ``values`` is None when no feasible plan was found."""

    solver: str
    status: str
    values: NDArray[np.float64] | None
    objective: float | None
    bound: float | None
    gap: float | None
    seconds: float
    trace: tuple[Progress, ...]


_STATUS = {
    "kOptimal": "optimal", "kTimeLimit": "time_limit", "kInterrupt": "cancelled", "kInfeasible": "infeasible",
    "kSolutionLimit": "solution_limit", "kIterationLimit": "iteration_limit", "kObjectiveBound": "objective_bound",
    "kUnboundedOrInfeasible": "infeasible", "kUnbounded": "unbounded",
}


def _lp(model: Model) -> highspy.HighsLp:
    lp = highspy.HighsLp()
    a = model.a.tocsr()
    lp.num_col_ = model.n_cols
    lp.num_row_ = a.shape[0]
    lp.col_cost_ = model.cost
    lp.col_lower_ = model.col_lo
    lp.col_upper_ = model.col_hi
    lp.row_lower_ = model.row_lo
    lp.row_upper_ = model.row_hi
    lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
    lp.a_matrix_.start_ = a.indptr.astype(np.int32)
    lp.a_matrix_.index_ = a.indices.astype(np.int32)
    lp.a_matrix_.value_ = a.data.astype(float)
    lp.a_matrix_.num_col_ = model.n_cols
    lp.a_matrix_.num_row_ = a.shape[0]
    lp.integrality_ = [highspy.HighsVarType.kInteger if i else highspy.HighsVarType.kContinuous for i in model.integer]
    return lp


def solve_highs(model: Model, *, time_limit_s: float, gap: float, threads: int, warm: NDArray[np.float64] | None = None,
                progress: Callable[[Progress], None] | None = None, cancel: Callable[[], bool] | None = None,
                seed: int = 0, col_lo: NDArray[np.float64] | None = None, col_hi: NDArray[np.float64] | None = None,
                basis: highspy.HighsBasis | None = None) -> Solution:
    """Minimise the model's weighted objective with HiGHS' branch and cut.

    Parameters
    ----------
    model
        From :func:`~geo.planning.optimise.build.build_model`.
    time_limit_s, gap
        Stop after this many seconds, or when the relative gap is at most ``gap``.
    threads
        HiGHS threads.
    warm
        A full column vector to start from (HiGHS ``setSolution``); ignored by HiGHS if infeasible.
    progress
        Called with each improving solution.
    cancel
        Polled during the search; True stops it (the best plan so far is kept).
    seed
        HiGHS random seed, so runs repeat.
    col_lo, col_hi
        Column bounds replacing the model's (to fix part of the plan).
    basis
        Unused by the MIP; accepted so LP and MIP calls share a signature.
    """
    h = _highs(model, time_limit_s=time_limit_s, gap=gap, threads=threads, seed=seed, col_lo=col_lo, col_hi=col_hi)
    started = time.perf_counter()
    trace: list[Progress] = []

    def improved(e: highspy.highs.HighsCallbackEvent) -> None:
        out = e.data_out
        step = Progress(time.perf_counter() - started, float(out.mip_primal_bound), float(out.mip_dual_bound),
                        float(out.mip_gap))
        trace.append(step)
        if progress is not None:
            progress(step)

    def interrupt(e: highspy.highs.HighsCallbackEvent) -> None:
        if cancel is not None and cancel():
            e.interrupt()

    h.cbMipImprovingSolution.subscribe(improved)
    if cancel is not None:
        h.cbMipInterrupt.subscribe(interrupt)
    if warm is not None:
        sol = highspy.HighsSolution()
        sol.col_value = list(map(float, warm))
        sol.value_valid = True
        h.setSolution(sol)
    model_status = run_highs(h)
    seconds = time.perf_counter() - started
    status = _STATUS.get(model_status.name, model_status.name)
    info = h.getInfo()
    has = info.primal_solution_status == 2
    values = np.asarray(h.getSolution().col_value, dtype=float) if has else None
    obj = float(info.objective_function_value) if has else None
    bound = float(info.mip_dual_bound) if has else None
    rel = float(info.mip_gap) if has else None
    if rel is not None and not np.isfinite(rel):
        rel = None
    return Solution("highs " + h.version(), status, values, obj, bound, rel, seconds, tuple(trace))


def _highs(model: Model, *, time_limit_s: float, gap: float, threads: int, seed: int,
           col_lo: NDArray[np.float64] | None, col_hi: NDArray[np.float64] | None, relax: bool = False) -> highspy.Highs:
    h = new_highs(threads=threads, time_limit_s=time_limit_s, gap=gap, seed=seed)
    lp = _lp(model)
    if col_lo is not None:
        lp.col_lower_ = col_lo
    if col_hi is not None:
        lp.col_upper_ = col_hi
    if relax:
        lp.integrality_ = []
        h.setOptionValue("solver", "simplex")
    h.passModel(lp)
    return h


@dataclass(frozen=True, eq=False)
class Relaxation:
    """The LP relaxation: its objective is a lower bound on every plan; ``basis`` warm-starts the next."""

    objective: float
    values: NDArray[np.float64]
    basis: highspy.HighsBasis
    seconds: float
