"""Jobs: long work's status, progress and result; cancel. The same API for every kind of job."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from geo.errors import Forbidden
from geo.models import ApiKey, Role
from service.deps import JobsDep, PlannerDep, actor
from service.errors import status_for_name
from service.schemas import JobOut
from service.storage.base import Job

router = APIRouter(prefix="/v1/jobs", tags=["jobs"])

JobId = Annotated[int, Path(ge=1, le=2**63 - 1)]


def _visible(job: Job, user: ApiKey) -> Job:
    if user.role is not Role.ADMIN and job.owner != actor(user):
        msg = f"job {job.id} belongs to another user / 该任务属于其他用户"
        raise Forbidden(msg, where="job_id")
    return job


def _out(job: Job) -> JobOut:
    return JobOut.from_domain(job, status_of=status_for_name)


@router.get("", response_model=list[JobOut], summary="Your jobs, newest first (admins: everyone's)")
def list_jobs(runner: JobsDep, user: PlannerDep, limit: Annotated[int, Query(ge=1, le=200)] = 50) -> list[JobOut]:
    owner = None if user.role is Role.ADMIN else actor(user)
    return [_out(j) for j in runner.repo.jobs.list(owner=owner, limit=limit)]


@router.get("/{job_id}", response_model=JobOut, summary="A job's status, progress and, when done, its result")
def get_job(job_id: JobId, runner: JobsDep, user: PlannerDep) -> JobOut:
    return _out(_visible(runner.repo.jobs.get(job_id), user))


@router.delete("/{job_id}", response_model=JobOut, status_code=202, summary="Cancel a job (a running one stops at its next step)")
def cancel_job(job_id: JobId, runner: JobsDep, user: PlannerDep) -> JobOut:
    _visible(runner.repo.jobs.get(job_id), user)
    return _out(runner.cancel(job_id, actor=actor(user)))
