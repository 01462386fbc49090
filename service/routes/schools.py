"""Schools: list (GeoJSON, bbox, level, paging), get, create, update, delete; feeder schools (对口直升)."""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Query, Response

from geo.errors import InvalidInput
from geo.models import School, check_slug
from service.deps import AdminDep, HolderDep, PlannerDep, RepoDep, actor
from service.http import parse_bbox
from service.params import Count
from service.schemas import FeedersIn, FeedersOut, SchoolIn, SchoolOut, SchoolRef, school_feature

router = APIRouter(prefix="/v1/schools", tags=["schools"])


@router.get("", summary="List schools as GeoJSON")
def list_schools(repo: RepoDep, bbox: Annotated[str | None, Query(description="minlon,minlat,maxlon,maxlat (EPSG:4326)")] = None,
                 level: str | None = None, limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
                 offset: Count = 0) -> dict[str, Any]:
    box = parse_bbox(bbox)
    lv = check_slug(level, what="level") if level else None
    items = repo.list_schools(bbox=box, level=lv, limit=limit, offset=offset)
    total = repo.count_schools(bbox=box, level=lv)
    return {"type": "FeatureCollection", "features": [school_feature(s) for s in items],
            "numberMatched": total, "numberReturned": len(items), "offset": offset, "limit": limit}


@router.get("/{code}", response_model=SchoolOut)
def get_school(code: str, repo: RepoDep) -> SchoolOut:
    return SchoolOut.from_domain(repo.get_school(code))


@router.get("/{code}/feeders", response_model=FeedersOut, summary="Feeder schools (对口直升): where pupils move up to, and from")
def get_feeders(code: str, repo: RepoDep) -> FeedersOut:
    return _feeders(repo.get_school(code), repo.list_schools())


@router.put("/{code}/feeders", response_model=FeedersOut, summary="Set the schools this school's pupils move up to (planners)")
def set_feeders(code: str, body: FeedersIn, repo: RepoDep, holder: HolderDep, user: PlannerDep) -> FeedersOut:
    school = repo.get_school(code)
    schools = {s.code: s for s in repo.list_schools()}
    targets = list(dict.fromkeys(c.strip() for c in body.feeds_into))
    for i, c in enumerate(targets):
        if c == code:
            msg = f"school {code} cannot feed into itself"
            raise InvalidInput(msg, where=f"feeds_into[{i}]")
        if c not in schools:
            msg = f"no school with code {c!r} (feeds_into[{i}]); create it first"
            raise InvalidInput(msg, where=f"feeds_into[{i}]")
    # A cycle (A -> B -> ... -> A) would make the feeder path endless: refuse it.
    stack, seen = list(targets), set()
    while stack:
        c = stack.pop()
        if c == code:
            msg = f"feeding {code} into {', '.join(targets)} makes a cycle: one of them already feeds back into {code}"
            raise InvalidInput(msg, where="feeds_into")
        if c not in seen:
            seen.add(c)
            stack.extend(schools[c].feeds_into if c in schools else ())
    updated = repo.update_school(replace(school, feeds_into=tuple(targets)), actor=actor(user))
    holder.refresh_after_write()
    schools[code] = updated
    return _feeders(updated, list(schools.values()))


def _feeders(school: School, schools: list[School]) -> FeedersOut:
    by_code = {s.code: s for s in schools}
    return FeedersOut(code=school.code, name=school.name,
                      feeds_into=[SchoolRef.from_domain(by_code[c]) for c in school.feeds_into if c in by_code],
                      fed_by=[SchoolRef.from_domain(s) for s in schools if school.code in s.feeds_into])


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
    if body.code != code:
        msg = f"the body's code {body.code!r} differs from the path's {code!r}"
        raise InvalidInput(msg, where="code")
    school = repo.update_school(body.to_domain(), actor=actor(user))
    holder.refresh_after_write()
    return SchoolOut.from_domain(school)


@router.delete("/{code}", status_code=204)
def delete_school(code: str, repo: RepoDep, holder: HolderDep, user: AdminDep) -> Response:
    repo.delete_school(code, actor=actor(user))
    holder.refresh_after_write()
    return Response(status_code=204)
