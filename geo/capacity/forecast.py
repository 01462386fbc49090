"""Enrolment projection for a later school year.

Two methods, and the result always says which one ran:

- **cohort survival** when grade counts are given: grade g in year t+1 = grade g-1 in year t x
  the survival ratio of g (pooled over the history's consecutive year pairs, or configured);
  the entry grade comes from a configured intake, else the linear trend of past intakes,
  else is carried forward;
- **growth rate** otherwise: total x (1 + r) ** years, r configured or the compound annual
  growth between the first and last totals of the history.

Nothing is guessed: without the history or configuration a method needs, InvalidInput says
what is missing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from itertools import pairwise

import numpy as np

from geo.errors import InvalidInput
from geo.models import GRADE_ORDER, normalise_grade


class ProjectionMethod(StrEnum):
    REPORTED = "reported"
    COHORT_SURVIVAL = "cohort_survival"
    GROWTH_RATE = "growth_rate"


@dataclass(frozen=True, slots=True)
class Projection:
    """Projected enrolment of one school for ``year``, with how it was made."""

    school_code: str
    base_year: int
    year: int
    method: ProjectionMethod
    total: float
    grades: Mapping[str, float] = field(default_factory=dict)
    survival: Mapping[str, float] = field(default_factory=dict)
    survival_basis: Mapping[str, str] = field(default_factory=dict)
    intake_basis: str | None = None
    growth_rate: float | None = None
    growth_basis: str | None = None
    notes: tuple[str, ...] = ()


def _grade_history(history: Mapping[int, Mapping[str, float]]) -> dict[int, dict[str, float]]:
    out: dict[int, dict[str, float]] = {}
    for year, counts in history.items():
        row: dict[str, float] = {}
        for g, v in counts.items():
            try:
                grade = normalise_grade(g)
            except ValueError as exc:
                raise InvalidInput(str(exc), where=f"history {year}") from exc
            value = float(v)
            if not np.isfinite(value) or value < 0:
                msg = f"grade {g} count in {year} is {v}; counts must be finite and not negative"
                raise InvalidInput(msg, where=f"history {year}")
            row[grade] = value
        out[int(year)] = row
    return out


def _survival(hist: dict[int, dict[str, float]], grades: list[str], configured: Mapping[str, float]) -> tuple[dict[str, float], dict[str, str]]:
    ratios: dict[str, float] = {}
    basis: dict[str, str] = {}
    conf = {normalise_grade(g): float(r) for g, r in configured.items()}
    pairs = [y for y in sorted(hist) if y + 1 in hist]
    for prev, g in pairwise(grades):
        if g in conf:
            if conf[g] < 0:
                msg = f"survival ratio for grade {g} is {conf[g]}; it cannot be negative"
                raise InvalidInput(msg, where="survival")
            ratios[g], basis[g] = conf[g], "configured"
            continue
        # Pooled ratio: sum of grade g next year over sum of grade g-1 this year, so a small
        # cohort in one year does not swing the ratio as much as a mean of yearly ratios would.
        num = sum(hist[y + 1].get(g, 0.0) for y in pairs if prev in hist[y] and g in hist[y + 1])
        den = sum(hist[y][prev] for y in pairs if prev in hist[y] and g in hist[y + 1])
        if den <= 0:
            msg = (f"no survival ratio for grade {g}: configure one, or give two consecutive years with "
                   f"grade {prev} then grade {g} counts")
            raise InvalidInput(msg, where="survival")
        ratios[g], basis[g] = num / den, "history"
    return ratios, basis


def _intake(hist: dict[int, dict[str, float]], entry: str, year: int, configured: float | None) -> tuple[float, str]:
    if configured is not None:
        if configured < 0:
            msg = f"configured intake {configured} cannot be negative"
            raise InvalidInput(msg, where="intake")
        return float(configured), "configured"
    years = sorted(y for y in hist if entry in hist[y])
    if len(years) >= 2:
        slope, icept = np.polyfit(np.array(years, dtype=float), np.array([hist[y][entry] for y in years]), 1)
        # A falling trend may cross zero; a negative intake is meaningless.
        return max(0.0, float(slope * year + icept)), "trend"
    return hist[years[-1]][entry], "carried"


def project_enrolment(
    school_code: str,
    *,
    year: int,
    history: Mapping[int, Mapping[str, float]] | None = None,
    totals: Mapping[int, float] | None = None,
    survival: Mapping[str, float] | None = None,
    intake: float | None = None,
    growth_rate: float | None = None,
) -> Projection:
    """Project one school's enrolment to school ``year``.

    Parameters
    ----------
    school_code
        The school, carried into the result.
    year
        Target school year; not before the latest year of the data.
    history
        Grade counts per school year, ``{2023: {"K": 90, "1": 88, ...}, 2024: {...}}``. With
        grade counts, the cohort-survival method runs.
    totals
        Total enrolment per school year, for the growth-rate method when no grade counts exist.
    survival
        Configured survival ratios per grade (the ratio *into* that grade); missing grades are
        computed from ``history``.
    intake
        Configured entry-grade intake for every projected year; else the linear trend of past
        intakes (two or more years), else the last intake carried forward.
    growth_rate
        Configured annual growth rate (0.02 = +2 %); else computed from ``totals``.

    Returns
    -------
    Projection
        ``method`` says which model ran; ``*_basis`` fields say where each number came from.
    """
    hist = _grade_history(history or {})
    graded = {y: c for y, c in hist.items() if c}
    if graded:
        return _cohort(school_code, year, graded, survival or {}, intake)
    return _growth(school_code, year, totals or {}, growth_rate)


def _cohort(code: str, year: int, hist: dict[int, dict[str, float]], survival: Mapping[str, float],
            intake: float | None) -> Projection:
    base = max(hist)
    if year < base:
        msg = f"year {year} is before the data's latest year {base}"
        raise InvalidInput(msg, where="year")
    grades = sorted(hist[base], key=GRADE_ORDER.index)
    if year == base:
        return Projection(code, base, year, ProjectionMethod.REPORTED, sum(hist[base].values()), dict(hist[base]))
    ratios, basis = _survival(hist, grades, survival)
    current = dict(hist[base])
    intake_basis = "configured"
    notes: list[str] = []
    for t in range(base + 1, year + 1):
        # Grades shift up by one; the top grade leaves; the entry grade is refilled.
        nxt = {g: current.get(prev, 0.0) * ratios[g] for prev, g in pairwise(grades)}
        nxt[grades[0]], intake_basis = _intake(hist, grades[0], t, intake)
        current = {g: nxt[g] for g in grades}
    if intake_basis == "carried":
        notes.append(f"one year of grade {grades[0]} counts: the {base} intake is carried forward")
    return Projection(
        code, base, year, ProjectionMethod.COHORT_SURVIVAL, float(sum(current.values())), current,
        survival=ratios, survival_basis=basis, intake_basis=intake_basis, notes=tuple(notes),
    )


def _growth(code: str, year: int, totals: Mapping[int, float], rate: float | None) -> Projection:
    if not totals:
        msg = "projection needs grade counts (cohort survival) or yearly totals (growth rate)"
        raise InvalidInput(msg, where="history")
    series = {int(y): float(v) for y, v in totals.items()}
    if any(not np.isfinite(v) or v < 0 for v in series.values()):
        msg = "yearly totals must be finite and not negative"
        raise InvalidInput(msg, where="totals")
    base = max(series)
    if year < base:
        msg = f"year {year} is before the data's latest year {base}"
        raise InvalidInput(msg, where="year")
    if year == base:
        return Projection(code, base, year, ProjectionMethod.REPORTED, series[base])
    if rate is not None:
        r, basis = float(rate), "configured"
    else:
        first = min(series)
        if first == base or series[first] <= 0:
            msg = "growth rate needs a configured rate or totals for two years (the first above zero)"
            raise InvalidInput(msg, where="growth_rate")
        # Compound annual growth between the first and the last year.
        r, basis = (series[base] / series[first]) ** (1.0 / (base - first)) - 1.0, "history"
    if r <= -1.0:
        msg = f"growth rate {r} would make enrolment negative"
        raise InvalidInput(msg, where="growth_rate")
    total = series[base] * (1.0 + r) ** (year - base)
    return Projection(code, base, year, ProjectionMethod.GROWTH_RATE, total, growth_rate=r, growth_basis=basis)
