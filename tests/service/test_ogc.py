"""OGC API - Features over HTTP on the real sample: links, paging, bbox, CRS (Part 2), drafts, HTML."""

from __future__ import annotations

from typing import Any

import pytest
import shapely
from fastapi.testclient import TestClient
from pyproj import Transformer

from geo.models import PlanStatus
from service.storage.base import DistrictStatus, Repository, StoredDistrict
from tests.conftest import bearer

EPSG4326 = "http://www.opengis.net/def/crs/EPSG/0/4326"
EPSG3857 = "http://www.opengis.net/def/crs/EPSG/0/3857"
EPSG4490 = "http://www.opengis.net/def/crs/EPSG/0/4490"
LINDFIELD = (151.1796, -33.7738)


def _adopted(client: TestClient, level: str, district: str) -> dict[str, Any]:
    plans = client.get("/v1/plans", params={"level": level, "district": district, "status": "adopted"}).json()
    return plans[0]


def test_landing_page_links_what_qgis_and_gdal_need(shared_client: TestClient) -> None:
    doc = shared_client.get("/ogc").json()
    rels = {ln["rel"]: ln for ln in doc["links"]}
    assert rels["service-desc"]["type"] == "application/vnd.oai.openapi+json;version=3.0"
    assert rels["data"]["href"].endswith("/ogc/collections") and rels["conformance"]["href"].endswith("/ogc/conformance")
    api = shared_client.get(rels["service-desc"]["href"])
    assert api.headers["content-type"].startswith("application/vnd.oai.openapi+json")
    spec = api.json()
    assert spec["openapi"].startswith("3.0") and spec["servers"][0]["url"].endswith("/ogc")
    items_params = spec["paths"]["/collections/{collectionId}/items"]["get"]["parameters"]
    assert {"$ref": "#/components/parameters/limit"} in items_params
    assert spec["components"]["parameters"]["limit"]["schema"]["maximum"] == 1000
    conf = shared_client.get("/ogc/conformance").json()["conformsTo"]
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core" in conf
    assert "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs" in conf


def test_collections_schools_and_adopted_zones(shared_client: TestClient, repo: Repository) -> None:
    cols = {c["id"]: c for c in shared_client.get("/ogc/collections").json()["collections"]}
    adopted = [p for p in repo.list_plans(status=PlanStatus.ADOPTED)]
    assert {"schools", *(f"zones-{p.id}" for p in adopted)} <= set(cols)
    assert not any(c.startswith("zones-") and int(c.split("-")[1]) not in {p.id for p in adopted} for c in cols)
    col = cols[f"zones-{adopted[0].id}"]
    assert col["storageCrs"] == "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
    assert {EPSG4326, EPSG3857, EPSG4490} <= set(col["crs"])
    assert any(ln["rel"] == "items" and ln["type"] == "application/geo+json" for ln in col["links"])
    assert shared_client.get("/ogc/collections/zones-99999").status_code == 404


def test_paging_follows_next_links_to_every_zone_once(shared_client: TestClient, repo: Repository) -> None:
    plan = _adopted(shared_client, "elementary", "fairfax")
    url: str | None = f"/ogc/collections/zones-{plan['id']}/items?limit=25"
    seen: list[int] = []
    matched = None
    while url:
        doc = shared_client.get(url).json()
        matched = doc["numberMatched"]
        assert doc["numberReturned"] == len(doc["features"]) <= 25
        seen += [f["id"] for f in doc["features"]]
        url = next((ln["href"] for ln in doc["links"] if ln["rel"] == "next"), None)
    stored = sorted(z.id for z in repo.zones(plan["id"]))
    assert sorted(seen) == stored and matched == len(stored) == 138


