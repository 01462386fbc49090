"""Jobs: long work's status, progress and result; cancel. The same API for every kind of job."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.responses import FileResponse, JSONResponse

from geo.errors import Conflict, Forbidden
from geo.models import ApiKey, Role
from service.deps import JobsDep, PlannerDep, SettingsDep, SnapDep, actor
from service.errors import status_for_name
from service.openapi import ok_as, problems
from service.operations import assign as ops
from service.schemas import JobOut
from service.storage.base import Job, JobStatus

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


@router.get("/{job_id:int}", response_model=JobOut, summary="A job's status, progress and, when done, its result")
def get_job(job_id: JobId, runner: JobsDep, user: PlannerDep) -> JobOut:
    return _out(_visible(runner.repo.jobs.get(job_id), user))


@router.delete("/{job_id:int}", response_model=JobOut, status_code=202, summary="Cancel a job (a running one stops at its next step)")
def cancel_job(job_id: JobId, runner: JobsDep, user: PlannerDep) -> JobOut:
    _visible(runner.repo.jobs.get(job_id), user)
    return _out(runner.cancel(job_id, actor=actor(user)))


@router.post("/assign", response_model=JobOut, status_code=202,
             summary="Assign every point of a large file (upload or server-side) to zones and schools, on Dask")
async def assign(request: Request, runner: JobsDep, snap: SnapDep, settings: SettingsDep, user: PlannerDep,
                 format: Annotated[str, Query(pattern="^(parquet|csv)$", description="GeoParquet folder (zipped on download) or one CSV")] = "parquet",
                 level: Annotated[str | None, Query(max_length=64)] = None, grade: Annotated[str | None, Query(max_length=8)] = None,
                 year: Annotated[int | None, Query(ge=1900, le=2200)] = None,
                 partitions: Annotated[int, Query(ge=0, le=100_000, description="0: as read")] = 0,
                 shuffle: Annotated[bool, Query(description="sort the whole input spatially across partitions first")] = False,
                 path: Annotated[str | None, Query(max_length=255, description="a file in CATCHMENT_JOBS_INPUT_DIR, instead of an upload")] = None,
                 ) -> Response:
    """202 with the job; ``GET /v1/jobs/{id}`` shows partitions done, then ``result.href`` to download."""
    if path is not None:
        source = ops.server_input(settings, path)
    else:
        source = await ops.save_upload(request, settings)
    fn = ops.assign_job(snap, settings, request.app.state.dask.client(), source, fmt=format, level=level, grade=grade, year=year,
                        partitions=partitions, shuffle=shuffle)
    job = runner.submit(kind="assign", owner=actor(user), fn=fn,
                        params={"file": source.name, "format": format, "level": level, "grade": grade, "year": year,
                                "partitions": partitions, "shuffle": shuffle})
    out = _out(job)
    return JSONResponse(out.model_dump(mode="json"), status_code=202, headers={"Location": out.href})


@router.get("/{job_id:int}/result", summary="Download a finished assignment job's result (CSV, or GeoParquet as a zip)",
            responses=problems(409) | ok_as("text/csv", "application/zip"))
def result(job_id: JobId, runner: JobsDep, settings: SettingsDep, user: PlannerDep) -> FileResponse:
    job = _visible(runner.repo.jobs.get(job_id), user)
    if job.status is not JobStatus.DONE:
        msg = f"job {job_id} is {job.status.value}; its result is ready when it is done / 任务尚未完成"
        raise Conflict(msg, where="job_id")
    got = ops.result_file(settings.jobs.dir / str(job_id))
    media = "text/csv" if got.suffix == ".csv" else "application/zip"
    return FileResponse(got, media_type=media, filename=f"job-{job_id}-{got.name}")
