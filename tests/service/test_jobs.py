"""The job runner and /v1/jobs: progress over HTTP, cancel, errors as statuses, owners, a reload."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient

from geo.errors import InvalidInput
from service.deps import actor
from service.operations.jobs import JobContext, JobRunner
from service.storage.base import JobStatus, Repository
from tests.conftest import bearer


def _wait(client: TestClient, job_id: int, key: str, until: Callable[[dict[str, Any]], bool], timeout: float = 20.0) -> dict[str, Any]:
    end = time.monotonic() + timeout
    while True:
        body = client.get(f"/v1/jobs/{job_id}", headers=bearer(key)).json()
        if until(body) or time.monotonic() > end:
            return body
        time.sleep(0.05)


def _owner(repo: Repository, secret: str) -> str:
    """The owner a job submitted with this key records: the key's actor string, as every write records it."""
    key = repo.key_for_secret(secret)
    assert key is not None
    return actor(key)


def test_progress_then_result_over_http(client: TestClient, keys: dict[str, str], repo: Repository) -> None:
    runner: JobRunner = client.app.state.jobs  # type: ignore[attr-defined]
    gate = threading.Event()

    def work(ctx: JobContext) -> dict[str, Any]:
        for i in range(3):
            ctx.report(force=True, fraction=i / 3, gap=0.1 / (i + 1))
        gate.wait(10)
        return {"answer": 42}

    owner = client.get("/v1/jobs", headers=bearer(keys["planner"]))
    assert owner.status_code == 200 and owner.json() == []
    job = runner.submit(kind="test", owner=_owner(repo, keys["planner"]), params={"n": 3}, fn=work)
    mid = _wait(client, job.id, keys["planner"], lambda b: b["progress"].get("fraction", 0) > 0.6)
    assert mid["status"] == "running" and mid["progress"]["gap"] < 0.04
    gate.set()
    done = _wait(client, job.id, keys["planner"], lambda b: b["status"] == "done")
    assert done["result"] == {"answer": 42} and done["progress"]["fraction"] == 1.0
    assert [j["id"] for j in client.get("/v1/jobs", headers=bearer(keys["planner"])).json()] == [job.id]


def test_cancel_stops_a_running_job(client: TestClient, keys: dict[str, str], repo: Repository) -> None:
    runner: JobRunner = client.app.state.jobs  # type: ignore[attr-defined]
    steps: list[int] = []

    def work(ctx: JobContext) -> None:
        for i in range(2000):
            steps.append(i)
            ctx.check()
            time.sleep(0.01)

    job = runner.submit(kind="test", owner=_owner(repo, keys["planner"]), params={}, fn=work)
    _wait(client, job.id, keys["planner"], lambda b: b["status"] == "running")
    r = client.delete(f"/v1/jobs/{job.id}", headers=bearer(keys["planner"]))
    assert r.status_code == 202 and r.json()["cancel_requested"] is True
    end = _wait(client, job.id, keys["planner"], lambda b: b["status"] == "cancelled")
    assert end["status"] == "cancelled" and len(steps) < 2000
    again = client.delete(f"/v1/jobs/{job.id}", headers=bearer(keys["planner"]))
    assert again.status_code == 409 and again.headers["content-type"].startswith("application/problem+json")


def test_domain_error_is_recorded_with_its_status(client: TestClient, keys: dict[str, str], repo: Repository) -> None:
    runner: JobRunner = client.app.state.jobs  # type: ignore[attr-defined]

    def work(ctx: JobContext) -> None:
        raise InvalidInput("3 schools short of 120 seats / 缺少120个学位", where="capacity")

    job = runner.submit(kind="test", owner=_owner(repo, keys["planner"]), params={}, fn=work)
    end = _wait(client, job.id, keys["planner"], lambda b: b["status"] == "failed")
    assert end["error"] == {"type": "InvalidInput", "detail": "3 schools short of 120 seats / 缺少120个学位",
                            "where": "capacity", "status": 422}


def test_jobs_need_a_key_and_belong_to_their_owner(client: TestClient, keys: dict[str, str]) -> None:
    runner: JobRunner = client.app.state.jobs  # type: ignore[attr-defined]
    job = runner.submit(kind="test", owner="key:999:someone else", params={}, fn=lambda ctx: None)
    assert client.get(f"/v1/jobs/{job.id}").status_code == 401
    assert client.get(f"/v1/jobs/{job.id}", headers=bearer(keys["planner"])).status_code == 403
    admin = _wait(client, job.id, keys["admin"], lambda b: b["status"] == "done")
    assert admin["owner"] == "key:999:someone else"
    assert client.get("/v1/jobs/123456", headers=bearer(keys["admin"])).status_code == 404


def test_a_job_survives_a_reload_and_a_dead_process_is_swept(db_url: str, keys: dict[str, str], repo: Repository) -> None:
    from service.main import create_app
    from tests.conftest import settings_for

    with TestClient(create_app(settings_for(db_url))) as first:
        runner: JobRunner = first.app.state.jobs  # type: ignore[attr-defined]
        done = runner.submit(kind="test", owner=_owner(repo, keys["admin"]), params={}, fn=lambda ctx: {"ok": True})
        _wait(first, done.id, keys["admin"], lambda b: b["status"] == "done")
        # A job left running by a process that died: its heartbeat is old.
        orphan = runner.repo.jobs.create(kind="test", owner=_owner(repo, keys["admin"]), params={})
        runner.repo.jobs.start(orphan.id)
    settings = settings_for(db_url)
    settings.jobs.heartbeat_s = 0.1
    time.sleep(10.5)  # the sweep waits for at least 10 s of silence
    with TestClient(create_app(settings)) as second:
        assert second.get(f"/v1/jobs/{done.id}", headers=bearer(keys["admin"])).json()["result"] == {"ok": True}
        swept = second.get(f"/v1/jobs/{orphan.id}", headers=bearer(keys["admin"])).json()
        assert swept["status"] == "failed" and swept["error"]["detail"].startswith("the process running this job stopped")
        assert second.app.state.jobs.repo.jobs.get(orphan.id).status is JobStatus.FAILED  # type: ignore[attr-defined]
