"""Proposals from the optimiser: check the request, solve as a job, store the result as a draft.

One use case for ``POST /v1/plans/{id}/optimise`` and ``catchment plans optimise`` alike:

1. :func:`setup` (synchronous, before any job): the plan, its zones and schools, the demand set,
   the units inside the plan's zones and the school each has today, the options and the travel
   costs. Everything a user can get wrong is an ``InvalidInput`` naming the field (unknown demand
   set, unknown unit or school in ``locks``, a school in the utilisation overrides that the plan
   does not serve), and seats that cannot hold the pupils under hard capacity (all of them, or
   the locked units alone) are ``InsufficientCapacity`` with the shortfall per school: answered
   422 at once, never a job that fails later.
2. :func:`run` (in the job, or in the CLI's process): :func:`geo.planning.optimise.optimise` (or
   the trade-off curve), progress to the caller after each improving plan, cancel polled by
   the solver, then the draft (:func:`store_draft`): a child of the starting plan whose zones are
   dissolved from the units (``dissolve_zones``: the units' coverage, no gap or overlap created).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from geo.errors import Cancelled, Infeasible, InvalidInput, NotFound
from geo.models import Plan, School, SchoolStatus, Zone
from geo.planning.demand import DemandUnit
from geo.planning.optimise import (
    OptimiseOptions,
    OptimiseReport,
    Progress,
    Proposal,
    TravelCosts,
    Weights,
    dissolve_zones,
    optimise,
    prepare,
    start_from_zones,
    tradeoff,
)
from geo.planning.optimise.build import check_seats
from service.operations.context import pick_demand
from service.operations.jsonable import to_jsonable
from service.operations.optimise_costs import request_costs
from service.storage.base import Repository

COSTS = ("straight", "walk", "drive", "matrix")


@dataclass(frozen=True)
class OptimiseRequest:
    """What the planner asks for (the HTTP body and the CLI options, the same fields)."""

    demand: str | None = None
    level: str | None = None
    name: str | None = None
    max_utilisation: float = 1.0
    max_utilisation_by_school: Mapping[str, float] = field(default_factory=dict)
    capacity: str = "hard"
    time_limit_s: float = 60.0
    gap: float = 0.01
    locks: Mapping[str, str] = field(default_factory=dict)
    cost: str = "straight"
    matrix: Path | None = None
    matrix_unit: str = "s"
    k: int = 5
    max_travel: float | None = None
    weights: Mapping[str, float] = field(default_factory=dict)
    tradeoff: int = 0
    contiguous: bool = True

    def params(self) -> dict[str, Any]:
        """The request as the job's stored parameters."""
        out = to_jsonable(self)
        out["matrix"] = self.matrix.name if self.matrix else None
        return out  # type: ignore[no-any-return]


@dataclass(frozen=True)
class Setup:
    """A checked request, ready to solve."""

    plan: Plan
    demand: str
    units: tuple[DemandUnit, ...]
    schools: tuple[School, ...]
    start: dict[str, str]
    options: OptimiseOptions
    costs: TravelCosts | None
    request: OptimiseRequest


def _schools(repo: Repository, zones: list[Zone], level: str) -> list[School]:
    """The schools the plan's zones name (as stored: status, capacity), plus planned schools of
    the level inside the zones, which the optimiser may open. Schools outside the plan are not
    candidates: their pupils are not in this plan's units."""
    import shapely

    named = sorted({c for z in zones for c in z.school_codes})
    out: dict[str, School] = {}
    for code in named:
        try:
            out[code] = repo.get_school(code)
        except NotFound:
            continue
    area = shapely.union_all([z.geometry for z in zones])
    x0, y0, x1, y1 = area.bounds
    for s in repo.list_schools(bbox=(x0, y0, x1, y1), level=level):
        if s.status is SchoolStatus.PLANNED and s.code not in out and area.covers(shapely.Point(s.lon, s.lat)):
            out[s.code] = s
    return sorted(out.values(), key=lambda s: s.code)


