"""Plans and their zones: list, create, get, zones as GeoJSON (get, replace), adopt."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Body, Header, Query, Request, Response

from geo.io.read import frame_from_geojson, parse_zones
from geo.io.write import zone_feature
from geo.models import PlanStatus, check_slug
from service.deps import HolderDep, PlannerDep, RepoDep, SnapDep, actor
from service.openapi import GeoJSONResponse
from service.operations.imports import RejectedRows
from service.operations.versions import etag, parse_if_match, writable_plan
from service.params import Id
from service.schemas import AdoptIn, AdoptOut, PlanIn, PlanOut

router = APIRouter(prefix="/v1/plans", tags=["plans"])


@router.get("", response_model=list[PlanOut])
def list_plans(repo: RepoDep, district: str | None = None, level: str | None = None,
               school_year: Annotated[int | None, Query(ge=1900, le=2200)] = None,
               status: PlanStatus | None = None) -> list[PlanOut]:
    return [PlanOut.from_domain(p) for p in repo.list_plans(
        district=check_slug(district, what="district") if district else None,
        level=check_slug(level, what="level") if level else None, school_year=school_year, status=status)]


@router.post("", response_model=PlanOut, status_code=201)
def create_plan(body: PlanIn, repo: RepoDep, snap: SnapDep, user: PlannerDep, response: Response,
                generate: Annotated[str | None, Query(pattern="^network-nearest$", description="build the zones too")] = None,
                mode: Annotated[str, Query(pattern="^(walk|drive)$")] = "walk") -> PlanOut:
    """Create an empty draft, or with ``generate=network-nearest`` a draft whose zones are the
    areas nearest each school of the level along the streets."""
    if generate:
        from service.operations.travel import generate_network_plan

        plan, info = generate_network_plan(repo, snap, name=body.name, district=body.district, level=body.level,
                                           year=body.school_year, mode=mode, actor=actor(user))
        response.headers["X-Generation"] = json.dumps(info)
    else:
        plan = repo.create_plan(name=body.name, district=body.district, level=body.level, school_year=body.school_year,
                                actor=actor(user), description=body.description)
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
        skipped = snap.skipped.get(plan.id)
        out.served = skipped is None
        out.not_served_reason = None if skipped is None else f"not served: {skipped[1]} / 此方案未提供查询：分区无法建立索引"
    return out


@router.get("/{plan_id}/zones", summary="The plan's zones as a GeoJSON FeatureCollection (EPSG:4326)",
            response_class=GeoJSONResponse)
def get_zones(plan_id: Id, repo: RepoDep) -> Response:
    plan = repo.get_plan(plan_id)
    doc = {"type": "FeatureCollection", "features": [zone_feature(z) for z in repo.zones(plan_id)]}
    return Response(json.dumps(doc, separators=(",", ":")), media_type="application/geo+json",
                    headers={"ETag": etag(plan.version)})


@router.put("/{plan_id}/zones", summary="Replace a draft's or proposed plan's zones with a FeatureCollection "
            "(If-Match required: 428 without, 412 when stale; adopted and archived plans are read-only: 409)")
def replace_zones(plan_id: Id, request: Request, repo: RepoDep, user: PlannerDep,
                  body: Annotated[Any, Body(description="GeoJSON FeatureCollection: school_code(s), name, grades; "
                                                        "a feature's zone_id (as GET gives it) keeps that zone's id")],
                  if_match: Annotated[str | None, Header()] = None) -> Response:
    _, version = writable_plan(repo, plan_id, if_match)
    zones, report = parse_zones(frame_from_geojson(body))
    if report.rejected:
        raise RejectedRows(report)
    plan = repo.replace_zones(plan_id, zones, actor=actor(user), expected_version=version)
    report.written = len(zones)
    out = {"plan": PlanOut.from_domain(plan).model_dump(mode="json"), "report": report.as_dict()}
    return Response(json.dumps(out), media_type="application/json", headers={"ETag": etag(plan.version)})


@router.post("/{plan_id}/adopt", response_model=AdoptOut)
def adopt(plan_id: Id, repo: RepoDep, holder: HolderDep, user: PlannerDep, response: Response,
          body: AdoptIn | None = None, if_match: Annotated[str | None, Header()] = None) -> AdoptOut:
    """Adopt the plan from its school year (or ``effective_year``); If-Match is required, so the
    version adopted is the version reviewed. The adopted plans of the same district and level for
    that year or later are archived atomically (``archived``); those for earlier years stay
    adopted for those years (``still_adopted``)."""
    done = repo.adopt(plan_id, actor=actor(user), effective_year=body.effective_year if body else None,
                      expected_version=parse_if_match(if_match))
    holder.refresh_after_write()
    plan = done.plan
    response.headers["ETag"] = etag(plan.version)
    earlier = [p.id for p in repo.list_plans(district=plan.district, level=plan.level, status=PlanStatus.ADOPTED)
               if p.school_year < plan.school_year]
    return AdoptOut(**PlanOut.from_domain(plan).model_dump(), archived=list(done.archived), still_adopted=earlier)
