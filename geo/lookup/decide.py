"""Rule first, polygon otherwise: which of a plan's two forms decided a level's answer.

A plan may publish its zones both as polygons and as address rules (招生范围 as lists, see
:mod:`geo.address.rules`). A rule names a house exactly, a polygon only approximately (a boundary
drawn down the middle of a street cannot say which side a number is on), so a rule that covers
the address decides its level; the polygon decides where no rule does. When both speak and name
different schools, the answer says so: one of the two published forms is wrong.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from geo.address.rules import AddressRule, rule_label
from geo.models import LookupResult, Plan

__all__ = ["Decision", "decide"]


@dataclass(frozen=True, slots=True)
class Decision:
    """How one level was decided: ``schools`` are the codes that serve the address."""

    level: str
    decided_by: Literal["rule", "polygon"]
    schools: tuple[str, ...]
    polygon_schools: tuple[str, ...]
    rules: tuple[AddressRule, ...] = ()

    @property
    def disagrees(self) -> bool:
        """True when a rule and a covering polygon name different schools."""
        return self.decided_by == "rule" and bool(self.polygon_schools) and set(self.schools) != set(self.polygon_schools)

    def sentence(self) -> dict[str, str]:
        """What the decision was, in English and Chinese ("" when the polygon decided alone)."""
        if self.decided_by == "polygon":
            return {"en": "", "zh": ""}
        en_rules = "; ".join(rule_label(r, lang="en") for r in self.rules)
        zh_rules = "；".join(rule_label(r) for r in self.rules)
        en = f"{self.level}: decided by the published address rule {en_rules} ({', '.join(self.schools)})."
        zh = f"{self.level}：按公布的招生范围“{zh_rules}”确定（{'、'.join(self.schools)}）。"
        if self.disagrees:
            en += f" The zone map gives {', '.join(self.polygon_schools)} here: the rule and the map disagree."
            zh += f"划片地图在此处为{'、'.join(self.polygon_schools)}：招生范围与地图不一致。"
        return {"en": en, "zh": zh}


def decide(result: LookupResult, rules: Sequence[AddressRule], plans: Sequence[Plan] | None) -> dict[str, Decision]:
    """Per level of ``result``: the matching rules of that level's plans decide, else the polygon.

    Parameters
    ----------
    result
        The polygon answer (:func:`geo.lookup.resolve.resolve`).
    rules
        The rules that cover the address (already matched, e.g. by
        :meth:`geo.address.rules.RuleBook.matching`), of any plan.
    plans
        The plans the rules may belong to (a rule of a plan not listed is ignored).

    Returns
    -------
    dict
        Level -> :class:`Decision`, for every level of ``result`` and every level a rule speaks for.
    """
    level_of: Mapping[int, str] = {p.id: p.level for p in plans or ()}
    by_level: dict[str, list[AddressRule]] = {}
    for r in rules:
        if r.plan_id is not None and r.plan_id in level_of:
            by_level.setdefault(level_of[r.plan_id], []).append(r)
    out: dict[str, Decision] = {}
    for a in result.levels:
        poly = tuple(dict.fromkeys(sd.school.code for h in a.hits for sd in h.schools))
        hits = by_level.pop(a.level, [])
        if hits:
            codes = tuple(dict.fromkeys(c for r in hits for c in r.school_codes))
            out[a.level] = Decision(a.level, "rule", codes, poly, tuple(hits))
        else:
            out[a.level] = Decision(a.level, "polygon", poly, poly)
    for level, hits in by_level.items():
        codes = tuple(dict.fromkeys(c for r in hits for c in r.school_codes))
        out[level] = Decision(level, "rule", codes, (), tuple(hits))
    return out
