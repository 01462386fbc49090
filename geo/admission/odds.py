"""Admission odds in a shared zone: exact for single-school applications, Monte Carlo for ranked lists.

Exact: when every applicant applies to one school only, school ``s`` with ``P`` places serves
its categories in priority order; category ``k`` with ``n_k`` applicants finds
``r_k = max(0, P - sum_{j<k} n_j)`` places left and, drawn uniformly inside the category, each
of its applicants is admitted with probability ``min(1, r_k / n_k)``.

Monte Carlo: ranked lists make the schools interact (who fills A decides who reaches B), so the
rule of :mod:`geo.admission.model` is run ``runs`` times on independent draws from
``numpy.random.Generator(PCG64(seed))``; each probability is the mean over runs of the share of
its applicants so placed, with the standard error of that mean (sample standard deviation over
the square root of ``runs``). A run is fast however many applicants there are: between two
moments when a school fills, every applicant's pick is fixed, so a run advances from one fill
to the next with array operations (at most one step per school and category).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from geo.admission.model import ApplicantGroup, Category, SchoolPlaces, SharedZone, check_group, zone_of
from geo.errors import InvalidInput

NONE = ""  # the "school" of an applicant who gets no place


@dataclass(frozen=True, slots=True)
class CategoryOdds:
    """Probability that an applicant of ``category`` whose first choice is ``school`` is admitted there."""

    category: str
    school: str
    applicants: int
    probability: float
    stderr: float | None
    method: str


@dataclass(frozen=True, slots=True)
class GroupOdds:
    """Where the applicants of one group end up: school -> probability (``""`` = no place)."""

    unit: str
    category: str
    preferences: tuple[str, ...]
    accept_any: bool
    count: int
    probability: Mapping[str, float]
    stderr: Mapping[str, float]


@dataclass(frozen=True, slots=True)
class OddsReport:
    method: str
    runs: int | None
    seed: int | None
    categories: tuple[CategoryOdds, ...]
    groups: tuple[GroupOdds, ...]
    text: Mapping[str, str]


def validate_groups(places: Sequence[SchoolPlaces], categories: Sequence[Category | str],
                    groups: Sequence[ApplicantGroup]) -> SharedZone:
    """The zone, after checking every places row and applicant row (InvalidInput names the row)."""
    zone = zone_of(places, categories)
    for i, g in enumerate(groups, 1):
        check_group(zone, i, category=g.category, count=g.count, preferences=g.preferences, what="applicants")
    return zone


def exact_odds(places: Sequence[SchoolPlaces], categories: Sequence[Category | str],
               groups: Sequence[ApplicantGroup]) -> OddsReport:
    """Exact odds when every group applies to exactly one school (no ``accept_any``).

    Parameters
    ----------
    places
        Places per school in the zone.
    categories
        Priority categories, first served first.
    groups
        Applicants per unit and category, each naming one school.

    Raises
    ------
    InvalidInput
        For bad rows, or a group with a ranked list or "any" (use :func:`simulate_odds`).
    """
    zone = validate_groups(places, categories, groups)
    for i, g in enumerate(groups, 1):
        if len(g.preferences) != 1 or g.accept_any:
            msg = "exact odds need one school per application; ranked lists or 'any' need simulate_odds"
            raise InvalidInput(msg, where=f"applicants row {i}")
    demand: dict[tuple[str, str], int] = {}
    for g in groups:
        demand[(g.category, g.preferences[0])] = demand.get((g.category, g.preferences[0]), 0) + g.count
    cat_rows, p_of = [], {}
    for s, cap in zip(zone.schools, zone.places, strict=True):
        left = cap
        for c in zone.categories:
            n = demand.get((c.key, s), 0)
            p = 1.0 if n == 0 else min(1.0, left / n)
            left = max(0, left - n)
            p_of[(c.key, s)] = p
            if n:
                cat_rows.append(CategoryOdds(c.key, s, n, p, None, "exact"))
    group_rows = tuple(GroupOdds(g.unit, g.category, g.preferences, g.accept_any, g.count,
                                 {g.preferences[0]: p_of[(g.category, g.preferences[0])],
                                  NONE: 1.0 - p_of[(g.category, g.preferences[0])]}, {}) for g in groups)
    return OddsReport("exact", None, None, tuple(cat_rows), group_rows, odds_text(cat_rows, "exact"))


def odds_text(rows: Sequence[CategoryOdds], method: str) -> dict[str, str]:
    """One sentence per language listing each category's chance at its first choice."""
    how_en = "exact" if method == "exact" else "Monte Carlo estimate"
    how_zh = "精确计算" if method == "exact" else "蒙特卡洛模拟估计"
    en = "; ".join(f"{r.category} at {r.school}: {r.probability:.1%}" for r in rows)
    zh = "；".join(f"{r.category}类在{r.school}：{r.probability:.1%}" for r in rows)
    return {"en": f"Admission chance by category and first choice ({how_en}): {en}",
            "zh": f"各类别按第一志愿的录取概率（{how_zh}）：{zh}"}


