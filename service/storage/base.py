"""The storage contract: one small protocol, two backends chosen by URL.

The protocol only: the backends implement it and ``service/storage/__init__.py`` chooses one by
URL. This module imports no backend.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Any, Protocol

from geo.address.geocode import AddressRecord
from geo.address.rules import AddressRule
from geo.admission.model import Category, SchoolPlaces
from geo.models import ApiKey, Plan, PlanStatus, Role, School, Zone
from geo.planning.demand import DemandUnit


@dataclass(frozen=True, slots=True)
class AuditEvent:
    id: int
    at: datetime
    actor: str
    action: str
    target: str
    before: Any
    after: Any


class JobStatus(str, Enum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


@dataclass(frozen=True, slots=True)
class Job:
    """A unit of long work and where it stands; ``progress`` and ``result`` are JSON-ready dicts."""

    id: int
    kind: str
    status: JobStatus
    owner: str
    params: dict[str, Any] = field(default_factory=dict)
    progress: dict[str, Any] = field(default_factory=dict)
    result: Any = None
    error: Any = None
    cancel_requested: bool = False
    created_at: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    heartbeat_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Asset:
    """What is stored of an asset, without its bytes."""

    kind: str
    name: str
    codec: str
    sha256: str
    size: int
    stored_at: datetime | None = None


class JobStoreProtocol(Protocol):
    def create(self, *, kind: str, owner: str, params: dict[str, Any]) -> Job: ...
    def get(self, job_id: int) -> Job: ...
    def list(self, *, owner: str | None = None, limit: int = 50) -> list[Job]: ...
    def start(self, job_id: int) -> Job: ...
    def progress(self, job_id: int, progress: dict[str, Any]) -> bool: ...
    def beat(self, job_ids: Sequence[int]) -> set[int]: ...
    def finish(self, job_id: int, status: JobStatus, *, result: Any = None, error: Any = None) -> Job: ...
    def cancel(self, job_id: int, *, actor: str) -> Job: ...
    def sweep(self, *, stale_after_s: float) -> int: ...


@dataclass(frozen=True, slots=True)
class Adoption:
    """An adopted plan and the ids of the adopted plans its adoption archived."""

    plan: Plan
    archived: tuple[int, ...]


class RuleStoreProtocol(Protocol):
    def replace(self, plan_id: int, rules: Sequence[AddressRule], *, actor: str) -> int: ...
    def list(self, plan_ids: Sequence[int]) -> list[AddressRule]: ...
    def stamp(self) -> tuple[int, int]: ...


@dataclass(frozen=True, slots=True)
class ApplicantRow:
    """``count`` applicants of one unit or compound (小区) and category with the same preferences.

    ``zone`` names a school of the shared zone for rows without preferences ("any"), and
    ``applicant_id`` an application number where the row is one applicant (ids only, no names).
    """

    row: int
    unit: str
    category: str
    count: int
    preferences: tuple[str, ...] = ()
    accept_any: bool = False
    zone: str | None = None
    applicant_id: str | None = None


@dataclass(frozen=True, slots=True)
class AdmissionData:
    """A plan's admission data: priority categories in order, places per school, applicant rows."""

    plan_id: int
    categories: tuple[Category, ...] = ()
    places: tuple[SchoolPlaces, ...] = ()
    applicants: tuple[ApplicantRow, ...] = ()


@dataclass(frozen=True, slots=True)
class LotteryDraw:
    """A draw in a shared zone: ``published`` (the notice out, seed or its hash) then ``drawn``."""

    id: int
    plan_id: int
    zone: tuple[str, ...]
    status: str
    algorithm: str
    seed: str | None
    seed_sha256: str
    applicants_sha256: str
    places_sha256: str
    notice: dict[str, Any]
    published_by: str
    published_at: datetime | None
    results: list[dict[str, Any]] | None = None
    results_sha256: str | None = None
    drawn_by: str | None = None
    drawn_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class EnrolmentRecord:
    """Who attends where: one pupil (count 1) or an aggregated row; a home unit or point; ids only."""

    row: int
    pupil_id: str
    level: str
    school: str
    unit: str | None = None
    lon: float | None = None
    lat: float | None = None
    category: str | None = None
    count: int = 1


class AdmissionStoreProtocol(Protocol):
    def replace(self, data: AdmissionData, *, actor: str) -> AdmissionData: ...
    def get(self, plan_id: int) -> AdmissionData: ...
    def plans(self, plan_ids: Sequence[int]) -> dict[int, AdmissionData]: ...
    def publish(self, *, plan_id: int, zone: Sequence[str], algorithm: str, seed: str | None, seed_sha256: str,
                applicants_sha256: str, places_sha256: str, notice: dict[str, Any], actor: str) -> LotteryDraw: ...
    def record(self, draw_id: int, *, seed: str, results: list[dict[str, Any]], results_sha256: str,
               actor: str) -> LotteryDraw: ...
    def draw(self, draw_id: int) -> LotteryDraw: ...
    def draws(self, plan_id: int) -> list[LotteryDraw]: ...
    def replace_enrolments(self, levels: Sequence[str], rows: Sequence[EnrolmentRecord], *, actor: str) -> int: ...
    def enrolments(self, level: str) -> list[EnrolmentRecord]: ...


