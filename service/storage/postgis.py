"""The production backend: PostgreSQL with PostGIS through psycopg 3 and a connection pool.

The SQL itself is shared with SQLite (``sqlbase``); this module supplies the dialect: ``%s``
placeholders, geometry in and out as WKB, spatial filters that run in the database (GiST
``&&`` for bboxes, ``ST_Covers`` for "which zones hold this point"), row and advisory locks
that serialise plan changes, and the translation of driver errors into domain errors
(integrity -> Conflict, database unreachable -> Unavailable, which the web layer answers
with 503). Every coordinate is EPSG:4326 in (lon, lat) order.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from functools import lru_cache
from typing import Any

import psycopg
from psycopg import IsolationLevel, errors
from psycopg.conninfo import conninfo_to_dict
from psycopg_pool import ConnectionPool

from geo.errors import Conflict, Unavailable
from geo.models import Plan
from service.storage.base import Adoption
from service.storage.rows import now
from service.storage.sqlbase import SqlRepository

#: Constraint name -> message, mirroring SqliteRepository._integrity.
_CONSTRAINT_MESSAGES = {
    "plans_one_adopted": ("another plan is already adopted for this district, level and school year", "status"),
    "zone_schools_school_code_fkey": ("the write refers to a school or plan that does not exist", "school_codes"),
    "zones_plan_id_fkey": ("the write refers to a school or plan that does not exist", "plan_id"),
}

# A quoted literal or identifier (kept whole), a ``?`` placeholder, or a bare ``%``.
_TOKEN = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|\?|%")


@lru_cache(maxsize=512)
def qmark_to_format(sql: str) -> str:
    """Rewrite shared ``?`` SQL for psycopg: ``?`` -> ``%s`` and every literal ``%`` -> ``%%``.

    psycopg scans the whole query text for ``%`` (inside string literals too), so a percent
    sign is doubled wherever it appears; a ``?`` inside quotes is left alone.
    """

    def repl(m: re.Match[str]) -> str:
        tok = m.group(0)
        if tok == "?":
            return "%s"
        return tok.replace("%", "%%")

    return _TOKEN.sub(repl, sql)


def normalise_url(url: str) -> str:
    """``postgis://`` is our alias; libpq only knows ``postgresql://`` and ``postgres://``."""
    return "postgresql://" + url.removeprefix("postgis://") if url.startswith("postgis://") else url


