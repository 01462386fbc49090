"""Schools: list (GeoJSON, bbox, level, paging), get, create, update, delete; feeder schools (对口直升)."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Query, Response

from service.deps import AdminDep, HolderDep, PlannerDep, RepoDep, actor
from service.http import parse_bbox
from service.operations import schools
from service.params import Count
from service.schemas import FeedersIn, FeedersOut, SchoolIn, SchoolOut, SchoolRef, school_feature

router = APIRouter(prefix="/v1/schools", tags=["schools"])


@router.get("", summary="List schools as GeoJSON")
def list_schools(repo: RepoDep, bbox: Annotated[str | None, Query(description="minlon,minlat,maxlon,maxlat (EPSG:4326)")] = None,
                 level: str | None = None, limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
                 offset: Count = 0) -> dict[str, Any]:
    items, total = schools.schools_page(repo, bbox=parse_bbox(bbox), level=level, limit=limit, offset=offset)
    return {"type": "FeatureCollection", "features": [school_feature(s) for s in items],
            "numberMatched": total, "numberReturned": len(items), "offset": offset, "limit": limit}


@router.get("/{code}", response_model=SchoolOut)
def get_school(code: str, repo: RepoDep) -> SchoolOut:
    return SchoolOut.from_domain(repo.get_school(code))


@router.get("/{code}/feeders", response_model=FeedersOut, summary="Feeder schools (对口直升): where pupils move up to, and from")
def get_feeders(code: str, repo: RepoDep) -> FeedersOut:
    return _feeders(schools.feeders(repo, code))


@router.put("/{code}/feeders", response_model=FeedersOut, summary="Set the schools this school's pupils move up to (planners)")
def set_feeders(code: str, body: FeedersIn, repo: RepoDep, holder: HolderDep, user: PlannerDep) -> FeedersOut:
    done = schools.set_feeders(repo, code, body.feeds_into, actor=actor(user))
    holder.refresh_after_write()
    return _feeders(done)


def _feeders(f: schools.Feeders) -> FeedersOut:
    return FeedersOut(code=f.school.code, name=f.school.name, feeds_into=[SchoolRef.from_domain(s) for s in f.feeds_into],
                      fed_by=[SchoolRef.from_domain(s) for s in f.fed_by])


@router.post("", response_model=SchoolOut, status_code=201)
def create_school(body: SchoolIn, repo: RepoDep, holder: HolderDep, user: AdminDep, response: Response) -> SchoolOut:
    school = repo.create_school(body.to_domain(), actor=actor(user))
    holder.refresh_after_write()
    # Codes are checked (SchoolCode) before the write; quoting keeps any stored code a valid header
    # value and one path segment all the same (headers are Latin-1, and '/' would split the path).
    response.headers["Location"] = f"/v1/schools/{quote(school.code, safe='')}"
    return SchoolOut.from_domain(school)


@router.put("/{code}", response_model=SchoolOut)
def update_school(code: str, body: SchoolIn, repo: RepoDep, holder: HolderDep, user: AdminDep) -> SchoolOut:
    school = schools.update_school(repo, code, body.to_domain(), actor=actor(user))
    holder.refresh_after_write()
    return SchoolOut.from_domain(school)


@router.delete("/{code}", status_code=204)
def delete_school(code: str, repo: RepoDep, holder: HolderDep, user: AdminDep) -> Response:
    repo.delete_school(code, actor=actor(user))
    holder.refresh_after_write()
    return Response(status_code=204)