class AssetStoreProtocol(Protocol):
    """Binary assets (street networks as compressed arrays) every host loads from the database."""

    def put(self, kind: str, name: str, data: bytes, *, codec: str, actor: str) -> Asset: ...
    def get(self, kind: str, name: str) -> bytes: ...
    def list(self, kind: str | None = None) -> list[Asset]: ...
    def delete(self, kind: str, name: str, *, actor: str) -> bool: ...
    def stamp(self) -> tuple[tuple[str, str, str], ...]: ...
    def put_network(self, name: str, data: bytes, *, mode: str, source: str | None, stats: dict[str, Any],
                    actor: str) -> Asset: ...
class DistrictStatus(str, Enum):
    PROPOSED = "proposed"    # a formation job's proposal, not in force
    EFFECTIVE = "effective"  # in force from its school year


@dataclass(frozen=True, slots=True)
class StoredDistrict:
    """A 学区 as stored: ``schools`` lists the members, the lead first; ``report`` is the formation
    report of a proposal (JSON-ready) or None for one made by hand."""

    id: int | None
    name: str
    levels: tuple[str, ...]
    school_year: int
    lead: str
    schools: tuple[str, ...]
    status: DistrictStatus = DistrictStatus.EFFECTIVE
    job_id: int | None = None
    report: Any = None
    version: int = 1
    created_at: datetime | None = None
    updated_at: datetime | None = None


class DistrictStoreProtocol(Protocol):
    def create(self, district: StoredDistrict, *, actor: str) -> StoredDistrict: ...
    def create_many(self, districts: Sequence[StoredDistrict], *, actor: str) -> list[StoredDistrict]: ...
    def get(self, district_id: int) -> StoredDistrict: ...
    def list(self, *, level: str | None = None, school_year: int | None = None, status: DistrictStatus | None = None,
             job_id: int | None = None) -> list[StoredDistrict]: ...
    def update(self, district: StoredDistrict, *, actor: str, expected_version: int | None = None) -> StoredDistrict: ...
    def delete(self, district_id: int, *, actor: str, expected_version: int | None = None) -> None: ...
    def adopt(self, job_id: int, *, actor: str, replace_existing: bool = False) -> list[StoredDistrict]: ...
    def stamp(self) -> tuple[int, int]: ...


class Repository(Protocol):
    """Schools, plans, zones, keys and the audit log. Every write is one transaction and
    appends an audit event in that same transaction."""

    url_scheme: str
    #: Long work and its progress (see service/storage/jobs.py).
    jobs: JobStoreProtocol
    #: Zones published as address rules (see service/storage/rules.py).
    rules: RuleStoreProtocol
    #: Admission data, lottery draws and enrolments (see service/storage/admission.py).
    admission: AdmissionStoreProtocol
    #: Street networks' bytes, shared by every host (see service/storage/assets.py).
    assets: AssetStoreProtocol
    #: 学区 (school districts) as data (see service/storage/districts.py).
    districts: DistrictStoreProtocol

    def close(self) -> None: ...
    def upgrade(self) -> list[str]: ...
    def ping(self) -> None: ...
    def zone_version(self, *, timeout_s: float | None = None) -> int: ...

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
    def replace_zones(self, plan_id: int, zones: Sequence[Zone], *, actor: str, expected_version: int | None = None,
                      action: str = "zones.replace", new_schools: Sequence[School] = ()) -> Plan: ...
    def copy_plan(self, plan_id: int, *, name: str, actor: str, school_year: int | None = None) -> Plan: ...
    def plan_versions(self, plan_id: int) -> list[dict[str, Any]]: ...
    def plan_version_zones(self, plan_id: int, version: int) -> list[Zone]: ...
    def set_plan_status(self, plan_id: int, status: PlanStatus, *, actor: str,
                        effective_year: int | None = None) -> Plan: ...
    def adopt_plan(self, plan_id: int, *, actor: str, effective_year: int | None = None,
                   expected_version: int | None = None) -> Plan: ...
    def adopt(self, plan_id: int, *, actor: str, effective_year: int | None = None,
              expected_version: int | None = None) -> Adoption: ...
    def import_plan(self, *, name: str, district: str, level: str, school_year: int, zones: Sequence[Zone],
                    adopt: bool, actor: str) -> Plan: ...
    def adopted_zones(self) -> list[tuple[Plan, Zone]]: ...
    def zones_covering(self, lon: float, lat: float, *, adopted_only: bool = True) -> list[int]: ...

    # planning data: address points, demand units, street networks
    def import_addresses(self, dataset: str, records: Sequence[AddressRecord], *, actor: str, replace: bool = True) -> int: ...
    def addresses(self, dataset: str | None = None) -> list[AddressRecord]: ...
    def count_addresses(self) -> int: ...
    def address_stamp(self) -> tuple[int, int]: ...
    def append_zones(self, plan_id: int, zones: Sequence[Zone], *, actor: str, action: str = "zones.append") -> Plan: ...
    def import_demand(self, name: str, units: Sequence[DemandUnit], *, kind: str, report: dict[str, Any], actor: str) -> int: ...
    def demand_sets(self) -> list[dict[str, Any]]: ...
    def demand_units(self, name: str) -> list[DemandUnit]: ...
    def register_network(self, name: str, *, mode: str, path: str, source: str | None, stats: dict[str, Any], actor: str) -> None: ...
    def networks(self) -> list[dict[str, Any]]: ...

    # keys
    def create_key(self, *, name: str, role: Role, actor: str) -> tuple[ApiKey, str]: ...
    def key_for_secret(self, secret: str) -> ApiKey | None: ...
    def list_keys(self) -> list[ApiKey]: ...
    def revoke_key(self, key_id: int, *, actor: str) -> ApiKey: ...

    # audit
    def audit_events(self, *, target: str | None = None, limit: int = 100, offset: int = 0) -> list[AuditEvent]: ...
