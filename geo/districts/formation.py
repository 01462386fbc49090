"""学区 formation: partition a county's schools into districts of balanced quality, a MIP (HiGHS).

Model (``n`` schools, ``L`` the schools that may lead, ``q`` quality, ``qbar`` its county mean,
``c`` the travel matrix):

* ``x[s, l]`` binary, school s is in the district led by l; only pairs within the travel cap
  exist (the cap is enforced by leaving the variable out). ``y[l]`` binary, l leads a
  district; ``x[l, l] = y[l]`` and ``x[s, l] <= y[l]``.
* every school in exactly one district: ``sum_l x[s, l] = 1``;
  ``min_schools * y[l] <= sum_s x[s, l] <= max_schools * y[l]``.
* optional: at least one strong / urban / rural / each-level school per district
  (``sum_{s in group} x[s, l] >= y[l]``); exactly ``districts`` districts (``sum y = k``).
* balance: ``d[l] >= |sum_s (q_s - qbar) x[s, l]|`` (two rows), the deviation of the district's
  total quality from its size times the county mean, i.e. size times (district mean - qbar).
  ``sum_l d[l] / N`` is the L1 analogue of the size-weighted between-district 差异系数 the plan
  reports, so minimising it spreads strong schools across districts.
* objective: ``sum_l d[l] / mad + travel_weight * sum c[s, l] x[s, l] / scale``; ``mad`` is
  the schools' mean absolute deviation from ``qbar`` and ``scale`` the travel cap (or the
  median travel), so the small travel term makes districts compact without outweighing balance.

The solver starts from the partition :mod:`geo.districts.construct` builds (leads by greedy cover,
a seat assignment, local search on the same objective), so a county too large to solve in the time
limit still gets a plan that meets every rule, with the gap to the bound proved so far.

The solve is deterministic (one thread, HiGHS's fixed seed) when it ends within its gap; a time
limit ends it with the best partition found so far and the gap, which then depends on the
machine's speed. A cancel check stops it (:class:`geo.errors.Cancelled`).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence

import highspy
import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike, NDArray

from geo.capacity.balance import unweighted_cv, weighted_cv
from geo.districts.checks import Prepared, prepare, required_groups
from geo.districts.construct import construct
from geo.districts.model import District, DistrictOptions, DistrictPlan, DistrictSchool, SolveProgress, travel_text
from geo.errors import Cancelled, Infeasible
from geo.solver import new_highs, run_highs
from geo.standards import StandardsProfile

ProgressFn = Callable[[SolveProgress], None]
CancelFn = Callable[[], bool]


class _Rows:
    """Constraint rows collected as COO triplets."""

    def __init__(self) -> None:
        self.r: list[int] = []
        self.c: list[int] = []
        self.v: list[float] = []
        self.lo: list[float] = []
        self.hi: list[float] = []

    def add(self, cols: Sequence[int], vals: Sequence[float], lo: float, hi: float) -> None:
        i = len(self.lo)
        self.r.extend([i] * len(cols))
        self.c.extend(cols)
        self.v.extend(vals)
        self.lo.append(lo)
        self.hi.append(hi)


def _model(p: Prepared, o: DistrictOptions) -> tuple[highspy.HighsLp, NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]:
    inf = highspy.kHighsInf
    n = len(p.codes)
    ps, pl = np.nonzero(p.reach)  # pair k = (school ps[k], lead pl[k])
    leads = np.flatnonzero(p.lead_ok)
    npair, nl = len(ps), len(leads)
    y0, d0 = npair, npair + nl
    lead_pos = {int(l_): j for j, l_ in enumerate(leads)}
    by_school: list[list[int]] = [[] for _ in range(n)]
    by_lead: list[list[int]] = [[] for _ in range(nl)]
    for k, (s, l_) in enumerate(zip(ps, pl, strict=True)):
        by_school[s].append(k)
        by_lead[lead_pos[int(l_)]].append(k)
    rows = _Rows()
    for ks in by_school:
        rows.add(ks, [1.0] * len(ks), 1.0, 1.0)
    dev = p.quality - p.quality.mean()
    groups = required_groups(p, o)
    for j, ks in enumerate(by_lead):
        y = y0 + j
        for k in ks:
            if ps[k] == pl[k]:
                rows.add([k, y], [1.0, -1.0], 0.0, 0.0)
            else:
                rows.add([k, y], [1.0, -1.0], -inf, 0.0)
        rows.add([*ks, y], [1.0] * len(ks) + [-float(p.max_schools)], -inf, 0.0)
        if o.min_schools > 1:
            rows.add([*ks, y], [1.0] * len(ks) + [-float(o.min_schools)], 0.0, inf)
        for g in groups:
            member = [k for k in ks if g[ps[k]]]
            rows.add([*member, y], [1.0] * len(member) + [-1.0], 0.0, inf)
        coef = [float(dev[ps[k]]) for k in ks]
        rows.add([d0 + j, *ks], [1.0, *(-c for c in coef)], 0.0, inf)
        rows.add([d0 + j, *ks], [1.0, *coef], 0.0, inf)
    ycols = list(range(y0, y0 + nl))
    if o.districts is not None:
        rows.add(ycols, [1.0] * nl, float(o.districts), float(o.districts))
    else:
        rows.add(ycols, [1.0] * nl, float(p.min_districts), inf)
    mad = float(np.abs(dev).mean()) or 1.0
    t = p.travel[ps, pl]
    finite = p.travel[np.isfinite(p.travel) & (p.travel > 0)]
    scale = o.max_travel or (float(np.median(finite)) if finite.size else 1.0)
    ncol = npair + 2 * nl
    cost = np.concatenate([o.travel_weight * t / scale, np.zeros(nl), np.full(nl, 1.0 / mad)])
    a = sp.csc_matrix((rows.v, (rows.r, rows.c)), shape=(len(rows.lo), ncol))
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = ncol, len(rows.lo)
    lp.col_cost_ = cost
    lp.col_lower_ = np.zeros(ncol)
    lp.col_upper_ = np.concatenate([np.ones(npair + nl), np.full(nl, inf)])
    lp.row_lower_, lp.row_upper_ = np.array(rows.lo), np.array(rows.hi)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_, lp.a_matrix_.index_, lp.a_matrix_.value_ = a.indptr, a.indices, a.data
    lp.a_matrix_.num_col_, lp.a_matrix_.num_row_ = ncol, len(rows.lo)
    lp.integrality_ = [highspy.HighsVarType.kInteger] * (npair + nl) + [highspy.HighsVarType.kContinuous] * nl
    return lp, ps, pl, leads


def form_districts(
    schools: Sequence[DistrictSchool],
    travel: ArrayLike,
    options: DistrictOptions | None = None,
    *,
    profile: StandardsProfile | None = None,
    progress: ProgressFn | None = None,
    cancel: CancelFn | None = None,
) -> DistrictPlan:
    """Partition ``schools`` into 学区 of balanced quality, each around a lead school.

    Parameters
    ----------
    schools
        The schools of one county (one level, or both compulsory levels with ``mix_levels``).
    travel
        ``n x n`` travel costs in the schools' order (metres from :func:`geodesic_matrix`, or
        network times); ``inf`` = unreachable. Row = school, column = lead.
    options
        Size, travel, strong-school and mix rules, solver limits (:class:`DistrictOptions`).
    profile
        Standards profile: the default size cap (``district_max_schools``) and the key the plan
        carries.
    progress
        Called with a :class:`SolveProgress` when the solver improves its answer.
    cancel
        Polled during the solve; returning True stops it with :class:`geo.errors.Cancelled`.

    Raises
    ------
    InvalidInput
        Malformed schools or matrix.
    Infeasible
        Options no partition meets (said before solving when a simple count or a stranded
        school shows it, else after the solver proves it), or no partition found in time.
    Cancelled
        When ``cancel`` returned True.
    """
    o = options or DistrictOptions()
    p = prepare(schools, travel, o, profile)
    if cancel is not None and cancel():
        msg = "district formation cancelled"
        raise Cancelled(msg)
    start = time.perf_counter()
    first = construct(p, o, seconds=min(0.2 * float(o.time_limit_s), 10.0), cancel=cancel)
    lp, ps, pl, leads = _model(p, o)
    left = float(o.time_limit_s) - (time.perf_counter() - start)
    h = new_highs(threads=1, time_limit_s=max(left, 0.1), gap=float(o.mip_rel_gap), seed=0)
    h.passModel(lp)
    start_obj = None
    if first is not None:
        start_obj = _mip_start(h, p, o, lp, first, ps, pl, leads)
        if progress is not None:
            progress(SolveProgress(time.perf_counter() - start, start_obj, None, None))
    stopped = _callbacks(h, start, progress, cancel)
    status = run_highs(h)
    elapsed = time.perf_counter() - start
    if stopped[0]:
        msg = "district formation cancelled"
        raise Cancelled(msg)
    info = h.getInfo()
    has_solution = info.primal_solution_status == 2  # kSolutionStatusFeasible
    if status == highspy.HighsModelStatus.kInfeasible:
        _raise_infeasible(p, o)
    bound = _finite(info.mip_dual_bound)
    if has_solution:
        x = np.asarray(h.getSolution().col_value)[: len(ps)] > 0.5
        s_idx, l_idx, objective, gap = ps[x], pl[x], float(info.objective_function_value), _finite(info.mip_gap)
    elif first is not None and start_obj is not None:
        # The solver ran out of time before it took the start in (a large county): the
        # construction's partition stands, with the gap to whatever bound the solver proved.
        s_idx, l_idx, objective = np.arange(len(first)), first, start_obj
        gap = (objective - bound) / abs(objective) if bound is not None and objective else None
    else:
        en = (f"no district partition found within the time limit of {o.time_limit_s:g} s; the options may still be "
              "feasible: allow more time or loosen them")
        zh = f"在 {o.time_limit_s:g} 秒时限内未找到学区划分方案；条件未必不可行：请延长时限或放宽条件"
        raise Infeasible(en, message_zh=zh, where="time_limit_s")
    optimal = has_solution and status == highspy.HighsModelStatus.kOptimal
    return _plan(p, o, s_idx, l_idx, profile=profile, status="optimal" if optimal else "time_limit",
                 objective=objective, bound=bound, gap=gap, solve_s=elapsed)


def _mip_start(h: highspy.Highs, p: Prepared, o: DistrictOptions, lp: highspy.HighsLp, first: NDArray[np.int64],
               ps: NDArray[np.int64], pl: NDArray[np.int64], leads: NDArray[np.int64]) -> float:
    """Give the solver the constructed partition as its first incumbent; its objective value."""
    x = (first[ps] == pl).astype(float)
    y = np.isin(leads, first).astype(float)
    dev = p.quality - p.quality.mean()
    d = np.abs(np.bincount(first, weights=dev, minlength=len(first))[leads])
    col = np.concatenate([x, y, d])
    sol = highspy.HighsSolution()
    sol.col_value = col.tolist()
    sol.value_valid = True
    h.setSolution(sol)
    return float(np.dot(np.asarray(lp.col_cost_), col))


def _finite(v: float) -> float | None:
    return float(v) if math.isfinite(v) else None


def _callbacks(h: highspy.Highs, start: float, progress: ProgressFn | None, cancel: CancelFn | None) -> list[bool]:
    stopped = [False]
    if progress is not None:
        def improved(e: highspy.cb.HighsCallbackEvent) -> None:  # type: ignore[name-defined]
            out = e.data_out
            progress(SolveProgress(time.perf_counter() - start, _finite(out.mip_primal_bound),
                                   _finite(out.mip_dual_bound), _finite(out.mip_gap)))
        h.cbMipImprovingSolution.subscribe(improved)
    if cancel is not None:
        def poll(e: highspy.cb.HighsCallbackEvent) -> None:  # type: ignore[name-defined]
            if cancel():
                stopped[0] = True
                e.interrupt()
        h.cbMipInterrupt.subscribe(poll)
        h.cbSimplexInterrupt.subscribe(poll)
    return stopped


def _raise_infeasible(p: Prepared, o: DistrictOptions) -> None:
    rules_en = [f"at most {p.max_schools} schools per district"]
    rules_zh = [f"每个学区至多 {p.max_schools} 所学校"]
    if o.min_schools > 1:
        rules_en.append(f"at least {o.min_schools}")
        rules_zh.append(f"至少 {o.min_schools} 所")
    if o.max_travel is not None:
        en_t, zh_t = travel_text(o.max_travel, o.travel_unit)
        rules_en.append(f"travel to the lead at most {en_t}")
        rules_zh.append(f"到学区长学校不超过 {zh_t}")
    if o.strong_share is not None:
        rules_en.append("a strong school in each")
        rules_zh.append("每个学区至少一所优质学校")
    if o.mix_urban_rural:
        rules_en.append("urban and rural schools in each")
        rules_zh.append("每个学区城乡学校搭配")
    if o.mix_levels:
        rules_en.append("every level in each")
        rules_zh.append("每个学区各学段齐全")
    if o.districts is not None:
        rules_en.append(f"exactly {o.districts} districts")
        rules_zh.append(f"恰好 {o.districts} 个学区")
    en = (f"no partition of the {len(p.codes)} schools meets all the options together ({'; '.join(rules_en)}); "
          "each passes on its own: loosen one (a longer travel cap usually helps)")
    zh = f"{len(p.codes)} 所学校无法同时满足全部条件（{'；'.join(rules_zh)}）；请放宽其中一项（通常可放宽距离上限）"
    raise Infeasible(en, message_zh=zh, where="options")


def _plan(p: Prepared, o: DistrictOptions, s_idx: NDArray[np.int64], l_idx: NDArray[np.int64], *,
          profile: StandardsProfile | None, status: str, objective: float, bound: float | None,
          gap: float | None, solve_s: float) -> DistrictPlan:
    members: dict[int, list[int]] = {}
    for s, l_ in zip(s_idx.tolist(), l_idx.tolist(), strict=True):
        members.setdefault(l_, []).append(s)
    districts = []
    for l_, ms in members.items():
        ms = [l_] + sorted((m for m in ms if m != l_), key=lambda i: p.codes[i])
        q = p.quality[ms]
        t = p.travel[ms, l_]
        urban = int(p.urban[ms].sum()) if p.urban is not None else 0
        rural = len(ms) - urban if p.urban is not None else 0
        districts.append(District(p.codes[l_], tuple(p.codes[i] for i in ms), float(q.mean()), float(q.min()),
                                  float(q.max()), float(t.max()), float(t.sum()), int(p.strong[ms].sum()), urban, rural))
    districts.sort(key=lambda d: d.lead)
    totals = [d.mean_quality * len(d.members) for d in districts]
    sizes = [float(len(d.members)) for d in districts]
    between = weighted_cv(totals, sizes) if sum(totals) > 0 else math.nan
    between_u = unweighted_cv(totals, sizes) if sum(totals) > 0 else math.nan
    within = max(d.quality_range for d in districts)
    key = profile.key if profile is not None else None
    gap_en = f"{gap:.2%}" if gap is not None else "unknown"
    how_en = f"solved within a gap of {gap_en}" if status == "optimal" else f"time limit reached, gap {gap_en}"
    how_zh = f"求解完成，最优性间隙 {gap_en}" if status == "optimal" else f"达到求解时限，最优性间隙 {gap_en}"
    en = (f"{len(p.codes)} schools in {len(districts)} districts (at most {p.max_schools} each); between-district CV of "
          f"mean quality {between:.4g}; largest within-district range {within:.4g}; {how_en}")
    zh = (f"{len(p.codes)} 所学校分为 {len(districts)} 个学区（每个至多 {p.max_schools} 所）；学区间平均质量差异系数 "
          f"{between:.4g}；学区内最大极差 {within:.4g}；{how_zh}")
    dev = p.quality - p.quality.mean()
    mad = float(np.abs(dev).mean()) or 1.0
    balance = sum(abs(float(dev[[p.codes.index(m) for m in d.members]].sum())) for d in districts) / mad
    return DistrictPlan(tuple(districts), o, p.max_schools, key, status, objective, bound, gap, solve_s,
                        float(p.quality.mean()), between, between_u, within, balance, objective - balance,
                        {"en": en, "zh": zh})
