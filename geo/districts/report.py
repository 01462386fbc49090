"""District balance report: the 差异系数 of each indicator inside each 学区 and between 学区.

Inside a district the CV is :func:`geo.capacity.balance.balance_report` run on its members
(enrolment-weighted, 教督〔2012〕3号 formula). Between districts each district is treated as one
school whose resource and pupils are its members' totals, so the same
:func:`geo.capacity.balance.weighted_cv` applies: ``xbar`` stays the county total over county pupils.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from geo.capacity.balance import BalanceReport, balance_report, weighted_cv
from geo.capacity.utilisation import level_figures, non_negative
from geo.errors import InvalidInput
from geo.models import School
from geo.standards import Indicator, StandardsProfile


@dataclass(frozen=True, slots=True)
class DistrictBalance:
    """One district's members and their balance report (per-indicator CV among them)."""

    lead: str
    members: tuple[str, ...]
    report: BalanceReport


@dataclass(frozen=True, slots=True)
class BetweenDistricts:
    """One indicator across districts: each district's value (total / pupils) and the CV."""

    indicator: Indicator
    values: Mapping[str, float]
    cv_weighted: float | None
    cv_limit: float | None
    within_limit: bool | None


@dataclass(frozen=True, slots=True)
class DistrictsReport:
    profile: str
    level: str
    districts: tuple[DistrictBalance, ...]
    between: tuple[BetweenDistricts, ...]
    text: Mapping[str, str]


def districts_report(schools: Sequence[School], districts: Mapping[str, Sequence[str]], *, level: str,
                     profile: StandardsProfile) -> DistrictsReport:
    """Per-district and between-district 差异系数 of the profile's balance indicators.

    Parameters
    ----------
    schools
        The schools (resource totals in ``attributes``, as for the balance report).
    districts
        Lead code -> member codes.
    level
        Level name; limits are the profile's ``balance_cv_limit`` for its kind.
    profile
        Standards profile; the report carries its key.
    """
    by_code = {s.code: s for s in schools}
    per: list[DistrictBalance] = []
    for lead, members in sorted(districts.items()):
        missing = [c for c in members if c not in by_code]
        if missing:
            msg = f"district {lead}: school {missing[0]} is not among the schools given"
            raise InvalidInput(msg, where=f"district {lead}")
        per.append(DistrictBalance(lead, tuple(members), balance_report([by_code[c] for c in members], level=level,
                                                                        profile=profile)))
    limit = profile.for_level(level).balance_cv_limit
    between = []
    for ind in profile.balance_indicators:
        totals: dict[str, tuple[float, float]] = {}
        for d in per:
            r = n = 0.0
            for c in d.members:
                fig = level_figures(by_code[c], level)
                v = non_negative(fig.attributes.get(ind.key), what=ind.key, code=c)
                if v is not None and fig.enrolment:
                    r, n = r + v, n + fig.enrolment
            if n:
                totals[d.lead] = (r, n)
        if not totals:
            between.append(BetweenDistricts(ind, {}, None, limit, None))
            continue
        cv = weighted_cv([r for r, _ in totals.values()], [n for _, n in totals.values()])
        cv_ok = None if math.isnan(cv) else cv
        between.append(BetweenDistricts(ind, {k: r * ind.per_pupils / n for k, (r, n) in totals.items()}, cv_ok, limit,
                                        None if cv_ok is None or limit is None else cv_ok <= limit))
    worst = max((b.cv_weighted for b in between if b.cv_weighted is not None), default=None)
    en = f"{len(per)} districts; largest between-district CV {worst:.3f}" if worst is not None else f"{len(per)} districts"
    zh = f"{len(per)} 个学区；学区间最大差异系数 {worst:.3f}" if worst is not None else f"{len(per)} 个学区"
    return DistrictsReport(profile.key, level, tuple(per), tuple(between),
                           {"en": en + f" (profile {profile.key})", "zh": zh + f"（标准：{profile.key}）"})
