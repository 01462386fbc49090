"""The jobs table on both backends: create, start, progress, beat, cancel, finish, sweep."""

from __future__ import annotations

import time

import pytest

from geo.errors import Conflict, NotFound
from service.storage.base import JobStatus, Repository


def test_job_lifecycle_and_progress(repo: Repository) -> None:
    job = repo.jobs.create(kind="optimise", owner="key:1:ann", params={"plan": 3, "time_limit": 60})
    assert (job.status, job.params, job.progress) == (JobStatus.QUEUED, {"plan": 3, "time_limit": 60}, {})
    started = repo.jobs.start(job.id)
    assert started.status is JobStatus.RUNNING and started.started_at is not None
    assert repo.jobs.progress(job.id, {"fraction": 0.5, "gap": 0.02, "中文": "进度"}) is False
    assert repo.jobs.get(job.id).progress == {"fraction": 0.5, "gap": 0.02, "中文": "进度"}
    done = repo.jobs.finish(job.id, JobStatus.DONE, result={"plan_id": 9})
    assert (done.status, done.result) == (JobStatus.DONE, {"plan_id": 9})
    assert done.finished_at is not None and done.finished_at >= done.started_at  # type: ignore[operator]
    actions = [e.action for e in repo.audit_events(target=f"job:{job.id}")]
    assert set(actions) == {"job.create", "job.done"}


def test_cancel_queued_at_once_running_by_flag(repo: Repository) -> None:
    queued = repo.jobs.create(kind="k", owner="a", params={})
    assert repo.jobs.cancel(queued.id, actor="a").status is JobStatus.CANCELLED
    running = repo.jobs.create(kind="k", owner="a", params={})
    repo.jobs.start(running.id)
    asked = repo.jobs.cancel(running.id, actor="a")
    assert (asked.status, asked.cancel_requested) == (JobStatus.RUNNING, True)
    assert repo.jobs.beat([running.id]) == {running.id}
    assert repo.jobs.progress(running.id, {"fraction": 0.1}) is True  # the runner learns of the cancel here too
    repo.jobs.finish(running.id, JobStatus.CANCELLED)
    with pytest.raises(Conflict):
        repo.jobs.cancel(running.id, actor="a")
    with pytest.raises(NotFound):
        repo.jobs.get(10_000)


def test_list_per_owner_newest_first(repo: Repository) -> None:
    ids = [repo.jobs.create(kind="k", owner=o, params={}).id for o in ("ann", "bob", "ann")]
    assert [j.id for j in repo.jobs.list(owner="ann")] == [ids[2], ids[0]]
    assert [j.id for j in repo.jobs.list()] == ids[::-1]
    assert len(repo.jobs.list(limit=1)) == 1


def test_sweep_fails_jobs_whose_heartbeat_stopped(repo: Repository) -> None:
    stale = repo.jobs.create(kind="k", owner="a", params={})
    repo.jobs.start(stale.id)
    time.sleep(1.2)
    fresh = repo.jobs.create(kind="k", owner="a", params={})
    repo.jobs.start(fresh.id)
    assert repo.jobs.sweep(stale_after_s=1.0) == 1
    got = repo.jobs.get(stale.id)
    assert got.status is JobStatus.FAILED and "stopped" in got.error["detail"]
    assert repo.jobs.get(fresh.id).status is JobStatus.RUNNING
