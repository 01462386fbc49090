"""Balance of resources across schools (均衡发展): the enrolment-weighted 差异系数 per indicator.

For one level and area, school i with n_i pupils and R_i of a resource has the indicator
x_i = R_i / n_i (times 100 for per-100-pupil indicators). With N = sum n_i, the area value is
xbar = sum R_i / N: the area's total resource per pupil, *not* the mean of the schools'
ratios. Then

    CV = sqrt( sum_i (n_i / N) (x_i - xbar)^2 ) / xbar

(教督〔2012〕3号 formula, limits from 教督〔2017〕6号). The unweighted CV (population standard
deviation of the x_i over their plain mean) is reported beside it for comparison: the two agree
when every school has the same enrolment and drift apart as sizes differ.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from geo.capacity.utilisation import level_figures, non_negative, serves_level
from geo.errors import InvalidInput
from geo.models import School, SchoolStatus
from geo.standards import Indicator, LevelKind, StandardsProfile, level_kind


def _arrays(resource: ArrayLike, pupils: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    r = np.asarray(resource, dtype=float)
    n = np.asarray(pupils, dtype=float)
    if r.shape != n.shape or r.ndim != 1 or r.size == 0:
        msg = f"resource and pupils must be equal-length, non-empty 1-d arrays (got {r.shape} and {n.shape})"
        raise InvalidInput(msg, where="values")
    if not (np.isfinite(r).all() and (r >= 0).all()):
        msg = "resource values must be finite and not negative"
        raise InvalidInput(msg, where="resource")
    if not (np.isfinite(n).all() and (n > 0).all()):
        msg = "pupil counts must be finite and positive"
        raise InvalidInput(msg, where="pupils")
    return r, n


def weighted_cv(resource: ArrayLike, pupils: ArrayLike) -> float:
    """Enrolment-weighted coefficient of variation of resource per pupil across schools.

    Parameters
    ----------
    resource
        Each school's total of the resource (teachers, m2, yuan ...).
    pupils
        Each school's enrolment (> 0).

    Returns
    -------
    float
        ``sqrt(sum (n_i/N)(x_i - xbar)^2) / xbar`` with ``x_i = R_i/n_i`` and
        ``xbar = sum R / N``; NaN when the area has none of the resource (xbar = 0). Scaling
        (per pupil or per 100 pupils) does not change it.
    """
    r, n = _arrays(resource, pupils)
    big_n = n.sum()
    xbar = r.sum() / big_n
    if xbar == 0:
        return math.nan
    x = r / n
    return float(math.sqrt(float(np.sum((n / big_n) * (x - xbar) ** 2))) / xbar)


def unweighted_cv(resource: ArrayLike, pupils: ArrayLike) -> float:
    """Plain CV of the schools' per-pupil values: population std / mean (NaN when the mean is 0)."""
    r, n = _arrays(resource, pupils)
    x = r / n
    mean = x.mean()
    return float(x.std(ddof=0) / mean) if mean != 0 else math.nan


@dataclass(frozen=True, slots=True)
class SchoolValue:
    """One school's value of one indicator against the per-school threshold."""

    code: str
    pupils: float
    value: float
    threshold: float | None
    passed: bool | None
    share_of_threshold: float | None


@dataclass(frozen=True, slots=True)
class IndicatorResult:
    indicator: Indicator
    schools: tuple[SchoolValue, ...]
    missing: tuple[str, ...]
    area_value: float | None
    cv_weighted: float | None
    cv_unweighted: float | None
    cv_limit: float | None
    within_limit: bool | None


@dataclass(frozen=True, slots=True)
class SchoolVerdict:
    """The per-school rule: at least ``min_met`` indicators met, the rest >= ``floor`` of the threshold.

    ``passed`` is None while an indicator is missing or the profile sets no rule.
    """

    code: str
    name: str
    met: int
    known: int
    below_floor: tuple[str, ...]
    passed: bool | None


