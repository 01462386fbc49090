"""SQL shared by both backends, written once with ``?`` placeholders.

Both SQLite and PostGIS speak this SQL; each backend supplies its connection handling, how a
geometry goes in and out, and its spatial filters. Keeping one copy means the two backends
cannot drift apart in what they store or check (a deliberate change from "SQL per backend
module" in DESIGN.md: the dialect parts still live in the backend that runs them).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property
from importlib import resources
from typing import Any

from geo.address.geocode import AddressRecord
from geo.errors import Conflict, NotFound, StaleVersion
from geo.models import ApiKey, Plan, PlanStatus, Role, School, Zone
from geo.planning.demand import DemandUnit
from service.storage.addresses import AddressStore
from service.storage.admission import AdmissionStore
from service.storage.assets import AssetStore
from service.storage.base import Adoption, AuditEvent
from service.storage.demand import DemandStore
from service.storage.districts import DistrictStore
from service.storage.executor import SqlBackend
from service.storage.history import PlanHistoryStore
from service.storage.jobs import JobStore
from service.storage.keys import KeyStore
from service.storage.networks import NetworkStore
from service.storage.rows import as_datetime, now
from service.storage.rules import RuleStore
from service.storage.schools import SchoolStore, school_audit
from service.storage.zones import ZoneStore

PLAN_COLS = "id, name, district, level, school_year, status, version, parent_id, created_by, created_at, effective_year, description"


def plan_audit(p: Plan) -> dict[str, Any]:
    return {"id": p.id, "name": p.name, "district": p.district, "level": p.level, "school_year": p.school_year,
            "status": p.status.value, "version": p.version, "effective_year": p.effective_year}


class SqlRepository(SqlBackend):
    """The repository both backends share, composed of stores over this backend (:class:`SqlBackend`).

    Subclasses define the backend's hooks and may override the rest."""

    url_scheme = "sql"
    migrations_package = ""  # e.g. "service.storage.migrations.sqlite"

    @cached_property
    def jobs(self) -> JobStore:
        """The jobs table, composed over this backend's executor."""
        return JobStore(self, audit=self._audit)

    @cached_property
    def assets(self) -> AssetStore:
        """Street networks' bytes in the database, shared by every host."""
        return AssetStore(self, audit=self._audit)

    @cached_property
    def rules(self) -> RuleStore:
        """The address rules of plans (招生范围 as lists), composed over this backend's executor."""
        return RuleStore(self, audit=self._audit)

    @cached_property
    def admission(self) -> AdmissionStore:
        """Admission data, lottery draws and enrolments, composed over this backend's executor."""
        return AdmissionStore(self, audit=self._audit)

    @cached_property
    def districts(self) -> DistrictStore:
        """学区 (school districts) as data, composed over this backend's executor."""
        return DistrictStore(self, audit=self._audit)

    @cached_property
    def school_store(self) -> SchoolStore:
        return SchoolStore(self, audit=self._audit)

    @cached_property
    def key_store(self) -> KeyStore:
        return KeyStore(self, audit=self._audit)

    @cached_property
    def zone_store(self) -> ZoneStore:
        return ZoneStore(self, audit=self._audit)

    @cached_property
    def history_store(self) -> PlanHistoryStore:
        return PlanHistoryStore(self, audit=self._audit)

    @cached_property
    def address_store(self) -> AddressStore:
        return AddressStore(self, audit=self._audit)

    @cached_property
    def demand_store(self) -> DemandStore:
        return DemandStore(self, audit=self._audit)

    @cached_property
    def network_store(self) -> NetworkStore:
        return NetworkStore(self, audit=self._audit)

    def migrations(self) -> list[tuple[str, str]]:
        folder = resources.files(self.migrations_package)
        files = sorted(f for f in folder.iterdir() if f.name.endswith(".sql"))
        return [(f.name.removesuffix(".sql"), f.read_text(encoding="utf-8")) for f in files]

    # ---- rows -> domain ----------------------------------------------------------------

    @staticmethod
    def _plan(r: Sequence[Any]) -> Plan:
        return Plan(id=int(r[0]), name=r[1], district=r[2], level=r[3], school_year=int(r[4]), status=PlanStatus(r[5]),
                    version=int(r[6]), parent_id=r[7], created_by=r[8], created_at=as_datetime(r[9]), effective_year=r[10],
                    description=r[11])



    # ---- version -----------------------------------------------------------------------
    def zone_version(self, *, timeout_s: float | None = None) -> int:
        with self.read_cursor_within(timeout_s) as cur:
            return int(self.execute(cur, "SELECT value FROM meta WHERE key = 'zone_version'").fetchone()[0])

    def ping(self) -> None:
        with self.read_cursor() as cur:
            self.execute(cur, "SELECT 1").fetchone()

    # ---- schools -----------------------------------------------------------------------










    # ---- plans -------------------------------------------------------------------------
    def _get_plan(self, cur: Any, plan_id: int) -> Plan:
        r = self.execute(cur, f"SELECT {PLAN_COLS} FROM plans WHERE id = ?", (plan_id,)).fetchone()
        if r is None:
            msg = f"no plan with id {plan_id}"
            raise NotFound(msg, where="plan_id")
        return self._plan(r)

    def get_plan(self, plan_id: int) -> Plan:
        with self.read_cursor() as cur:
            return self._get_plan(cur, plan_id)

    def list_plans(self, *, district: str | None = None, level: str | None = None, school_year: int | None = None,
                   status: PlanStatus | None = None) -> list[Plan]:
        clauses, params = [], []
        for col, val in (("district", district), ("level", level), ("school_year", school_year),
                         ("status", status.value if status else None)):
            if val is not None:
                clauses.append(f"{col} = ?")
                params.append(val)
        where = (" WHERE " + " AND ".join(clauses)) if clauses else ""
        with self.read_cursor() as cur:
            return [self._plan(r) for r in self.execute(cur, f"SELECT {PLAN_COLS} FROM plans{where} ORDER BY id", params).fetchall()]

    def _insert_plan(self, cur: Any, *, name: str, district: str, level: str, school_year: int, actor: str,
                     parent_id: int | None, description: str | None) -> int:
        r = self.execute(cur, "INSERT INTO plans (name, district, level, school_year, status, version, parent_id, created_by, "
                    "created_at, description) VALUES (?, ?, ?, ?, 'draft', 1, ?, ?, ?, ?) RETURNING id",
                    (name, district, level, school_year, parent_id, actor, self.timestamp(now()), description)).fetchone()
        return int(r[0])

    def create_plan(self, *, name: str, district: str, level: str, school_year: int, actor: str,
                    parent_id: int | None = None, description: str | None = None) -> Plan:
        with self.transaction() as cur:
            if parent_id is not None:
                self._get_plan(cur, parent_id)
            pid = self._insert_plan(cur, name=name, district=district, level=level, school_year=school_year,
                                    actor=actor, parent_id=parent_id, description=description)
            plan = self._get_plan(cur, pid)
            self._audit(cur, actor, "plan.create", f"plan:{pid}", None, plan_audit(plan))
        return plan

    # ---- zones -------------------------------------------------------------------------
    def zones(self, plan_id: int) -> list[Zone]:
        with self.read_cursor() as cur:
            self._get_plan(cur, plan_id)
            return self.zone_store.read(cur, "WHERE plan_id = ?", (plan_id,))




    def replace_zones(self, plan_id: int, zones: Sequence[Zone], *, actor: str, expected_version: int | None = None,
                      action: str = "zones.replace", new_schools: Sequence[School] = ()) -> Plan:
        """Replace a plan's zones (one versioned change); ``new_schools`` are created in the same transaction."""
        with self.transaction() as cur:
            plan = self._lock_plan(cur, plan_id)
            if expected_version is not None and plan.version != expected_version:
                msg = f"plan {plan_id} is at version {plan.version}, not {expected_version}; reload and retry"
                raise StaleVersion(msg, where="If-Match")
            if plan.status is PlanStatus.ARCHIVED:
                msg = f"plan {plan_id} is archived; copy it to a new draft to change it"
                raise Conflict(msg, where="plan_id")
            before = self.execute(cur, "SELECT count(*) FROM zones WHERE plan_id = ?", (plan_id,)).fetchone()[0]
            for school in new_schools:
                if self.school_store.get_in(cur, school.code) is not None:
                    msg = f"a school with code {school.code!r} exists already"
                    raise Conflict(msg, where="school.code")
                self.school_store.insert(cur, school)
                self._audit(cur, actor, "school.create", f"school:{school.code}", None, school_audit(school))
            self.zone_store.write(cur, plan_id, zones)
            self.execute(cur, "UPDATE plans SET version = version + 1 WHERE id = ?", (plan_id,))
            self.history_store.record(cur, plan_id, plan.version + 1, action, actor, self.zone_store.read(cur, "WHERE plan_id = ?", (plan_id,)))
            self._audit(cur, actor, f"plan.{action}", f"plan:{plan_id}", {"zones": before, "version": plan.version},
                        {"zones": len(zones), "version": plan.version + 1})
            self.bump_zone_version(cur)
            return self._get_plan(cur, plan_id)

    def _lock_plan(self, cur: Any, plan_id: int) -> Plan:
        return self._get_plan(cur, plan_id)

    def set_plan_status(self, plan_id: int, status: PlanStatus, *, actor: str, effective_year: int | None = None) -> Plan:
        if status is PlanStatus.ADOPTED:
            return self.adopt_plan(plan_id, actor=actor, effective_year=effective_year)
        with self.transaction() as cur:
            before = self._lock_plan(cur, plan_id)
            self.execute(cur, "UPDATE plans SET status = ?, version = version + 1 WHERE id = ?", (status.value, plan_id))
            after = self._get_plan(cur, plan_id)
            self._audit(cur, actor, f"plan.{status.value}", f"plan:{plan_id}", plan_audit(before), plan_audit(after))
            if before.status is PlanStatus.ADOPTED:
                self.bump_zone_version(cur)
            return after

    def _adopt(self, cur: Any, plan: Plan, actor: str, effective_year: int | None) -> Adoption:
        # The rule (README "Planning"): a plan adopted for (district, level) from school year Y
        # replaces every adopted plan of that district and level for Y or a later year (a newer
        # decision supersedes an older one about the same years); plans adopted for earlier years
        # stay adopted, as the record of what was in force then (lookups with year= use them).
        year = effective_year if effective_year is not None else plan.school_year
        prior = self.execute(cur, "SELECT id FROM plans WHERE district = ? AND level = ? AND school_year >= ? AND status = 'adopted' "
                             "AND id <> ? ORDER BY id", (plan.district, plan.level, year, plan.id)).fetchall()
        archived = tuple(int(old) for (old,) in prior)
        for old in archived:
            self.execute(cur, "UPDATE plans SET status = 'archived', version = version + 1 WHERE id = ?", (old,))
            self._audit(cur, actor, "plan.archive", f"plan:{old}", {"status": "adopted"}, {"status": "archived", "replaced_by": plan.id})
        self.execute(cur, "UPDATE plans SET status = 'adopted', school_year = ?, effective_year = ?, version = version + 1 WHERE id = ?",
                (year, year, plan.id))
        after = self._get_plan(cur, plan.id)
        self._audit(cur, actor, "plan.adopt", f"plan:{plan.id}", plan_audit(plan), plan_audit(after) | {"archived": list(archived)})
        self.bump_zone_version(cur)
        return Adoption(after, archived)

    def adopt_plan(self, plan_id: int, *, actor: str, effective_year: int | None = None,
                   expected_version: int | None = None) -> Plan:
        return self.adopt(plan_id, actor=actor, effective_year=effective_year, expected_version=expected_version).plan

    def adopt(self, plan_id: int, *, actor: str, effective_year: int | None = None,
              expected_version: int | None = None) -> Adoption:
        """Adopt plan ``plan_id`` (from ``effective_year``) and say which plans that archived."""
        with self.transaction() as cur:
            plan = self._lock_plan(cur, plan_id)
            if expected_version is not None and plan.version != expected_version:
                msg = f"plan {plan_id} is at version {plan.version}, not {expected_version}; review it again before adopting"
                raise StaleVersion(msg, where="If-Match")
            if plan.status is PlanStatus.ADOPTED and effective_year in (None, plan.school_year):
                return Adoption(plan, ())
            return self._adopt(cur, plan, actor, effective_year)

    def import_plan(self, *, name: str, district: str, level: str, school_year: int, zones: Sequence[Zone],
                    adopt: bool, actor: str) -> Plan:
        """Create a plan with its zones (and adopt it), all in one transaction."""
        with self.transaction() as cur:
            pid = self._insert_plan(cur, name=name, district=district, level=level, school_year=school_year,
                                    actor=actor, parent_id=None, description=None)
            self.zone_store.write(cur, pid, zones)
            plan = self._get_plan(cur, pid)
            self.history_store.record(cur, pid, plan.version, "plan.import", actor, self.zone_store.read(cur, "WHERE plan_id = ?", (pid,)))
            self._audit(cur, actor, "plan.import", f"plan:{pid}", None, plan_audit(plan) | {"zones": len(zones)})
            if adopt:
                plan = self._adopt(cur, plan, actor, None).plan
            return plan

    def copy_plan(self, plan_id: int, *, name: str, actor: str, school_year: int | None = None) -> Plan:
        """A new draft holding a copy of plan ``plan_id``'s zones (its parent), in one transaction."""
        with self.transaction() as cur:
            src = self._get_plan(cur, plan_id)
            zones = self.zone_store.read(cur, "WHERE plan_id = ?", (plan_id,))
            pid = self._insert_plan(cur, name=name, district=src.district, level=src.level,
                                    school_year=school_year if school_year is not None else src.school_year, actor=actor,
                                    parent_id=src.id, description=f"copy of plan {src.id} '{src.name}'")
            self.zone_store.write(cur, pid, zones)
            plan = self._get_plan(cur, pid)
            self.history_store.record(cur, pid, plan.version, "plan.copy", actor, self.zone_store.read(cur, "WHERE plan_id = ?", (pid,)))
            self._audit(cur, actor, "plan.copy", f"plan:{pid}", {"from": plan_audit(src)}, plan_audit(plan) | {"zones": len(zones)})
            return plan

    def adopted_zones(self) -> list[tuple[Plan, Zone]]:
        with self.read_cursor() as cur:
            plans = {p.id: p for p in (self._plan(r) for r in self.execute(cur, f"SELECT {PLAN_COLS} FROM plans WHERE status = 'adopted'").fetchall())}
            zones = self.zone_store.read(cur, "WHERE plan_id IN (SELECT id FROM plans WHERE status = 'adopted')", ())
        return [(plans[z.plan_id], z) for z in zones if z.plan_id in plans]

    # ---- keys --------------------------------------------------------------------------





    # ---- audit -------------------------------------------------------------------------

    # ---- zones added to a plan --------------------------------------------------------
    def append_zones(self, plan_id: int, zones: Sequence[Zone], *, actor: str, action: str = "zones.append") -> Plan:
        """Add ``zones`` to plan ``plan_id`` and keep its others (e.g. zones phasing in from a later
        year): one transaction, one new plan version, and a zone-version bump so lookups follow."""
        with self.transaction() as cur:
            plan = self._lock_plan(cur, plan_id)
            if plan.status is PlanStatus.ARCHIVED:
                msg = f"plan {plan_id} is archived; copy it to a new draft to change it"
                raise Conflict(msg, where="plan_id")
            if not zones:
                return plan
            self.zone_store.check_codes(cur, zones)
            before = int(self.execute(cur, "SELECT count(*) FROM zones WHERE plan_id = ?", (plan_id,)).fetchone()[0])
            self.zone_store.insert(cur, plan_id, zones)
            self.execute(cur, "UPDATE plans SET version = version + 1 WHERE id = ?", (plan_id,))
            self.history_store.record(cur, plan_id, plan.version + 1, action, actor, self.zone_store.read(cur, "WHERE plan_id = ?", (plan_id,)))
            self._audit(cur, actor, f"plan.{action}", f"plan:{plan_id}", {"zones": before, "version": plan.version},
                        {"zones": before + len(zones), "added": len(zones), "version": plan.version + 1})
            self.bump_zone_version(cur)
            return self._get_plan(cur, plan_id)

    # ---- delegated to the stores --------------------------------------------------------
    def list_schools(self, *, bbox: tuple[float, float, float, float] | None = None, level: str | None = None,
                     limit: int | None = None, offset: int = 0) -> list[School]:
        return self.school_store.list_schools(bbox=bbox, level=level, limit=limit, offset=offset)

    def count_schools(self, *, bbox: tuple[float, float, float, float] | None = None, level: str | None = None) -> int:
        return self.school_store.count_schools(bbox=bbox, level=level)

    def get_school(self, code: str) -> School:
        return self.school_store.get_school(code)

    def create_school(self, school: School, *, actor: str) -> School:
        return self.school_store.create_school(school, actor=actor)

    def update_school(self, school: School, *, actor: str) -> School:
        return self.school_store.update_school(school, actor=actor)

    def delete_school(self, code: str, *, actor: str) -> None:
        return self.school_store.delete_school(code, actor=actor)

    def import_schools(self, schools: Sequence[School], *, actor: str) -> int:
        return self.school_store.import_schools(schools, actor=actor)

    def create_key(self, *, name: str, role: Role, actor: str) -> tuple[ApiKey, str]:
        return self.key_store.create_key(name=name, role=role, actor=actor)

    def key_for_secret(self, secret: str) -> ApiKey | None:
        return self.key_store.key_for_secret(secret)

    def list_keys(self) -> list[ApiKey]:
        return self.key_store.list_keys()

    def revoke_key(self, key_id: int, *, actor: str) -> ApiKey:
        return self.key_store.revoke_key(key_id, actor=actor)

    def audit_events(self, *, target: str | None = None, limit: int = 100, offset: int = 0) -> list[AuditEvent]:
        return self.key_store.audit_events(target=target, limit=limit, offset=offset)

    def plan_versions(self, plan_id: int) -> list[dict[str, Any]]:
        return self.history_store.plan_versions(plan_id)

    def plan_version_zones(self, plan_id: int, version: int) -> list[Zone]:
        return self.history_store.plan_version_zones(plan_id, version)

    def import_addresses(self, dataset: str, records: Sequence[AddressRecord], *, actor: str, replace: bool = True) -> int:
        return self.address_store.import_addresses(dataset, records, actor=actor, replace=replace)

    def addresses(self, dataset: str | None = None) -> list[AddressRecord]:
        return self.address_store.addresses(dataset)

    def count_addresses(self) -> int:
        return self.address_store.count_addresses()

    def address_stamp(self) -> tuple[int, int]:
        return self.address_store.address_stamp()

    def import_demand(self, name: str, units: Sequence[DemandUnit], *, kind: str, report: dict[str, Any], actor: str) -> int:
        return self.demand_store.import_demand(name, units, kind=kind, report=report, actor=actor)

    def demand_sets(self) -> list[dict[str, Any]]:
        return self.demand_store.demand_sets()

    def demand_units(self, name: str) -> list[DemandUnit]:
        return self.demand_store.demand_units(name)

    def register_network(self, name: str, *, mode: str, path: str, source: str | None, stats: dict[str, Any], actor: str) -> None:
        return self.network_store.register_network(name, mode=mode, path=path, source=source, stats=stats, actor=actor)

    def networks(self) -> list[dict[str, Any]]:
        return self.network_store.networks()
