"""API keys (stored as their SHA-256) and the audit log of every write.

Composition, not a mixin: the store is given the repository's SQL executor and owns its queries.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from typing import Any

from geo.errors import Conflict, NotFound
from geo.models import ApiKey, Role
from service.storage.base import AuditEvent
from service.storage.executor import Audit, SqlExecutor
from service.storage.rows import as_datetime, from_json, hash_secret, now


class KeyStore:
    def __init__(self, db: SqlExecutor, *, audit: Audit) -> None:
        self.db = db
        self._audit = audit

    @staticmethod
    def _key(r: Sequence[Any]) -> ApiKey:
        return ApiKey(id=int(r[0]), name=r[1], role=Role(r[2]), created_at=as_datetime(r[3]), revoked_at=as_datetime(r[4]))

    def create_key(self, *, name: str, role: Role, actor: str) -> tuple[ApiKey, str]:
        secret = "ck_" + secrets.token_urlsafe(32)
        with self.db.transaction() as cur:
            r = self.db.execute(cur, "INSERT INTO api_keys (name, role, hash, created_at) VALUES (?, ?, ?, ?) RETURNING id, name, role, created_at, revoked_at",
                        (name, role.value, hash_secret(secret), self.db.timestamp(now()))).fetchone()
            key = self._key(r)
            self._audit(cur, actor, "key.create", f"key:{key.id}", None, {"name": name, "role": role.value})
        return key, secret

    def key_for_secret(self, secret: str) -> ApiKey | None:
        with self.db.read_cursor() as cur:
            r = self.db.execute(cur, "SELECT id, name, role, created_at, revoked_at FROM api_keys WHERE hash = ?", (hash_secret(secret),)).fetchone()
        return None if r is None else self._key(r)

    def list_keys(self) -> list[ApiKey]:
        with self.db.read_cursor() as cur:
            return [self._key(r) for r in self.db.execute(cur, "SELECT id, name, role, created_at, revoked_at FROM api_keys ORDER BY id").fetchall()]

    def revoke_key(self, key_id: int, *, actor: str) -> ApiKey:
        with self.db.transaction() as cur:
            r = self.db.execute(cur, "UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL RETURNING id, name, role, created_at, revoked_at",
                        (self.db.timestamp(now()), key_id)).fetchone()
            if r is None:
                exists = self.db.execute(cur, "SELECT 1 FROM api_keys WHERE id = ?", (key_id,)).fetchone()
                msg = f"key {key_id} is revoked already" if exists else f"no key with id {key_id}"
                raise (Conflict if exists else NotFound)(msg, where="key_id")
            self._audit(cur, actor, "key.revoke", f"key:{key_id}", None, {"revoked": True})
            return self._key(r)

    def audit_events(self, *, target: str | None = None, limit: int = 100, offset: int = 0) -> list[AuditEvent]:
        where, params = ("WHERE target = ?", [target]) if target else ("", [])
        with self.db.read_cursor() as cur:
            rows = self.db.execute(cur, f"SELECT id, at, actor, action, target, before, after FROM audit {where} ORDER BY id DESC LIMIT ? OFFSET ?",
                           params + [limit, offset]).fetchall()
        return [AuditEvent(int(r[0]), as_datetime(r[1]), r[2], r[3], r[4], from_json(r[5]), from_json(r[6])) for r in rows]
