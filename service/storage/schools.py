"""The schools table: list (bbox, level, paging), get, create, update, delete, bulk import.

Every write is one transaction with its audit event and bumps the zone version (lookups follow).

Composition, not a mixin: the store is given the repository's SQL executor and owns its queries.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from geo.errors import Conflict, NotFound
from geo.models import School, SchoolStatus
from service.storage.executor import Audit, SqlExecutor
from service.storage.rows import from_json, json_text

SCHOOL_COLS = "code, name, name_local, levels, grades, address, capacity, enrolment, classes, status, feeds_into, attributes, lon, lat"


def school_audit(s: School | None) -> dict[str, Any] | None:
    if s is None:
        return None
    return {"code": s.code, "name": s.name, "lon": s.lon, "lat": s.lat, "levels": list(s.levels),
            "capacity": s.capacity, "enrolment": s.enrolment, "classes": s.classes, "status": s.status.value,
            "feeds_into": list(s.feeds_into)}


class SchoolStore:
    def __init__(self, db: SqlExecutor, *, audit: Audit) -> None:
        self.db = db
        self._audit = audit

    def _school_where(self, bbox: tuple[float, float, float, float] | None, level: str | None) -> tuple[str, list[Any]]:
        clauses: list[str] = []
        params: list[Any] = []
        if bbox is not None:
            clauses.append(self.db._school_bbox_sql())
            params.extend(self.db._school_bbox_params(bbox))
        if level is not None:
            clauses.append(self.db._level_sql())
            params.append(level)
        return (" WHERE " + " AND ".join(clauses)) if clauses else "", params

    def list_schools(self, *, bbox: tuple[float, float, float, float] | None = None, level: str | None = None,
                     limit: int | None = None, offset: int = 0) -> list[School]:
        where, params = self._school_where(bbox, level)
        sql = f"SELECT {SCHOOL_COLS} FROM schools{where} ORDER BY code"
        if limit is not None:
            sql += " LIMIT ? OFFSET ?"
            params += [limit, offset]
        with self.db.read_cursor() as cur:
            return [self._school(r) for r in self.db.execute(cur, sql, params).fetchall()]

    def count_schools(self, *, bbox: tuple[float, float, float, float] | None = None, level: str | None = None) -> int:
        where, params = self._school_where(bbox, level)
        with self.db.read_cursor() as cur:
            return int(self.db.execute(cur, f"SELECT count(*) FROM schools{where}", params).fetchone()[0])

    def get_in(self, cur: Any, code: str) -> School | None:
        r = self.db.execute(cur, f"SELECT {SCHOOL_COLS} FROM schools WHERE code = ?", (code,)).fetchone()
        return None if r is None else self._school(r)

    def get_school(self, code: str) -> School:
        with self.db.read_cursor() as cur:
            s = self.get_in(cur, code)
        if s is None:
            msg = f"no school with code {code!r}"
            raise NotFound(msg, where="code")
        return s

    def insert(self, cur: Any, s: School) -> None:
        marks = ", ".join(["?"] * 14)
        self.db.execute(cur, f"INSERT INTO schools ({SCHOOL_COLS}) VALUES ({marks})", self._school_vals(s))

    def create_school(self, school: School, *, actor: str) -> School:
        with self.db.transaction() as cur:
            if self.get_in(cur, school.code) is not None:
                msg = f"a school with code {school.code!r} exists already"
                raise Conflict(msg, where="code")
            self.insert(cur, school)
            self._audit(cur, actor, "school.create", f"school:{school.code}", None, school_audit(school))
            self.db.bump_zone_version(cur)
        return school

    def update_school(self, school: School, *, actor: str) -> School:
        with self.db.transaction() as cur:
            before = self.get_in(cur, school.code)
            if before is None:
                msg = f"no school with code {school.code!r}"
                raise NotFound(msg, where="code")
            sets = ", ".join(f"{c.strip()} = ?" for c in SCHOOL_COLS.split(",")[1:])
            self.db.execute(cur, f"UPDATE schools SET {sets} WHERE code = ?", self._school_vals(school)[1:] + (school.code,))
            self._audit(cur, actor, "school.update", f"school:{school.code}", school_audit(before), school_audit(school))
            self.db.bump_zone_version(cur)
        return school

    def delete_school(self, code: str, *, actor: str) -> None:
        with self.db.transaction() as cur:
            before = self.get_in(cur, code)
            if before is None:
                msg = f"no school with code {code!r}"
                raise NotFound(msg, where="code")
            used = self.db.execute(cur, "SELECT count(*) FROM zone_schools WHERE school_code = ?", (code,)).fetchone()[0]
            if used:
                msg = f"school {code} is named by {used} zone(s); remove it from them first"
                raise Conflict(msg, where="code")
            self.db.execute(cur, "DELETE FROM schools WHERE code = ?", (code,))
            self._audit(cur, actor, "school.delete", f"school:{code}", school_audit(before), None)
            self.db.bump_zone_version(cur)

    def import_schools(self, schools: Sequence[School], *, actor: str) -> int:
        """Insert or replace every school, all in one transaction."""
        sets = ", ".join(f"{c.strip()} = excluded.{c.strip()}" for c in SCHOOL_COLS.split(",")[1:])
        marks = ", ".join(["?"] * 14)
        sql = f"INSERT INTO schools ({SCHOOL_COLS}) VALUES ({marks}) ON CONFLICT (code) DO UPDATE SET {sets}"
        with self.db.transaction() as cur:
            self.db.execute_many(cur, sql, [self._school_vals(s) for s in schools])
            self._audit(cur, actor, "school.import", "schools", None, {"count": len(schools)})
            self.db.bump_zone_version(cur)
        return len(schools)

    @staticmethod
    def _school(r: Sequence[Any]) -> School:
        return School(code=r[0], name=r[1], name_local=r[2], levels=tuple(from_json(r[3])), grades=tuple(from_json(r[4])),
                      address=r[5], capacity=r[6], enrolment=r[7], classes=r[8], status=SchoolStatus(r[9]),
                      feeds_into=tuple(from_json(r[10])), attributes=from_json(r[11]), lon=float(r[12]), lat=float(r[13]))

    def _school_vals(self, s: School) -> tuple[Any, ...]:
        return (s.code, s.name, s.name_local, json_text(list(s.levels)), json_text(list(s.grades)), s.address, s.capacity,
                s.enrolment, s.classes, s.status.value, json_text(list(s.feeds_into)), json_text(dict(s.attributes)), s.lon, s.lat)
