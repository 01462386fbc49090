"""A bounded schemathesis run over the whole OpenAPI: no 5xx, nothing that contradicts the schema.

Two passes, each on its own copy of a small real sample (SQLite, ``tests/support/small_sample.py``):
every operation without a key (writes must answer 401, reads their documented statuses), then
every operation that takes a key with an admin key (writes go through: creations, edits,
adoptions and deletions of generated data are exercised too).
The run is deterministic (fixed seed, derandomized Hypothesis, no example database) and
bounded by ``MAX_EXAMPLES`` per operation and phase; it runs in ``make test`` and in CI.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
    unsupported_method,
)

from geo.models import Role
from service.main import create_app
from service.storage import open_repository
from tests.conftest import bearer, settings_for
from tests.support.small_sample import load_small_sample

#: Fuzzing examples per operation; the coverage phase adds its own (boundary and invalid values of
#: each parameter, bounded by the schema), about 60 calls per operation in all.
MAX_EXAMPLES = 8
SEED = 20261202
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
          response_headers_conformance, unsupported_method]

# The schema does not depend on the database: an app that is never started gives it.
DOC = create_app(settings_for("sqlite:///unused.db")).openapi()
CONFIG = schemathesis.config.SchemathesisConfig.from_dict({"seed": SEED, "generation": {"deterministic": True}})
SCHEMA = schemathesis.openapi.from_dict(DOC, config=CONFIG)
# Operations that read the key: the admin pass covers these (the others answer the same with or without one).
KEYED = SCHEMA.include(operation_id=[op["operationId"] for ops in DOC["paths"].values() for op in ops.values() if "security" in op])
FUZZ = settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, database=None, print_blob=False,
                suppress_health_check=list(HealthCheck))


def _copy(sample_db: Path, target: Path) -> str:
    src, dst = sqlite3.connect(sample_db), sqlite3.connect(target)
    src.backup(dst)
    src.close()
    dst.close()
    return f"sqlite:///{target}"


class Served:
    """The app under test, started by a TestClient (its lifespan), reached by schemathesis in-process."""

    def __init__(self, url: str) -> None:
        self.app = create_app(settings_for(url))

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        # The fixture's TestClient runs the lifespan once; schemathesis would start its own per app.
        if scope["type"] == "lifespan":
            return
        await self.app(scope, receive, send)


@pytest.fixture(scope="module")
def small_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("fuzz-sample")
    repo = open_repository(f"sqlite:///{folder / 'sample.db'}")
    load_small_sample(repo, folder)
    repo.close()
    return folder / "sample.db"


@pytest.fixture(scope="module")
def anonymous(small_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    served = Served(_copy(small_db, tmp_path_factory.mktemp("fuzz-anon") / "catchment.db"))
    with TestClient(served.app):
        yield served


@pytest.fixture(scope="module")
def as_admin(small_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Served, int, str]]:
    url = _copy(small_db, tmp_path_factory.mktemp("fuzz-admin") / "catchment.db")
    repo = open_repository(url)
    key, secret = repo.create_key(name="fuzz admin", role=Role.ADMIN, actor="test")
    repo.close()
    served = Served(url)
    with TestClient(served.app):
        yield served, key.id, secret


@SCHEMA.parametrize()
@FUZZ
def test_fuzz_without_key(case: Any, anonymous: Served) -> None:
    case.call_and_validate(app=anonymous, checks=CHECKS)


@KEYED.parametrize()
@FUZZ
def test_fuzz_with_admin_key(case: Any, as_admin: tuple[Served, int, str]) -> None:
    served, key_id, secret = as_admin
    # Revoking the run's own key would turn the rest of the pass into 401s: aim at another id.
    if case.path_parameters and case.path_parameters.get("key_id") == key_id:
        case.path_parameters["key_id"] = key_id + 1
    case.call_and_validate(app=served, headers=bearer(secret), checks=CHECKS)
