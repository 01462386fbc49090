"""Registered street networks (the graph files live next to the database).

Composition, not a mixin: the store is given the repository's SQL executor and owns its queries.
"""

from __future__ import annotations

from typing import Any

from service.storage.executor import Audit, SqlExecutor
from service.storage.rows import from_json, json_text, now


class NetworkStore:
    def __init__(self, db: SqlExecutor, *, audit: Audit) -> None:
        self.db = db
        self._audit = audit

    def register_network(self, name: str, *, mode: str, path: str, source: str | None, stats: dict[str, Any], actor: str) -> None:

        with self.db.transaction() as cur:
            # One network per name and per (extract, mode): rebuilding the walk network of a file
            # replaces that one, whatever it was named, and never the drive network.
            self.db.execute(cur, "DELETE FROM networks WHERE name = ? OR (mode = ? AND source = ?)", (name, mode, source))
            self.db.execute(cur, "INSERT INTO networks (name, mode, path, source, stats, built_at) VALUES (?, ?, ?, ?, ?, ?)",
                    (name, mode, path, source, json_text(stats), self.db.timestamp(now())))
            self._audit(cur, actor, "network.register", f"network:{name}", None, {"mode": mode, "path": path, **stats})
            self.db.bump_zone_version(cur)

    def networks(self) -> list[dict[str, Any]]:
        with self.db.read_cursor() as cur:
            rows = self.db.execute(cur, "SELECT name, mode, path, source, stats, built_at FROM networks ORDER BY name").fetchall()
        return [{"name": r[0], "mode": r[1], "path": r[2], "source": r[3], "stats": from_json(r[4]), "built_at": str(r[5])} for r in rows]
