"""Shared fixtures: the real bundled sample loaded into SQLite once, copied per test that writes."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from geo.models import Role
from service.main import create_app
from service.sample import load_sample
from service.settings import DatabaseSettings, LookupSettings, SampleSettings, Settings
from service.storage import open_repository
from service.storage.base import Repository

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data" / "boundaries"


@pytest.fixture(scope="session")
def sample_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file holding the whole bundled sample (built once per test session)."""
    path = tmp_path_factory.mktemp("sample") / "sample.db"
    repo = open_repository(f"sqlite:///{path}")
    load_sample(repo, DATA)
    repo.close()
    return path


@pytest.fixture
def db_url(sample_db: Path, tmp_path: Path) -> str:
    """A private copy of the sample database for a test that writes."""
    target = tmp_path / "catchment.db"
    src = sqlite3.connect(sample_db)
    dst = sqlite3.connect(target)
    src.backup(dst)
    src.close()
    dst.close()
    return f"sqlite:///{target}"


def settings_for(url: str, *, warm_maps: bool = False, **lookup: object) -> Settings:
    """Explicit settings for a test app; map warm-up off unless asked (it is a start-up cost)."""
    settings = Settings(database=DatabaseSettings(url=url), sample=SampleSettings(load=False),
                        lookup=LookupSettings(version_check_s=0.0, **lookup))
    settings.maps.warm = warm_maps
    return settings


@pytest.fixture
def repo(db_url: str) -> Iterator[Repository]:
    r = open_repository(db_url)
    yield r
    r.close()


@pytest.fixture
def client(db_url: str) -> Iterator[TestClient]:
    with TestClient(create_app(settings_for(db_url)), raise_server_exceptions=True) as c:
        yield c


@pytest.fixture(scope="session")
def shared_client(sample_db: Path) -> Iterator[TestClient]:
    """Read-only client over the session's sample database (do not write through it)."""
    with TestClient(create_app(settings_for(f"sqlite:///{sample_db}", warm_maps=True))) as c:
        yield c


@pytest.fixture
def keys(repo: Repository) -> dict[str, str]:
    _, admin = repo.create_key(name="test admin", role=Role.ADMIN, actor="test")
    _, planner = repo.create_key(name="test planner", role=Role.PLANNER, actor="test")
    return {"admin": admin, "planner": planner}


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}
