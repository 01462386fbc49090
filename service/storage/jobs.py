"""The jobs table: long work (optimisation, district formation, batch assignment) with progress.

A job runs in the worker process that accepted it; its status, progress and result live here, so
every worker (and a page reloaded later) answers ``GET /v1/jobs/{id}`` alike, and a cancel asked
of any worker reaches the runner through ``cancel_requested``. A running job beats a heartbeat;
one whose heartbeat stopped (its process died) is marked failed by the next sweep.

Composition, not a mixin: the store is given the repository's SQL executor and owns its queries.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from geo.errors import Conflict, NotFound
from service.storage.base import Job, JobStatus
from service.storage.executor import Audit, SqlExecutor
from service.storage.rows import as_datetime, from_json, json_text, now

COLS = ("id, kind, status, owner, params, progress, result, error, cancel_requested, created_at, started_at, "
        "finished_at, heartbeat_at")
__all__ = ["JobStore", "SqlExecutor"]  # SqlExecutor: where the stores of other branches import it from

FINISHED = (JobStatus.DONE, JobStatus.FAILED, JobStatus.CANCELLED)


def _job(r: Sequence[Any]) -> Job:
    return Job(id=int(r[0]), kind=r[1], status=JobStatus(r[2]), owner=r[3], params=from_json(r[4]) or {},
               progress=from_json(r[5]) or {}, result=from_json(r[6]), error=from_json(r[7]),
               cancel_requested=bool(r[8]), created_at=as_datetime(r[9]), started_at=as_datetime(r[10]),  # type: ignore[arg-type]
               finished_at=as_datetime(r[11]), heartbeat_at=as_datetime(r[12]))


class JobStore:
    def __init__(self, db: SqlExecutor, *, audit: Audit) -> None:
        self.db = db
        self._audit = audit

    def create(self, *, kind: str, owner: str, params: dict[str, Any]) -> Job:
        db = self.db
        with db.transaction() as cur:
            row = db.execute(cur, f"INSERT INTO jobs (kind, status, owner, params, progress, created_at) VALUES (?, 'queued', ?, ?, ?, ?) "
                        f"RETURNING {COLS}", (kind, owner, json_text(params), json_text({}), db.timestamp(now()))).fetchone()
            job = _job(row)
            self._audit(cur, owner, "job.create", f"job:{job.id}", None, {"kind": kind, "params": params})
        return job

    def get(self, job_id: int) -> Job:
        db = self.db
        with db.read_cursor() as cur:
            row = db.execute(cur, f"SELECT {COLS} FROM jobs WHERE id = ?", (job_id,)).fetchone()
        if row is None:
            msg = f"no job {job_id} / 没有编号为 {job_id} 的任务"
            raise NotFound(msg, where="job_id")
        return _job(row)

    def list(self, *, owner: str | None = None, limit: int = 50) -> list[Job]:
        db = self.db
        where, params = ("WHERE owner = ?", [owner]) if owner is not None else ("", [])
        with db.read_cursor() as cur:
            rows = db.execute(cur, f"SELECT {COLS} FROM jobs {where} ORDER BY id DESC LIMIT ?", (*params, limit)).fetchall()
        return [_job(r) for r in rows]

    def start(self, job_id: int) -> Job:
        db = self.db
        with db.transaction() as cur:
            t = db.timestamp(now())
            row = db.execute(cur, f"UPDATE jobs SET status = 'running', started_at = ?, heartbeat_at = ? WHERE id = ? AND status = 'queued' "
                        f"RETURNING {COLS}", (t, t, job_id)).fetchone()
        if row is None:
            return self.get(job_id)
        return _job(row)

    def progress(self, job_id: int, progress: dict[str, Any]) -> bool:
        """Record progress and beat the heartbeat; returns whether a cancel was asked for."""
        db = self.db
        with db.transaction() as cur:
            row = db.execute(cur, "UPDATE jobs SET progress = ?, heartbeat_at = ? WHERE id = ? RETURNING cancel_requested",
                        (json_text(progress), db.timestamp(now()), job_id)).fetchone()
        return bool(row[0]) if row is not None else True

    def beat(self, job_ids: Sequence[int]) -> set[int]:
        """Beat the heartbeat of running jobs; returns those of them asked to cancel."""
        if not job_ids:
            return set()
        db = self.db
        marks = ", ".join("?" for _ in job_ids)
        with db.transaction() as cur:
            rows = db.execute(cur, f"UPDATE jobs SET heartbeat_at = ? WHERE id IN ({marks}) AND status = 'running' "
                         "RETURNING id, cancel_requested", (db.timestamp(now()), *job_ids)).fetchall()
        return {int(r[0]) for r in rows if r[1]}

    def finish(self, job_id: int, status: JobStatus, *, result: Any = None, error: Any = None) -> Job:
        db = self.db
        with db.transaction() as cur:
            row = db.execute(cur, f"UPDATE jobs SET status = ?, result = ?, error = ?, finished_at = ? WHERE id = ? RETURNING {COLS}",
                        (status.value, None if result is None else json_text(result), None if error is None else json_text(error),
                         db.timestamp(now()), job_id)).fetchone()
            job = _job(row)
            self._audit(cur, job.owner, f"job.{status.value}", f"job:{job_id}", None,
                        {"kind": job.kind, "error": error} if error else {"kind": job.kind})
        return job

    def cancel(self, job_id: int, *, actor: str) -> Job:
        """Ask a job to stop: a queued job is cancelled at once, a running one at its next progress report."""
        db = self.db
        with db.transaction() as cur:
            row = db.execute(cur, f"SELECT {COLS} FROM jobs WHERE id = ?", (job_id,)).fetchone()
            if row is None:
                msg = f"no job {job_id} / 没有编号为 {job_id} 的任务"
                raise NotFound(msg, where="job_id")
            job = _job(row)
            if job.status in FINISHED:
                msg = f"job {job_id} has already finished ({job.status.value}) / 任务已结束"
                raise Conflict(msg, where="job_id")
            if job.status is JobStatus.QUEUED:
                row = db.execute(cur, f"UPDATE jobs SET status = 'cancelled', cancel_requested = ?, finished_at = ? WHERE id = ? "
                            f"RETURNING {COLS}", (True, db.timestamp(now()), job_id)).fetchone()
            else:
                row = db.execute(cur, f"UPDATE jobs SET cancel_requested = ? WHERE id = ? RETURNING {COLS}", (True, job_id)).fetchone()
            self._audit(cur, actor, "job.cancel", f"job:{job_id}", None, {"kind": job.kind})
        return _job(row)

    def sweep(self, *, stale_after_s: float) -> int:
        """Mark running jobs whose heartbeat stopped more than ``stale_after_s`` ago as failed."""
        db = self.db
        cutoff = db.timestamp(now() - timedelta(seconds=stale_after_s))
        err = json_text({"detail": "the process running this job stopped (a restart?); start it again / 任务进程已停止，请重新提交"})
        with db.transaction() as cur:
            rows = db.execute(cur, "UPDATE jobs SET status = 'failed', error = ?, finished_at = ? "
                         "WHERE status = 'running' AND heartbeat_at < ? RETURNING id", (err, db.timestamp(now()), cutoff)).fetchall()
        return len(rows)