def _weights(given: Mapping[str, float]) -> Weights:
    known = set(Weights.__dataclass_fields__)
    bad = sorted(set(given) - known)
    if bad:
        msg = f"unknown weight(s) {', '.join(bad)}; weights are {', '.join(sorted(known))} / 未知的权重"
        raise InvalidInput(msg, where="options.weights")
    for k, v in given.items():
        if not math.isfinite(v) or v < 0:
            raise InvalidInput(f"weight {k} must be a number >= 0, not {v} / 权重须为非负数", where=f"options.weights.{k}")
    return replace(Weights(), **{k: float(v) for k, v in given.items()})


def _check_locks(req: OptimiseRequest, units: Mapping[str, DemandUnit], schools: Mapping[str, School]) -> None:
    for uid, code in req.locks.items():
        if uid not in units:
            msg = (f"locked unit {uid!r} is not a demand unit inside this plan's zones / 锁定的单元 {uid!r} "
                   f"不在本方案范围内的需求单元中")
            raise InvalidInput(msg, where="options.locks")
        if code not in schools:
            msg = f"unit {uid} is locked to {code!r}, which is not a school of this plan / 单元 {uid} 锁定的学校 {code!r} 不属于本方案"
            raise InvalidInput(msg, where=f"options.locks.{uid}")
        if schools[code].status is SchoolStatus.CLOSED:
            msg = f"unit {uid} is locked to {code}, which is closed / 单元 {uid} 锁定的学校 {code} 已关闭"
            raise InvalidInput(msg, where=f"options.locks.{uid}")
    for code in req.max_utilisation_by_school:
        if code not in schools:
            msg = f"{code!r} is not a school of this plan / {code!r} 不是本方案的学校"
            raise InvalidInput(msg, where="options.max_utilisation_by_school")


def _seats(units: tuple[DemandUnit, ...], schools: tuple[School, ...], opt: OptimiseOptions) -> None:
    """The checks that need no model: locked units alone, or all units, beyond the seats (hard capacity)."""
    active = tuple(s for s in schools if s.status is not SchoolStatus.CLOSED)
    pos = {s.code: k for k, s in enumerate(active)}
    demand = np.array([u.count(opt.level, grades=opt.grades) for u in units], dtype=float)
    mu = np.array([opt.max_utilisation_by_school.get(s.code, opt.max_utilisation) for s in active])
    limit = mu * np.array([np.inf if s.capacity is None else float(s.capacity) for s in active])
    locked = np.array([pos.get(opt.locked.get(u.id, ""), -1) for u in units], dtype=np.intp)
    try:
        check_seats(demand, limit, locked, active)
    except Infeasible as exc:
        raise bilingual(exc) from exc


def bilingual(exc: Infeasible) -> Infeasible:
    """The same infeasibility with its Chinese text: where seats fall short, by how many pupils."""
    if exc.message_zh != exc.message:
        return exc
    parts = [f"{'全部学校' if f.get('area') == 'all schools' else f.get('area')}缺 {f.get('short')} 个学位"
             f"（需求 {f.get('demand')}，学位 {f.get('seats')}）" for f in exc.shortfalls[:5] if f.get("short") is not None]
    zh = ("学位不足：" + "；".join(parts)) if parts else "在硬约束下无可行方案：请放宽约束或延长时限"
    cls = type(exc)
    return cls(f"{exc.message} / {zh}", message_zh=zh, shortfalls=exc.shortfalls, where=exc.where)


