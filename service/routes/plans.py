"""Plans and their zones: list, create, get, zones as GeoJSON (get, replace), adopt."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Body, Header, Query, Request, Response

from geo.models import PlanStatus
from service.deps import HolderDep, PlannerDep, RepoDep, SnapDep, actor
from service.openapi import GeoJSONResponse
from service.operations import plans
from service.operations.versions import etag
from service.params import Id
from service.schemas import AdoptIn, AdoptOut, PlanIn, PlanOut

router = APIRouter(prefix="/v1/plans", tags=["plans"])


@router.get("", response_model=list[PlanOut])
def list_plans(repo: RepoDep, district: str | None = None, level: str | None = None,
               school_year: Annotated[int | None, Query(ge=1900, le=2200)] = None,
               status: PlanStatus | None = None) -> list[PlanOut]:
    return [PlanOut.from_domain(p) for p in plans.list_plans(repo, district=district, level=level, school_year=school_year,
                                                             status=status)]


@router.post("", response_model=PlanOut, status_code=201)
def create_plan(body: PlanIn, repo: RepoDep, snap: SnapDep, user: PlannerDep, response: Response,
                generate: Annotated[str | None, Query(pattern="^network-nearest$", description="build the zones too")] = None,
                mode: Annotated[str, Query(pattern="^(walk|drive)$")] = "walk") -> PlanOut:
    """Create an empty draft, or with ``generate=network-nearest`` a draft whose zones are the
    areas nearest each school of the level along the streets."""
    plan, info = plans.create_plan(repo, snap, name=body.name, district=body.district, level=body.level,
                                   school_year=body.school_year, description=body.description, generate=generate, mode=mode,
                                   actor=actor(user))
    if info is not None:
        response.headers["X-Generation"] = json.dumps(info)
    response.headers["Location"] = f"/v1/plans/{plan.id}"
    response.headers["ETag"] = etag(plan.version)
    return PlanOut.from_domain(plan)


@router.get("/{plan_id}", response_model=PlanOut)
def get_plan(plan_id: Id, repo: RepoDep, snap: SnapDep, response: Response) -> PlanOut:
    """The plan; an adopted one also says whether lookups answer from it (``served``) and, when
    its zones cannot be indexed, why not (``not_served_reason``; also listed by /readyz)."""
    plan = repo.get_plan(plan_id)
    response.headers["ETag"] = etag(plan.version)
    out = PlanOut.from_domain(plan)
    if plan.status is PlanStatus.ADOPTED:
        out.not_served_reason = plans.not_served_reason(snap, plan)
        out.served = out.not_served_reason is None
    return out


@router.get("/{plan_id}/zones", summary="The plan's zones as a GeoJSON FeatureCollection (EPSG:4326)",
            response_class=GeoJSONResponse)
def get_zones(plan_id: Id, repo: RepoDep) -> Response:
    plan, doc = plans.zones_geojson(repo, plan_id)
    return Response(json.dumps(doc, separators=(",", ":")), media_type="application/geo+json",
                    headers={"ETag": etag(plan.version)})


@router.put("/{plan_id}/zones", summary="Replace a draft's or proposed plan's zones with a FeatureCollection "
            "(If-Match required: 428 without, 412 when stale; adopted and archived plans are read-only: 409)")
def replace_zones(plan_id: Id, request: Request, repo: RepoDep, user: PlannerDep,
                  body: Annotated[Any, Body(description="GeoJSON FeatureCollection: school_code(s), name, grades; "
                                                        "a feature's zone_id (as GET gives it) keeps that zone's id")],
                  if_match: Annotated[str | None, Header()] = None) -> Response:
    plan, report = plans.replace_zones(repo, plan_id, body, if_match=if_match, actor=actor(user))
    out = {"plan": PlanOut.from_domain(plan).model_dump(mode="json"), "report": report.as_dict()}
    return Response(json.dumps(out), media_type="application/json", headers={"ETag": etag(plan.version)})


@router.post("/{plan_id}/adopt", response_model=AdoptOut)
def adopt(plan_id: Id, repo: RepoDep, holder: HolderDep, user: PlannerDep, response: Response,
          body: AdoptIn | None = None, if_match: Annotated[str | None, Header()] = None) -> AdoptOut:
    """Adopt the plan from its school year (or ``effective_year``); If-Match is required, so the
    version adopted is the version reviewed. The adopted plans of the same district and level for
    that year or later are archived atomically (``archived``); those for earlier years stay
    adopted for those years (``still_adopted``)."""
    done = plans.adopt(repo, plan_id, effective_year=body.effective_year if body else None, if_match=if_match,
                       actor=actor(user))
    holder.refresh_after_write()
    response.headers["ETag"] = etag(done.plan.version)
    return AdoptOut(**PlanOut.from_domain(done.plan).model_dump(), archived=done.archived, still_adopted=done.still_adopted)
