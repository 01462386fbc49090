"""Annotated dependency aliases: routes ask for ``RepoDep``, ``SnapDep``, ``UserDep`` ..."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from geo.errors import Forbidden, Unauthorized
from geo.models import ApiKey, Role
from service.mapcache import ProblemCache
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


async def get_snapshot(request: Request) -> Snapshot:
    return request.app.state.holder.current()  # type: ignore[no-any-return]


#: Declares the bearer scheme in the OpenAPI (so /docs has an Authorize button); ``get_user``
#: words its own 401s, hence ``auto_error=False``.
bearer_scheme = HTTPBearer(auto_error=False, scheme_name="bearer",
                           description="an API key: `catchment keys create --role planner|admin`")


def get_user(request: Request,
             credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)]) -> ApiKey:
    """The caller's API key from ``Authorization: Bearer KEY``; 401 without a valid one."""
    secret = credentials.credentials.strip() if credentials is not None else ""
    if not secret:
        raise Unauthorized("this write needs 'Authorization: Bearer KEY' (create keys with `catchment keys create`)",
                           where="Authorization")
    key = request.app.state.repo.key_for_secret(secret)
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

    check.roles = roles  # type: ignore[attr-defined]  # read by service.openapi: 403 where roles are limited
    return check


def actor(user: ApiKey) -> str:
    return f"key:{user.id}:{user.name}"


SettingsDep = Annotated[Settings, Depends(get_settings)]
RepoDep = Annotated[Repository, Depends(get_repo)]
HolderDep = Annotated[SnapshotHolder, Depends(get_holder)]
SnapDep = Annotated[Snapshot, Depends(get_snapshot)]
ProblemsDep = Annotated[ProblemCache, Depends(get_problems)]
UserDep = Annotated[ApiKey, Depends(get_user)]
PlannerDep = Annotated[ApiKey, Depends(require(Role.PLANNER, Role.ADMIN))]
AdminDep = Annotated[ApiKey, Depends(require(Role.ADMIN))]
