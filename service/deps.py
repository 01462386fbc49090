"""Annotated dependency aliases: routes ask for ``RepoDep``, ``SnapDep``, ``UserDep`` ..."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import Depends, FastAPI, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from geo.address.geocode import Geocoder
from geo.errors import Forbidden, Unauthorized, Unavailable
from geo.models import ApiKey, Role
from service.operations.addresses import build_remote
from service.operations.jobs import JobRunner
from service.problem_cache import ProblemCache
from service.settings import Settings

# The cheap dependencies are `async def`: a plain `def` dependency costs a thread-pool hop on
# every request (measured: about 450 us of a 1.4 ms lookup).
from service.state import Snapshot, SnapshotHolder
from service.storage.base import Repository


async def get_settings(request: Request) -> Settings:
    return request.app.state.settings  # type: ignore[no-any-return]


async def get_repo(request: Request) -> Repository:
    return request.app.state.repo  # type: ignore[no-any-return]


async def get_holder(request: Request) -> SnapshotHolder:
    return request.app.state.holder  # type: ignore[no-any-return]


async def get_problems(request: Request) -> ProblemCache:
    return request.app.state.problems  # type: ignore[no-any-return]


async def get_jobs(request: Request) -> JobRunner:
    return request.app.state.jobs  # type: ignore[no-any-return]


async def get_snapshot(request: Request) -> Snapshot:
    return request.app.state.holder.current()  # type: ignore[no-any-return]


# Declared through FastAPI's HTTPBearer so the OpenAPI names the scheme on every operation that
# needs a key (and /docs has an Authorize button); our own errors stay (auto_error=False).
BEARER = HTTPBearer(scheme_name="bearer", description="an API key from `catchment keys create`", auto_error=False)


def get_user(request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(BEARER)]) -> ApiKey:
    """The caller's API key from ``Authorization: Bearer KEY``; 401 without a valid one."""
    if credentials is None or not credentials.credentials.strip():
        raise Unauthorized("this write needs 'Authorization: Bearer KEY' (create keys with `catchment keys create`)",
                           where="Authorization")
    key = request.app.state.repo.key_for_secret(credentials.credentials.strip())
    if key is None:
        raise Unauthorized("unknown API key", where="Authorization")
    if key.revoked_at is not None:
        raise Unauthorized("this API key has been revoked", where="Authorization")
    return key


def require(*roles: Role) -> Callable[[ApiKey], ApiKey]:
    def check(user: Annotated[ApiKey, Depends(get_user)]) -> ApiKey:
        if user.role not in roles:
            allowed = " or ".join(r.value for r in roles)
            msg = f"a {user.role.value} key may not do this; it needs a {allowed} key"
            raise Forbidden(msg, where="Authorization")
        return user

    return check


def actor(user: ApiKey) -> str:
    return f"key:{user.id}:{user.name}"


SettingsDep = Annotated[Settings, Depends(get_settings)]
RepoDep = Annotated[Repository, Depends(get_repo)]
HolderDep = Annotated[SnapshotHolder, Depends(get_holder)]
SnapDep = Annotated[Snapshot, Depends(get_snapshot)]
ProblemsDep = Annotated[ProblemCache, Depends(get_problems)]
JobsDep = Annotated[JobRunner, Depends(get_jobs)]
UserDep = Annotated[ApiKey, Depends(get_user)]
PlannerDep = Annotated[ApiKey, Depends(require(Role.PLANNER, Role.ADMIN))]
AdminDep = Annotated[ApiKey, Depends(require(Role.ADMIN))]


@asynccontextmanager
async def geocoder_lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Open the remote geocoder (if configured) once per worker, and close its connections at the end.

    Runs inside the application's lifespan (attached to the addresses router), so
    ``app.state.settings`` is set already.
    """
    remote = build_remote(app.state.settings.geocoder)
    app.state.remote_geocoder = remote
    try:
        yield
    finally:
        if remote is not None:
            remote.close()


async def get_remote(request: Request) -> Geocoder | None:
    """The remote geocoder when ``CATCHMENT_GEOCODER=nominatim``, else None (the gazetteer answers)."""
    state = request.app.state
    if not hasattr(state, "remote_geocoder"):
        if state.settings.geocoder.geocoder != "gazetteer":
            msg = "the remote geocoder is configured but was not started (include the addresses router)"
            raise Unavailable(msg, where="geocoder")
        return None
    return state.remote_geocoder  # type: ignore[no-any-return]


RemoteDep = Annotated[Geocoder | None, Depends(get_remote)]
