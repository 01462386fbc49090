"""The address_rules table: a plan's zones published as lists (see :mod:`geo.address.rules`).

Composition, not a mixin: the store is given the repository's SQL executor and owns its queries.
A plan's rules are replaced as a whole, in one transaction with its audit event.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from geo.address.rules import AddressRule, Parity
from service.storage.executor import Audit, SqlExecutor
from service.storage.rows import from_json, json_text

COLS = ("id, plan_id, row_no, school_codes, street, num_from, num_to, parity, compound, bldg_from, bldg_to, village, "
        "rule_text")


def _rule(r: Sequence[Any]) -> AddressRule:
    return AddressRule(id=int(r[0]), plan_id=int(r[1]), row=int(r[2]), school_codes=tuple(from_json(r[3]) or ()),
                       street=r[4], first=r[5], last=r[6], parity=Parity(r[7]), compound=r[8], building_first=r[9],
                       building_last=r[10], village=r[11], text=r[12])


class RuleStore:
    def __init__(self, db: SqlExecutor, *, audit: Audit) -> None:
        self.db = db
        self._audit = audit

    def replace(self, plan_id: int, rules: Sequence[AddressRule], *, actor: str) -> int:
        """Replace the plan's rules with ``rules``; returns how many were written."""
        db = self.db
        with db.transaction() as cur:
            before = db.execute(cur, "SELECT count(*) FROM address_rules WHERE plan_id = ?", (plan_id,)).fetchone()[0]
            db.execute(cur, "DELETE FROM address_rules WHERE plan_id = ?", (plan_id,))
            for r in rules:
                db.execute(cur, f"INSERT INTO address_rules ({COLS.split(', ', 1)[1]}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                      (plan_id, r.row, json_text(list(r.school_codes)), r.street, r.first, r.last, r.parity.value,
                       r.compound, r.building_first, r.building_last, r.village, r.text))
            # Lookups answer from the in-memory snapshot, rebuilt when the zone version moves.
            db.execute(cur, "UPDATE meta SET value = value + 1 WHERE key = 'zone_version'")
            self._audit(cur, actor, "rules.replace", f"plan:{plan_id}", {"rules": int(before)}, {"rules": len(rules)})
        return len(rules)

    def list(self, plan_ids: Sequence[int]) -> list[AddressRule]:
        """The rules of the plans, in plan and row order."""
        if not plan_ids:
            return []
        db = self.db
        marks = ", ".join("?" for _ in plan_ids)
        with db.read_cursor() as cur:
            rows = db.execute(cur, f"SELECT {COLS} FROM address_rules WHERE plan_id IN ({marks}) ORDER BY plan_id, row_no, id",
                         tuple(plan_ids)).fetchall()
        return [_rule(r) for r in rows]

    def stamp(self) -> tuple[int, int]:
        """(rows, highest id): changes whenever rules are replaced, for caches."""
        db = self.db
        with db.read_cursor() as cur:
            n, top = db.execute(cur, "SELECT count(*), coalesce(max(id), 0) FROM address_rules").fetchone()
        return int(n), int(top)
