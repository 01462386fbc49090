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
from service.problem_cache import ProblemCache, VersionedCache
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


async def get_notices(request: Request) -> VersionedCache:
    return request.app.state.notices  # type: ignore[no-any-return]


async def get_problems(request: Request) -> ProblemCache:
    return request.app.state.problems  # type: ignore[no-any-return]


async def get_jobs(request: Request) -> JobRunner:
    return request.app.state.jobs  # type: ignore[no-any-return]


async def get_snapshot(request: Request) -> Snapshot:
    return request.app.state.holder.current()  # type: ignore[no-any-return]


#: Declares the bearer scheme in the OpenAPI (so /docs has an Authorize button); the key checks
#: word their own 401s (naming the role a write needs), hence ``auto_error=False``.
bearer_scheme = HTTPBearer(auto_error=False, scheme_name="bearer",
                           description="an API key: `catchment keys create --role planner|admin`")
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)]


def _a(words: str) -> str:
    """'admin' -> 'an admin', 'planner or admin' -> 'a planner or admin'."""
    return f"{'an' if words[:1].lower() in 'aeiou' else 'a'} {words}"


def _user(request: Request, *, doing: str | None, roles: tuple[Role, ...]) -> ApiKey:
    holder: SnapshotHolder = request.app.state.holder
    if not holder.database.up:
        # Every write starts here: answer at once rather than wait for the pool's timeout; the
        # watcher is asked to look again so the first write after the database returns succeeds.
        holder.check_soon()
        msg = (f"the database is unavailable ({holder.database.reason}); lookups still answer from memory, writes wait until "
               f"it is back / 数据库暂时不可用：查询仍可使用，修改请稍后重试")
        raise Unavailable(msg, where="database")
    doing = doing or ("this request" if request.method in ("GET", "HEAD") else "this write")
    header = request.headers.get("authorization", "")
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        needs = f"{_a(' or '.join(r.value for r in roles))} key" if roles else "a key"
        msg = f"{doing} needs {needs}: send 'Authorization: Bearer KEY' (create keys with `catchment keys create`)"
        raise Unauthorized(msg, where="Authorization")
    key = request.app.state.repo.key_for_secret(secret.strip())
    if key is None:
        raise Unauthorized("unknown API key", where="Authorization")
    if key.revoked_at is not None:
        raise Unauthorized("this API key has been revoked", where="Authorization")
    return key  # type: ignore[no-any-return]


def get_user(request: Request, _: Credentials) -> ApiKey:
    """The caller's API key from ``Authorization: Bearer KEY``; 401 without a valid one."""
    return _user(request, doing=None, roles=())


def get_optional_user(request: Request) -> ApiKey | None:
    """The caller's key when an Authorization header is sent (checked as for writes), else None."""
    if not request.headers.get("authorization"):
        return None
    return _user(request, doing=None, roles=())


def require(*roles: Role, doing: str | None = None) -> Callable[[Request], ApiKey]:
    """A dependency: the caller's key, which must have one of ``roles`` (401 without a key, 403
    with a key of another role); ``doing`` names the action in the messages (default "this
    write", or "this request" for a read)."""
    allowed = " or ".join(r.value for r in roles)

    def check(request: Request, _: Credentials) -> ApiKey:
        user = _user(request, doing=doing, roles=roles)
        if user.role not in roles:
            what = doing or ("this request" if request.method in ("GET", "HEAD") else "this write")
            msg = f"{_a(user.role.value)} key may not do this; {what} needs {_a(allowed)} key"
            raise Forbidden(msg, where="Authorization")
        return user

    check.roles = roles  # type: ignore[attr-defined]  # read by service.openapi: 403 where roles are limited
    return check


def actor(user: ApiKey) -> str:
    return f"key:{user.id}:{user.name}"


SettingsDep = Annotated[Settings, Depends(get_settings)]
RepoDep = Annotated[Repository, Depends(get_repo)]
HolderDep = Annotated[SnapshotHolder, Depends(get_holder)]
SnapDep = Annotated[Snapshot, Depends(get_snapshot)]
ProblemsDep = Annotated[ProblemCache, Depends(get_problems)]
JobsDep = Annotated[JobRunner, Depends(get_jobs)]
NoticesDep = Annotated[VersionedCache, Depends(get_notices)]
UserDep = Annotated[ApiKey, Depends(get_user)]
OptionalUserDep = Annotated[ApiKey | None, Depends(get_optional_user)]
PlannerDep = Annotated[ApiKey, Depends(require(Role.PLANNER, Role.ADMIN))]
AdminDep = Annotated[ApiKey, Depends(require(Role.ADMIN))]
AuditReaderDep = Annotated[ApiKey, Depends(require(Role.PLANNER, Role.ADMIN, doing="reading the audit log"))]


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
