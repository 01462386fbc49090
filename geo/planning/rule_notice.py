"""The public notice's rule list: each zone printed as its 招生范围, beside the map.

Notices print a school's catchment as one line of rules joined by "；" ("XX路1-99号(单号)；XX小区
1-12栋"); the English line joins the same rules with "; ".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from geo.address.rule_check import zone_of_rule
from geo.address.rules import AddressRule, rule_label
from geo.models import School, Zone

__all__ = ["rule_lists", "rule_rows"]


def _names(codes: Sequence[str], schools: Mapping[str, School], *, zh: bool) -> str:
    names = [(getattr(schools.get(c), "name_local", None) if zh else None) or getattr(schools.get(c), "name", None) or c
             for c in codes]
    return "、".join(names) if zh else " / ".join(names)


def rule_lists(rules: Sequence[AddressRule], zones: Sequence[Zone], schools: Mapping[str, School]) -> list[dict[str, Any]]:
    """Per zone (in the zones' order, then rules naming no zone): its schools and its rule list.

    Parameters
    ----------
    rules
        The plan's rules (row order is kept within a zone).
    zones
        The plan's zones.
    schools
        Schools by code, for their names (local name in the Chinese line).

    Returns
    -------
    list of dict
        ``zone``, ``schools`` (codes), ``rows``, and ``text`` with "en" and "zh": e.g. zh
        "漕溪北路小学：漕溪北路1-99号(单号)；华苑小区1-12栋".
    """
    groups: dict[int, list[AddressRule]] = {}
    order: list[tuple[int, Zone | None]] = [(i, z) for i, z in enumerate(zones)]
    for r in rules:
        z = zone_of_rule(r, zones)
        if z is not None and set(z.school_codes) != set(r.school_codes):
            # 多校划片 without a zone of its own: the rule is in the list of every school it names.
            for i, other in enumerate(zones):
                if set(r.school_codes) & set(other.school_codes):
                    groups.setdefault(i, []).append(r)
            continue
        groups.setdefault(zones.index(z) if z is not None else -1, []).append(r)
    if -1 in groups:
        order.append((-1, None))
    out = []
    for i, z in order:
        rs = groups.get(i)
        if not rs:
            continue
        codes = list(z.school_codes) if z is not None else list(dict.fromkeys(c for r in rs for c in r.school_codes))
        zh = "；".join(rule_label(r) for r in rs)
        en = "; ".join(rule_label(r, lang="en") for r in rs)
        out.append({"zone": z.name if z is not None else None, "zone_id": z.id if z is not None else None, "schools": codes,
                    "rows": [r.row for r in rs],
                    "text": {"zh": f"{_names(codes, schools, zh=True)}：{zh}", "en": f"{_names(codes, schools, zh=False)}: {en}"}})
    return out


def rule_rows(rules: Sequence[AddressRule]) -> list[dict[str, Any]]:
    """The rules as CSV rows, in the columns ``catchment import rules`` reads (round trip)."""
    return [{"school_code": ";".join(r.school_codes), "street": r.street or "", "from": "" if r.first is None else r.first,
             "to": "" if r.last is None else r.last, "parity": r.parity.value, "compound": r.compound or "",
             "building_from": "" if r.building_first is None else r.building_first,
             "building_to": "" if r.building_last is None else r.building_last, "village": r.village or "",
             "text": r.text or "", "notice_zh": rule_label(r), "notice_en": rule_label(r, lang="en")} for r in rules]