def setup(repo: Repository, plan_id: int, req: OptimiseRequest, *, travels: Any = None) -> Setup:
    """Check everything that needs no solver; raises InvalidInput (field named) or InsufficientCapacity.

    ``travels`` are the worker's street networks (``Snapshot.travels``), for ``cost`` walk or drive.
    """
    plan = repo.get_plan(plan_id)
    if req.level is not None and req.level != plan.level:
        msg = f"plan {plan.id} is a {plan.level} plan, not {req.level} / 方案 {plan.id} 的学段是 {plan.level}"
        raise InvalidInput(msg, where="level")
    if req.cost not in COSTS:
        raise InvalidInput(f"cost must be one of {', '.join(COSTS)}, not {req.cost!r}", where="options.cost")
    zones = repo.zones(plan.id)
    if not zones:
        raise InvalidInput(f"plan {plan.id} has no zones to start from / 方案 {plan.id} 没有招生片区", where="plan_id")
    try:
        name, all_units = pick_demand(repo, zones, req.demand)
    except NotFound as exc:
        raise InvalidInput(f"{exc.message} / 没有名为 {req.demand!r} 的需求数据", where="demand") from exc
    if name is None:
        raise InvalidInput("no demand set covers this plan: load one (`catchment import demand`) and name it in demand= / "
                           "没有覆盖本方案的需求数据", where="demand")
    start_all = start_from_zones(all_units, zones)
    units = tuple(u for u in all_units if u.id in start_all)
    if not units:
        raise InvalidInput(f"no unit of demand set {name!r} lies inside plan {plan.id}'s zones / 需求数据不在本方案范围内", where="demand")
    if any(u.geometry.geom_type == "Point" for u in units):
        raise InvalidInput(f"demand set {name!r} has point units; zones are dissolved from polygon units (blocks) / "
                           "需求单元须为面（街区）", where="demand")
    schools = tuple(_schools(repo, zones, plan.level))
    by_code = {s.code: s for s in schools}
    _check_locks(req, {u.id: u for u in units}, by_code)
    try:
        options = OptimiseOptions(level=plan.level, k_nearest=req.k, max_utilisation=req.max_utilisation,
                                  max_utilisation_by_school=dict(req.max_utilisation_by_school), capacity=req.capacity,  # type: ignore[arg-type]
                                  max_travel=req.max_travel, contiguous=req.contiguous, locked=dict(req.locks),
                                  weights=_weights(req.weights), time_limit_s=req.time_limit_s, gap=req.gap)
    except InvalidInput as exc:
        raise InvalidInput(exc.message, where=f"options.{exc.where}" if exc.where else "options") from exc
    if options.capacity == "hard":
        _seats(units, schools, options)
    costs = request_costs(req, units, schools, zones, travels)
    start = {u.id: start_all[u.id] for u in units}
    return Setup(plan, name, units, schools, start, options, costs, req)


# ---------------------------------------------------------------------------- running


@dataclass(frozen=True)
class Outcome:
    """A stored proposal: the draft plan and the report (JSON-ready), with the curve when asked."""

    draft: Plan
    report: dict[str, Any]
    summary: dict[str, Any]
    curve: list[dict[str, Any]] | None = None

    def as_dict(self) -> dict[str, Any]:
        return {**self.summary, "report": self.report, "tradeoff": self.curve}


def progress_step(p: Progress) -> dict[str, Any]:
    """One point of the progress trace, rounded (JSON)."""
    return {"seconds": round(p.seconds, 2), "objective": _num(p.objective), "bound": _num(p.bound), "gap": _num(p.gap, 5)}


def _num(v: float | None, digits: int = 3) -> float | None:
    return None if v is None or not math.isfinite(v) else round(float(v), digits)


def run(repo: Repository, s: Setup, *, actor: str, progress: Callable[[Progress], None] | None = None,
        cancel: Callable[[], bool] | None = None) -> Outcome:
    """Solve, then store the draft. Raises ``Cancelled`` (no draft stored) when cancel was asked."""
    curve = None
    if s.request.tradeoff > 0:
        prep = prepare(s.units, s.schools, start=s.start, options=s.options, costs=s.costs)
        points = tradeoff(prep, n=s.request.tradeoff, progress=progress, cancel=cancel)
        curve = [{"moved_weight": round(p.moved_weight, 4), "pupils_moved": p.pupils_moved, "overflow": round(p.overflow, 2),
                  "travel_mean": round(p.travel_mean, 1), "status": p.status, "gap": _num(p.gap, 5),
                  "seconds": round(p.seconds, 2)} for p in points]
        # the draft: the point at the configured stability weight (the curve runs 10x to 0.1x around it)
        base = s.options.weights.moved
        proposal = min(points, key=lambda p: abs(math.log(p.moved_weight / base))).proposal
    else:
        try:
            proposal = optimise(s.units, s.schools, start=s.start, options=s.options, costs=s.costs, progress=progress,
                                cancel=cancel)
        except Infeasible as exc:
            raise bilingual(exc) from exc
    if cancel is not None and cancel():
        raise Cancelled("the optimisation was cancelled; no draft was stored / 已取消，未保存草案")
    return store_draft(repo, s, proposal, actor=actor, curve=curve)


