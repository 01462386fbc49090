"""Schools: list (GeoJSON, bbox, level, paging), get, create, update, delete."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from geo.errors import InvalidInput
from geo.models import check_slug
from service.deps import AdminDep, HolderDep, RepoDep, actor
from service.schemas import SchoolIn, SchoolOut, school_feature

router = APIRouter(prefix="/v1/schools", tags=["schools"])


def parse_bbox(text: str | None) -> tuple[float, float, float, float] | None:
    """``"minlon,minlat,maxlon,maxlat"`` (EPSG:4326) -> tuple, with clear errors."""
    if text is None:
        return None
    parts = text.split(",")
    try:
        vals = tuple(float(p) for p in parts)
    except ValueError:
        vals = ()
    if len(vals) != 4:
        msg = f"bbox {text!r} must be minlon,minlat,maxlon,maxlat (EPSG:4326)"
        raise InvalidInput(msg, where="bbox")
    x0, y0, x1, y1 = vals
    if not (-180 <= x0 <= x1 <= 180 and -90 <= y0 <= y1 <= 90):
        msg = f"bbox {text!r} is not minlon <= maxlon within -180..180 and minlat <= maxlat within -90..90"
        raise InvalidInput(msg, where="bbox")
    return (x0, y0, x1, y1)


@router.get("", summary="List schools as GeoJSON")
def list_schools(repo: RepoDep, bbox: Annotated[str | None, Query(description="minlon,minlat,maxlon,maxlat (EPSG:4326)")] = None,
                 level: str | None = None, limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
                 offset: Annotated[int, Query(ge=0)] = 0) -> dict[str, Any]:
    box = parse_bbox(bbox)
    lv = check_slug(level, what="level") if level else None
    items = repo.list_schools(bbox=box, level=lv, limit=limit, offset=offset)
    total = repo.count_schools(bbox=box, level=lv)
    return {"type": "FeatureCollection", "features": [school_feature(s) for s in items],
            "numberMatched": total, "numberReturned": len(items), "offset": offset, "limit": limit}


@router.get("/{code}", response_model=SchoolOut)
def get_school(code: str, repo: RepoDep) -> SchoolOut:
    return SchoolOut.from_domain(repo.get_school(code))


@router.post("", response_model=SchoolOut, status_code=201)
def create_school(body: SchoolIn, repo: RepoDep, holder: HolderDep, user: AdminDep, response: Response) -> SchoolOut:
    school = repo.create_school(body.to_domain(), actor=actor(user))
    holder.refresh()
    response.headers["Location"] = f"/v1/schools/{school.code}"
    return SchoolOut.from_domain(school)


@router.put("/{code}", response_model=SchoolOut)
def update_school(code: str, body: SchoolIn, repo: RepoDep, holder: HolderDep, user: AdminDep) -> SchoolOut:
    if body.code != code:
        msg = f"the body's code {body.code!r} differs from the path's {code!r}"
        raise InvalidInput(msg, where="code")
    school = repo.update_school(body.to_domain(), actor=actor(user))
    holder.refresh()
    return SchoolOut.from_domain(school)


@router.delete("/{code}", status_code=204)
def delete_school(code: str, repo: RepoDep, holder: HolderDep, user: AdminDep) -> Response:
    repo.delete_school(code, actor=actor(user))
    holder.refresh()
    return Response(status_code=204)
