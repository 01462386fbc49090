"""Helpers for tests that need the PostgreSQL + PostGIS test server.

The server comes from ``CATCHMENT_TEST_PG_URL`` (default
postgresql://postgres@127.0.0.1:5432/catchment_test, prepared by .ci/setup-postgis.sh).
When it cannot be reached the PostGIS tests skip with the reason, except under ``CI=true``,
where they fail: CI must never pass by skipping them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

import psycopg
import pytest

DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/catchment_test"


def pg_base_url() -> str:
    return os.environ.get("CATCHMENT_TEST_PG_URL", DEFAULT_PG_URL)


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


def skip_or_fail(reason: str) -> None:
    """Skip locally; under CI=true fail, so a CI run cannot go green by skipping."""
    if in_ci():
        pytest.fail(f"CI=true and this PostGIS test cannot run: {reason}", pytrace=False)
    pytest.skip(reason)


@cache
def _pg_problem() -> str | None:
    """None when the test database answers and has PostGIS, else why not (checked once)."""
    url = pg_base_url()
    try:
        with psycopg.connect(url, connect_timeout=3, autocommit=True) as conn:
            conn.execute("SELECT postgis_lib_version()").fetchone()
    except psycopg.errors.UndefinedFunction:
        return f"the database at {url} has no PostGIS extension (run .ci/setup-postgis.sh)"
    except psycopg.Error as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        return f"no PostgreSQL reachable at {url} ({first}); run .ci/setup-postgis.sh or set CATCHMENT_TEST_PG_URL"
    return None


def require_postgis() -> str:
    """The base URL, or skip (fail under CI=true) when PostGIS is not reachable."""
    problem = _pg_problem()
    if problem is not None:
        skip_or_fail(problem)
    return pg_base_url()


def with_search_path(url: str, schema: str) -> str:
    """``url`` with libpq ``options`` putting ``schema`` first (PostGIS stays visible in public)."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k != "options"]
    query.append(("options", f"-c search_path={schema},public"))
    return urlunsplit(parts._replace(query=urlencode(query, quote_via=quote)))


@contextmanager
def new_schema_url() -> Iterator[str]:
    """A URL whose connections live in a new, empty schema, dropped on exit."""
    base = require_postgis()
    schema = f"test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield with_search_path(base, schema)
    finally:
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


# ------------------------------------------------------------------ the local cluster

CLUSTER = os.environ.get("CATCHMENT_TEST_PG_CLUSTER", "15 main").split()


def cluster_control_problem() -> str | None:
    """None when this process may stop and start the local cluster (pg_ctlcluster as root)."""
    if shutil.which("pg_ctlcluster") is None:
        return "pg_ctlcluster is not installed: cannot stop and start the local PostgreSQL"
    if os.geteuid() != 0:
        return "stopping the local PostgreSQL cluster needs root"
    host = urlsplit(pg_base_url()).hostname or ""
    if host not in {"127.0.0.1", "localhost", "::1", ""}:
        return f"the test database is on {host}, not the local cluster"
    return None


def cluster(action: str) -> None:
    """``pg_ctlcluster --skip-systemctl-redirect 15 main stop|start`` (version/name from CATCHMENT_TEST_PG_CLUSTER)."""
    extra = ["-m", "fast"] if action == "stop" else []
    subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", *CLUSTER, action, *extra], check=True,
                   capture_output=True, timeout=60)
