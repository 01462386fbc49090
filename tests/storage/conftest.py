"""Fixtures that give every storage test a fresh, empty store on each backend.

``repo_url`` / ``repo`` are parametrised over ``sqlite`` (a file in tmp_path) and ``postgis``
(a schema of its own in the test database, dropped afterwards). The PostGIS database comes
from ``CATCHMENT_TEST_PG_URL`` (default postgresql://postgres@127.0.0.1:5432/catchment_test,
prepared by .ci/setup-postgis.sh). When it cannot be reached the PostGIS cases skip with the
reason, except under ``CI=true``, where they fail: CI must never pass by skipping them.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

import psycopg
import pytest

from service.storage.base import Repository, open_repository

DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/catchment_test"
BACKENDS = ["sqlite", pytest.param("postgis", marks=pytest.mark.postgis)]


def pg_base_url() -> str:
    return os.environ.get("CATCHMENT_TEST_PG_URL", DEFAULT_PG_URL)


@cache
def _pg_problem() -> str | None:
    """None when the test database answers and has PostGIS, else why not."""
    url = pg_base_url()
    try:
        with psycopg.connect(url, connect_timeout=3, autocommit=True) as conn:
            conn.execute("SELECT postgis_lib_version()").fetchone()
    except psycopg.errors.UndefinedFunction:
        return f"the database at {url} has no PostGIS extension (run .ci/setup-postgis.sh)"
    except psycopg.Error as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return f"no PostgreSQL reachable at {url} ({first}); run .ci/setup-postgis.sh or set CATCHMENT_TEST_PG_URL"
    return None


def require_postgis() -> str:
    """Return the base URL, or skip (fail under CI=true) when PostGIS is not reachable."""
    problem = _pg_problem()
    if problem is not None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true and the PostGIS tests cannot run: {problem}", pytrace=False)
        pytest.skip(problem)
    return pg_base_url()


def with_search_path(url: str, schema: str) -> str:
    """``url`` with libpq ``options`` putting ``schema`` first (PostGIS stays visible in public)."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k != "options"]
    query.append(("options", f"-c search_path={schema},public"))
    return urlunsplit(parts._replace(query=urlencode(query, quote_via=quote)))


@pytest.fixture
def pg_schema_url() -> Iterator[str]:
    """A URL whose connections live in a new, empty schema; the schema is dropped afterwards."""
    yield from _schema_url()


def _schema_url() -> Iterator[str]:
    base = require_postgis()
    schema = f"test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield with_search_path(base, schema)
    finally:
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def _store_url(backend: str, tmp: Path) -> Iterator[str]:
    if backend == "sqlite":
        yield f"sqlite:///{tmp / 'catchment.db'}"
    else:
        yield from _schema_url()


@pytest.fixture(params=BACKENDS)
def repo_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """URL of a fresh, empty store (no schema yet) on each backend."""
    yield from _store_url(request.param, tmp_path)


@pytest.fixture
def repo(repo_url: str) -> Iterator[Repository]:
    """An open repository (migrations applied) on a fresh store, on each backend."""
    r = open_repository(repo_url)
    try:
        yield r
    finally:
        r.close()


@pytest.fixture(scope="module", params=BACKENDS)
def module_repo_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Like ``repo_url`` but shared by a module, for expensive data such as the Sydney sample."""
    yield from _store_url(request.param, tmp_path_factory.mktemp("store"))
