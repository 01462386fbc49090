"""SQL shared by both backends, written once with ``?`` placeholders.

Both SQLite and PostGIS speak this SQL; each backend supplies its connection handling, how a
geometry goes in and out, and its spatial filters. Keeping one copy means the two backends
cannot drift apart in what they store or check (a deliberate change from "SQL per backend
module" in DESIGN.md: the dialect parts still live in the backend that runs them).
"""

from __future__ import annotations

import secrets
from abc import ABC, abstractmethod
from collections.abc import Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from functools import cached_property
from importlib import resources
from typing import Any

import shapely
from shapely.geometry import MultiPolygon

from geo.errors import Conflict, InvalidInput, NotFound, StaleVersion
from geo.models import ApiKey, Plan, PlanStatus, Role, School, SchoolStatus, Zone
from service.storage.base import Adoption, AuditEvent
from service.storage.districts import DistrictStore
from service.storage.jobs import JobStore
from service.storage.rows import as_datetime, from_json, hash_secret, json_text, now
from service.storage.rules import RuleStore
from service.storage.sqlstores import PlanningStores

SCHOOL_COLS = "code, name, name_local, levels, grades, address, capacity, enrolment, classes, status, feeds_into, attributes, lon, lat"
PLAN_COLS = "id, name, district, level, school_year, status, version, parent_id, created_by, created_at, effective_year, description"


def school_audit(s: School | None) -> dict[str, Any] | None:
    if s is None:
        return None
    return {"code": s.code, "name": s.name, "lon": s.lon, "lat": s.lat, "levels": list(s.levels),
            "capacity": s.capacity, "enrolment": s.enrolment, "classes": s.classes, "status": s.status.value,
            "feeds_into": list(s.feeds_into)}


def plan_audit(p: Plan) -> dict[str, Any]:
    return {"id": p.id, "name": p.name, "district": p.district, "level": p.level, "school_year": p.school_year,
            "status": p.status.value, "version": p.version, "effective_year": p.effective_year}


