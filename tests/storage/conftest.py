"""Fixtures that give every storage test a fresh, empty store on each backend.

``repo_url`` / ``repo`` are parametrised over ``sqlite`` (a file in tmp_path) and ``postgis``
(a schema of its own in the test database, dropped afterwards). The PostGIS database comes
from ``CATCHMENT_TEST_PG_URL`` (default postgresql://postgres@127.0.0.1:5432/catchment_test,
prepared by .ci/setup-postgis.sh). When it cannot be reached the PostGIS cases skip with the
reason, except under ``CI=true``, where they fail: CI must never pass by skipping them.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from service.storage import open_repository
from service.storage.base import Repository
from tests.storage.pg import new_schema_url

BACKENDS = ["sqlite", pytest.param("postgis", marks=pytest.mark.postgis)]


def _store_url(backend: str, tmp: Path) -> Iterator[str]:
    if backend == "sqlite":
        yield f"sqlite:///{tmp / 'catchment.db'}"
    else:
        with new_schema_url() as url:
            yield url


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
