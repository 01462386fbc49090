"""Zone rows of plans: read them, check their school codes, and write a plan's zones so that a
zone keeps its id across edits (and takes it back on undo and redo).

Composition, not a mixin: the store is given the repository's SQL executor and owns its queries.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from geo.errors import InvalidInput
from geo.models import Zone
from service.storage.executor import Audit, SqlExecutor
from service.storage.rows import from_json, json_text


class ZoneStore:
    def __init__(self, db: SqlExecutor, *, audit: Audit) -> None:
        self.db = db
        self._audit = audit

    def read(self, cur: Any, where: str, params: Sequence[Any]) -> list[Zone]:
        sql = (f"SELECT id, plan_id, name, school_codes, grades, grade_start_years, source, attributes, "
               f"{self.db._geom_out_sql()} FROM zones {where} ORDER BY id")
        return [self._zone(r) for r in self.db.execute(cur, sql, params).fetchall()]

    def _zone(self, r: Sequence[Any]) -> Zone:
        grades = from_json(r[4])
        return Zone(id=int(r[0]), plan_id=int(r[1]), name=r[2], school_codes=tuple(from_json(r[3])),
                    grades=None if grades is None else tuple(grades),
                    grade_start_years={k: int(v) for k, v in (from_json(r[5]) or {}).items()},
                    source=r[6], attributes=from_json(r[7]) or {}, geometry=self.db._geom_out(r[8]))

    def check_codes(self, cur: Any, zones: Sequence[Zone]) -> None:
        wanted = sorted({c for z in zones for c in z.school_codes})
        known: set[str] = set()
        for i in range(0, len(wanted), 500):
            chunk = wanted[i : i + 500]
            marks = ", ".join(["?"] * len(chunk))
            known.update(r[0] for r in self.db.execute(cur, f"SELECT code FROM schools WHERE code IN ({marks})", chunk).fetchall())
        for i, z in enumerate(zones):
            missing = [c for c in z.school_codes if c not in known]
            if missing:
                msg = f"zone {i} names unknown school code(s) {', '.join(missing)}; import the schools first"
                raise InvalidInput(msg, where=f"features[{i}].school_codes")

    def write(self, cur: Any, plan_id: int, zones: Sequence[Zone]) -> None:
        """Make ``zones`` the plan's zones. A zone whose ``id`` is one of this plan's zones keeps
        that id (updated in place), so a client holding ids from before an edit still finds the
        zones the edit left alone; new zones (``id=None``, or an id of another plan) get fresh ids."""
        self.check_codes(cur, zones)
        current = {int(r[0]) for r in self.db.execute(cur, "SELECT id FROM zones WHERE plan_id = ?", (plan_id,)).fetchall()}
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
            taken.update(int(r[0]) for r in self.db.execute(cur, f"SELECT id FROM zones WHERE id IN ({', '.join(['?'] * len(chunk))})",
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
            self.db.execute(cur, f"DELETE FROM zone_schools WHERE zone_id IN ({', '.join(['?'] * len(chunk))})", chunk)
        gone = sorted(current)
        for i in range(0, len(gone), 500):
            chunk = gone[i : i + 500]
            self.db.execute(cur, f"DELETE FROM zones WHERE id IN ({', '.join(['?'] * len(chunk))})", chunk)
        extra = self.db._zone_extra_cols()
        names = ("plan_id", "name", "school_codes", "grades", "grade_start_years", "source", "attributes", "geom", *extra)
        marks = ["?"] * 7 + [self.db._geom_in_sql()] + ["?"] * len(extra)
        sets = ", ".join(f"{c} = {m}" for c, m in zip(names, marks, strict=True))
        insert = f"INSERT INTO zones ({', '.join(names)}) VALUES ({', '.join(marks)}) RETURNING id"
        link_rows: list[tuple[int, str]] = []

        def vals(z: Zone) -> tuple[Any, ...]:
            return (plan_id, z.name, json_text(list(z.school_codes)), None if z.grades is None else json_text(list(z.grades)),
                    json_text(dict(z.grade_start_years)), z.source, json_text(dict(z.attributes)), self.db._geom_in(z.geometry),
                    *self.db._zone_extra_vals(z.geometry))

        for zid, z in kept:
            self.db.execute(cur, f"UPDATE zones SET {sets} WHERE id = ?", (*vals(z), zid))
            link_rows.extend((zid, c) for c in dict.fromkeys(z.school_codes))
        insert_with_id = f"INSERT INTO zones (id, {', '.join(names)}) VALUES (?, {', '.join(marks)})"
        for zid, z in revived:
            self.db.execute(cur, insert_with_id, (zid, *vals(z)))
            link_rows.extend((zid, c) for c in dict.fromkeys(z.school_codes))
        for z in new_zones:
            zid = int(self.db.execute(cur, insert, vals(z)).fetchone()[0])
            link_rows.extend((zid, c) for c in dict.fromkeys(z.school_codes))
        if link_rows:
            self.db.execute_many(cur, "INSERT INTO zone_schools (zone_id, school_code) VALUES (?, ?)", link_rows)

    def insert(self, cur: Any, plan_id: int, zones: Sequence[Zone]) -> None:
        """Add ``zones`` to the plan as new zones, with their school links."""
        extra = self.db._zone_extra_cols()
        cols = "plan_id, name, school_codes, grades, grade_start_years, source, attributes, geom" + "".join(f", {c}" for c in extra)
        marks = "?, ?, ?, ?, ?, ?, ?, " + self.db._geom_in_sql() + "".join(", ?" for _ in extra)
        links: list[tuple[int, str]] = []
        for z in zones:
            vals = (plan_id, z.name, json_text(list(z.school_codes)), None if z.grades is None else json_text(list(z.grades)),
                    json_text(dict(z.grade_start_years)), z.source, json_text(dict(z.attributes)), self.db._geom_in(z.geometry))
            zid = int(self.db.execute(cur, f"INSERT INTO zones ({cols}) VALUES ({marks}) RETURNING id",
                              vals + self.db._zone_extra_vals(z.geometry)).fetchone()[0])
            links.extend((zid, c) for c in dict.fromkeys(z.school_codes))
        self.db.execute_many(cur, "INSERT INTO zone_schools (zone_id, school_code) VALUES (?, ?)", links)