def _padded(lists: Sequence[tuple[int, ...]], none: int) -> NDArray[np.int64]:
    """Lists as a matrix, each row ending with ``none`` (always "free") so argmax finds a column."""
    width = max((len(lst) for lst in lists), default=0) + 1
    out = np.full((len(lists), width), none, dtype=np.int64)
    for i, lst in enumerate(lists):
        out[i, :len(lst)] = lst
    return out


def run_once(zone: SharedZone, table: NDArray[np.int64], cats: NDArray[np.int64], counts: NDArray[np.int64],
             rng: np.random.Generator) -> NDArray[np.int64]:
    """One draw at group level: ``out[g, s]`` applicants of group g placed at school s (column S = none).

    ``table`` holds each group's list as school indices, padded with S (see :func:`_padded`).
    """
    n_s = len(zone.schools)
    left = np.array(zone.places, dtype=np.int64)
    out = np.zeros((table.shape[0], n_s + 1), dtype=np.int64)
    rows = np.arange(table.shape[0])
    for k in range(len(zone.categories)):
        gs = np.flatnonzero((cats == k) & (counts > 0))
        if not gs.size:
            continue
        labels = rng.permutation(np.repeat(gs, counts[gs]))
        pos = 0
        while pos < labels.size:
            free = np.append(left > 0, True)[table]
            picks = table[rows, np.argmax(free, axis=1)][labels[pos:]]
            end = picks.size
            for s in np.unique(picks[picks < n_s]):
                hits = np.flatnonzero(picks == s)
                if hits.size >= left[s]:
                    end = min(end, int(hits[left[s] - 1]) + 1)
            np.add.at(out, (labels[pos:pos + end], picks[:end]), 1)
            left -= np.bincount(picks[:end], minlength=n_s + 1)[:n_s]
            pos += end
    return out


def simulate_odds(places: Sequence[SchoolPlaces], categories: Sequence[Category | str],
                  groups: Sequence[ApplicantGroup], *, runs: int = 2000, seed: int = 0) -> OddsReport:
    """Monte Carlo odds for ranked preferences (random serial dictatorship with priority categories).

    Parameters
    ----------
    places, categories, groups
        As for :func:`exact_odds`; groups may rank several schools, or ask for "any".
    runs
        Number of independent draws (the standard error falls as 1 / sqrt(runs)).
    seed
        Seed of ``numpy.random.Generator(PCG64(seed))``: the same seed gives the same estimate.
    """
    zone = validate_groups(places, categories, groups)
    if runs < 2:
        msg = f"runs {runs} must be at least 2 to give a standard error"
        raise InvalidInput(msg, where="runs")
    lists = [zone.full_list(g.preferences, g.accept_any) for g in groups]
    cat_index = {c.key: i for i, c in enumerate(zone.categories)}
    cats = np.array([cat_index[g.category] for g in groups], dtype=np.int64)
    counts = np.array([g.count for g in groups], dtype=np.int64)
    rng = np.random.Generator(np.random.PCG64(seed))
    n_s = len(zone.schools)
    table = _padded(lists, len(zone.schools))
    outs = np.stack([run_once(zone, table, cats, counts, rng) for _ in range(runs)])  # runs x groups x schools+1
    share = outs / np.maximum(counts, 1)[None, :, None]
    mean, se = share.mean(axis=0), share.std(axis=0, ddof=1) / math.sqrt(runs)
    names = (*zone.schools, NONE)
    group_rows = tuple(
        GroupOdds(g.unit, g.category, g.preferences, g.accept_any, g.count,
                  {names[j]: float(mean[i, j]) for j in range(n_s + 1) if mean[i, j] > 0},
                  {names[j]: float(se[i, j]) for j in range(n_s + 1) if mean[i, j] > 0})
        for i, g in enumerate(groups))
    # "any" groups (no list of their own) have no first choice and stay out of the category rows.
    first = np.array([zone.index(g.preferences[0]) if g.preferences else -1 for g in groups], dtype=np.int64)
    cat_rows = []
    for k, s in sorted({(int(cats[i]), int(first[i])) for i in range(len(groups)) if counts[i] > 0 and first[i] >= 0}):
        members = np.flatnonzero((cats == k) & (first == s))
        n = int(counts[members].sum())
        v = outs[:, members, s].sum(axis=1) / n
        cat_rows.append(CategoryOdds(zone.categories[k].key, zone.schools[s], n, float(v.mean()),
                                     float(v.std(ddof=1) / math.sqrt(runs)), "monte_carlo"))
    return OddsReport("monte_carlo", runs, seed, tuple(cat_rows), group_rows, odds_text(cat_rows, "monte_carlo"))