class SqlRepository(PlanningStores, ABC):
    """Everything both backends share. Subclasses define the abstract hooks and may override the rest."""

    url_scheme = "sql"
    migrations_package = ""  # e.g. "service.storage.migrations.sqlite"

    # ---- hooks -----------------------------------------------------------------------
    @abstractmethod
    def _tx(self) -> AbstractContextManager[Any]:
        """A write transaction yielding a cursor-like object; commits, or rolls back on error."""

    @abstractmethod
    def _read(self) -> AbstractContextManager[Any]:
        """A cursor for reads."""

    def _sql(self, sql: str) -> str:
        return sql

    def _geom_in_sql(self) -> str:
        return "?"

    def _geom_in(self, geom: MultiPolygon) -> Any:
        return shapely.to_wkb(geom)

    def _geom_out_sql(self) -> str:
        return "geom"

    def _geom_out(self, value: Any) -> MultiPolygon:
        return shapely.from_wkb(bytes(value))

    def _zone_extra_cols(self) -> tuple[str, ...]:
        return ()

    def _zone_extra_vals(self, geom: MultiPolygon) -> tuple[Any, ...]:
        return ()

    def _school_bbox_sql(self) -> str:
        return "lon BETWEEN ? AND ? AND lat BETWEEN ? AND ?"

    def _school_bbox_params(self, bbox: tuple[float, float, float, float]) -> tuple[Any, ...]:
        return (bbox[0], bbox[2], bbox[1], bbox[3])

    @abstractmethod
    def _level_sql(self) -> str:
        """A condition that the school's levels contain the parameter."""

    @cached_property
    def jobs(self) -> JobStore:
        """The jobs table, composed over this backend's executor."""
        return JobStore(self, audit=self._audit)

    @cached_property
    def rules(self) -> RuleStore:
        """The address rules of plans (招生范围 as lists), composed over this backend's executor."""
        return RuleStore(self, audit=self._audit)

    @cached_property
    def districts(self) -> DistrictStore:
        """学区 (school districts) as data, composed over this backend's executor."""
        return DistrictStore(self, audit=self._audit)

    # ---- helpers -----------------------------------------------------------------------
    def _x(self, cur: Any, sql: str, params: Sequence[Any] = ()) -> Any:
        cur.execute(self._sql(sql), tuple(params))
        return cur

    def _audit(self, cur: Any, actor: str, action: str, target: str, before: Any, after: Any) -> None:
        self._x(cur, "INSERT INTO audit (at, actor, action, target, before, after) VALUES (?, ?, ?, ?, ?, ?)",
                (self._ts(now()), actor, action, target, None if before is None else json_text(before),
                 None if after is None else json_text(after)))

    def _ts(self, d: datetime) -> Any:
        return d.isoformat()

    def _bump_zone_version(self, cur: Any) -> None:
        self._x(cur, "UPDATE meta SET value = value + 1 WHERE key = 'zone_version'")

    def migrations(self) -> list[tuple[str, str]]:
        folder = resources.files(self.migrations_package)
        files = sorted(f for f in folder.iterdir() if f.name.endswith(".sql"))
        return [(f.name.removesuffix(".sql"), f.read_text(encoding="utf-8")) for f in files]

    # ---- rows -> domain ----------------------------------------------------------------
    @staticmethod
    def _school(r: Sequence[Any]) -> School:
        return School(code=r[0], name=r[1], name_local=r[2], levels=tuple(from_json(r[3])), grades=tuple(from_json(r[4])),
                      address=r[5], capacity=r[6], enrolment=r[7], classes=r[8], status=SchoolStatus(r[9]),
                      feeds_into=tuple(from_json(r[10])), attributes=from_json(r[11]), lon=float(r[12]), lat=float(r[13]))

    @staticmethod
    def _plan(r: Sequence[Any]) -> Plan:
        return Plan(id=int(r[0]), name=r[1], district=r[2], level=r[3], school_year=int(r[4]), status=PlanStatus(r[5]),
                    version=int(r[6]), parent_id=r[7], created_by=r[8], created_at=as_datetime(r[9]), effective_year=r[10],
                    description=r[11])

    def _zone(self, r: Sequence[Any]) -> Zone:
        grades = from_json(r[4])
        return Zone(id=int(r[0]), plan_id=int(r[1]), name=r[2], school_codes=tuple(from_json(r[3])),
                    grades=None if grades is None else tuple(grades),
                    grade_start_years={k: int(v) for k, v in (from_json(r[5]) or {}).items()},
                    source=r[6], attributes=from_json(r[7]) or {}, geometry=self._geom_out(r[8]))

    def _school_vals(self, s: School) -> tuple[Any, ...]:
        return (s.code, s.name, s.name_local, json_text(list(s.levels)), json_text(list(s.grades)), s.address, s.capacity,
                s.enrolment, s.classes, s.status.value, json_text(list(s.feeds_into)), json_text(dict(s.attributes)), s.lon, s.lat)

    # ---- version -----------------------------------------------------------------------
    def _read_within(self, timeout_s: float | None) -> AbstractContextManager[Any]:
        """A read cursor that waits at most ``timeout_s`` for a connection (a backend with a pool bounds it)."""
        return self._read()

    def zone_version(self, *, timeout_s: float | None = None) -> int:
        with self._read_within(timeout_s) as cur:
            return int(self._x(cur, "SELECT value FROM meta WHERE key = 'zone_version'").fetchone()[0])

    def ping(self) -> None:
        with self._read() as cur:
            self._x(cur, "SELECT 1").fetchone()

    # ---- schools -----------------------------------------------------------------------
    def _school_where(self, bbox: tuple[float, float, float, float] | None, level: str | None) -> tuple[str, list[Any]]:
        clauses, params = [], []
        if bbox is not None:
            clauses.append(self._school_bbox_sql())
            params.extend(self._school_bbox_params(bbox))
        if level is not None:
            clauses.append(self._level_sql())
            params.append(level)
        return (" WHERE " + " AND ".join(clauses)) if clauses else "", params

    def list_schools(self, *, bbox: tuple[float, float, float, float] | None = None, level: str | None = None,
                     limit: int | None = None, offset: int = 0) -> list[School]:
        where, params = self._school_where(bbox, level)
        sql = f"SELECT {SCHOOL_COLS} FROM schools{where} ORDER BY code"
        if limit is not None:
            sql += " LIMIT ? OFFSET ?"
            params += [limit, offset]
        with self._read() as cur:
            return [self._school(r) for r in self._x(cur, sql, params).fetchall()]

    def count_schools(self, *, bbox: tuple[float, float, float, float] | None = None, level: str | None = None) -> int:
        where, params = self._school_where(bbox, level)
        with self._read() as cur:
            return int(self._x(cur, f"SELECT count(*) FROM schools{where}", params).fetchone()[0])

    def _get_school(self, cur: Any, code: str) -> School | None:
        r = self._x(cur, f"SELECT {SCHOOL_COLS} FROM schools WHERE code = ?", (code,)).fetchone()
        return None if r is None else self._school(r)

    def get_school(self, code: str) -> School:
        with self._read() as cur:
            s = self._get_school(cur, code)
        if s is None:
            msg = f"no school with code {code!r}"
            raise NotFound(msg, where="code")
        return s

    def _insert_school(self, cur: Any, s: School) -> None:
        marks = ", ".join(["?"] * 14)
        self._x(cur, f"INSERT INTO schools ({SCHOOL_COLS}) VALUES ({marks})", self._school_vals(s))

    def create_school(self, school: School, *, actor: str) -> School:
        with self._tx() as cur:
            if self._get_school(cur, school.code) is not None:
                msg = f"a school with code {school.code!r} exists already"
                raise Conflict(msg, where="code")
            self._insert_school(cur, school)
            self._audit(cur, actor, "school.create", f"school:{school.code}", None, school_audit(school))
            self._bump_zone_version(cur)
        return school

    def update_school(self, school: School, *, actor: str) -> School:
        with self._tx() as cur:
            before = self._get_school(cur, school.code)
            if before is None:
                msg = f"no school with code {school.code!r}"
                raise NotFound(msg, where="code")
            sets = ", ".join(f"{c.strip()} = ?" for c in SCHOOL_COLS.split(",")[1:])
            self._x(cur, f"UPDATE schools SET {sets} WHERE code = ?", self._school_vals(school)[1:] + (school.code,))
            self._audit(cur, actor, "school.update", f"school:{school.code}", school_audit(before), school_audit(school))
            self._bump_zone_version(cur)
        return school

    def delete_school(self, code: str, *, actor: str) -> None:
        with self._tx() as cur:
            before = self._get_school(cur, code)
            if before is None:
                msg = f"no school with code {code!r}"
                raise NotFound(msg, where="code")
            used = self._x(cur, "SELECT count(*) FROM zone_schools WHERE school_code = ?", (code,)).fetchone()[0]
            if used:
                msg = f"school {code} is named by {used} zone(s); remove it from them first"
                raise Conflict(msg, where="code")
            self._x(cur, "DELETE FROM schools WHERE code = ?", (code,))
            self._audit(cur, actor, "school.delete", f"school:{code}", school_audit(before), None)
            self._bump_zone_version(cur)

    def import_schools(self, schools: Sequence[School], *, actor: str) -> int:
        """Insert or replace every school, all in one transaction."""
        sets = ", ".join(f"{c.strip()} = excluded.{c.strip()}" for c in SCHOOL_COLS.split(",")[1:])
        marks = ", ".join(["?"] * 14)
        sql = f"INSERT INTO schools ({SCHOOL_COLS}) VALUES ({marks}) ON CONFLICT (code) DO UPDATE SET {sets}"
        with self._tx() as cur:
            cur.executemany(self._sql(sql), [self._school_vals(s) for s in schools])
            self._audit(cur, actor, "school.import", "schools", None, {"count": len(schools)})
            self._bump_zone_version(cur)
        return len(schools)

    # ---- plans -------------------------------------------------------------------------
    def _get_plan(self, cur: Any, plan_id: int) -> Plan:
        r = self._x(cur, f"SELECT {PLAN_COLS} FROM plans WHERE id = ?", (plan_id,)).fetchone()
        if r is None:
            msg = f"no plan with id {plan_id}"
            raise NotFound(msg, where="plan_id")
        return self._plan(r)

    def get_plan(self, plan_id: int) -> Plan:
        with self._read() as cur:
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
        with self._read() as cur:
            return [self._plan(r) for r in self._x(cur, f"SELECT {PLAN_COLS} FROM plans{where} ORDER BY id", params).fetchall()]

    def _insert_plan(self, cur: Any, *, name: str, district: str, level: str, school_year: int, actor: str,
                     parent_id: int | None, description: str | None) -> int:
        r = self._x(cur, "INSERT INTO plans (name, district, level, school_year, status, version, parent_id, created_by, "
                    "created_at, description) VALUES (?, ?, ?, ?, 'draft', 1, ?, ?, ?, ?) RETURNING id",
                    (name, district, level, school_year, parent_id, actor, self._ts(now()), description)).fetchone()
        return int(r[0])

    def create_plan(self, *, name: str, district: str, level: str, school_year: int, actor: str,
                    parent_id: int | None = None, description: str | None = None) -> Plan:
        with self._tx() as cur:
            if parent_id is not None:
                self._get_plan(cur, parent_id)
            pid = self._insert_plan(cur, name=name, district=district, level=level, school_year=school_year,
                                    actor=actor, parent_id=parent_id, description=description)
            plan = self._get_plan(cur, pid)
            self._audit(cur, actor, "plan.create", f"plan:{pid}", None, plan_audit(plan))
        return plan

    # ---- zones -------------------------------------------------------------------------
    def zones(self, plan_id: int) -> list[Zone]:
        with self._read() as cur:
            self._get_plan(cur, plan_id)
            return self._zones(cur, "WHERE plan_id = ?", (plan_id,))

    def _zones(self, cur: Any, where: str, params: Sequence[Any]) -> list[Zone]:
        sql = (f"SELECT id, plan_id, name, school_codes, grades, grade_start_years, source, attributes, "
               f"{self._geom_out_sql()} FROM zones {where} ORDER BY id")
        return [self._zone(r) for r in self._x(cur, sql, params).fetchall()]

    def _check_codes(self, cur: Any, zones: Sequence[Zone]) -> None:
        wanted = sorted({c for z in zones for c in z.school_codes})
        known: set[str] = set()
        for i in range(0, len(wanted), 500):
            chunk = wanted[i : i + 500]
            marks = ", ".join(["?"] * len(chunk))
            known.update(r[0] for r in self._x(cur, f"SELECT code FROM schools WHERE code IN ({marks})", chunk).fetchall())
        for i, z in enumerate(zones):
            missing = [c for c in z.school_codes if c not in known]
            if missing:
                msg = f"zone {i} names unknown school code(s) {', '.join(missing)}; import the schools first"
                raise InvalidInput(msg, where=f"features[{i}].school_codes")

    def _write_zones(self, cur: Any, plan_id: int, zones: Sequence[Zone]) -> None:
        """Make ``zones`` the plan's zones. A zone whose ``id`` is one of this plan's zones keeps
        that id (updated in place), so a client holding ids from before an edit still finds the
        zones the edit left alone; new zones (``id=None``, or an id of another plan) get fresh ids."""
        self._check_codes(cur, zones)
        current = {int(r[0]) for r in self._x(cur, "SELECT id FROM zones WHERE plan_id = ?", (plan_id,)).fetchall()}
        kept: list[tuple[int, Zone]] = []
        fresh: list[Zone] = []
        for z in zones:
            if z.id is not None and z.id in current:
                current.discard(z.id)  # a second zone with the same id gets a new one
                kept.append((z.id, z))
            else:
                fresh.append(z)
        # A zone of this plan brought back (undo, redo) takes its old id again when no zone holds it:
        # ids are never handed out twice, so the id is still this zone's.
        back = [z.id for z in fresh if z.id is not None and z.plan_id == plan_id]
        taken: set[int] = set()
        for i in range(0, len(back), 500):
            chunk = back[i : i + 500]
            taken.update(int(r[0]) for r in self._x(cur, f"SELECT id FROM zones WHERE id IN ({', '.join(['?'] * len(chunk))})",
                                                     chunk).fetchall())
        revived: list[tuple[int, Zone]] = []
        new_zones: list[Zone] = []
        for z in fresh:
            if z.id is not None and z.plan_id == plan_id and z.id not in taken:
                taken.add(z.id)
                revived.append((z.id, z))
            else:
                new_zones.append(z)
        kept_ids = [zid for zid, _ in kept]
        for i in range(0, len(kept_ids), 500):
            chunk = kept_ids[i : i + 500]
            self._x(cur, f"DELETE FROM zone_schools WHERE zone_id IN ({', '.join(['?'] * len(chunk))})", chunk)
        gone = sorted(current)
        for i in range(0, len(gone), 500):
            chunk = gone[i : i + 500]
            self._x(cur, f"DELETE FROM zones WHERE id IN ({', '.join(['?'] * len(chunk))})", chunk)
        extra = self._zone_extra_cols()
        names = ("plan_id", "name", "school_codes", "grades", "grade_start_years", "source", "attributes", "geom", *extra)
        marks = ["?"] * 7 + [self._geom_in_sql()] + ["?"] * len(extra)
        sets = ", ".join(f"{c} = {m}" for c, m in zip(names, marks, strict=True))
        insert = f"INSERT INTO zones ({', '.join(names)}) VALUES ({', '.join(marks)}) RETURNING id"
        link_rows = []

        def vals(z: Zone) -> tuple[Any, ...]:
            return (plan_id, z.name, json_text(list(z.school_codes)), None if z.grades is None else json_text(list(z.grades)),
                    json_text(dict(z.grade_start_years)), z.source, json_text(dict(z.attributes)), self._geom_in(z.geometry),
                    *self._zone_extra_vals(z.geometry))

        for zid, z in kept:
            self._x(cur, f"UPDATE zones SET {sets} WHERE id = ?", (*vals(z), zid))
            link_rows.extend((zid, c) for c in dict.fromkeys(z.school_codes))
        insert_with_id = f"INSERT INTO zones (id, {', '.join(names)}) VALUES (?, {', '.join(marks)})"
        for zid, z in revived:
            self._x(cur, insert_with_id, (zid, *vals(z)))
            link_rows.extend((zid, c) for c in dict.fromkeys(z.school_codes))
        for z in new_zones:
            zid = int(self._x(cur, insert, vals(z)).fetchone()[0])
            link_rows.extend((zid, c) for c in dict.fromkeys(z.school_codes))
        if link_rows:
            cur.executemany(self._sql("INSERT INTO zone_schools (zone_id, school_code) VALUES (?, ?)"), link_rows)

    def replace_zones(self, plan_id: int, zones: Sequence[Zone], *, actor: str, expected_version: int | None = None,
                      action: str = "zones.replace", new_schools: Sequence[School] = ()) -> Plan:
        """Replace a plan's zones (one versioned change); ``new_schools`` are created in the same transaction."""
        with self._tx() as cur:
            plan = self._lock_plan(cur, plan_id)
            if expected_version is not None and plan.version != expected_version:
                msg = f"plan {plan_id} is at version {plan.version}, not {expected_version}; reload and retry"
                raise StaleVersion(msg, where="If-Match")
            if plan.status is PlanStatus.ARCHIVED:
                msg = f"plan {plan_id} is archived; copy it to a new draft to change it"
                raise Conflict(msg, where="plan_id")
            before = self._x(cur, "SELECT count(*) FROM zones WHERE plan_id = ?", (plan_id,)).fetchone()[0]
            for school in new_schools:
                if self._get_school(cur, school.code) is not None:
                    msg = f"a school with code {school.code!r} exists already"
                    raise Conflict(msg, where="school.code")
                self._insert_school(cur, school)
                self._audit(cur, actor, "school.create", f"school:{school.code}", None, school_audit(school))
            self._write_zones(cur, plan_id, zones)
            self._x(cur, "UPDATE plans SET version = version + 1 WHERE id = ?", (plan_id,))
            self._record_version(cur, plan_id, plan.version + 1, action, actor, self._zones(cur, "WHERE plan_id = ?", (plan_id,)))
            self._audit(cur, actor, f"plan.{action}", f"plan:{plan_id}", {"zones": before, "version": plan.version},
                        {"zones": len(zones), "version": plan.version + 1})
            self._bump_zone_version(cur)
            return self._get_plan(cur, plan_id)

    def _lock_plan(self, cur: Any, plan_id: int) -> Plan:
        return self._get_plan(cur, plan_id)

    def set_plan_status(self, plan_id: int, status: PlanStatus, *, actor: str, effective_year: int | None = None) -> Plan:
        if status is PlanStatus.ADOPTED:
            return self.adopt_plan(plan_id, actor=actor, effective_year=effective_year)
        with self._tx() as cur:
            before = self._lock_plan(cur, plan_id)
            self._x(cur, "UPDATE plans SET status = ?, version = version + 1 WHERE id = ?", (status.value, plan_id))
            after = self._get_plan(cur, plan_id)
            self._audit(cur, actor, f"plan.{status.value}", f"plan:{plan_id}", plan_audit(before), plan_audit(after))
            if before.status is PlanStatus.ADOPTED:
                self._bump_zone_version(cur)
            return after

    def _adopt(self, cur: Any, plan: Plan, actor: str, effective_year: int | None) -> Adoption:
        # The rule (README "Planning"): a plan adopted for (district, level) from school year Y
        # replaces every adopted plan of that district and level for Y or a later year (a newer
        # decision supersedes an older one about the same years); plans adopted for earlier years
        # stay adopted, as the record of what was in force then (lookups with year= use them).
        year = effective_year if effective_year is not None else plan.school_year
        prior = self._x(cur, "SELECT id FROM plans WHERE district = ? AND level = ? AND school_year >= ? AND status = 'adopted' "
                             "AND id <> ? ORDER BY id", (plan.district, plan.level, year, plan.id)).fetchall()
        archived = tuple(int(old) for (old,) in prior)
        for old in archived:
            self._x(cur, "UPDATE plans SET status = 'archived', version = version + 1 WHERE id = ?", (old,))
            self._audit(cur, actor, "plan.archive", f"plan:{old}", {"status": "adopted"}, {"status": "archived", "replaced_by": plan.id})
        self._x(cur, "UPDATE plans SET status = 'adopted', school_year = ?, effective_year = ?, version = version + 1 WHERE id = ?",
                (year, year, plan.id))
        after = self._get_plan(cur, plan.id)
        self._audit(cur, actor, "plan.adopt", f"plan:{plan.id}", plan_audit(plan), plan_audit(after) | {"archived": list(archived)})
        self._bump_zone_version(cur)
        return Adoption(after, archived)

    def adopt_plan(self, plan_id: int, *, actor: str, effective_year: int | None = None,
                   expected_version: int | None = None) -> Plan:
        return self.adopt(plan_id, actor=actor, effective_year=effective_year, expected_version=expected_version).plan

    def adopt(self, plan_id: int, *, actor: str, effective_year: int | None = None,
              expected_version: int | None = None) -> Adoption:
        """Adopt plan ``plan_id`` (from ``effective_year``) and say which plans that archived."""
        with self._tx() as cur:
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
        with self._tx() as cur:
            pid = self._insert_plan(cur, name=name, district=district, level=level, school_year=school_year,
                                    actor=actor, parent_id=None, description=None)
            self._write_zones(cur, pid, zones)
            plan = self._get_plan(cur, pid)
            self._record_version(cur, pid, plan.version, "plan.import", actor, self._zones(cur, "WHERE plan_id = ?", (pid,)))
            self._audit(cur, actor, "plan.import", f"plan:{pid}", None, plan_audit(plan) | {"zones": len(zones)})
            if adopt:
                plan = self._adopt(cur, plan, actor, None).plan
            return plan

    def copy_plan(self, plan_id: int, *, name: str, actor: str, school_year: int | None = None) -> Plan:
        """A new draft holding a copy of plan ``plan_id``'s zones (its parent), in one transaction."""
        with self._tx() as cur:
            src = self._get_plan(cur, plan_id)
            zones = self._zones(cur, "WHERE plan_id = ?", (plan_id,))
            pid = self._insert_plan(cur, name=name, district=src.district, level=src.level,
                                    school_year=school_year if school_year is not None else src.school_year, actor=actor,
                                    parent_id=src.id, description=f"copy of plan {src.id} '{src.name}'")
            self._write_zones(cur, pid, zones)
            plan = self._get_plan(cur, pid)
            self._record_version(cur, pid, plan.version, "plan.copy", actor, self._zones(cur, "WHERE plan_id = ?", (pid,)))
            self._audit(cur, actor, "plan.copy", f"plan:{pid}", {"from": plan_audit(src)}, plan_audit(plan) | {"zones": len(zones)})
            return plan

    def adopted_zones(self) -> list[tuple[Plan, Zone]]:
        with self._read() as cur:
            plans = {p.id: p for p in (self._plan(r) for r in self._x(cur, f"SELECT {PLAN_COLS} FROM plans WHERE status = 'adopted'").fetchall())}
            zones = self._zones(cur, "WHERE plan_id IN (SELECT id FROM plans WHERE status = 'adopted')", ())
        return [(plans[z.plan_id], z) for z in zones if z.plan_id in plans]

    # ---- keys --------------------------------------------------------------------------
    @staticmethod
    def _key(r: Sequence[Any]) -> ApiKey:
        return ApiKey(id=int(r[0]), name=r[1], role=Role(r[2]), created_at=as_datetime(r[3]), revoked_at=as_datetime(r[4]))

    def create_key(self, *, name: str, role: Role, actor: str) -> tuple[ApiKey, str]:
        secret = "ck_" + secrets.token_urlsafe(32)
        with self._tx() as cur:
            r = self._x(cur, "INSERT INTO api_keys (name, role, hash, created_at) VALUES (?, ?, ?, ?) RETURNING id, name, role, created_at, revoked_at",
                        (name, role.value, hash_secret(secret), self._ts(now()))).fetchone()
            key = self._key(r)
            self._audit(cur, actor, "key.create", f"key:{key.id}", None, {"name": name, "role": role.value})
        return key, secret

    def key_for_secret(self, secret: str) -> ApiKey | None:
        with self._read() as cur:
            r = self._x(cur, "SELECT id, name, role, created_at, revoked_at FROM api_keys WHERE hash = ?", (hash_secret(secret),)).fetchone()
        return None if r is None else self._key(r)

    def list_keys(self) -> list[ApiKey]:
        with self._read() as cur:
            return [self._key(r) for r in self._x(cur, "SELECT id, name, role, created_at, revoked_at FROM api_keys ORDER BY id").fetchall()]

    def revoke_key(self, key_id: int, *, actor: str) -> ApiKey:
        with self._tx() as cur:
            r = self._x(cur, "UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL RETURNING id, name, role, created_at, revoked_at",
                        (self._ts(now()), key_id)).fetchone()
            if r is None:
                exists = self._x(cur, "SELECT 1 FROM api_keys WHERE id = ?", (key_id,)).fetchone()
                msg = f"key {key_id} is revoked already" if exists else f"no key with id {key_id}"
                raise (Conflict if exists else NotFound)(msg, where="key_id")
            self._audit(cur, actor, "key.revoke", f"key:{key_id}", None, {"revoked": True})
            return self._key(r)

    # ---- audit -------------------------------------------------------------------------
    def audit_events(self, *, target: str | None = None, limit: int = 100, offset: int = 0) -> list[AuditEvent]:
        where, params = ("WHERE target = ?", [target]) if target else ("", [])
        with self._read() as cur:
            rows = self._x(cur, f"SELECT id, at, actor, action, target, before, after FROM audit {where} ORDER BY id DESC LIMIT ? OFFSET ?",
                           params + [limit, offset]).fetchall()
        return [AuditEvent(int(r[0]), as_datetime(r[1]), r[2], r[3], r[4], from_json(r[5]), from_json(r[6])) for r in rows]
