"""The districts tables: 学区 (school districts) as data, made by hand or proposed by a formation job.

Composition, not a mixin: the store is given the repository's SQL executor and owns its queries.
Every write is one transaction with its audit event, and the rules that need the stored state are
checked inside it: every member school exists, the lead is a member, an effective district's name
is unique in its school year, and a school sits in at most one effective district per level and
school year (proposals may overlap anything: they are not in force).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

from geo.errors import Conflict, InvalidInput, NotFound, StaleVersion
from service.storage.base import DistrictStatus, StoredDistrict
from service.storage.jobs import SqlExecutor
from service.storage.rows import as_datetime, from_json, json_text, now

COLS = "id, name, levels, school_year, lead_code, status, job_id, report, version, created_at, updated_at"


def district_audit(d: StoredDistrict) -> dict[str, Any]:
    return {"name": d.name, "levels": list(d.levels), "school_year": d.school_year, "lead": d.lead,
            "schools": list(d.schools), "status": d.status.value, "version": d.version}


def _missing(district_id: int) -> NotFound:
    return NotFound(f"no district {district_id} / 没有编号为 {district_id} 的学区", where="district_id")


class DistrictStore:
    def __init__(self, db: SqlExecutor, *, audit: Callable[[Any, str, str, str, Any, Any], None]) -> None:
        self.db = db
        self._audit = audit

    # ---- reads ---------------------------------------------------------------------------
    def _members(self, cur: Any, ids: Sequence[int]) -> dict[int, list[str]]:
        if not ids:
            return {}
        marks = ", ".join("?" for _ in ids)
        rows = self.db._x(cur, f"SELECT district_id, school_code FROM district_schools WHERE district_id IN ({marks}) "
                          "ORDER BY district_id, position", tuple(ids)).fetchall()
        out: dict[int, list[str]] = {int(i): [] for i in ids}
        for r in rows:
            out[int(r[0])].append(r[1])
        return out

    def _load(self, cur: Any, where: str, params: Sequence[Any]) -> list[StoredDistrict]:
        rows = self.db._x(cur, f"SELECT {COLS} FROM districts {where} ORDER BY school_year, id", tuple(params)).fetchall()
        members = self._members(cur, [int(r[0]) for r in rows])
        return [StoredDistrict(id=int(r[0]), name=r[1], levels=tuple(from_json(r[2]) or ()), school_year=int(r[3]), lead=r[4],
                               schools=tuple(members[int(r[0])]), status=DistrictStatus(r[5]),
                               job_id=None if r[6] is None else int(r[6]), report=from_json(r[7]), version=int(r[8]),
                               created_at=as_datetime(r[9]), updated_at=as_datetime(r[10])) for r in rows]

    def get(self, district_id: int) -> StoredDistrict:
        with self.db._read() as cur:
            got = self._load(cur, "WHERE id = ?", (district_id,))
        if not got:
            raise _missing(district_id)
        return got[0]

    def stamp(self) -> tuple[int, int]:
        """(rows, highest version sum): changes whenever a district is written, for caches."""
        with self.db._read() as cur:
            n, top, v = self.db._x(cur, "SELECT count(*), coalesce(max(id), 0), coalesce(sum(version), 0) FROM districts").fetchone()
        return int(n), int(top) * 1_000_003 + int(v)

    # ---- checks inside the writing transaction ---------------------------------------------
    def _check(self, cur: Any, d: StoredDistrict) -> None:
        db = self.db
        if d.lead not in d.schools:
            msg = f"the lead school {d.lead} is not a member of the district / 学区长学校 {d.lead} 不是该学区的成员"
            raise InvalidInput(msg, where="lead")
        marks = ", ".join("?" for _ in d.schools)
        known = {r[0] for r in db._x(cur, f"SELECT code FROM schools WHERE code IN ({marks})", d.schools).fetchall()}
        unknown = [c for c in d.schools if c not in known]
        if unknown:
            msg = f"unknown school(s): {', '.join(unknown)} / 学校代码不存在：{'、'.join(unknown)}"
            raise InvalidInput(msg, where="schools")
        if d.status is not DistrictStatus.EFFECTIVE:
            return
        others = [o for o in self._load(cur, "WHERE school_year = ? AND status = 'effective'", (d.school_year,)) if o.id != d.id]
        for o in others:
            if o.name == d.name:
                msg = (f"an effective district named {d.name!r} already exists for {d.school_year} (id {o.id}) / "
                       f"{d.school_year} 学年已有名为 {d.name} 的学区")
                raise Conflict(msg, where="name")
            both = [c for c in d.schools if c in o.schools]
            if both and set(o.levels) & set(d.levels):
                msg = (f"school {both[0]} is already in district {o.name!r} (id {o.id}) for level "
                       f"{min(set(o.levels) & set(d.levels))} in {d.school_year} / 学校 {both[0]} 已属于同学段同学年的学区 {o.name}")
                raise InvalidInput(msg, where="schools")

    def _write_members(self, cur: Any, district_id: int, schools: Sequence[str]) -> None:
        self.db._x(cur, "DELETE FROM district_schools WHERE district_id = ?", (district_id,))
        for i, code in enumerate(schools):
            self.db._x(cur, "INSERT INTO district_schools (district_id, school_code, position) VALUES (?, ?, ?)", (district_id, code, i))

    def _insert(self, cur: Any, d: StoredDistrict, actor: str) -> StoredDistrict:
        db = self.db
        d = replace(d, schools=(d.lead, *sorted(c for c in set(d.schools) if c != d.lead)) if d.lead in d.schools else d.schools)
        self._check(cur, d)
        t = db._ts(now())
        row = db._x(cur, "INSERT INTO districts (name, levels, school_year, lead_code, status, job_id, report, version, created_at, "
                    "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?, ?) RETURNING id",
                    (d.name, json_text(list(d.levels)), d.school_year, d.lead, d.status.value, d.job_id,
                     None if d.report is None else json_text(d.report), t, t)).fetchone()
        did = int(row[0])
        self._write_members(cur, did, d.schools)
        got = self._load(cur, "WHERE id = ?", (did,))[0]
        self._audit(cur, actor, "district.create", f"district:{did}", None, district_audit(got))
        return got

    # ---- writes ----------------------------------------------------------------------------
    def create(self, district: StoredDistrict, *, actor: str) -> StoredDistrict:
        with self.db._tx() as cur:
            got = self._insert(cur, district, actor)
            self.db._x(cur, "UPDATE meta SET value = value + 1 WHERE key = 'zone_version'")
        return got

    def create_many(self, districts: Sequence[StoredDistrict], *, actor: str) -> list[StoredDistrict]:
        """All or nothing: a formation job's proposal set in one transaction."""
        with self.db._tx() as cur:
            got = [self._insert(cur, d, actor) for d in districts]
            self.db._x(cur, "UPDATE meta SET value = value + 1 WHERE key = 'zone_version'")
        return got

    def _current(self, cur: Any, district_id: int, expected_version: int | None) -> StoredDistrict:
        got = self._load(cur, "WHERE id = ?", (district_id,))
        if not got:
            raise _missing(district_id)
        if expected_version is not None and got[0].version != expected_version:
            msg = (f"district {district_id} is at version {got[0].version}, not {expected_version}; reload it / "
                   "学区已被他人修改，请重新加载")
            raise StaleVersion(msg, where="If-Match")
        return got[0]

    def update(self, district: StoredDistrict, *, actor: str, expected_version: int | None = None) -> StoredDistrict:
        """Replace a district's fields and members (its id, job and report stay)."""
        if district.id is None:
            raise _missing(0)
        db = self.db
        d = district
        if d.lead in d.schools:
            d = replace(d, schools=(d.lead, *sorted(c for c in set(d.schools) if c != d.lead)))
        with db._tx() as cur:
            before = self._current(cur, d.id, expected_version)  # type: ignore[arg-type]
            self._check(cur, d)
            db._x(cur, "UPDATE districts SET name = ?, levels = ?, school_year = ?, lead_code = ?, status = ?, version = version + 1, "
                  "updated_at = ? WHERE id = ?", (d.name, json_text(list(d.levels)), d.school_year, d.lead, d.status.value,
                                                  db._ts(now()), d.id))
            self._write_members(cur, d.id, d.schools)  # type: ignore[arg-type]
            got = self._load(cur, "WHERE id = ?", (d.id,))[0]
            self._audit(cur, actor, "district.update", f"district:{d.id}", district_audit(before), district_audit(got))
            db._x(cur, "UPDATE meta SET value = value + 1 WHERE key = 'zone_version'")
        return got

    def adopt(self, job_id: int, *, actor: str, replace_existing: bool = False) -> list[StoredDistrict]:
        """Make a formation job's proposals effective, all or nothing; with ``replace_existing`` the
        effective districts of the same school year sharing a level with them are deleted first."""
        db = self.db
        with db._tx() as cur:
            proposals = self._load(cur, "WHERE job_id = ? AND status = 'proposed'", (job_id,))
            if not proposals:
                msg = f"job {job_id} has no proposed districts / 任务 {job_id} 没有待采用的学区方案"
                raise NotFound(msg, where="job_id")
            if replace_existing:
                levels = {lv for d in proposals for lv in d.levels}
                for o in self._load(cur, "WHERE school_year = ? AND status = 'effective'", (proposals[0].school_year,)):
                    if set(o.levels) & levels:
                        db._x(cur, "DELETE FROM district_schools WHERE district_id = ?", (o.id,))
                        db._x(cur, "DELETE FROM districts WHERE id = ?", (o.id,))
                        self._audit(cur, actor, "district.delete", f"district:{o.id}", district_audit(o), {"replaced_by_job": job_id})
            out = []
            for d in proposals:
                d2 = replace(d, status=DistrictStatus.EFFECTIVE)
                self._check(cur, d2)
                db._x(cur, "UPDATE districts SET status = 'effective', version = version + 1, updated_at = ? WHERE id = ?",
                      (db._ts(now()), d.id))
                got = self._load(cur, "WHERE id = ?", (d.id,))[0]
                self._audit(cur, actor, "district.adopt", f"district:{d.id}", district_audit(d), district_audit(got))
                out.append(got)
            db._x(cur, "UPDATE meta SET value = value + 1 WHERE key = 'zone_version'")
        return out

    def delete(self, district_id: int, *, actor: str, expected_version: int | None = None) -> None:
        db = self.db
        with db._tx() as cur:
            before = self._current(cur, district_id, expected_version)
            db._x(cur, "DELETE FROM district_schools WHERE district_id = ?", (district_id,))
            db._x(cur, "DELETE FROM districts WHERE id = ?", (district_id,))
            self._audit(cur, actor, "district.delete", f"district:{district_id}", district_audit(before), None)
            db._x(cur, "UPDATE meta SET value = value + 1 WHERE key = 'zone_version'")

    def list(self, *, level: str | None = None, school_year: int | None = None, status: DistrictStatus | None = None,
             job_id: int | None = None) -> list[StoredDistrict]:
        """Districts in school year and id order; ``level`` keeps those whose levels include it."""
        conds, params = [], []
        for col, val in (("school_year", school_year), ("status", status.value if status else None), ("job_id", job_id)):
            if val is not None:
                conds.append(f"{col} = ?")
                params.append(val)
        with self.db._read() as cur:
            got = self._load(cur, ("WHERE " + " AND ".join(conds)) if conds else "", params)
        return [d for d in got if level is None or level in d.levels]
