"""OGC API - Features (Part 1 core, Part 2 CRS): schools, adopted plans' zones, demand units.

The documents are built here as JSON-ready dicts; the routes only negotiate the format (GeoJSON
or HTML) and set the headers. Collections:

* ``schools``: every school (points);
* ``zones-<plan id>``: the zones of each adopted plan, with its school year and the grades each
  zone serves that year; drafts and proposals too for a planner's key;
* ``demand-<name>``: each demand set (census blocks, compounds), with its children per level;
* ``districts``: the 学区 in force (proposals too for a planner's key): the union of the member
  schools' zones in the adopted plans of the district's levels, or the member schools' points
  where no adopted zone names them.

Coordinates are CRS84 (lon, lat) unless ``crs`` asks for EPSG:4326 or EPSG:4490 (both lat, lon,
as their authority orders them) or EPSG:3857.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import numpy as np
import shapely

from geo.crs import CRS84_URI, OGC_CRS_URIS, ogc_transformers
from geo.errors import InvalidInput, NotFound
from geo.models import Plan, PlanStatus, School, Zone
from geo.planning.demand import DemandUnit
from service.storage.base import DistrictStatus, Repository, StoredDistrict

TITLE = "Catchment: schools and school zones / 学校与招生片区"
CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
]
MAX_LIMIT = 1000
GEOJSON = "application/geo+json"


@dataclass(frozen=True)
class CollectionRef:
    """One collection: what it holds and where it comes from."""

    id: str
    title: str
    description: str
    kind: str  # "schools", "zones", "demand" or "districts"
    plan: Plan | None = None
    demand: str | None = None
    bbox: tuple[float, float, float, float] | None = None
    planner: bool = False  # whether the caller sees proposals too (districts)


@dataclass(frozen=True)
class Page:
    """A page of features with what the response headers need."""

    doc: dict[str, Any]
    crs: str


def _link(href: str, rel: str, mtype: str, title: str | None = None) -> dict[str, Any]:
    out = {"href": href, "rel": rel, "type": mtype}
    return out | {"title": title} if title else out


def landing(base: str) -> dict[str, Any]:
    """The landing page: the API description (``service-desc``), conformance and the collections (``data``)."""
    return {"title": TITLE, "description": "Which school serves each place, as OGC API Features / 以 OGC API Features 发布",
            "links": [_link(f"{base}/ogc?f=json", "self", "application/json", "this document"),
                      _link(f"{base}/ogc?f=html", "alternate", "text/html", "this document as HTML"),
                      _link(f"{base}/ogc/api", "service-desc", "application/vnd.oai.openapi+json;version=3.0", "the API definition"),
                      _link(f"{base}/docs", "service-doc", "text/html", "the API documentation"),
                      _link(f"{base}/ogc/conformance", "conformance", "application/json", "conformance classes"),
                      _link(f"{base}/ogc/collections", "data", "application/json", "the collections")]}


def conformance() -> dict[str, Any]:
    return {"conformsTo": CONFORMANCE}


def _plan_visible(plan: Plan, planner: bool) -> bool:
    return plan.status is PlanStatus.ADOPTED or (planner and plan.status in (PlanStatus.DRAFT, PlanStatus.PROPOSED))


def _district_visible(d: StoredDistrict, planner: bool) -> bool:
    return d.status is DistrictStatus.EFFECTIVE or planner


def collection_refs(repo: Repository, *, planner: bool) -> list[CollectionRef]:
    """Every collection the caller may see (drafts and proposals only with a planner's key)."""
    refs = [CollectionRef("schools", "Schools / 学校", "Every school: code, name, levels, capacity, enrolment, status", "schools")]
    for p in sorted(repo.list_plans(), key=lambda p: p.id):
        if _plan_visible(p, planner):
            refs.append(CollectionRef(f"zones-{p.id}", f"{p.name} ({p.status.value}, {p.school_year})",
                                      f"Zones of plan {p.id}: {p.district}, {p.level}, school year {p.school_year} / "
                                      f"{p.school_year}学年招生范围", "zones", plan=p))
    if any(_district_visible(d, planner) for d in repo.districts.list()):
        refs.append(CollectionRef("districts", "School districts / 学区",
                                  "学区: name, levels, school year, lead school and members; the area is the union of the "
                                  "member schools' adopted zones / 学区名称、学段、学年、学区长学校与成员学校", "districts",
                                  planner=planner))
    for s in repo.demand_sets():
        bbox = (s.get("report") or {}).get("bbox")
        refs.append(CollectionRef(f"demand-{s['name']}", f"Demand: {s['name']} / 生源单元", f"Demand units ({s['kind']})",
                                  "demand", demand=s["name"], bbox=tuple(bbox) if bbox else None))
    return refs


def find_ref(repo: Repository, cid: str, *, planner: bool) -> CollectionRef:
    for ref in collection_refs(repo, planner=planner):
        if ref.id == cid:
            return ref
    msg = f"no collection {cid!r}; GET /ogc/collections lists them / 没有该数据集"
    raise NotFound(msg, where="collectionId")


def collection_doc(ref: CollectionRef, base: str) -> dict[str, Any]:
    """One collection's metadata: extent, CRSs offered, links to its items."""
    items = f"{base}/ogc/collections/{ref.id}/items"
    doc: dict[str, Any] = {
        "id": ref.id, "title": ref.title, "description": ref.description, "itemType": "feature",
        "crs": list(OGC_CRS_URIS), "storageCrs": CRS84_URI,
        "links": [_link(f"{base}/ogc/collections/{ref.id}", "self", "application/json"),
                  _link(f"{items}?f=json", "items", GEOJSON, "the features"),
                  _link(f"{items}?f=html", "items", "text/html", "the features as HTML")],
    }
    if ref.bbox is not None:
        doc["extent"] = {"spatial": {"bbox": [list(ref.bbox)], "crs": CRS84_URI}}
    if ref.plan is not None:
        doc["extent"] = doc.get("extent", {}) | {"temporal": {"interval": [[f"{ref.plan.school_year}-01-01T00:00:00Z", None]]}}
    return doc


def collections_doc(repo: Repository, base: str, *, planner: bool) -> dict[str, Any]:
    return {"links": [_link(f"{base}/ogc/collections", "self", "application/json")],
            "collections": [collection_doc(r, base) for r in collection_refs(repo, planner=planner)]}


# --------------------------------------------------------------------------- features


def _effective_grades(z: Zone, plan: Plan) -> list[str] | None:
    """The grades a zone serves in its plan's school year (a phased-in grade only from its start year)."""
    if z.grades is None:
        return None
    return [g for g in z.grades if z.grade_start_years.get(g, plan.school_year) <= plan.school_year]


def _features(repo: Repository, ref: CollectionRef) -> list[tuple[str | int, shapely.Geometry, dict[str, Any]]]:
    if ref.kind == "schools":
        return [(s.code, shapely.Point(s.lon, s.lat), _school_props(s)) for s in repo.list_schools()]
    if ref.kind == "zones":
        plan = ref.plan
        assert plan is not None
        names = {s.code: s.name for s in repo.list_schools(level=plan.level)}
        return [(int(z.id or 0), z.geometry, _zone_props(z, plan, names)) for z in repo.zones(plan.id)]
    if ref.kind == "districts":
        return _district_features(repo, planner=ref.planner)
    assert ref.demand is not None
    return [(u.id, u.geometry, _unit_props(u)) for u in repo.demand_units(ref.demand)]


def _district_features(repo: Repository, *, planner: bool) -> list[tuple[str | int, shapely.Geometry, dict[str, Any]]]:
    """Each visible 学区 with its area: the member schools' zones in the adopted plans of its levels
    (the plan in force in the district's school year, else the latest adopted), or their points."""
    schools = {s.code: s for s in repo.list_schools()}
    adopted = [p for p in repo.list_plans(status=PlanStatus.ADOPTED)]
    zones_of: dict[int, list[Zone]] = {}
    out: list[tuple[str | int, shapely.Geometry, dict[str, Any]]] = []
    for d in sorted(repo.districts.list(), key=lambda d: d.id or 0):
        if not _district_visible(d, planner):
            continue
        members = set(d.schools)
        parts: list[shapely.Geometry] = []
        for level in d.levels:
            plans = [p for p in adopted if p.level == level]
            now = [p for p in plans if p.school_year <= d.school_year] or plans
            for p in sorted(now, key=lambda p: p.school_year)[-1:] if now else []:
                if p.id not in zones_of:
                    zones_of[p.id] = list(repo.zones(p.id))
                parts += [z.geometry for z in zones_of[p.id] if members & set(z.school_codes)]
        if parts:
            geom = shapely.union_all(parts)
        else:
            geom = shapely.MultiPoint([(schools[c].lon, schools[c].lat) for c in d.schools if c in schools])
        out.append((int(d.id or 0), geom, {
            "district_id": d.id, "name": d.name, "levels": list(d.levels), "school_year": d.school_year,
            "lead": d.lead, "lead_name": schools[d.lead].name if d.lead in schools else d.lead,
            "school_codes": list(d.schools), "schools": [schools[c].name if c in schools else c for c in d.schools],
            "status": d.status.value, "area_from": "zones" if parts else "schools"}))
    return out


def _school_props(s: School) -> dict[str, Any]:
    return {"code": s.code, "name": s.name, "name_local": s.name_local, "levels": list(s.levels), "grades": list(s.grades),
            "capacity": s.capacity, "enrolment": s.enrolment, "classes": s.classes, "address": s.address,
            "status": s.status.value, "feeds_into": list(s.feeds_into)}


def _zone_props(z: Zone, plan: Plan, names: dict[str, str]) -> dict[str, Any]:
    return {"zone_id": z.id, "name": z.name, "school_codes": list(z.school_codes),
            "schools": [names.get(c, c) for c in z.school_codes], "multi_school": len(z.school_codes) > 1,
            "grades": None if z.grades is None else list(z.grades), "grade_start_years": dict(z.grade_start_years),
            "effective_grades": _effective_grades(z, plan), "plan_id": plan.id, "plan": plan.name, "level": plan.level,
            "district": plan.district, "school_year": plan.school_year, "status": plan.status.value}


def _unit_props(u: DemandUnit) -> dict[str, Any]:
    return {"unit_id": u.id, "population": u.population, **{f"children_{k}": v for k, v in u.counts.items()}}


def _parse_bbox(text: str | None, bbox_crs: str | None) -> shapely.Geometry | None:
    if text is None:
        return None
    try:
        vals = [float(v) for v in text.split(",")]
    except ValueError:
        vals = []
    if len(vals) not in (4, 6):
        msg = f"bbox {text!r} must be 4 numbers: lower left and upper right corners / bbox 需为4个数"
        raise InvalidInput(msg, where="bbox")
    if len(vals) == 6:
        vals = [vals[0], vals[1], vals[3], vals[4]]
    x0, y0, x1, y1 = vals
    uri = bbox_crs or CRS84_URI
    if uri != CRS84_URI:
        _, back = ogc_transformers(uri)
        xs, ys = back.transform([x0, x1, x0, x1], [y0, y0, y1, y1])
        x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
    elif x0 > x1 or y0 > y1 or not (-180 <= x0 <= 180 and -180 <= x1 <= 180 and -90 <= y0 <= 90 and -90 <= y1 <= 90):
        msg = f"bbox {text!r} is not minlon,minlat,maxlon,maxlat within -180..180, -90..90 / bbox 超出范围"
        raise InvalidInput(msg, where="bbox")
    return shapely.box(x0, y0, x1, y1)


def _geometry(geom: shapely.Geometry, crs: str) -> dict[str, Any]:
    if crs != CRS84_URI:
        fwd, _ = ogc_transformers(crs)

        def project(xy: np.ndarray) -> np.ndarray:
            a, b = fwd.transform(xy[:, 0], xy[:, 1])
            return np.column_stack((a, b))

        geom = shapely.transform(geom, project)
    return shapely.geometry.mapping(geom)  # type: ignore[no-any-return]


def _feature(fid: str | int, geom: shapely.Geometry, props: dict[str, Any], crs: str, base: str, cid: str) -> dict[str, Any]:
    return {"type": "Feature", "id": fid, "geometry": _geometry(geom, crs), "properties": props,
            "links": [_link(f"{base}/ogc/collections/{cid}/items/{fid}", "self", GEOJSON),
                      _link(f"{base}/ogc/collections/{cid}", "collection", "application/json")]}


def items(repo: Repository, cid: str, *, base: str, planner: bool, limit: int = 10, offset: int = 0,
          bbox: str | None = None, bbox_crs: str | None = None, crs: str | None = None,
          query: Sequence[tuple[str, str]] = ()) -> Page:
    """A page of a collection's features (GeoJSON), with ``numberMatched`` and ``next``/``prev`` links."""
    ref = find_ref(repo, cid, planner=planner)
    out_crs = crs or CRS84_URI
    ogc_transformers(out_crs)  # validates crs before any work
    box = _parse_bbox(bbox, bbox_crs)
    feats = _features(repo, ref)
    if box is not None and feats:
        geoms = np.array([g for _, g, _ in feats], dtype=object)
        keep = shapely.intersects(geoms, box)
        feats = [f for f, k in zip(feats, keep.tolist(), strict=True) if k]
    page = feats[offset:offset + limit]
    kept = [(k, v) for k, v in query if k not in ("offset", "limit")]
    here = f"{base}/ogc/collections/{cid}/items"

    def at(off: int) -> str:
        return f"{here}?{urlencode([*kept, ('limit', str(limit)), ('offset', str(off))])}"

    links = [_link(at(offset), "self", GEOJSON), _link(f"{base}/ogc/collections/{cid}", "collection", "application/json")]
    if offset + limit < len(feats):
        links.append(_link(at(offset + limit), "next", GEOJSON, "next page"))
    if offset > 0:
        links.append(_link(at(max(offset - limit, 0)), "prev", GEOJSON, "previous page"))
    doc = {"type": "FeatureCollection", "features": [_feature(i, g, p, out_crs, base, cid) for i, g, p in page],
           "numberMatched": len(feats), "numberReturned": len(page), "timeStamp": datetime.now(UTC).isoformat(timespec="seconds"),
           "links": links}
    return Page(doc, out_crs)


def item(repo: Repository, cid: str, fid: str, *, base: str, planner: bool, crs: str | None = None) -> Page:
    """One feature by id (a school code, a zone id or a demand unit id)."""
    ref = find_ref(repo, cid, planner=planner)
    out_crs = crs or CRS84_URI
    ogc_transformers(out_crs)
    for i, g, p in _features(repo, ref):
        if str(i) == fid:
            return Page(_feature(i, g, p, out_crs, base, cid), out_crs)
    msg = f"no feature {fid!r} in collection {cid!r} / 没有该要素"
    raise NotFound(msg, where="featureId")


# --------------------------------------------------------------------------- API definition


def _param(name: str, where: str, schema: dict[str, Any], description: str, *, required: bool = False,
           explode: bool | None = None) -> dict[str, Any]:
    out = {"name": name, "in": where, "required": required, "schema": schema, "description": description}
    if explode is not None:
        out |= {"style": "form", "explode": explode}
    return out


def api_definition(base: str) -> dict[str, Any]:
    """The OpenAPI 3.0 document of the OGC API, with reusable parameters (``limit`` among them)."""
    ref = "#/components/parameters/"
    crs_enum = {"type": "string", "format": "uri", "enum": list(OGC_CRS_URIS)}
    params = {
        "collectionId": _param("collectionId", "path", {"type": "string"}, "a collection id from /ogc/collections", required=True),
        "featureId": _param("featureId", "path", {"type": "string"}, "a feature id", required=True),
        "limit": _param("limit", "query", {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": 10},
                        "the most features in one page", explode=False),
        "offset": _param("offset", "query", {"type": "integer", "minimum": 0, "default": 0}, "features to skip"),
        "bbox": _param("bbox", "query", {"type": "array", "minItems": 4, "maxItems": 6, "items": {"type": "number"}},
                       "lower left and upper right corners (in bbox-crs, default CRS84)", explode=False),
        "bbox-crs": _param("bbox-crs", "query", crs_enum, "the CRS of bbox"),
        "crs": _param("crs", "query", crs_enum, "the CRS of the answer's coordinates"),
        "f": _param("f", "query", {"type": "string", "enum": ["json", "html"]}, "the format (default: by Accept)"),
    }
    ok_json = {"200": {"description": "OK", "content": {"application/json": {"schema": {"type": "object"}},
                                                        "text/html": {"schema": {"type": "string"}}}}}
    ok_geo = {"200": {"description": "OK", "content": {GEOJSON: {"schema": {"type": "object"}},
                                                       "text/html": {"schema": {"type": "string"}}}},
              "404": {"description": "no such collection or feature",
                      "content": {"application/problem+json": {"schema": {"type": "object"}}}},
              "422": {"description": "a parameter is invalid", "content": {"application/problem+json": {"schema": {"type": "object"}}}}}
    f = {"$ref": f"{ref}f"}
    paths = {
        "/": {"get": {"summary": "landing page", "operationId": "getLandingPage", "parameters": [f], "responses": ok_json}},
        "/conformance": {"get": {"summary": "conformance classes", "operationId": "getConformance", "parameters": [f],
                                     "responses": ok_json}},
        "/collections": {"get": {"summary": "the collections", "operationId": "getCollections", "parameters": [f],
                                     "responses": ok_json}},
        "/collections/{collectionId}": {"get": {"summary": "one collection", "operationId": "describeCollection",
                                                    "parameters": [{"$ref": f"{ref}collectionId"}, f], "responses": ok_json}},
        "/collections/{collectionId}/items": {"get": {
            "summary": "a page of features", "operationId": "getFeatures",
            "parameters": [{"$ref": f"{ref}{n}"} for n in ("collectionId", "limit", "offset", "bbox", "bbox-crs", "crs", "f")],
            "responses": ok_geo}},
        "/collections/{collectionId}/items/{featureId}": {"get": {
            "summary": "one feature", "operationId": "getFeature",
            "parameters": [{"$ref": f"{ref}{n}"} for n in ("collectionId", "featureId", "crs", "f")], "responses": ok_geo}},
    }
    return {"openapi": "3.0.3", "info": {"title": TITLE, "version": "1.0.0"}, "servers": [{"url": f"{base}/ogc"}], "paths": paths,
            "components": {"parameters": params}}
