"""Jobs, API keys and health on the wire.

Coordinates on the wire are EPSG:4326, (lon, lat).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from geo.models import (
    ApiKey,
)


class JobOut(BaseModel):
    """A job: its status, progress (fraction done and what the job reports), and result or error."""

    id: int
    kind: str
    status: Literal["queued", "running", "done", "failed", "cancelled"]
    owner: str
    params: dict[str, Any]
    progress: dict[str, Any]
    result: Any = None
    error: dict[str, Any] | None = Field(default=None, description="when failed: detail, where, and the HTTP status it maps to")
    cancel_requested: bool
    created_at: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    href: str

    @classmethod
    def from_domain(cls, j: Any, *, status_of: Any) -> JobOut:
        error = dict(j.error) if isinstance(j.error, dict) else None
        if error is not None and "type" in error:
            error["status"] = status_of(str(error["type"]))
        return cls(id=j.id, kind=j.kind, status=j.status.value, owner=j.owner, params=j.params, progress=j.progress,
                   result=j.result, error=error, cancel_requested=j.cancel_requested, created_at=j.created_at,
                   started_at=j.started_at, finished_at=j.finished_at, href=f"/v1/jobs/{j.id}")


class KeyOut(BaseModel):
    id: int
    name: str
    role: str
    created_at: datetime | None
    revoked_at: datetime | None

    @classmethod
    def from_domain(cls, k: ApiKey) -> KeyOut:
        return cls(id=k.id, name=k.name, role=k.role.value, created_at=k.created_at, revoked_at=k.revoked_at)


class Health(BaseModel):
    status: Literal["ok", "degraded", "unavailable"]
    detail: dict[str, Any] = Field(default_factory=dict)
