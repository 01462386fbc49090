"""The assets table: binary data every API host loads from the database (street networks).

A street network is a few megabytes of compressed numpy arrays (``.npz``, zlib); it used to be a
file next to the database, which a second host (or a recreated container) does not have. Stored
here, every worker of every host loads it at start and again when it changes: each write bumps
the data version (``meta.zone_version``) that every worker's snapshot watcher follows.

Composition, not a mixin: the store is given the repository's SQL executor and owns its queries.
A network's registry row (``networks``) and its bytes are written in one transaction with the
audit event.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from typing import Any

from geo.errors import InvalidInput, NotFound
from service.storage.base import Asset
from service.storage.jobs import SqlExecutor
from service.storage.rows import as_datetime, json_text, now

KINDS = ("network",)
COLS = "kind, name, codec, sha256, size, stored_at"


def _asset(r: Sequence[Any]) -> Asset:
    return Asset(kind=r[0], name=r[1], codec=r[2], sha256=r[3], size=int(r[4]), stored_at=as_datetime(r[5]))


def _check(kind: str, name: str) -> None:
    if kind not in KINDS:
        msg = f"unknown asset kind {kind!r}; one of {', '.join(KINDS)} / 未知的数据类型"
        raise InvalidInput(msg, where="kind")
    if not 1 <= len(name) <= 200:
        msg = f"asset name {name!r} must be 1-200 characters / 名称须为 1-200 个字符"
        raise InvalidInput(msg, where="name")


class AssetStore:
    def __init__(self, db: SqlExecutor, *, audit: Callable[[Any, str, str, str, Any, Any], None]) -> None:
        self.db = db
        self._audit = audit

    # ---- any asset --------------------------------------------------------------------
    def put(self, kind: str, name: str, data: bytes, *, codec: str, actor: str) -> Asset:
        """Store (or replace) the bytes of ``kind``/``name``; workers load them on their next check."""
        _check(kind, name)
        with self.db._tx() as cur:
            asset = self._put(cur, kind, name, data, codec=codec)
            self._audit(cur, actor, "asset.put", f"{kind}:{name}", None, {"codec": codec, "size": asset.size, "sha256": asset.sha256})
            self._bump(cur)
        return asset

    def get(self, kind: str, name: str) -> bytes:
        """The stored bytes; NotFound when there are none."""
        db = self.db
        with db._read() as cur:
            row = db._x(cur, "SELECT data FROM assets WHERE kind = ? AND name = ?", (kind, name)).fetchone()
        if row is None:
            msg = f"no stored {kind} named {name!r} / 没有名为 {name!r} 的已存数据"
            raise NotFound(msg, where="name")
        return bytes(row[0])

    def list(self, kind: str | None = None) -> list[Asset]:
        """What is stored (without the bytes), by kind and name."""
        db = self.db
        where, params = ("WHERE kind = ?", (kind,)) if kind is not None else ("", ())
        with db._read() as cur:
            rows = db._x(cur, f"SELECT {COLS} FROM assets {where} ORDER BY kind, name", params).fetchall()
        return [_asset(r) for r in rows]

    def delete(self, kind: str, name: str, *, actor: str) -> bool:
        """Remove an asset; returns whether there was one."""
        with self.db._tx() as cur:
            gone = self.db._x(cur, "DELETE FROM assets WHERE kind = ? AND name = ? RETURNING name", (kind, name)).fetchall()
            if gone:
                self._audit(cur, actor, "asset.delete", f"{kind}:{name}", None, None)
                self._bump(cur)
        return bool(gone)

    def stamp(self) -> tuple[tuple[str, str, str], ...]:
        """(kind, name, sha256) of every asset: changes whenever one is written or removed, for caches."""
        return tuple((a.kind, a.name, a.sha256) for a in self.list())

    # ---- street networks --------------------------------------------------------------
    def put_network(self, name: str, data: bytes, *, mode: str, source: str | None, stats: dict[str, Any],
                    actor: str) -> Asset:
        """Register network ``name`` and store its bytes (an ``.npz``), in one transaction.

        One network per name and per (extract, mode): the one it replaces, whatever it was
        named, goes with its bytes; a drive network never replaces the walk one of a file.
        """
        _check("network", name)
        db = self.db
        with db._tx() as cur:
            old = db._x(cur, "SELECT name FROM networks WHERE name = ? OR (mode = ? AND source = ?)", (name, mode, source)).fetchall()
            for (gone,) in old:
                db._x(cur, "DELETE FROM assets WHERE kind = 'network' AND name = ?", (gone,))
                db._x(cur, "DELETE FROM networks WHERE name = ?", (gone,))
            # path '' : the bytes live in the assets table, not in a file of some host.
            db._x(cur, "INSERT INTO networks (name, mode, path, source, stats, built_at) VALUES (?, ?, '', ?, ?, ?)",
                  (name, mode, source, json_text(stats), db._ts(now())))
            asset = self._put(cur, "network", name, data, codec="npz")
            self._audit(cur, actor, "network.register", f"network:{name}", {"replaced": [r[0] for r in old]} if old else None,
                        {"mode": mode, "stored": True, "size": asset.size, "sha256": asset.sha256, **stats})
            self._bump(cur)
        return asset

    # ---- helpers ----------------------------------------------------------------------
    def _put(self, cur: Any, kind: str, name: str, data: bytes, *, codec: str) -> Asset:
        db = self.db
        digest = hashlib.sha256(data).hexdigest()
        row = db._x(cur, f"INSERT INTO assets ({COLS}, data) VALUES (?, ?, ?, ?, ?, ?, ?) "
                    "ON CONFLICT (kind, name) DO UPDATE SET codec = excluded.codec, sha256 = excluded.sha256, "
                    f"size = excluded.size, stored_at = excluded.stored_at, data = excluded.data RETURNING {COLS}",
                    (kind, name, codec, digest, len(data), db._ts(now()), data)).fetchone()
        return _asset(row)

    def _bump(self, cur: Any) -> None:
        # Every worker's snapshot watcher follows this version; a change reloads the networks.
        self.db._x(cur, "UPDATE meta SET value = value + 1 WHERE key = 'zone_version'")
