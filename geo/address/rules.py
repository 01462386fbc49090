"""Zones published as address rules (招生范围 as lists): streets with number ranges and sides,
residential compounds (小区) with building ranges, villages (村/组), free text.

Chinese zoning notices, and many US/UK districts, publish each school's catchment as a list
("XX路1-99号(单号)；XX小区1-12栋；XX村") rather than a map. A :class:`AddressRule` is one line of
such a list; :class:`RuleBook` finds the rules that cover an address (exact to a house), and
:func:`rule_label` prints a rule back in the notices' own form, in Chinese and English.
Street names compare by :func:`geo.address.parse.normalise` key, so "Smith St" = "Smith Street".
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from geo.address.parse import normalise, parse_house_number
from geo.errors import InvalidInput

__all__ = ["AddressRule", "Parity", "RuleAddress", "RuleBook", "parse_parity", "rule_label", "rules_from_rows"]


class Parity(StrEnum):
    """Which side of a street a number range takes: 单号 (odd), 双号 (even) or both."""

    ODD = "odd"
    EVEN = "even"
    ALL = "all"


_PARITY = {"odd": Parity.ODD, "o": Parity.ODD, "单": Parity.ODD, "单号": Parity.ODD, "单数": Parity.ODD,
           "even": Parity.EVEN, "e": Parity.EVEN, "双": Parity.EVEN, "双号": Parity.EVEN, "双数": Parity.EVEN,
           "all": Parity.ALL, "both": Parity.ALL, "": Parity.ALL, "全": Parity.ALL, "全部": Parity.ALL,
           "单双号": Parity.ALL, "单双": Parity.ALL}
_ZH_PARITY = {Parity.ODD: "单号", Parity.EVEN: "双号"}
#: "XX路1-99号单号", "XX路1-99号(双号)", "XX小区1-12栋", "XX村": the notices' forms, read from free text.
_TEXT_STREET = re.compile(r"^(?P<street>.+?)(?P<first>\d+)[-~至到](?P<last>\d+)号?\s*[(（]?(?P<parity>单号|双号|单双号|单|双)?[)）]?$")
_TEXT_COMPOUND = re.compile(r"^(?P<compound>.+?(?:小区|花园|苑|公寓|新村|家园|大厦))(?:(?P<first>\d+)[-~至到](?P<last>\d+)(?:栋|幢|号楼))?$")
_TEXT_VILLAGE = re.compile(r"^(?P<village>.+?(?:村|组|社区))$")


def parse_parity(value: Any, *, where: str = "parity") -> Parity:
    """odd/even/all (or 单号/双号/全部); InvalidInput naming ``where`` otherwise."""
    key = str(value or "").strip().lower()
    if key in _PARITY:
        return _PARITY[key]
    msg = f"unknown parity {value!r}: use odd, even or all (单号、双号或全部)"
    raise InvalidInput(msg, where=where)


@dataclass(frozen=True, slots=True)
class AddressRule:
    """One line of a published 招生范围: the schools it names and the addresses it covers.

    ``first``/``last`` bound the house numbers on ``street`` (None = the whole street), on the
    side ``parity``; ``building_first``/``building_last`` bound the 栋 of ``compound``.
    """

    row: int
    school_codes: tuple[str, ...]
    street: str | None = None
    first: int | None = None
    last: int | None = None
    parity: Parity = Parity.ALL
    compound: str | None = None
    building_first: int | None = None
    building_last: int | None = None
    village: str | None = None
    text: str | None = None
    id: int | None = None
    plan_id: int | None = None

    def covers_number(self, n: int | None) -> bool:
        """True when house number ``n`` is in the range on the rule's side (no range: any)."""
        if self.first is None or self.last is None:
            return True
        if n is None or not self.first <= n <= self.last:
            return False
        return self.parity is Parity.ALL or (n % 2 == 1) == (self.parity is Parity.ODD)

    def overlaps(self, other: AddressRule) -> bool:
        """True when some address is covered by both rules."""
        if self.street and other.street and normalise(self.street) == normalise(other.street):
            lo = max(self.first if self.first is not None else 0, other.first if other.first is not None else 0)
            hi = min(self.last if self.last is not None else 10**9, other.last if other.last is not None else 10**9)
            sides = {self.parity, other.parity}
            return lo <= hi and sides != {Parity.ODD, Parity.EVEN}
        if self.compound and other.compound and normalise(self.compound) == normalise(other.compound):
            lo = max(self.building_first or 0, other.building_first or 0)
            hi = min(self.building_last or 10**9, other.building_last or 10**9)
            return lo <= hi
        return bool(self.village and other.village and normalise(self.village) == normalise(other.village))


