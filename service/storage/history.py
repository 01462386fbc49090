"""Plan history: every version of a plan's zones, stored as GeoJSON, for undo, redo and review.

Composition, not a mixin: the store is given the repository's SQL executor and owns its queries.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from geo.errors import NotFound
from geo.io.write import zone_feature, zones_from_features
from geo.models import Zone
from service.storage.executor import Audit, SqlExecutor
from service.storage.rows import from_json, now


class PlanHistoryStore:
    def __init__(self, db: SqlExecutor, *, audit: Audit) -> None:
        self.db = db
        self._audit = audit

    def record(self, cur: Any, plan_id: int, version: int, action: str, actor: str, zones: Sequence[Zone]) -> None:

        doc = {"type": "FeatureCollection", "features": [zone_feature(z) for z in zones]}
        self.db.execute(cur, "INSERT INTO plan_versions (plan_id, version, action, actor, at, zones) VALUES (?, ?, ?, ?, ?, ?)",
                (plan_id, version, action, actor, self.db.timestamp(now()), json.dumps(doc, separators=(",", ":"))))

    def plan_versions(self, plan_id: int) -> list[dict[str, Any]]:
        with self.db.read_cursor() as cur:
            rows = self.db.execute(cur, "SELECT version, action, actor, at FROM plan_versions WHERE plan_id = ? ORDER BY version",
                           (plan_id,)).fetchall()
        return [{"version": int(r[0]), "action": r[1], "actor": r[2], "at": str(r[3])} for r in rows]

    def plan_version_zones(self, plan_id: int, version: int) -> list[Zone]:
        with self.db.read_cursor() as cur:
            r = self.db.execute(cur, "SELECT zones FROM plan_versions WHERE plan_id = ? AND version = ?", (plan_id, version)).fetchone()
        if r is None:
            msg = f"plan {plan_id} has no stored version {version}"
            raise NotFound(msg, where="version")
        return zones_from_features(from_json(r[0])["features"])
