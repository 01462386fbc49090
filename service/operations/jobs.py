"""Long work as jobs: submit, run in a worker thread, report progress, cancel, survive a reload.

One runner per worker process. A job's function receives a :class:`JobContext`: it calls
``report(...)`` with its progress (fraction done, incumbent objective, gap ...) and may call
``check()`` to stop early when a cancel was asked. Progress, result and errors go to the jobs
table (``service/storage/jobs.py``), so any worker answers for any job and a page reloaded
later finds it. A heartbeat thread keeps running jobs alive in the table and carries cancel
requests made through other workers; jobs of a process that died are marked failed by the
sweep at the next start.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from geo.errors import CatchmentError, Infeasible
from service.operations.jsonable import to_jsonable
from service.storage.base import Job, JobStatus, Repository

log = logging.getLogger("catchment")


class JobCancelled(Exception):
    """Raised inside a job by :meth:`JobContext.check` once a cancel was asked for."""


class JobContext:
    """What a running job sees: its id and parameters, progress reporting, the cancel flag."""

    def __init__(self, runner: JobRunner, job: Job) -> None:
        self.job = job
        self._runner = runner
        self._last = 0.0
        self.progress: dict[str, Any] = {}

    @property
    def cancelled(self) -> bool:
        return self.job.id in self._runner.cancel_asked

    def check(self) -> None:
        """Stop the job (raise :class:`JobCancelled`) when a cancel was asked for."""
        if self.cancelled:
            raise JobCancelled(f"job {self.job.id} cancelled")

    def report(self, *, force: bool = False, **progress: Any) -> None:
        """Record progress (JSON-ready values); written at most every ``report_every_s`` unless ``force``."""
        self.progress.update(progress)
        t = time.monotonic()
        if force or t - self._last >= self._runner.report_every_s:
            self._last = t
            if self._runner.repo.jobs.progress(self.job.id, dict(self.progress)):
                self._runner.cancel_asked.add(self.job.id)


JobFn = Callable[[JobContext], Any]


def _shortfalls(exc: CatchmentError) -> dict[str, Any]:
    """An infeasible planning job's shortfalls (which schools or areas, by how many pupils) and its Chinese detail."""
    if not isinstance(exc, Infeasible):
        return {}
    return {"detail_zh": exc.message_zh, "shortfalls": to_jsonable(list(exc.shortfalls))}


class JobRunner:
    """Runs jobs in a small thread pool of this worker; see the module docstring."""

    def __init__(self, repo: Repository, *, workers: int = 1, heartbeat_s: float = 2.0, report_every_s: float = 0.5) -> None:
        self.repo = repo
        self.heartbeat_s = heartbeat_s
        self.report_every_s = report_every_s
        self.cancel_asked: set[int] = set()
        self._running: set[int] = set()
        self._queued: set[int] = set()
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="job")
        self._stop = threading.Event()
        self._beat = threading.Thread(target=self._heartbeat, name="job-heartbeat", daemon=True)
        self._beat.start()

    def sweep(self) -> int:
        """Fail the jobs whose process stopped beating (three heartbeats missed)."""
        return self.repo.jobs.sweep(stale_after_s=max(3 * self.heartbeat_s, 10.0))

    def submit(self, *, kind: str, owner: str, params: dict[str, Any], fn: JobFn) -> Job:
        """Store the job as queued and run ``fn`` in the pool; returns the stored job at once."""
        job = self.repo.jobs.create(kind=kind, owner=owner, params=params)
        with self._lock:
            self._queued.add(job.id)
        self._pool.submit(self._run, job, fn)
        return job

    def cancel(self, job_id: int, *, actor: str) -> Job:
        job = self.repo.jobs.cancel(job_id, actor=actor)
        self.cancel_asked.add(job_id)
        return job

    def _run(self, job: Job, fn: JobFn) -> None:
        jobs = self.repo.jobs
        with self._lock:
            self._queued.discard(job.id)
        started = jobs.start(job.id)
        if started.status is not JobStatus.RUNNING:
            return  # cancelled while queued
        with self._lock:
            self._running.add(job.id)
        ctx = JobContext(self, started)
        try:
            result = fn(ctx)
            ctx.check()
        except JobCancelled:
            jobs.finish(job.id, JobStatus.CANCELLED, error={"detail": "cancelled / 已取消"})
        except CatchmentError as exc:
            jobs.finish(job.id, JobStatus.FAILED, error={"type": type(exc).__name__, "detail": exc.message, "where": exc.where,
                                                         **({"extra": exc.extra} if getattr(exc, "extra", None) else {}),
                                                         **_shortfalls(exc)})
        except Exception as exc:  # the job's boundary: any failure is recorded, logged, and the worker goes on
            log.exception("job %s (%s) failed", job.id, job.kind)
            jobs.finish(job.id, JobStatus.FAILED, error={"type": "InternalError", "detail": f"the job failed: {type(exc).__name__}; "
                                                         "it has been logged / 任务失败，已记录"})
        else:
            jobs.progress(job.id, {**ctx.progress, "fraction": 1.0})
            jobs.finish(job.id, JobStatus.DONE, result=result)
        finally:
            with self._lock:
                self._running.discard(job.id)
            self.cancel_asked.discard(job.id)

    def _heartbeat(self) -> None:
        while not self._stop.wait(self.heartbeat_s):
            with self._lock:
                ids = sorted(self._running)
            if not ids:
                continue
            try:
                self.cancel_asked |= self.repo.jobs.beat(ids)
            except CatchmentError:
                log.warning("job heartbeat failed; retrying in %.1f s", self.heartbeat_s)

    def close(self) -> None:
        """Ask running jobs to stop, wait for them, stop the heartbeat (before the repository closes)."""
        with self._lock:
            self.cancel_asked |= self._running
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._stop.set()
        self._beat.join(timeout=10)
        for job_id in sorted(self._queued):
            self.repo.jobs.finish(job_id, JobStatus.FAILED,
                                  error={"detail": "the service stopped before the job started; submit it again / 服务已停止，请重新提交"})
