"""Row helpers both SQL backends and every store share: time, secrets, JSON columns."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any


def now() -> datetime:
    """The current time, timezone-aware (UTC): every stored timestamp comes from here."""
    return datetime.now(UTC)


def hash_secret(secret: str) -> str:
    """API keys are stored as their SHA-256, never in clear."""
    return hashlib.sha256(secret.encode()).hexdigest()


def json_text(v: Any) -> str:
    """A value for a JSON column: keys sorted (stable audit diffs), non-ASCII kept readable."""
    return json.dumps(v, ensure_ascii=False, sort_keys=True)


def from_json(v: Any) -> Any:
    """A JSON column's value: SQLite returns text, psycopg already-decoded jsonb."""
    return json.loads(v) if isinstance(v, (str, bytes)) else v


def as_datetime(v: Any) -> datetime | None:
    """A timestamp column's value: SQLite returns ISO text, psycopg a datetime."""
    if v is None or isinstance(v, datetime):
        return v
    return datetime.fromisoformat(str(v))
