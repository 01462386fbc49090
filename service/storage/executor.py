"""What a store needs of a SQL backend, and what it is given to record audit events.

Stores (jobs, rules, zones, addresses, demand, networks ...) are composed over the repository:
each is given the backend as a :class:`SqlExecutor` and owns its queries, written once with
``?`` placeholders; the backend translates them and supplies its geometry SQL.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any, Protocol

import shapely
from shapely.geometry import MultiPolygon

from service.storage.rows import json_text, now

#: ``audit(cursor, actor, action, target, before, after)``: one audit row, in the caller's transaction.
Audit = Callable[[Any, str, str, str, Any, Any], None]


class SqlExecutor(Protocol):
    """Transactions, reads, statements with ``?`` placeholders, timestamps, and the geometry dialect."""

    def transaction(self) -> AbstractContextManager[Any]: ...
    def read_cursor(self) -> AbstractContextManager[Any]: ...
    def execute(self, cur: Any, sql: str, params: Sequence[Any] = ()) -> Any: ...
    def execute_many(self, cur: Any, sql: str, rows: Sequence[Sequence[Any]]) -> None: ...
    def timestamp(self, d: Any) -> Any: ...
    def bump_zone_version(self, cur: Any) -> None: ...
    # The backend's geometry dialect.
    def _geom_in_sql(self) -> str: ...
    def _anygeom_in_sql(self) -> str: ...
    def _geom_in(self, geom: Any) -> Any: ...
    def _geom_out_sql(self) -> str: ...
    def _geom_out(self, value: Any) -> Any: ...
    def _zone_extra_cols(self) -> tuple[str, ...]: ...
    def _zone_extra_vals(self, geom: Any) -> tuple[Any, ...]: ...
    def _school_bbox_sql(self) -> str: ...
    def _school_bbox_params(self, bbox: tuple[float, float, float, float]) -> tuple[Any, ...]: ...
    def _level_sql(self) -> str: ...
    # The names before the rename, for stores written meanwhile (remove once every branch uses the new ones).
    def _tx(self) -> AbstractContextManager[Any]: ...
    def _read(self) -> AbstractContextManager[Any]: ...
    def _x(self, cur: Any, sql: str, params: Sequence[Any] = ()) -> Any: ...
    def _ts(self, d: Any) -> Any: ...


class SqlBackend(ABC):
    """The SQL executor of a backend: its transactions and reads, placeholder translation, timestamps,
    geometry dialect and audit rows. The repository and its stores run every statement through it."""

    # ---- hooks -----------------------------------------------------------------------
    @abstractmethod
    def transaction(self) -> AbstractContextManager[Any]:
        """A write transaction yielding a cursor-like object; commits, or rolls back on error."""

    @abstractmethod
    def read_cursor(self) -> AbstractContextManager[Any]:
        """A cursor for reads."""

    def _sql(self, sql: str) -> str:
        return sql

    def _geom_in_sql(self) -> str:
        return "?"

    def _geom_in(self, geom: MultiPolygon) -> Any:
        return shapely.to_wkb(geom)

    def _geom_out_sql(self) -> str:
        return "geom"

    def _geom_out(self, value: Any) -> MultiPolygon:
        return shapely.from_wkb(bytes(value))

    def _anygeom_in_sql(self) -> str:
        """SQL for a geometry parameter of any type (WKB in); PostGIS wraps it in ST_GeomFromWKB."""
        return "?"

    def _zone_extra_cols(self) -> tuple[str, ...]:
        return ()

    def _zone_extra_vals(self, geom: MultiPolygon) -> tuple[Any, ...]:
        return ()

    def _school_bbox_sql(self) -> str:
        return "lon BETWEEN ? AND ? AND lat BETWEEN ? AND ?"

    def _school_bbox_params(self, bbox: tuple[float, float, float, float]) -> tuple[Any, ...]:
        return (bbox[0], bbox[2], bbox[1], bbox[3])

    @abstractmethod
    def _level_sql(self) -> str:
        """A condition that the school's levels contain the parameter."""

    def read_cursor_within(self, timeout_s: float | None) -> AbstractContextManager[Any]:
        """A read cursor that waits at most ``timeout_s`` for a connection (a backend with a pool bounds it)."""
        return self.read_cursor()

    # ---- helpers -----------------------------------------------------------------------
    def execute(self, cur: Any, sql: str, params: Sequence[Any] = ()) -> Any:
        cur.execute(self._sql(sql), tuple(params))
        return cur

    def execute_many(self, cur: Any, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        cur.executemany(self._sql(sql), [tuple(r) for r in rows])

    # The names before the rename, for stores written meanwhile (remove once every branch uses the new ones).
    def _tx(self) -> AbstractContextManager[Any]:
        return self.transaction()

    def _read(self) -> AbstractContextManager[Any]:
        return self.read_cursor()

    def _x(self, cur: Any, sql: str, params: Sequence[Any] = ()) -> Any:
        return self.execute(cur, sql, params)

    def _ts(self, d: datetime) -> Any:
        return self.timestamp(d)

    def _audit(self, cur: Any, actor: str, action: str, target: str, before: Any, after: Any) -> None:
        self.execute(cur, "INSERT INTO audit (at, actor, action, target, before, after) VALUES (?, ?, ?, ?, ?, ?)",
                (self.timestamp(now()), actor, action, target, None if before is None else json_text(before),
                 None if after is None else json_text(after)))

    def timestamp(self, d: datetime) -> Any:
        return d.isoformat()

    def bump_zone_version(self, cur: Any) -> None:
        self.execute(cur, "UPDATE meta SET value = value + 1 WHERE key = 'zone_version'")