def summary(report: OptimiseReport, draft: Plan) -> dict[str, Any]:
    """The figures every caller shows first (the CLI's ``--json`` prints at least these)."""
    return {"plan_id": draft.id, "parent_id": draft.parent_id, "status": report.status, "gap": _num(report.gap, 5),
            "seconds": round(report.seconds, 2), "moved": report.pupils_moved, "units_moved": len(report.units_changed),
            "over_capacity_before": round(report.overflow_before, 2), "over_capacity_after": round(report.overflow_after, 2),
            "schools_over_before": report.schools_over_before, "schools_over_after": report.schools_over_after,
            "travel_mean_before": round(report.travel_before.mean, 1), "travel_mean_after": round(report.travel_after.mean, 1),
            "cost_unit": report.cost_unit}


def describe(report: OptimiseReport, parent: Plan, demand: str) -> str:
    """The draft's description: what was solved and what it gave, in English and Chinese."""
    gap = "n/a" if report.gap is None else f"{report.gap:.2%}"
    return (f"Optimiser proposal from plan {parent.id} ({parent.name}), demand {demand}: {report.status}, gap {gap}, "
            f"{report.seconds:.1f} s; {report.pupils_moved:,.0f} pupils ({len(report.units_changed)} units) moved; "
            f"over capacity {report.overflow_before:,.0f} -> {report.overflow_after:,.0f} pupils at "
            f"{report.schools_over_before} -> {report.schools_over_after} schools. / "
            f"由方案 {parent.id} 优化生成：调整 {report.pupils_moved:,.0f} 名学生（{len(report.units_changed)} 个单元），"
            f"超额学生 {report.overflow_before:,.0f} -> {report.overflow_after:,.0f}，最优性差距 {gap}。")


def store_draft(repo: Repository, s: Setup, proposal: Proposal, *, actor: str,
                curve: list[dict[str, Any]] | None = None) -> Outcome:
    """The proposal as a draft: a child of the starting plan, one zone per school dissolved from its units."""
    report = proposal.report
    # each zone remembers the demand set it was dissolved from: the maps outline the moved units of that set
    zones = [replace(z, attributes={**z.attributes, "demand": s.demand})
             for z in dissolve_zones(s.units, proposal.assignment, schools={c.code: c for c in s.schools})]
    name = s.request.name or f"Proposal from {s.plan.name}"
    draft = repo.create_plan(name=name[:200], district=s.plan.district, level=s.plan.level, school_year=s.plan.school_year,
                             actor=actor, parent_id=s.plan.id, description=describe(report, s.plan, s.demand))
    draft = repo.replace_zones(draft.id, zones, actor=actor, expected_version=draft.version, action="optimise")
    body = to_jsonable(report)
    body["units_changed"] = list(report.units_changed)
    body["demand"] = s.demand
    return Outcome(draft, body, summary(report, draft), curve)


def job(repo: Repository, s: Setup, *, actor: str) -> Callable[[Any], dict[str, Any]]:
    """The job function for the JobRunner: progress (incumbent objective, bound, gap over time),
    cancel through the solver's callback, the draft's id and the report as the result."""

    def work(ctx: Any) -> dict[str, Any]:
        trace: list[dict[str, Any]] = []
        ctx.report(force=True, phase="solving", units=len(s.units), schools=len(s.schools), time_limit_s=s.options.time_limit_s)

        def step(p: Progress) -> None:
            point = progress_step(p)
            trace.append(point)
            ctx.report(phase="solving", objective=point["objective"], bound=point["bound"], gap=point["gap"],
                       seconds=point["seconds"], fraction=min(0.99, p.seconds / max(s.options.time_limit_s, 1e-9)),
                       trace=trace[-200:])

        try:
            out = run(repo, s, actor=actor, progress=step, cancel=lambda: bool(ctx.cancelled))
        except Cancelled:
            ctx.check()  # the runner records the job as cancelled
            raise
        ctx.report(force=True, phase="done", plan_id=out.draft.id, gap=out.summary["gap"], trace=trace[-200:])
        return {**out.as_dict(), "href": f"/v1/plans/{out.draft.id}"}

    return work
