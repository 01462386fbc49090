"""Admission odds in a shared zone (多校划片) as a lookup shows them, and the sentence that says them.

The odds are computed by the caller from :mod:`geo.admission` (which this package does not
import: the two use cases stay independent) and handed to :func:`geo.lookup.answer.answer` as
:class:`ZoneOdds`, keyed by plan and the zone's schools; the answer picks those of the zones
covering the place and says them in both languages, so nothing is added to it afterwards.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from geo.models import School, ZoneHit

#: Key of a shared zone's odds: the plan id and the zone's school codes, sorted.
OddsKey = tuple[int, tuple[str, ...]]


def odds_key(plan_id: int, school_codes: Sequence[str]) -> OddsKey:
    return plan_id, tuple(sorted(school_codes))


@dataclass(frozen=True, slots=True)
class SchoolOdds:
    """Chance that an applicant of ``category`` whose first choice is ``school`` is admitted there."""

    category: str
    label_en: str
    label_zh: str
    school: str
    applicants: int
    probability: float
    stderr: float | None = None


@dataclass(frozen=True, slots=True)
class ZoneOdds:
    """The odds of one shared zone of a plan: ``method`` exact or monte_carlo (``runs`` draws)."""

    plan_id: int
    schools: tuple[str, ...]
    method: str
    runs: int | None
    places: Mapping[str, int]
    applicants: int
    odds: tuple[SchoolOdds, ...]


def hit_odds(hit: ZoneHit, odds: Mapping[OddsKey, ZoneOdds]) -> ZoneOdds | None:
    """The odds of the zone hit, when it is shared and its plan has admission data for it."""
    if len(hit.zone.school_codes) < 2:
        return None
    return odds.get(odds_key(hit.plan.id, hit.zone.school_codes))


def _pct(p: float, se: float | None) -> str:
    return f"{p:.0%}" if se is None else f"{p:.1%} (±{se:.1%})"


def odds_sentence(z: ZoneOdds, by_code: Mapping[str, School]) -> dict[str, str]:
    """"Shared zone (A, B): places by preference and lottery; chance at the first choice ..." in en and zh."""
    def name(code: str, zh: bool) -> str:
        s = by_code.get(code)
        return code if s is None else (s.name_local or s.name) if zh else s.name

    names_en = ", ".join(name(c, False) for c in z.schools)
    names_zh = "、".join(name(c, True) for c in z.schools)
    how_en = "exact" if z.method == "exact" else f"Monte Carlo estimate, {z.runs} draws"
    how_zh = "精确计算" if z.method == "exact" else f"蒙特卡洛模拟 {z.runs} 次估计"
    en_rows = "; ".join(f"{o.label_en or o.category} choosing {name(o.school, False)} first: {_pct(o.probability, o.stderr)}"
                        for o in z.odds)
    zh_rows = "；".join(f"{o.label_zh or o.category}第一志愿{name(o.school, True)}：{_pct(o.probability, o.stderr)}"
                        for o in z.odds)
    en = (f"This zone is shared by {names_en}: {sum(z.places.values())} places go by preference and, where a school "
          f"is oversubscribed, by lottery within priority categories ({z.applicants} applicants). "
          f"Chance of admission at the first choice ({how_en}): {en_rows or 'no applications recorded'}.")
    zh = (f"本片区为多校划片（{names_zh}）：共 {sum(z.places.values())} 个学位，按志愿录取，学校报名超额时按优先类别"
          f"随机派位（报名 {z.applicants} 人）。第一志愿录取概率（{how_zh}）：{zh_rows or '暂无报名数据'}。")
    return {"en": en, "zh": zh}
