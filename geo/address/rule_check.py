"""Validation of address rules against the known addresses and the zone polygons.

Four findings, each with counts per zone: rules that match no known address (a misspelt street,
a range beyond the last house), overlapping rules (one house in two rules), addresses inside a
zone that no rule of the zone covers, and contradictions (a rule names other schools than the
polygon the address lies in).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely

from geo.address.geocode import AddressRecord
from geo.address.parse import parse_address
from geo.address.rules import AddressRule, RuleAddress, RuleBook, rule_label
from geo.models import Zone

__all__ = ["RuleReport", "check_rules", "rule_address", "zone_of_rule"]


def rule_address(rec: AddressRecord) -> RuleAddress:
    """How rules see a stored address point (parts when given, else its parsed text)."""
    if rec.street:
        text = " ".join(x for x in (rec.locality, rec.street, rec.number) if x)
        return RuleAddress.of(rec.text or text, street=rec.street, number=rec.number)
    p = parse_address(rec.text or "")
    return RuleAddress.of(rec.text or "", street=p.street, number=p.number.text if p.number else None)


def zone_of_rule(rule: AddressRule, zones: Sequence[Zone]) -> Zone | None:
    """The zone a rule describes: the one serving exactly its schools, else one sharing a school."""
    codes = set(rule.school_codes)
    exact = [z for z in zones if set(z.school_codes) == codes]
    if exact:
        return exact[0]
    return next((z for z in zones if codes & set(z.school_codes)), None)


def _zone_key(z: Zone | None) -> str:
    if z is None:
        return "(no zone)"
    return z.name or f"zone {z.id}" if z.name or z.id is not None else "/".join(z.school_codes)


@dataclass(slots=True)
class RuleReport:
    """What :func:`check_rules` found; every list holds plain dicts ready for JSON or CSV."""

    unmatched: list[dict[str, Any]] = field(default_factory=list)
    overlaps: list[dict[str, Any]] = field(default_factory=list)
    uncovered: list[dict[str, Any]] = field(default_factory=list)
    contradictions: list[dict[str, Any]] = field(default_factory=list)
    per_zone: dict[str, dict[str, int]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        counts = {k: len(getattr(self, k)) for k in ("unmatched", "overlaps", "uncovered", "contradictions")}
        return {"counts": counts, "per_zone": self.per_zone, "unmatched": self.unmatched, "overlaps": self.overlaps,
                "uncovered": self.uncovered, "contradictions": self.contradictions}


def check_rules(rules: Sequence[AddressRule], zones: Sequence[Zone], records: Sequence[AddressRecord]) -> RuleReport:
    """Check a plan's rules against its zones (EPSG:4326) and the known address points.

    Parameters
    ----------
    rules
        The plan's rules.
    zones
        The plan's zones.
    records
        Known address points (the gazetteer's).

    Returns
    -------
    RuleReport
        Findings and counts per zone (zone name, else ``zone <id>``).
    """
    rep = RuleReport()
    book = RuleBook(rules)
    zone_keys = [_zone_key(z) for z in zones]
    for k in [*zone_keys, *(_zone_key(zone_of_rule(r, zones)) for r in rules)]:
        rep.per_zone.setdefault(k, {"rules": 0, "unmatched": 0, "overlaps": 0, "uncovered": 0, "contradictions": 0})
    rule_zone = {id(r): _zone_key(zone_of_rule(r, zones)) for r in rules}
    for r in rules:
        rep.per_zone[rule_zone[id(r)]]["rules"] += 1
    lon = np.array([r.lon for r in records], dtype=float)
    lat = np.array([r.lat for r in records], dtype=float)
    inside = [shapely.contains_xy(z.geometry, lon, lat) if len(records) else np.zeros(0, bool) for z in zones]
    used: set[int] = set()
    for i, rec in enumerate(records):
        hits = book.matching(rule_address(rec))
        used.update(id(h) for h in hits)
        where = [j for j, m in enumerate(inside) if m[i]]
        if not hits:
            for j in where:
                if any(rule_zone[id(r)] == zone_keys[j] for r in rules):
                    rep.uncovered.append({"address_id": rec.id, "address": rec.text or f"{rec.number or ''} {rec.street or ''}".strip(),
                                          "zone": zone_keys[j]})
                    rep.per_zone[zone_keys[j]]["uncovered"] += 1
            continue
        ruled = {c for h in hits for c in h.school_codes}
        for j in where:
            if not ruled & set(zones[j].school_codes):
                rep.contradictions.append({"address_id": rec.id, "zone": zone_keys[j], "zone_schools": list(zones[j].school_codes),
                                           "rule_rows": [h.row for h in hits], "rule_schools": sorted(ruled)})
                rep.per_zone[zone_keys[j]]["contradictions"] += 1
    for r in rules:
        if id(r) not in used:
            rep.unmatched.append({"row": r.row, "rule": {"en": rule_label(r, lang="en"), "zh": rule_label(r)}})
            rep.per_zone[rule_zone[id(r)]]["unmatched"] += 1
    for a_i, a in enumerate(rules):
        for b in rules[a_i + 1:]:
            if a.overlaps(b):
                rep.overlaps.append({"rows": [a.row, b.row], "same_schools": set(a.school_codes) == set(b.school_codes),
                                     "rules": [rule_label(a), rule_label(b)]})
                rep.per_zone[rule_zone[id(a)]]["overlaps"] += 1
    return rep