def test_bbox_filters_and_bbox_crs_agrees(shared_client: TestClient) -> None:
    plan = _adopted(shared_client, "primary", "nsw")
    lon, lat = LINDFIELD
    box = f"{lon - 0.01},{lat - 0.01},{lon + 0.01},{lat + 0.01}"
    doc = shared_client.get(f"/ogc/collections/zones-{plan['id']}/items", params={"bbox": box, "limit": 100}).json()
    assert 0 < doc["numberMatched"] < 50
    area = shapely.box(lon - 0.01, lat - 0.01, lon + 0.01, lat + 0.01)
    assert all(shapely.geometry.shape(f["geometry"]).intersects(area) for f in doc["features"])
    assert "Lindfield East Public School" in {s for f in doc["features"] for s in f["properties"]["schools"]}
    latlon = f"{lat - 0.01},{lon - 0.01},{lat + 0.01},{lon + 0.01}"
    same = shared_client.get(f"/ogc/collections/zones-{plan['id']}/items",
                             params={"bbox": latlon, "bbox-crs": EPSG4326, "limit": 100}).json()
    assert sorted(f["id"] for f in same["features"]) == sorted(f["id"] for f in doc["features"])
    bad = shared_client.get(f"/ogc/collections/zones-{plan['id']}/items", params={"bbox": "1,2,3"})
    assert bad.status_code == 422 and bad.headers["content-type"].startswith("application/problem+json")


@pytest.mark.parametrize("crs", [EPSG4326, EPSG4490, EPSG3857])
def test_crs_of_the_answer(shared_client: TestClient, crs: str) -> None:
    school = shared_client.get("/ogc/collections/schools/items/2404").json()
    lon, lat = school["geometry"]["coordinates"]
    r = shared_client.get("/ogc/collections/schools/items/2404", params={"crs": crs})
    assert r.headers["content-crs"] == f"<{crs}>"
    x, y = r.json()["geometry"]["coordinates"]
    if crs == EPSG3857:
        ex, ey = Transformer.from_crs(4326, 3857, always_xy=True).transform(lon, lat)
        assert (round(x, 3), round(y, 3)) == (round(ex, 3), round(ey, 3))
    else:
        assert (x, y) == pytest.approx((lat, lon), abs=1e-9)  # both authorities order latitude first
    page = shared_client.get("/ogc/collections/schools/items", params={"crs": crs, "limit": 1})
    assert page.headers["content-crs"] == f"<{crs}>"
    bad = shared_client.get("/ogc/collections/schools/items", params={"crs": "EPSG:4326"})
    assert bad.status_code == 422 and "crs" in bad.json()["detail"]


def test_zone_properties_school_year_and_effective_grades(shared_client: TestClient, repo: Repository) -> None:
    plan = _adopted(shared_client, "high", "nsw")
    phased = [z for z in repo.zones(plan["id"]) if z.grade_start_years and z.grades]
    z = phased[0]
    f = shared_client.get(f"/ogc/collections/zones-{plan['id']}/items/{z.id}").json()
    props = f["properties"]
    assert props["school_year"] == plan["school_year"] and props["grade_start_years"] == dict(z.grade_start_years)
    later = {g for g, y in z.grade_start_years.items() if y > plan["school_year"]}
    assert later and set(props["effective_grades"]).isdisjoint(later)
    assert set(props["effective_grades"]) | later == set(z.grades or ())


def test_drafts_only_for_planners_and_html_escapes_stored_names(client: TestClient, keys: dict[str, str]) -> None:
    plan = _adopted(client, "elementary", "fairfax")
    draft = client.post(f"/v1/plans/{plan['id']}/copy", json={"name": "<img src=x onerror=alert(1)> draft"},
                        headers=bearer(keys["planner"])).json()
    public = {c["id"] for c in client.get("/ogc/collections").json()["collections"]}
    assert f"zones-{draft['id']}" not in public
    assert client.get(f"/ogc/collections/zones-{draft['id']}/items").status_code == 404
    planner = {c["id"] for c in client.get("/ogc/collections", headers=bearer(keys["planner"])).json()["collections"]}
    assert f"zones-{draft['id']}" in planner
    assert client.get("/ogc/collections", headers=bearer("not-a-key")).status_code == 401
    hostile = {"code": "X-1", "name": "</td><script>alert(1)</script>", "lon": 151.2, "lat": -33.8, "levels": ["primary"]}
    assert client.post("/v1/schools", json=hostile, headers=bearer(keys["admin"])).status_code == 201
    page = client.get("/ogc/collections/schools/items/X-1", params={"f": "html"}).text
    assert "<script>alert" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    listing = client.get("/ogc/collections", params={"f": "html"}, headers=bearer(keys["planner"])).text
    assert "<img src=x" not in listing and "&lt;img src=x onerror=alert(1)&gt;" in listing


