"""The optimiser's report: solver, gap and time, each objective term, per-school demand before
and after, pupils moved (in all and per pair of schools), travel before and after, units changed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from geo.planning.optimise.highs import Progress
from geo.planning.optimise.model import Model


@dataclass(frozen=True, slots=True)
class SchoolLoad:
    """Demand at one school before and after; ``utilisation`` is demand / capacity (None without one)."""

    code: str
    name: str
    capacity: float | None
    limit: float | None
    demand_before: float
    demand_after: float
    utilisation_before: float | None
    utilisation_after: float | None


@dataclass(frozen=True, slots=True)
class Move:
    """Pupils and units moved from one school to another."""

    from_school: str | None
    to_school: str
    pupils: float
    units: int


@dataclass(frozen=True, slots=True)
class TravelStats:
    """Pupil-weighted travel (in the cost unit) over the units that have a school."""

    mean: float
    p90: float
    pupils: float


@dataclass(frozen=True)
class OptimiseReport:
    """Everything a committee needs to judge one proposal. Objective terms are unweighted
    (pupils, pupil-km or pupil-minutes, ...); ``weights`` gives what each counted for."""

    solver: str
    status: str
    gap: float | None
    seconds: float
    objective: float | None
    bound: float | None
    terms_before: dict[str, float]
    terms_after: dict[str, float]
    weights: dict[str, float]
    schools: tuple[SchoolLoad, ...]
    pupils_moved: float
    moves: tuple[Move, ...]
    travel_before: TravelStats
    travel_after: TravelStats
    cost_unit: str
    cost_source: str
    units_changed: tuple[str, ...]
    overflow_before: float
    overflow_after: float
    schools_over_before: int
    schools_over_after: int
    model_size: dict[str, int]
    trace: tuple[Progress, ...] = ()


def travel_stats(cost: NDArray[np.float64], pupils: NDArray[np.float64]) -> TravelStats:
    """Pupil-weighted mean and 90th percentile of ``cost`` (entries that are NaN are skipped)."""
    ok = np.isfinite(cost) & (pupils > 0)
    c, w = cost[ok], pupils[ok]
    if not w.size:
        return TravelStats(0.0, 0.0, 0.0)
    order = np.argsort(c)
    cum = np.cumsum(w[order])
    p90 = float(c[order][np.searchsorted(cum, 0.9 * cum[-1])])
    return TravelStats(float(np.average(c, weights=w)), p90, float(w.sum()))


def term_values(model: Model, v: NDArray[np.float64]) -> dict[str, float]:
    """Each objective term's unweighted value at the column vector ``v``."""
    return {name: float(coef @ v) for name, coef in model.terms.items()}


def build_report(model: Model, *, unit_ids: Sequence[str], costs: NDArray[np.float64], cost_source: str,
                 before: NDArray[np.intp], after: NDArray[np.intp], v_before: NDArray[np.float64],
                 v_after: NDArray[np.float64], solver: str, status: str, gap: float | None, seconds: float,
                 objective: float | None, bound: float | None, trace: tuple[Progress, ...] = ()) -> OptimiseReport:
    """The report for moving from ``before`` to ``after`` (school position per unit, -1 none)."""
    d = model.demand
    n_s = len(model.schools)
    has_b = before >= 0
    load_b = np.bincount(before[has_b], weights=d[has_b], minlength=n_s)
    load_a = np.bincount(after, weights=d, minlength=n_s)
    rows = []
    for k, s in enumerate(model.schools):
        cap = None if s.capacity is None else float(s.capacity)
        lim = float(model.limit[k]) if np.isfinite(model.limit[k]) else None
        rows.append(SchoolLoad(s.code, s.name, cap, lim, round(float(load_b[k]), 2), round(float(load_a[k]), 2),
                               None if not cap else float(load_b[k] / cap), None if not cap else float(load_a[k] / cap)))
    changed = np.flatnonzero(before != after)
    pairs: dict[tuple[int, int], list[float]] = {}
    for u in changed.tolist():
        key = (int(before[u]), int(after[u]))
        acc = pairs.setdefault(key, [0.0, 0.0])
        acc[0] += float(d[u])
        acc[1] += 1
    moves = sorted((Move(None if a < 0 else model.schools[a].code, model.schools[b].code, round(p, 2), int(n))
                    for (a, b), (p, n) in pairs.items()), key=lambda m: -m.pupils)
    n = np.arange(model.n_units)
    cost_b = np.where(has_b, costs[n, np.maximum(before, 0)], np.nan)
    cost_a = costs[n, after]
    over_b = np.maximum(0.0, load_b - model.limit)
    over_a = np.maximum(0.0, load_a - model.limit)
    size = {"units": model.n_units, "schools": n_s, "pairs": model.n_pairs, "columns": model.n_cols,
            "rows": int(model.a.shape[0]), "nonzeros": int(model.a.nnz), "contiguity_rows": model.contiguity_rows}
    return OptimiseReport(
        solver=solver, status=status, gap=gap, seconds=seconds, objective=objective, bound=bound,
        terms_before=term_values(model, v_before), terms_after=term_values(model, v_after), weights=dict(model.weights),
        schools=tuple(rows), pupils_moved=round(float(d[changed].sum()), 2), moves=tuple(moves),
        travel_before=travel_stats(cost_b, d), travel_after=travel_stats(cost_a, d), cost_unit=model.cost_unit,
        cost_source=cost_source, units_changed=tuple(unit_ids[int(u)] for u in changed),
        overflow_before=float(over_b[np.isfinite(over_b)].sum()), overflow_after=float(over_a[np.isfinite(over_a)].sum()),
        schools_over_before=int((over_b > 1e-6).sum()), schools_over_after=int((over_a > 1e-6).sum()),
        model_size=size, trace=trace,
    )
