"""Liveness and readiness."""

from __future__ import annotations

import time

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from service.deps import HolderDep, RepoDep
from service.errors import problem
from service.openapi import problems
from service.schemas import Health

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=Health)
async def healthz() -> Health:
    """The process is up (no database call: cheap enough to poll)."""
    return Health(status="ok")


@router.get("/readyz", response_model=Health, responses=problems(503))
def readyz(repo: RepoDep, holder: HolderDep) -> Health | JSONResponse:
    """The database answers and the lookup index is built; ``degraded`` when an adopted plan
    could not be indexed (it is listed, every other plan answers) or, with 503, when the
    database is away (lookups answer from the in-memory snapshot, writes get 503)."""
    holder.check_now()  # one version read, bounded by the watcher's short timeout
    snap = holder.current()
    skipped = [{"plan_id": pid, "name": name, "reason": why} for pid, (name, why) in sorted(snap.skipped.items())]
    detail = {"index_version": snap.version, "zones": len(snap.index), "schools": len(snap.schools.by_code),
              "backend": repo.url_scheme, "skipped_plans": skipped}
    db = holder.database
    if not db.up:
        msg = (f"degraded: the database is unavailable ({db.reason}); lookups answer from the in-memory snapshot "
               f"of zone version {snap.version}, writes answer 503 until it is back / 降级运行：数据库暂时不可用，查询由内存提供，修改暂不可用")
        return problem(503, "Service unavailable", msg, instance="/readyz", where="database", state="degraded",
                       down_for_s=round(time.monotonic() - db.since, 1), index=detail)
    return Health(status="degraded" if skipped else "ok", detail={"zone_version": snap.version, **detail})