@dataclass(frozen=True, slots=True)
class RuleAddress:
    """An address as rules see it: normalised street and number, and the whole text (for 小区/村)."""

    text: str
    street: str | None = None
    number: int | None = None

    @classmethod
    def of(cls, text: str, *, street: str | None = None, number: str | None = None) -> RuleAddress:
        n = parse_house_number(number) if number else None
        return cls(normalise(text), normalise(street) if street else None, n.first if n else None)


def _building(text: str, compound: str) -> int | None:
    m = re.search(re.escape(compound) + r"(\d+)(?:栋|幢|号楼)", text)
    return int(m.group(1)) if m else None


class RuleBook:
    """The rules of one or more plans, indexed by street, compound and village.

    Parameters
    ----------
    rules
        The rules; ``plan_id`` tells lookups which plan (level) each belongs to.
    """

    def __init__(self, rules: Iterable[AddressRule]) -> None:
        self.rules = tuple(rules)
        self._by_street: dict[str, list[AddressRule]] = {}
        self._named: list[tuple[str, AddressRule]] = []
        for r in self.rules:
            if r.street:
                self._by_street.setdefault(normalise(r.street), []).append(r)
            elif r.compound or r.village:
                self._named.append((normalise(r.compound or r.village or ""), r))

    def __len__(self) -> int:
        return len(self.rules)

    def matching(self, addr: RuleAddress) -> list[AddressRule]:
        """Every rule covering ``addr``: its street and number, or its compound (and 栋), or its village."""
        out = [r for r in self._by_street.get(addr.street or "", ()) if r.covers_number(addr.number)]
        if not out and addr.street is None:
            # No geocoded street: a street rule still applies when the text names the street.
            out = [r for key, rules in self._by_street.items() if key and key in addr.text for r in rules
                   if r.covers_number(addr.number)]
        for key, r in self._named:
            if key and key in addr.text:
                if r.compound and r.building_first is not None:
                    b = _building(addr.text, key)
                    if b is None or not (r.building_first <= b <= (r.building_last or b)):
                        continue
                out.append(r)
        return out


def rule_label(rule: AddressRule, *, lang: str = "zh") -> str:
    """The rule as notices print it: "XX路1-99号(单号)", "XX小区1-12栋", "XX村"; or in English.

    Examples
    --------
    >>> r = AddressRule(row=1, school_codes=("S1",), street="漕溪北路", first=1, last=99, parity=Parity.ODD)
    >>> rule_label(r), rule_label(r, lang="en")
    ('漕溪北路1-99号(单号)', '漕溪北路 1-99 (odd numbers)')
    """
    parts: list[str] = []
    if rule.street:
        rng = ""
        if rule.first is not None:
            gap = " " if lang == "en" or rule.street[-1:].isascii() else ""
            rng = f"{gap}{rule.first}-{rule.last}" + ("号" if lang == "zh" else "")
        side = ""
        if rule.parity is not Parity.ALL:
            side = f"({_ZH_PARITY[rule.parity]})" if lang == "zh" else f" ({rule.parity.value} numbers)"
        elif lang == "en" and rule.first is None:
            side = " (whole street)"
        elif lang == "zh" and rule.first is None:
            side = "(全段)"
        parts.append(f"{rule.street}{rng}{side}")
    if rule.compound:
        b = ""
        if rule.building_first is not None:
            b = (f"{rule.building_first}-{rule.building_last}栋" if lang == "zh"
                 else f" buildings {rule.building_first}-{rule.building_last}")
        parts.append(f"{rule.compound}{b}")
    if rule.village:
        parts.append(rule.village)
    if not parts and rule.text:
        parts.append(rule.text)
    return "；".join(parts) if lang == "zh" else "; ".join(parts)