def _primary_codes(repo: Repository, plan_id: int, n: int) -> list[str]:
    """The first ``n`` single-school zones' schools of a plan, in zone order."""
    return [z.school_codes[0] for z in repo.zones(plan_id) if len(z.school_codes) == 1][:n]


def test_districts_collection_is_the_union_of_member_zones(client: TestClient, repo: Repository, keys: dict[str, str]) -> None:
    plan = _adopted(client, "primary", "nsw")
    assert "districts" not in {c["id"] for c in client.get("/ogc/collections").json()["collections"]}
    codes = _primary_codes(repo, plan["id"], 4)
    body = {"name": "<b>第一学区</b>", "levels": ["primary"], "school_year": plan["school_year"], "lead": codes[0],
            "schools": codes[:3]}
    made = client.post("/v1/districts", json=body, headers=bearer(keys["planner"]))
    assert made.status_code == 201, made.text
    cols = {c["id"]: c for c in client.get("/ogc/collections").json()["collections"]}
    assert "districts" in cols and "学区" in cols["districts"]["title"]
    page = client.get("/ogc/collections/districts/items").json()
    assert page["numberMatched"] == 1
    f = page["features"][0]
    assert f["properties"]["school_codes"] == codes[:3] and f["properties"]["lead"] == codes[0]
    assert f["properties"]["area_from"] == "zones" and f["properties"]["name"] == "<b>第一学区</b>"
    members = [z.geometry for z in repo.zones(plan["id"]) if set(z.school_codes) & set(codes[:3])]
    assert shapely.equals_exact(shapely.normalize(shapely.geometry.shape(f["geometry"])),
                                shapely.normalize(shapely.union_all(members)), tolerance=1e-9)
    html = client.get(f"/ogc/collections/districts/items/{f['id']}", params={"f": "html"}).text
    assert "<b>第一学区" not in html and "&lt;b&gt;第一学区" in html
    # a district of schools that no adopted zone names is drawn as their points
    lone = {"code": "X-9", "name": "Lone school", "lon": 151.0, "lat": -33.9, "levels": ["primary"]}
    assert client.post("/v1/schools", json=lone, headers=bearer(keys["admin"])).status_code == 201
    body2 = body | {"name": "Two", "lead": "X-9", "schools": ["X-9"]}
    assert client.post("/v1/districts", json=body2, headers=bearer(keys["planner"])).status_code == 201
    feats = client.get("/ogc/collections/districts/items").json()["features"]
    two = next(x for x in feats if x["properties"]["name"] == "Two")
    assert two["geometry"]["type"] == "MultiPoint" and two["properties"]["area_from"] == "schools"
    assert two["geometry"]["coordinates"] == [[151.0, -33.9]]


def test_proposed_districts_only_for_planners(client: TestClient, repo: Repository, keys: dict[str, str]) -> None:
    plan = _adopted(client, "primary", "nsw")
    codes = _primary_codes(repo, plan["id"], 2)
    repo.districts.create(StoredDistrict(id=None, name="Proposed", levels=("primary",), school_year=plan["school_year"],
                                         lead=codes[0], schools=tuple(codes), status=DistrictStatus.PROPOSED), actor="test")
    assert "districts" not in {c["id"] for c in client.get("/ogc/collections").json()["collections"]}
    assert client.get("/ogc/collections/districts/items").status_code == 404
    seen = client.get("/ogc/collections/districts/items", headers=bearer(keys["planner"])).json()
    assert [f["properties"]["status"] for f in seen["features"]] == ["proposed"]
