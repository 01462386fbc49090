"""The optimiser's entry points: :func:`optimise` (one proposal) and :func:`tradeoff` (a curve)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import NDArray
from scipy import sparse

from geo.errors import Infeasible, InsufficientCapacity
from geo.models import School
from geo.planning.demand import DemandUnit
from geo.planning.optimise.build import build_model, check_seats, solution_vector
from geo.planning.optimise.highs import Progress, Relaxation
from geo.planning.optimise.inputs import OptimiseOptions, TravelCosts, geodesic_costs, unit_adjacency, unit_points
from geo.planning.optimise.model import Model, active_schools
from geo.planning.optimise.report import OptimiseReport, build_report
from geo.planning.optimise.solve import search


@dataclass(frozen=True)
class Proposal:
    """An assignment of every unit to one school (unit id -> school code) and its report."""

    assignment: dict[str, str]
    report: OptimiseReport


@dataclass
class Prepared:
    """The model with what it was built from, so re-solves (locks, weights) skip the set-up;
    ``relaxation`` keeps the last LP basis to warm-start the next solve."""

    model: Model
    units: tuple[DemandUnit, ...]
    costs: NDArray[np.float64]
    cost_source: str
    options: OptimiseOptions
    relaxation: Relaxation | None = None


def prepare(units: Sequence[DemandUnit], schools: Sequence[School], *, start: Mapping[str, str], options: OptimiseOptions,
            costs: TravelCosts | None = None, adjacency: sparse.csr_matrix | None = None) -> Prepared:
    """Build the model (costs default to geodesic metres, adjacency to shared edges)."""
    active = active_schools(list(schools))
    tc = costs if costs is not None else geodesic_costs(units, active)
    matrix = tc.aligned([u.id for u in units], [s.code for s in active])
    adj = adjacency if adjacency is not None else unit_adjacency(units)
    model = build_model(units, schools, start=start, costs=matrix, cost_unit=tc.unit, adjacency=adj,
                        xy=unit_points(units), options=options)
    return Prepared(model, tuple(units), matrix, tc.source, options)


def with_locks(prep: Prepared, locked: Mapping[str, str]) -> Prepared:
    """``prep`` with ``locked`` (unit id -> school) replacing its locks, reusing the model and the
    last relaxation when every lock is already a candidate pair (else the model is rebuilt)."""
    model = prep.model
    index = {u.id: i for i, u in enumerate(prep.units)}
    codes = {s.code: k for k, s in enumerate(model.schools)}
    known = all(u in index and c in codes for u, c in locked.items())
    opt = replace(prep.options, locked=dict(locked))
    if known:
        u = np.array([index[k] for k in locked], dtype=np.intp)
        s = np.array([codes[c] for c in locked.values()], dtype=np.intp)
        cols = model.column_of(u, s)
        if (cols >= 0).all() and (model.col_hi[cols] > 0).all():
            check_seats(model.demand, model.limit, _lock_array(model.n_units, u, s), model.schools)
            col_lo = model.col_lo.copy()
            for c in np.flatnonzero(col_lo[: model.n_pairs] > 0):  # drop the old locks, keep the schools' own units
                if int(model.pair_u[c]) not in set(model.homes.tolist()):
                    col_lo[c] = 0.0
            col_lo[cols] = 1.0
            return Prepared(replace(model, col_lo=col_lo), prep.units, prep.costs, prep.cost_source, opt, prep.relaxation)
    schools = list(model.schools)
    start = {u.id: model.schools[int(k)].code for u, k in zip(prep.units, model.start, strict=True) if k >= 0}
    return replace(prepare(prep.units, schools, start=start, options=opt, adjacency=model.adjacency), relaxation=None)


def _lock_array(n: int, u: NDArray[np.intp], s: NDArray[np.intp]) -> NDArray[np.intp]:
    out = np.full(n, -1, dtype=np.intp)
    out[u] = s
    return out


def _positions(model: Model, assignment: Mapping[str, str] | None, units: Sequence[DemandUnit]) -> NDArray[np.intp]:
    if assignment is None:
        return model.start.copy()
    codes = {s.code: k for k, s in enumerate(model.schools)}
    return np.array([codes.get(assignment.get(u.id, ""), -1) for u in units], dtype=np.intp)


def _shortfalls(model: Model, load: NDArray[np.float64]) -> list[dict[str, object]]:
    over = load - model.limit
    out: list[dict[str, object]] = []
    for k in np.flatnonzero(over > 1e-6).tolist():
        # the schools its units could go to, and how many seats they have left
        units = model.pair_u[model.pair_s == k]
        near = sorted(set(model.pair_s[np.isin(model.pair_u, units)].tolist()) - {k})
        spare = float(np.maximum(0.0, model.limit[near] - load[near])[np.isfinite(model.limit[near])].sum())
        s = model.schools[k]
        out.append({"schools": (s.code, *(model.schools[j].code for j in near)), "area": f"{s.name} and neighbours",
                    "school": s.code, "demand": round(float(load[k]), 1), "seats": round(float(model.limit[k]), 1),
                    "short": round(float(over[k]), 1), "neighbours_spare": round(spare, 1)})
    return sorted(out, key=lambda f: -float(f["short"]))  # type: ignore[arg-type]


def solve_prepared(prep: Prepared, *, warm_start: Mapping[str, str] | None = None,
                   progress: Callable[[Progress], None] | None = None, cancel: Callable[[], bool] | None = None,
                   check_capacity: bool = True) -> Proposal:
    """Solve a prepared model; see :func:`optimise`."""
    model, opt, units = prep.model, prep.options, prep.units
    warm_pos = _positions(model, warm_start, units)
    v0 = solution_vector(model, model.start)
    warm = solution_vector(model, warm_pos)
    sol, relax = search(model, time_limit_s=opt.time_limit_s, gap=opt.gap, threads=opt.threads, warm=warm,
                        progress=progress, cancel=cancel, relaxation=prep.relaxation)
    prep.relaxation = relax
    if sol.values is None:
        hard = ["contiguity"] * opt.contiguous + ["locks"] * bool(opt.locked) + ["nesting"] * (opt.nest_in is not None)
        if sol.status == "infeasible":
            msg = f"no plan satisfies the hard constraints ({', '.join(hard) or 'assignment'}) after {sol.seconds:.1f} s"
        else:
            msg = (f"no plan meeting the hard constraints ({', '.join(hard) or 'assignment'}) was found within "
                   f"{sol.seconds:.1f} s (solver status {sol.status}); allow more time or relax a constraint")
        raise Infeasible(msg, where="locked" if opt.locked else "constraints")
    x = sol.values[: model.n_pairs] > 0.5
    after = np.full(model.n_units, -1, dtype=np.intp)
    after[model.pair_u[x]] = model.pair_s[x]
    load = np.bincount(after, weights=model.demand, minlength=len(model.schools)).astype(float)
    if check_capacity and opt.capacity == "hard" and (load - model.limit > 1e-6).any():
        falls = _shortfalls(model, load)
        proven = "" if sol.status == "optimal" else f" (best plan within {sol.seconds:.0f} s, gap {sol.gap or 0:.1%})"
        names = ", ".join(f"{str(f['area']).removesuffix(' and neighbours')} {f['short']:g}" for f in falls[:5])
        msg = (f"{len(falls)} school(s) stay over the capacity limit{proven}, short by pupils: {names}; "
               "allow more utilisation, more candidate schools, or capacity='soft'")
        raise InsufficientCapacity(msg, shortfalls=falls, where="capacity")
    report = build_report(model, unit_ids=[u.id for u in units], costs=prep.costs, cost_source=prep.cost_source,
                          before=model.start, after=after, v_before=v0, v_after=sol.values, solver=sol.solver,
                          status=sol.status, gap=sol.gap, seconds=sol.seconds, objective=sol.objective, bound=sol.bound,
                          trace=sol.trace)
    return Proposal({u.id: model.schools[int(after[i])].code for i, u in enumerate(units)}, report)


def optimise(units: Sequence[DemandUnit], schools: Sequence[School], *, start: Mapping[str, str],
             options: OptimiseOptions, costs: TravelCosts | None = None, adjacency: sparse.csr_matrix | None = None,
             warm_start: Mapping[str, str] | None = None, progress: Callable[[Progress], None] | None = None,
             cancel: Callable[[], bool] | None = None) -> Proposal:
    """Assign every demand unit to one school, balancing capacity, stability and travel.

    Parameters
    ----------
    units
        Demand units with a count for ``options.level`` (polygons for contiguity; EPSG:4326).
    schools
        Schools of the level with capacity and status (closed get nothing; planned may open).
    start
        Unit id -> school code of the plan it starts from (:func:`start_from_zones`).
    options
        Constraints, weights, limits (:class:`OptimiseOptions`).
    costs
        Travel cost per (unit, school); default geodesic metres.
    adjacency
        Unit adjacency (:func:`unit_adjacency`), computed when not given.
    warm_start
        Assignment to start the search from (default ``start``), e.g. the previous proposal.
    progress, cancel
        Called with each improving solution; polled to stop the search early.

    Raises
    ------
    InsufficientCapacity
        Hard capacity cannot be met: ``shortfalls`` gives each school short, by how many pupils,
        and the spare seats of the schools around it.
    Infeasible
        No plan meets the hard constraints (a unit with no school in reach, locks that cannot
        be joined to their school's zone, ...).
    """
    prep = prepare(units, schools, start=start, options=options, costs=costs, adjacency=adjacency)
    return solve_prepared(prep, warm_start=warm_start, progress=progress, cancel=cancel)


@dataclass(frozen=True, slots=True)
class TradeoffPoint:
    """One point of the curve: the stability weight used and what it gave."""

    moved_weight: float
    pupils_moved: float
    overflow: float
    travel_mean: float
    status: str
    gap: float | None
    seconds: float
    proposal: Proposal


def tradeoff(prep: Prepared, *, n: int, low: float = 0.1, high: float = 10.0,
             progress: Callable[[Progress], None] | None = None, cancel: Callable[[], bool] | None = None
             ) -> list[TradeoffPoint]:
    """``n`` proposals for stability weights from ``high`` x to ``low`` x the configured one.

    Each run starts from the previous proposal; capacity overflow is reported, not raised, so the
    whole curve (pupils moved vs overflow vs travel) comes back for a committee to pick from.
    """
    base = prep.options.weights.moved
    out: list[TradeoffPoint] = []
    warm: Mapping[str, str] | None = None
    for w in np.geomspace(base * high, base * low, max(1, n)).tolist():
        prep.model.weights["moved"] = float(w)
        p = solve_prepared(replace(prep), warm_start=warm, progress=progress, cancel=cancel, check_capacity=False)
        r = p.report
        out.append(TradeoffPoint(float(w), r.pupils_moved, r.overflow_after, r.travel_after.mean, r.status, r.gap, r.seconds, p))
        warm = p.assignment
        if cancel is not None and cancel():
            break
    prep.model.weights["moved"] = base
    return out