def _int(value: Any, where: str) -> int | None:
    s = str(value if value is not None else "").strip()
    if s in {"", "nan", "None"}:
        return None
    try:
        f = float(s)
    except ValueError:
        f = float("nan")
    if not f.is_integer() or f < 0:
        msg = f"{s!r} is not a house or building number (门牌/楼栋号应为非负整数)"
        raise InvalidInput(msg, where=where)
    return int(f)


def _s(value: Any) -> str | None:
    s = " ".join(str(value).split()) if value is not None else ""
    return None if s.lower() in {"", "nan", "none"} else s


def _from_text(text: str) -> dict[str, Any]:
    t = re.sub(r"\s+", "", text)
    if m := _TEXT_STREET.match(t):
        return {"street": m["street"], "from": m["first"], "to": m["last"], "parity": m["parity"] or "all"}
    if m := _TEXT_COMPOUND.match(t):
        return {"compound": m["compound"], "building_from": m["first"], "building_to": m["last"]}
    if m := _TEXT_VILLAGE.match(t):
        return {"village": m["village"]}
    return {}


def rules_from_rows(rows: Sequence[Mapping[str, Any]], *, known_schools: Iterable[str], plan_id: int | None = None,
                    first_row: int = 2) -> list[AddressRule]:
    """Rules from table rows (CSV/XLSX), all checked before any is returned.

    Parameters
    ----------
    rows
        One mapping per rule with keys ``school_code`` (several separated by ``;`` or ``、`` =
        多校划片), ``street``, ``from``, ``to``, ``parity`` (odd/even/all, 单号/双号), ``compound``,
        ``building_from``, ``building_to``, ``village``, ``text`` (a rule in the notices' own form,
        read when the other columns are empty).
    known_schools
        School codes that exist.
    first_row
        The file row of ``rows[0]`` (2 for a CSV with a header), so errors name the file's row.

    Raises
    ------
    InvalidInput
        The first bad row: from > to, unknown parity, unknown school, nothing to match; ``where``
        is ``row N``.
    """
    known = set(known_schools)
    out: list[AddressRule] = []
    for i, raw in enumerate(rows):
        row_no = i + first_row
        where = f"row {row_no}"
        r = {str(k).strip().lower(): v for k, v in raw.items()}
        text = _s(r.get("text"))
        if text and not any(_s(r.get(k)) for k in ("street", "compound", "village")):
            r = {**r, **_from_text(text)}
        codes = tuple(c.strip() for c in re.split(r"[;,、；，]", _s(r.get("school_code")) or "") if c.strip())
        if not codes:
            msg = f"{where}: no school_code (每条规则须指定学校)"
            raise InvalidInput(msg, where=where)
        unknown = [c for c in codes if c not in known]
        if unknown:
            msg = f"{where}: unknown school {', '.join(unknown)} (学校代码不存在)"
            raise InvalidInput(msg, where=where)
        first, last = _int(r.get("from"), where), _int(r.get("to"), where)
        if (first is None) != (last is None):
            last, first = (first, first) if last is None else (last, last)
        if first is not None and last is not None and first > last:
            msg = f"{where}: range from {first} > to {last} (起始号大于终止号)"
            raise InvalidInput(msg, where=where)
        b1, b2 = _int(r.get("building_from"), where), _int(r.get("building_to"), where)
        if b1 is not None and b2 is not None and b1 > b2:
            msg = f"{where}: building range {b1} > {b2} (起始栋大于终止栋)"
            raise InvalidInput(msg, where=where)
        rule = AddressRule(row=row_no, school_codes=codes, street=_s(r.get("street")), first=first, last=last,
                           parity=parse_parity(r.get("parity"), where=where), compound=_s(r.get("compound")),
                           building_first=b1, building_last=b2 if b2 is not None else b1, village=_s(r.get("village")),
                           text=text, plan_id=plan_id)
        if not (rule.street or rule.compound or rule.village):
            msg = f"{where}: a rule needs a street, a compound (小区) or a village (村); {text!r} is none of them"
            raise InvalidInput(msg, where=where)
        out.append(rule)
    return out
