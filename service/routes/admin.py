"""Keys (admins) and the audit log (planners and admins)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from geo.models import Role
from service.deps import AdminDep, AuditReaderDep, RepoDep, actor
from service.params import Count, Id
from service.schemas import KeyOut

router = APIRouter(prefix="/v1", tags=["admin"])


class KeyIn(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    role: Role


@router.get("/keys", response_model=list[KeyOut])
def list_keys(repo: RepoDep, user: AdminDep) -> list[KeyOut]:
    return [KeyOut.from_domain(k) for k in repo.list_keys()]


@router.post("/keys", status_code=201, summary="Create a key; the secret is shown once")
def create_key(body: KeyIn, repo: RepoDep, user: AdminDep) -> dict[str, Any]:
    key, secret = repo.create_key(name=body.name, role=body.role, actor=actor(user))
    return {"key": KeyOut.from_domain(key).model_dump(mode="json"), "secret": secret}


@router.delete("/keys/{key_id}", response_model=KeyOut)
def revoke_key(key_id: Id, repo: RepoDep, user: AdminDep) -> KeyOut:
    return KeyOut.from_domain(repo.revoke_key(key_id, actor=actor(user)))


@router.get("/audit", summary="The append-only audit log, newest first")
def audit(repo: RepoDep, user: AuditReaderDep, target: str | None = None,
          limit: Annotated[int, Query(ge=1, le=1000)] = 100, offset: Count = 0) -> list[dict[str, Any]]:
    return [{"id": e.id, "at": e.at.isoformat() if e.at else None, "actor": e.actor, "action": e.action,
             "target": e.target, "before": e.before, "after": e.after}
            for e in repo.audit_events(target=target, limit=limit, offset=offset)]