@dataclass(frozen=True, slots=True)
class BalanceReport:
    profile: str
    level: str
    level_kind: LevelKind | None
    indicators: tuple[IndicatorResult, ...]
    schools: tuple[SchoolVerdict, ...]
    excluded: tuple[tuple[str, str], ...]
    all_within_limits: bool | None
    notes: tuple[str, ...] = ()


def _finite(x: float) -> float | None:
    return None if math.isnan(x) else x


def balance_report(schools: Sequence[School], *, level: str, profile: StandardsProfile) -> BalanceReport:
    """Each indicator's weighted CV against the profile limit, and each school's pass/fail.

    Parameters
    ----------
    schools
        Schools of the area; open schools of ``level`` (by name or kind) are assessed. Resource
        totals are read from ``attributes`` under each indicator's key (``teachers_above_degree``,
        ``teaching_area_m2`` ...; see :data:`geo.standards.BALANCE_INDICATORS`), per level
        from ``attributes["by_level"]`` when given.
    level
        The deployment's level name.
    profile
        Standards profile; thresholds and limits come from its numbers for the level's kind.
    """
    std = profile.for_level(level)
    chosen = [s for s in schools if s.status is SchoolStatus.OPEN and serves_level(s, level)]
    excluded: list[tuple[str, str]] = []
    rows = []
    for s in chosen:
        fig = level_figures(s, level)
        if not fig.enrolment:
            excluded.append((s.code, "no enrolment"))
            continue
        rows.append((s, fig.enrolment, fig.attributes))
    results = []
    per_school: dict[str, dict[str, SchoolValue]] = {s.code: {} for s, _, _ in rows}
    for ind in profile.balance_indicators:
        have = [(s, n, v) for s, n, a in rows if (v := non_negative(a.get(ind.key), what=ind.key, code=s.code)) is not None]
        missing = tuple(s.code for s, _, a in rows if a.get(ind.key) is None)
        threshold = std.balance_thresholds.get(ind.key)
        values = []
        for s, n, v in have:
            x = v * ind.per_pupils / n
            sv = SchoolValue(s.code, n, x, threshold, None if threshold is None else x >= threshold,
                             None if not threshold else x / threshold)
            values.append(sv)
            per_school[s.code][ind.key] = sv
        if have:
            r = [v for _, _, v in have]
            n_ = [n for _, n, _ in have]
            cv_w, cv_u = _finite(weighted_cv(r, n_)), _finite(unweighted_cv(r, n_))
            area = sum(r) * ind.per_pupils / sum(n_)
        else:
            cv_w = cv_u = area = None
        limit = std.balance_cv_limit
        within = None if cv_w is None or limit is None else cv_w <= limit
        results.append(IndicatorResult(ind, tuple(values), missing, area, cv_w, cv_u, limit, within))
    verdicts = tuple(_verdict(s, per_school[s.code], profile) for s, _, _ in rows)
    judged = [r.within_limit for r in results]
    notes = [f"standards profile {profile.key}", "CV weighted by enrolment; xbar = area total / area pupils"]
    if not profile.balance_indicators or std.balance_cv_limit is None:
        notes.append(f"profile {profile.key} sets no balance standard for level {level!r}")
    return BalanceReport(
        profile=profile.key, level=level, level_kind=level_kind(level), indicators=tuple(results), schools=verdicts,
        excluded=tuple(excluded),
        all_within_limits=None if not judged or any(j is None for j in judged) else all(j for j in judged if j is not None),
        notes=tuple(notes),
    )


def _verdict(school: School, values: dict[str, SchoolValue], profile: StandardsProfile) -> SchoolVerdict:
    met = sum(1 for v in values.values() if v.passed)
    floor = profile.balance_floor_share
    below = tuple(k for k, v in values.items() if floor is not None and v.share_of_threshold is not None
                  and v.share_of_threshold < floor)
    complete = len(values) == len(profile.balance_indicators) and all(v.passed is not None for v in values.values())
    rule = profile.balance_min_indicators_met
    passed = None if not complete or rule is None else (met >= rule and not below)
    return SchoolVerdict(school.code, school.name, met, len(values), below, passed)
