"""The embedded default backend: one SQLite file, WAL mode, a connection per thread.

Geometries are WKB blobs with their bounding box in plain columns; spatial refinement of a
bbox match happens in shapely.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import shapely
from shapely.geometry import MultiPolygon

from geo.errors import Conflict, Unavailable
from service.storage.rows import now
from service.storage.sqlbase import SqlRepository


def sqlite_path(url: str) -> Path:
    """``sqlite:///var/catchment.db`` (relative) or ``sqlite:////abs/path.db`` -> Path."""
    parsed = urlparse(url)
    raw = parsed.path
    if url.startswith("sqlite:////"):
        return Path(raw)
    return Path(raw.lstrip("/")) if raw else Path("var/catchment.db")


class SqliteRepository(SqlRepository):
    url_scheme = "sqlite"
    migrations_package = "service.storage.migrations.sqlite"

    def __init__(self, url: str, *, timeout_s: float = 30.0) -> None:
        self.url = url
        self.path = sqlite_path(url)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.timeout_s = timeout_s
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()

    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            try:
                conn = sqlite3.connect(self.path, timeout=self.timeout_s, isolation_level=None, check_same_thread=False)
            except sqlite3.OperationalError as exc:
                msg = f"cannot open the SQLite database at {self.path}: {exc}"
                raise Unavailable(msg) from exc
            _set_wal(conn, self.timeout_s)
            conn.execute("PRAGMA foreign_keys = ON")
            conn.execute("PRAGMA synchronous = NORMAL")
            self._local.conn = conn
            with self._lock:
                self._all.append(conn)
        return conn

    def close(self) -> None:
        with self._lock:
            for c in self._all:
                c.close()
            self._all.clear()
        self._local = threading.local()

    @contextmanager
    def transaction(self) -> Iterator[Any]:
        conn = self._conn()
        cur = conn.cursor()
        cur.execute("BEGIN IMMEDIATE")
        try:
            yield cur
        except sqlite3.IntegrityError as exc:
            conn.rollback()
            raise self._integrity(exc) from exc
        except BaseException:
            conn.rollback()
            raise
        else:
            conn.commit()
        finally:
            cur.close()

    @contextmanager
    def read_cursor(self) -> Iterator[Any]:
        cur = self._conn().cursor()
        try:
            yield cur
        finally:
            cur.close()

    @staticmethod
    def _integrity(exc: sqlite3.IntegrityError) -> Exception:
        text = str(exc)
        if "plans.district" in text or "plans_one_adopted" in text:
            return Conflict("another plan is already adopted for this district, level and school year", where="status")
        if "FOREIGN KEY" in text:
            return Conflict("the write refers to a school or plan that does not exist", where="school_codes")
        if "CHECK" in text:
            return Conflict(f"a value is out of range: {text}")
        return Conflict(f"the write conflicts with stored data: {text}")

    def _zone_extra_cols(self) -> tuple[str, ...]:
        return ("minx", "miny", "maxx", "maxy")

    def _zone_extra_vals(self, geom: MultiPolygon) -> tuple[Any, ...]:
        return tuple(float(v) for v in geom.bounds)

    def _level_sql(self) -> str:
        return "EXISTS (SELECT 1 FROM json_each(schools.levels) WHERE json_each.value = ?)"

    def upgrade(self) -> list[str]:
        """Apply the migrations not yet applied, in one write transaction.

        The applied set is read inside the transaction (BEGIN IMMEDIATE holds the write lock),
        so two processes starting together never apply the same migration twice.
        """
        conn = self._conn()
        conn.execute("BEGIN IMMEDIATE")
        applied = []
        try:
            conn.execute("CREATE TABLE IF NOT EXISTS schema_migrations (version TEXT PRIMARY KEY, applied_at TEXT NOT NULL)")
            done = {r[0] for r in conn.execute("SELECT version FROM schema_migrations")}
            for version, sql in self.migrations():
                if version in done:
                    continue
                # executescript would commit on its own; run statement by statement instead.
                for stmt in _statements(sql):
                    conn.execute(stmt)
                conn.execute("INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)", (version, now().isoformat()))
                applied.append(version)
        except BaseException:
            conn.rollback()
            raise
        conn.commit()
        return applied

    def zones_covering(self, lon: float, lat: float, *, adopted_only: bool = True) -> list[int]:
        """Zone ids whose closed polygon holds (lon, lat): bbox in SQL, exact test in shapely."""
        cond = " AND plan_id IN (SELECT id FROM plans WHERE status = 'adopted')" if adopted_only else ""
        with self.read_cursor() as cur:
            rows = cur.execute(f"SELECT id, geom FROM zones WHERE minx <= ? AND maxx >= ? AND miny <= ? AND maxy >= ?{cond} ORDER BY id",
                               (lon, lon, lat, lat)).fetchall()
        return [int(r[0]) for r in rows if shapely.intersects_xy(shapely.from_wkb(r[1]), lon, lat)]


def _statements(script: str) -> Iterator[str]:
    """Split a migration into statements, keeping trigger bodies (BEGIN ... END;) whole."""
    buf: list[str] = []
    for line in script.splitlines():
        if line.strip().startswith("--") and not buf:
            continue
        buf.append(line)
        text = "\n".join(buf).strip()
        if text.endswith(";") and sqlite3.complete_statement(text):
            yield text
            buf = []
    rest = "\n".join(buf).strip()
    if rest:
        yield rest


def _set_wal(conn: sqlite3.Connection, timeout_s: float) -> None:
    """Switch to WAL. On a brand-new file another process may hold the lock for a moment and
    SQLite answers "database is locked" at once instead of waiting, so retry until the timeout."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            conn.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.02)
