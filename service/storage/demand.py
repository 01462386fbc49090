"""Demand sets: units (blocks, compounds 小区, address points) with children per level or grade.

Composition, not a mixin: the store is given the repository's SQL executor and owns its queries.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import shapely

from geo.errors import InvalidInput, NotFound
from geo.planning.demand import DemandUnit
from service.storage.executor import Audit, SqlExecutor
from service.storage.rows import from_json, json_text, now


class DemandStore:
    def __init__(self, db: SqlExecutor, *, audit: Audit) -> None:
        self.db = db
        self._audit = audit

    def import_demand(self, name: str, units: Sequence[DemandUnit], *, kind: str, report: dict[str, Any], actor: str) -> int:
        """Replace the demand set ``name`` with ``units``, atomically."""

        seen: set[str] = set()
        for u in units:
            if u.id in seen:
                msg = f"demand unit id {u.id!r} appears twice"
                raise InvalidInput(msg, where=f"unit {u.id}")
            seen.add(u.id)
        with self.db.transaction() as cur:
            self.db.execute(cur, "DELETE FROM demand_sets WHERE name = ?", (name,))
            self.db.execute(cur, "INSERT INTO demand_sets (name, kind, report, created_at) VALUES (?, ?, ?, ?)",
                    (name, kind, json_text(report), self.db.timestamp(now())))
            sql = (f"INSERT INTO demand_units (dataset, unit_id, counts, grade_counts, population, attributes, geom) "
                   f"VALUES (?, ?, ?, ?, ?, ?, {self.db._anygeom_in_sql()})")
            self.db.execute_many(cur, sql, [
                (name, u.id, json_text(dict(u.counts)), json_text(dict(u.grade_counts)), u.population, json_text(dict(u.attributes)),
                 self.db._geom_in(u.geometry)) for u in units])
            self._audit(cur, actor, "demand.import", f"demand:{name}", None, {"units": len(units), "kind": kind})
        return len(units)

    def demand_sets(self) -> list[dict[str, Any]]:
        with self.db.read_cursor() as cur:
            rows = self.db.execute(cur, "SELECT s.name, s.kind, s.report, s.created_at, count(u.id) FROM demand_sets s "
                                "LEFT JOIN demand_units u ON u.dataset = s.name GROUP BY s.name, s.kind, s.report, s.created_at "
                                "ORDER BY s.name").fetchall()
        return [{"name": r[0], "kind": r[1], "report": from_json(r[2]), "created_at": str(r[3]), "units": int(r[4])} for r in rows]

    def demand_units(self, name: str) -> list[DemandUnit]:
        with self.db.read_cursor() as cur:
            if self.db.execute(cur, "SELECT 1 FROM demand_sets WHERE name = ?", (name,)).fetchone() is None:
                msg = f"no demand set named {name!r}; load one with `catchment import demand`"
                raise NotFound(msg, where="demand")
            rows = self.db.execute(cur, f"SELECT unit_id, counts, grade_counts, population, attributes, {self.db._geom_out_sql()} "
                                f"FROM demand_units WHERE dataset = ? ORDER BY id", (name,)).fetchall()
        return [DemandUnit(id=r[0], counts=from_json(r[1]), grade_counts=from_json(r[2]), population=r[3], attributes=from_json(r[4]),
                           geometry=shapely.from_wkb(bytes(r[5]))) for r in rows]
