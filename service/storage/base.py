"""The storage contract: one small protocol, two backends chosen by URL.

``open_repository("sqlite:///var/catchment.db")`` or ``open_repository("postgresql://...")``.
Nothing outside ``service/storage`` knows which backend runs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from geo.models import ApiKey, Plan, PlanStatus, Role, School, Zone


@dataclass(frozen=True, slots=True)
class AuditEvent:
    id: int
    at: datetime
    actor: str
    action: str
    target: str
    before: Any
    after: Any


class Repository(Protocol):
    """Schools, plans, zones, keys and the audit log. Every write is one transaction and
    appends an audit event in that same transaction."""

    url_scheme: str

    def close(self) -> None: ...
    def upgrade(self) -> list[str]: ...
    def ping(self) -> None: ...
    def zone_version(self) -> int: ...

    # schools
    def list_schools(self, *, bbox: tuple[float, float, float, float] | None = None, level: str | None = None,
                     limit: int | None = None, offset: int = 0) -> list[School]: ...
    def count_schools(self, *, bbox: tuple[float, float, float, float] | None = None, level: str | None = None) -> int: ...
    def get_school(self, code: str) -> School: ...
    def create_school(self, school: School, *, actor: str) -> School: ...
    def update_school(self, school: School, *, actor: str) -> School: ...
    def delete_school(self, code: str, *, actor: str) -> None: ...
    def import_schools(self, schools: Sequence[School], *, actor: str) -> int: ...

    # plans and zones
    def create_plan(self, *, name: str, district: str, level: str, school_year: int, actor: str,
                    parent_id: int | None = None, description: str | None = None) -> Plan: ...
    def get_plan(self, plan_id: int) -> Plan: ...
    def list_plans(self, *, district: str | None = None, level: str | None = None, school_year: int | None = None,
                   status: PlanStatus | None = None) -> list[Plan]: ...
    def zones(self, plan_id: int) -> list[Zone]: ...
    def replace_zones(self, plan_id: int, zones: Sequence[Zone], *, actor: str,
                      expected_version: int | None = None) -> Plan: ...
    def set_plan_status(self, plan_id: int, status: PlanStatus, *, actor: str,
                        effective_year: int | None = None) -> Plan: ...
    def adopt_plan(self, plan_id: int, *, actor: str, effective_year: int | None = None) -> Plan: ...
    def import_plan(self, *, name: str, district: str, level: str, school_year: int, zones: Sequence[Zone],
                    adopt: bool, actor: str) -> Plan: ...
    def adopted_zones(self) -> list[tuple[Plan, Zone]]: ...
    def zones_covering(self, lon: float, lat: float, *, adopted_only: bool = True) -> list[int]: ...

    # keys
    def create_key(self, *, name: str, role: Role, actor: str) -> tuple[ApiKey, str]: ...
    def key_for_secret(self, secret: str) -> ApiKey | None: ...
    def list_keys(self) -> list[ApiKey]: ...
    def revoke_key(self, key_id: int, *, actor: str) -> ApiKey: ...

    # audit
    def audit_events(self, *, target: str | None = None, limit: int = 100, offset: int = 0) -> list[AuditEvent]: ...


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
