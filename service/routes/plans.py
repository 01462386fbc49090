"""Plans and their zones: list, create, get, zones as GeoJSON (get, replace), adopt."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Body, Header, Query, Request, Response

from geo.errors import InvalidInput
from geo.io.read import frame_from_geojson, parse_zones
from geo.io.write import zone_feature
from geo.models import PlanStatus, check_slug
from service.deps import HolderDep, PlannerDep, RepoDep, SnapDep, actor
from service.importer import RejectedRows
from service.openapi import GeoJSONResponse
from service.params import Id
from service.schemas import AdoptIn, PlanIn, PlanOut

router = APIRouter(prefix="/v1/plans", tags=["plans"])


def etag(version: int) -> str:
    return f'"{version}"'


def parse_if_match(value: str | None) -> int | None:
    """``If-Match: "7"`` -> 7; absent -> None (last write wins only when the client opts out)."""
    if value is None:
        return None
    text = value.strip().removeprefix("W/").strip('"')
    if not text.isdigit():
        msg = f"If-Match {value!r} must be an ETag from this API, like \"3\""
        raise InvalidInput(msg, where="If-Match")
    return int(text)


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
        from service.routes.travel import generate_network_plan

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
def get_plan(plan_id: Id, repo: RepoDep, response: Response) -> PlanOut:
    plan = repo.get_plan(plan_id)
    response.headers["ETag"] = etag(plan.version)
    return PlanOut.from_domain(plan)


@router.get("/{plan_id}/zones", summary="The plan's zones as a GeoJSON FeatureCollection (EPSG:4326)",
            response_class=GeoJSONResponse)
def get_zones(plan_id: Id, repo: RepoDep) -> Response:
    plan = repo.get_plan(plan_id)
    doc = {"type": "FeatureCollection", "features": [zone_feature(z) for z in repo.zones(plan_id)]}
    return Response(json.dumps(doc, separators=(",", ":")), media_type="application/geo+json",
                    headers={"ETag": etag(plan.version)})


@router.put("/{plan_id}/zones", summary="Replace the plan's zones with a FeatureCollection")
def replace_zones(plan_id: Id, request: Request, repo: RepoDep, holder: HolderDep, user: PlannerDep,
                  body: Annotated[Any, Body(description="GeoJSON FeatureCollection: school_code(s), name, grades")],
                  if_match: Annotated[str | None, Header()] = None) -> Response:
    zones, report = parse_zones(frame_from_geojson(body))
    if report.rejected:
        raise RejectedRows(report)
    plan = repo.replace_zones(plan_id, zones, actor=actor(user), expected_version=parse_if_match(if_match))
    if plan.status is PlanStatus.ADOPTED:
        holder.refresh_after_write()
    report.written = len(zones)
    out = {"plan": PlanOut.from_domain(plan).model_dump(mode="json"), "report": report.as_dict()}
    return Response(json.dumps(out), media_type="application/json", headers={"ETag": etag(plan.version)})


@router.post("/{plan_id}/adopt", response_model=PlanOut)
def adopt(plan_id: Id, repo: RepoDep, holder: HolderDep, user: PlannerDep, response: Response,
          body: AdoptIn | None = None) -> PlanOut:
    """Adopt the plan; the adopted plan of the same district, level and year is archived atomically."""
    plan = repo.adopt_plan(plan_id, actor=actor(user), effective_year=body.effective_year if body else None)
    holder.refresh_after_write()
    response.headers["ETag"] = etag(plan.version)
    return PlanOut.from_domain(plan)
