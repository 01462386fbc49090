"""Admission data of plans, lottery draws and enrolments (issue 18 parts 4-5).

Composition, not a mixin: the store is given the repository's SQL executor and owns its queries.
A plan's admission data (categories, places, applicant rows) is replaced as a whole, in one
transaction with its audit event; so are the enrolments of the levels a file holds. A draw is
written twice: when its notice is published (seed or the seed's SHA-256, algorithm, list hashes)
and when it is drawn (the seed, the results and their SHA-256); each write is audited.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from geo.admission.model import Category, SchoolPlaces
from geo.errors import Conflict, NotFound
from service.storage.base import AdmissionData, ApplicantRow, EnrolmentRecord, LotteryDraw
from service.storage.jobs import SqlExecutor
from service.storage.rows import as_datetime, from_json, json_text, now

DRAW_COLS = ("id, plan_id, zone, status, algorithm, seed, seed_sha256, applicants_sha256, places_sha256, notice, "
             "published_by, published_at, results, results_sha256, drawn_by, drawn_at")
ENROL_COLS = "row_no, pupil_id, level, school_code, unit, lon, lat, category, count"


def _draw(r: Sequence[Any]) -> LotteryDraw:
    return LotteryDraw(id=int(r[0]), plan_id=int(r[1]), zone=tuple(str(r[2]).split(";")), status=r[3], algorithm=r[4],
                       seed=r[5], seed_sha256=r[6], applicants_sha256=r[7], places_sha256=r[8], notice=from_json(r[9]) or {},
                       published_by=r[10], published_at=as_datetime(r[11]), results=from_json(r[12]), results_sha256=r[13],
                       drawn_by=r[14], drawn_at=as_datetime(r[15]))


def _enrolment(r: Sequence[Any]) -> EnrolmentRecord:
    return EnrolmentRecord(row=int(r[0]), pupil_id=r[1], level=r[2], school=r[3], unit=r[4],
                           lon=None if r[5] is None else float(r[5]), lat=None if r[6] is None else float(r[6]),
                           category=r[7], count=int(r[8]))


def _no_draw(draw_id: int) -> NotFound:
    msg = f"no lottery draw {draw_id} / 没有编号为 {draw_id} 的摇号"
    return NotFound(msg, where="draw_id")


class AdmissionStore:
    def __init__(self, db: SqlExecutor, *, audit: Callable[[Any, str, str, str, Any, Any], None]) -> None:
        self.db = db
        self._audit = audit

    # ---- a plan's admission data ---------------------------------------------------------
    def replace(self, data: AdmissionData, *, actor: str) -> AdmissionData:
        """Replace the plan's admission data with ``data`` (one transaction, audited)."""
        db, pid = self.db, data.plan_id
        with db._tx() as cur:
            before = {t: int(db._x(cur, f"SELECT count(*) FROM {t} WHERE plan_id = ?", (pid,)).fetchone()[0])
                      for t in ("admission_places", "admission_applicants")}
            for table in ("admission_categories", "admission_places", "admission_applicants"):
                db._x(cur, f"DELETE FROM {table} WHERE plan_id = ?", (pid,))
            for i, c in enumerate(data.categories):
                db._x(cur, "INSERT INTO admission_categories (plan_id, position, cat_key, label_en, label_zh) VALUES (?, ?, ?, ?, ?)",
                      (pid, i, c.key, c.label_en, c.label_zh))
            for p in data.places:
                db._x(cur, "INSERT INTO admission_places (plan_id, school_code, places) VALUES (?, ?, ?)", (pid, p.school, p.places))
            for a in data.applicants:
                db._x(cur, "INSERT INTO admission_applicants (plan_id, row_no, unit, cat_key, count, preferences, accept_any, "
                      "zone_school, applicant_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                      (pid, a.row, a.unit, a.category, a.count, json_text(list(a.preferences)), bool(a.accept_any), a.zone,
                       a.applicant_id))
            # Lookups carry the odds from the in-memory snapshot, rebuilt when the zone version moves.
            db._x(cur, "UPDATE meta SET value = value + 1 WHERE key = 'zone_version'")
            after = {"categories": [c.key for c in data.categories], "admission_places": len(data.places),
                     "admission_applicants": len(data.applicants), "applicants": sum(a.count for a in data.applicants)}
            self._audit(cur, actor, "admission.replace", f"plan:{pid}", before, after)
        return self.get(pid)

    def get(self, plan_id: int) -> AdmissionData:
        """The plan's admission data (empty tuples when it has none)."""
        return self.plans([plan_id]).get(plan_id) or AdmissionData(plan_id)

    def plans(self, plan_ids: Sequence[int]) -> dict[int, AdmissionData]:
        """Admission data of those plans that have some, by plan id."""
        if not plan_ids:
            return {}
        db, marks, ids = self.db, ", ".join("?" for _ in plan_ids), tuple(plan_ids)
        with db._read() as cur:
            cats = db._x(cur, f"SELECT plan_id, cat_key, label_en, label_zh FROM admission_categories WHERE plan_id IN ({marks}) "
                         "ORDER BY plan_id, position", ids).fetchall()
            places = db._x(cur, f"SELECT plan_id, school_code, places FROM admission_places WHERE plan_id IN ({marks}) "
                           "ORDER BY plan_id, school_code", ids).fetchall()
            apps = db._x(cur, "SELECT plan_id, row_no, unit, cat_key, count, preferences, accept_any, zone_school, applicant_id "
                         f"FROM admission_applicants WHERE plan_id IN ({marks}) ORDER BY plan_id, row_no", ids).fetchall()
        out: dict[int, dict[str, list[Any]]] = {}
        for r in cats:
            out.setdefault(int(r[0]), {"c": [], "p": [], "a": []})["c"].append(Category(r[1], r[2], r[3]))
        for r in places:
            out.setdefault(int(r[0]), {"c": [], "p": [], "a": []})["p"].append(SchoolPlaces(r[1], int(r[2])))
        for r in apps:
            out.setdefault(int(r[0]), {"c": [], "p": [], "a": []})["a"].append(
                ApplicantRow(int(r[1]), r[2], r[3], int(r[4]), tuple(from_json(r[5]) or ()), bool(r[6]), r[7], r[8]))
        return {pid: AdmissionData(pid, tuple(d["c"]), tuple(d["p"]), tuple(d["a"])) for pid, d in out.items()}

    # ---- lottery draws -------------------------------------------------------------------
    def publish(self, *, plan_id: int, zone: Sequence[str], algorithm: str, seed: str | None, seed_sha256: str,
                applicants_sha256: str, places_sha256: str, notice: dict[str, Any], actor: str) -> LotteryDraw:
        """Record a draw's public notice (before the draw); audited as ``lottery.publish``."""
        db = self.db
        with db._tx() as cur:
            row = db._x(cur, "INSERT INTO lottery_draws (plan_id, zone, status, algorithm, seed, seed_sha256, applicants_sha256, "
                        "places_sha256, notice, published_by, published_at) VALUES (?, ?, 'published', ?, ?, ?, ?, ?, ?, ?, ?) "
                        f"RETURNING {DRAW_COLS}", (plan_id, ";".join(zone), algorithm, seed, seed_sha256, applicants_sha256,
                                                   places_sha256, json_text(notice), actor, db._ts(now()))).fetchone()
            draw = _draw(row)
            self._audit(cur, actor, "lottery.publish", f"plan:{plan_id}", None, {"draw_id": draw.id, **notice})
        return draw

    def record(self, draw_id: int, *, seed: str, results: list[dict[str, Any]], results_sha256: str, actor: str) -> LotteryDraw:
        """Write a published draw's results (once: a drawn draw is a 409); audited as ``lottery.draw``."""
        db = self.db
        with db._tx() as cur:
            row = db._x(cur, "UPDATE lottery_draws SET status = 'drawn', seed = ?, results = ?, results_sha256 = ?, drawn_by = ?, "
                        f"drawn_at = ? WHERE id = ? AND status = 'published' RETURNING {DRAW_COLS}",
                        (seed, json_text(results), results_sha256, actor, db._ts(now()), draw_id)).fetchone()
            if row is None:
                exists = db._x(cur, "SELECT status FROM lottery_draws WHERE id = ?", (draw_id,)).fetchone()
                if exists is None:
                    raise _no_draw(draw_id)
                msg = f"lottery draw {draw_id} has already been drawn / 摇号 {draw_id} 已完成，不能重抽"
                raise Conflict(msg, where="draw_id")
            draw = _draw(row)
            placed = sum(1 for r in results if r.get("school"))
            self._audit(cur, actor, "lottery.draw", f"plan:{draw.plan_id}", {"draw_id": draw_id, "status": "published"},
                        {"draw_id": draw_id, "status": "drawn", "seed": seed, "algorithm": draw.algorithm,
                         "applicants": len(results), "placed": placed, "results_sha256": results_sha256})
        return draw

    def draw(self, draw_id: int) -> LotteryDraw:
        db = self.db
        with db._read() as cur:
            row = db._x(cur, f"SELECT {DRAW_COLS} FROM lottery_draws WHERE id = ?", (draw_id,)).fetchone()
        if row is None:
            raise _no_draw(draw_id)
        return _draw(row)

    def draws(self, plan_id: int) -> list[LotteryDraw]:
        db = self.db
        with db._read() as cur:
            rows = db._x(cur, f"SELECT {DRAW_COLS} FROM lottery_draws WHERE plan_id = ? ORDER BY id", (plan_id,)).fetchall()
        return [_draw(r) for r in rows]

    # ---- enrolments ----------------------------------------------------------------------
    def replace_enrolments(self, levels: Sequence[str], rows: Sequence[EnrolmentRecord], *, actor: str) -> int:
        """Replace the enrolments of ``levels`` with ``rows`` (one transaction, audited)."""
        db = self.db
        with db._tx() as cur:
            marks = ", ".join("?" for _ in levels)
            before = int(db._x(cur, f"SELECT count(*) FROM enrolments WHERE level IN ({marks})", tuple(levels)).fetchone()[0]) \
                if levels else 0
            if levels:
                db._x(cur, f"DELETE FROM enrolments WHERE level IN ({marks})", tuple(levels))
            for r in rows:
                db._x(cur, f"INSERT INTO enrolments ({ENROL_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                      (r.row, r.pupil_id, r.level, r.school, r.unit, r.lon, r.lat, r.category, r.count))
            self._audit(cur, actor, "enrolments.replace", "enrolments:" + ",".join(levels), {"rows": before},
                        {"rows": len(rows), "pupils": sum(r.count for r in rows)})
        return len(rows)

    def enrolments(self, level: str) -> list[EnrolmentRecord]:
        db = self.db
        with db._read() as cur:
            rows = db._x(cur, f"SELECT {ENROL_COLS} FROM enrolments WHERE level = ? ORDER BY row_no", (level,)).fetchall()
        return [_enrolment(r) for r in rows]
