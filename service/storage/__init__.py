"""Storage: the repository contract (``base.py``), one module per backend, chosen here by URL.

``open_repository("sqlite:///var/catchment.db")`` or ``open_repository("postgresql://...")``.
Nothing outside ``service/storage`` knows which backend runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from service.storage.base import Repository


def open_repository(url: str, **options: Any) -> Repository:
    """Open the backend named by ``url``'s scheme and bring its schema up to date."""
    if url.startswith("sqlite:"):
        from service.storage.sqlite import SqliteRepository

        repo: Repository = SqliteRepository(url, **options)
    elif url.startswith(("postgresql:", "postgres:", "postgis:")):
        from service.storage.postgis import PostgisRepository

        repo = PostgisRepository(url, **options)
    else:
        msg = f"unsupported database URL {url!r}: use sqlite:///path or postgresql://..."
        raise ValueError(msg)
    repo.upgrade()
    return repo


def network_dir(database_url: str) -> Path:
    """Where older versions kept street network files: next to the SQLite file, or under
    ./var/networks for a server database. Networks are stored in the database now; files found
    here are imported once at start (:func:`service.networks.import_network_files`)."""
    if database_url.startswith("sqlite:"):
        from service.storage.sqlite import sqlite_path

        return sqlite_path(database_url).parent / "networks"
    return Path("var") / "networks"