class PostgisRepository(SqlRepository):
    """Repository on PostgreSQL + PostGIS.

    Parameters
    ----------
    url
        ``postgresql://user@host:5432/db`` (``?options=-c%20search_path%3Dschema,public`` selects
        a schema). ``postgis://`` is accepted as an alias.
    pool_min, pool_max
        Connections kept open / allowed at most, per process (each service worker has its own).
    pool_timeout_s
        How long a request waits for a connection before failing with Unavailable (503); this
        bounds how long requests hang while the database is down.
    connect_timeout_s
        libpq ``connect_timeout`` unless the URL sets one.
    """

    url_scheme = "postgresql"
    migrations_package = "service.storage.migrations.postgis"

    def __init__(self, url: str, *, pool_min: int = 1, pool_max: int = 10, pool_timeout_s: float = 5.0,
                 connect_timeout_s: int = 5) -> None:
        self.url = normalise_url(url)
        try:
            params = conninfo_to_dict(self.url)
        except psycopg.ProgrammingError as exc:
            msg = f"cannot parse the PostgreSQL URL: {exc}"
            raise ValueError(msg) from exc
        kwargs: dict[str, Any] = {"autocommit": False}
        if "connect_timeout" not in params:
            kwargs["connect_timeout"] = connect_timeout_s
        self.pool: ConnectionPool[psycopg.Connection[Any]] = ConnectionPool(
            self.url,
            kwargs=kwargs,
            min_size=pool_min,
            max_size=max(pool_min, pool_max),
            open=False,
            configure=_configure,
            # A pooled connection may be dead after a database restart: test it on checkout
            # and replace it, so the service recovers without restarting.
            check=ConnectionPool.check_connection,
            timeout=pool_timeout_s,
            name="catchment",
        )
        # wait=False: the pool fills in the background; a database that is down now makes the
        # first request (or upgrade()) fail with Unavailable instead of the constructor.
        self.pool.open(wait=False)

    def close(self) -> None:
        self.pool.close()

    # ---- connections and transactions ----------------------------------------------
    @contextmanager
    def _cursor(self, *, read_only: bool, timeout_s: float | None = None) -> Iterator[psycopg.Cursor[Any]]:
        """One transaction on a pooled connection: committed on success, rolled back on error.

        Reads run REPEATABLE READ so a multi-statement read (plans then their zones) sees one
        snapshot; writes run READ COMMITTED so that, after waiting for a lock, they see what
        the previous holder committed.
        """
        try:
            with self.pool.connection(timeout=timeout_s) as conn:
                conn.read_only = read_only
                conn.isolation_level = IsolationLevel.REPEATABLE_READ if read_only else IsolationLevel.READ_COMMITTED
                with conn.cursor() as cur:
                    yield cur
        except psycopg.Error as exc:
            translated = self._translate(exc)
            if translated is None:
                raise
            raise translated from exc

    def transaction(self) -> Any:
        return self._cursor(read_only=False)

    def read_cursor(self) -> Any:
        return self._cursor(read_only=True)

    def read_cursor_within(self, timeout_s: float | None) -> Any:
        # The snapshot watcher's version check: it must notice an outage in a fraction of a
        # second, not after the pool's request timeout.
        return self._cursor(read_only=True, timeout_s=timeout_s)

    def _translate(self, exc: Exception) -> Exception | None:
        if isinstance(exc, psycopg.IntegrityError):
            diag = getattr(exc, "diag", None)
            name = diag.constraint_name if diag is not None else None
            if name in _CONSTRAINT_MESSAGES:
                msg, where = _CONSTRAINT_MESSAGES[name]
                return Conflict(msg, where=where)
            if isinstance(exc, errors.ForeignKeyViolation):
                return Conflict("the write refers to a school or plan that does not exist", where="school_codes")
            if isinstance(exc, errors.CheckViolation):
                return Conflict(f"a value is out of range: {exc}")
            return Conflict(f"the write conflicts with stored data: {exc}")
        if isinstance(exc, errors.TransactionRollback | errors.DeadlockDetected):
            # Deadlock or serialisation failure: nothing was written and a retry will succeed.
            msg = f"the database rolled the write back under contention; retry: {exc}"
            return Unavailable(msg)
        if isinstance(exc, psycopg.OperationalError | psycopg.InterfaceError):
            # Includes psycopg_pool.PoolTimeout: no connection could be had in time.
            msg = f"the database is unavailable: {exc}"
            return Unavailable(msg)
        return None

    # ---- dialect -------------------------------------------------------------------
    def _sql(self, sql: str) -> str:
        return qmark_to_format(sql)

    def timestamp(self, d: datetime) -> Any:
        return d

    def _geom_in_sql(self) -> str:
        return "ST_Multi(ST_GeomFromWKB(?, 4326))"

    def _geom_out_sql(self) -> str:
        return "ST_AsBinary(geom)"

    def _anygeom_in_sql(self) -> str:
        return "ST_GeomFromWKB(?, 4326)"

    def _school_bbox_sql(self) -> str:
        # && finds candidates through the GiST index but compares float4 boxes, rounded
        # outwards; the plain lon/lat test keeps the answer exact and equal to SQLite's.
        return "geom && ST_MakeEnvelope(?, ?, ?, ?, 4326) AND lon BETWEEN ? AND ? AND lat BETWEEN ? AND ?"

    def _school_bbox_params(self, bbox: tuple[float, float, float, float]) -> tuple[Any, ...]:
        minx, miny, maxx, maxy = bbox
        return (minx, miny, maxx, maxy, minx, maxx, miny, maxy)

    def _level_sql(self) -> str:
        # Containment rather than the jsonb ``?`` operator, which would clash with placeholders.
        return "levels @> jsonb_build_array(?::text)"

    # ---- locks ---------------------------------------------------------------------
    def _lock_group(self, cur: Any, district: str, level: str) -> None:
        """Serialise every plan-state change of one (district, level) until commit.

        Two adopts of different plans for the same level and year would otherwise each see
        no other adopted plan and the second would hit the unique index; under this lock the
        second waits, then sees (and archives) the first.
        """
        self.execute(cur, "SELECT pg_advisory_xact_lock(hashtextextended(?, 0))", (f"catchment.plans:{district}:{level}",))

    def _lock_plan(self, cur: Any, plan_id: int) -> Plan:
        plan = self._get_plan(cur, plan_id)
        self._lock_group(cur, plan.district, plan.level)
        self.execute(cur, "SELECT id FROM plans WHERE id = ? FOR UPDATE", (plan_id,))
        # Read again: the plan may have changed while this transaction waited for the locks.
        return self._get_plan(cur, plan_id)

    def _adopt(self, cur: Any, plan: Plan, actor: str, effective_year: int | None) -> Adoption:
        # import_plan adopts without _lock_plan; re-taking the same advisory lock is a no-op.
        self._lock_group(cur, plan.district, plan.level)
        return super()._adopt(cur, plan, actor, effective_year)

    # ---- migrations ----------------------------------------------------------------
    def upgrade(self) -> list[str]:
        """Apply the migrations not yet applied, in one transaction.

        An advisory lock (per database and schema) makes workers that start together wait
        for each other; the applied set is read after taking it, so each migration runs once.
        """
        applied: list[str] = []
        with self.transaction() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(hashtextextended('catchment.migrate:' || current_schema(), 0))")
            cur.execute("CREATE TABLE IF NOT EXISTS schema_migrations (version text PRIMARY KEY, applied_at timestamptz NOT NULL)")
            done = {r[0] for r in cur.execute("SELECT version FROM schema_migrations").fetchall()}
            for version, sql in self.migrations():
                if version in done:
                    continue
                cur.execute(sql)  # no parameters: psycopg sends the script as is, several statements
                cur.execute("INSERT INTO schema_migrations (version, applied_at) VALUES (%s, %s)", (version, now()))
                applied.append(version)
        return applied

    # ---- spatial -------------------------------------------------------------------
    def zones_covering(self, lon: float, lat: float, *, adopted_only: bool = True) -> list[int]:
        """Zone ids whose closed polygon holds (lon, lat), decided by ST_Covers in the database.

        Points on an edge or vertex count, like ``geo.index.zones.ZoneIndex.query``.
        """
        cond = " AND plan_id IN (SELECT id FROM plans WHERE status = 'adopted')" if adopted_only else ""
        sql = f"SELECT id FROM zones WHERE ST_Covers(geom, ST_SetSRID(ST_MakePoint(?, ?), 4326)){cond} ORDER BY id"
        with self.read_cursor() as cur:
            return [int(r[0]) for r in self.execute(cur, sql, (float(lon), float(lat))).fetchall()]


def _configure(conn: psycopg.Connection[Any]) -> None:
    """Report timestamps in UTC whatever the server's default, as SQLite stores them."""
    conn.execute("SET TIME ZONE 'UTC'")
    conn.commit()
