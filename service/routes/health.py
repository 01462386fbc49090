"""Liveness and readiness."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from geo.errors import Unavailable
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
    """The database answers and the lookup index is built."""
    try:
        repo.ping()
        version = repo.zone_version()
    except Unavailable as exc:
        return problem(503, "Service unavailable", exc.message, instance="/readyz", where="database")
    snap = holder.current()
    return Health(status="ok", detail={"zone_version": version, "index_version": snap.version, "zones": len(snap.index),
                                       "schools": len(snap.schools.by_code), "backend": repo.url_scheme})
