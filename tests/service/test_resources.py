"""Schools, plans, zones, adoption, keys and errors through the HTTP API."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from service.storage.base import Repository
from tests.conftest import bearer

SCHOOL = {"code": "T-1", "name": "Test Public School", "lon": 151.2, "lat": -33.8, "levels": ["primary"], "capacity": 500}


def test_schools_listing_bbox_level_paging(shared_client: TestClient) -> None:
    r = shared_client.get("/v1/schools", params={"bbox": "151.1,-33.9,151.3,-33.7", "level": "high", "limit": 5})
    assert r.status_code == 200
    doc = r.json()
    assert doc["type"] == "FeatureCollection" and doc["numberReturned"] == 5 and doc["numberMatched"] > 5
    for f in doc["features"]:
        lon, lat = f["geometry"]["coordinates"]
        assert 151.1 <= lon <= 151.3 and -33.9 <= lat <= -33.7 and "high" in f["properties"]["levels"]
    page2 = shared_client.get("/v1/schools", params={"bbox": "151.1,-33.9,151.3,-33.7", "level": "high", "limit": 5, "offset": 5}).json()
    assert {f["id"] for f in page2["features"]}.isdisjoint({f["id"] for f in doc["features"]})
    assert shared_client.get("/v1/schools/2404").json()["name"] == "Lindfield East Public School"
    assert shared_client.get("/v1/schools/nope").status_code == 404


def test_school_crud_needs_an_admin_key(client: TestClient, keys: dict[str, str]) -> None:
    assert client.post("/v1/schools", json=SCHOOL).status_code == 401
    r = client.post("/v1/schools", json=SCHOOL, headers=bearer(keys["planner"]))
    assert r.status_code == 403 and r.headers["content-type"] == "application/problem+json"
    assert r.json()["detail"] == "a planner key may not do this; this write needs an admin key"
    assert client.post("/v1/schools", json=SCHOOL).json()["detail"].startswith("this write needs an admin key: ")
    admin = bearer(keys["admin"])
    assert client.post("/v1/schools", json=SCHOOL, headers=admin).status_code == 201
    assert client.post("/v1/schools", json=SCHOOL, headers=admin).status_code == 409
    assert client.put("/v1/schools/T-1", json=SCHOOL | {"capacity": 600}, headers=admin).json()["capacity"] == 600
    assert client.put("/v1/schools/T-2", json=SCHOOL, headers=admin).status_code == 422
    assert client.delete("/v1/schools/T-1", headers=admin).status_code == 204
    assert client.get("/v1/schools/T-1").status_code == 404
    # A school named by a zone cannot be deleted from under it.
    assert client.delete("/v1/schools/2404", headers=admin).status_code == 409
    audit = client.get("/v1/audit", headers=admin).json()
    assert [e["action"] for e in audit[:3]] == ["school.delete", "school.update", "school.create"]


def test_reading_the_audit_log_says_which_key_it_needs(client: TestClient) -> None:
    r = client.get("/v1/audit")
    assert r.status_code == 401
    assert r.json()["detail"].startswith("reading the audit log needs a planner or admin key: ")


def test_revoked_and_unknown_keys(client: TestClient, repo: Repository, keys: dict[str, str]) -> None:
    assert client.post("/v1/schools", json=SCHOOL, headers=bearer("ck_nonsense")).status_code == 401
    key = next(k for k in repo.list_keys() if k.role.value == "planner")
    repo.revoke_key(key.id, actor="test")
    r = client.post("/v1/plans", json={"name": "x", "level": "primary", "school_year": 2027}, headers=bearer(keys["planner"]))
    assert r.status_code == 401 and "revoked" in r.json()["detail"]


def test_plan_zones_adopt_and_index_switch(client: TestClient, keys: dict[str, str], repo: Repository) -> None:
    planner = bearer(keys["planner"])
    nsw_primary = next(p for p in repo.list_plans() if p.district == "nsw" and p.level == "primary")
    zones = client.get(f"/v1/plans/{nsw_primary.id}/zones")
    assert zones.headers["content-type"] == "application/geo+json"
    doc = zones.json()
    assert len(doc["features"]) == 683
    # A new plan for the same year with Lindfield EPS's zone handed to Lindfield PS.
    plan = client.post("/v1/plans", json={"name": "swap", "level": "primary", "school_year": 2026, "district": "nsw"},
                       headers=planner)
    pid = plan.json()["id"]
    version = plan.headers["ETag"]
    for f in doc["features"]:
        if f["properties"]["name"] == "Lindfield EPS":
            f["properties"]["school_codes"] = ["2403"]
    r = client.put(f"/v1/plans/{pid}/zones", json=doc, headers=planner | {"If-Match": version})
    assert r.status_code == 200, r.text
    stale = client.put(f"/v1/plans/{pid}/zones", json=doc, headers=planner | {"If-Match": version})
    assert stale.status_code == 412
    before = client.get("/v1/lookup", params={"lon": 151.1796, "lat": -33.7738, "level": "primary"}).json()
    assert before["levels"][0]["zones"][0]["schools"][0]["code"] == "2404"
    adopted = client.post(f"/v1/plans/{pid}/adopt", headers=planner | {"If-Match": r.headers["ETag"]})
    assert adopted.status_code == 200 and adopted.json()["status"] == "adopted"
    assert client.get(f"/v1/plans/{nsw_primary.id}").json()["status"] == "archived"
    after = client.get("/v1/lookup", params={"lon": 151.1796, "lat": -33.7738, "level": "primary"}).json()
    assert after["levels"][0]["zones"][0]["schools"][0]["code"] == "2403"
    adopted_now = [p for p in client.get("/v1/plans", params={"district": "nsw", "level": "primary", "status": "adopted"}).json()]
    assert [p["id"] for p in adopted_now] == [pid]


def test_rejected_rows_name_the_real_row_and_the_feature(client: TestClient, keys: dict[str, str]) -> None:
    planner = bearer(keys["planner"])
    made = client.post("/v1/plans", json={"name": "x", "level": "primary", "school_year": 2030}, headers=planner)
    pid = made.json()["id"]
    square = {"type": "Polygon", "coordinates": [[[151, -33], [151.1, -33], [151.1, -33.1], [151, -33]]]}
    line = {"type": "LineString", "coordinates": [[151, -33], [151.1, -33]]}
    doc = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": square, "properties": {"school_code": "2404"}},
        {"type": "Feature", "geometry": line, "properties": {"school_code": "2403"}},
        {"type": "Feature", "geometry": square, "properties": {"name": "Unnamed school's zone"}}]}
    body = client.put(f"/v1/plans/{pid}/zones", json=doc, headers=planner | {"If-Match": made.headers["ETag"]}).json()
    assert body["where"] == "row 2"
    assert "first: row 2 (counting from 1), 2403: " in body["detail"] and "(?)" not in body["detail"]
    rejected = body["report"]["rejected"]
    assert [(p["row"], p["feature"]) for p in rejected] == [(2, "2403"), (3, "name=Unnamed school's zone")]


@pytest.mark.parametrize("doc,where", [
    ({"type": "Feature"}, "body"),
    ({"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [[1, 2]]},
                                                 "properties": {"school_code": "2404"}}]}, "features[0].geometry"),
    ({"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": {"type": "LineString", "coordinates": [[151, -33], [151.1, -33]]},
                                                 "properties": {"school_code": "2404"}}]}, "row 1"),
    ({"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [[[151, -33], [151.1, -33], [151.1, -33], [151, -33]]]},
                                                 "properties": {"school_code": "2404"}}]}, "row 1"),
    ({"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [[[151, -33], [151.1, -33], [151.1, -33.1], [151, -33]]]},
                                                 "properties": {"school_code": "nope"}}]}, "features[0].school_codes"),
    ({"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": None, "properties": {}}]}, "school_code"),
])
def test_bad_zone_documents_are_clear_4xx_and_write_nothing(client: TestClient, keys: dict[str, str], doc: dict, where: str) -> None:
    planner = bearer(keys["planner"])
    created = client.post("/v1/plans", json={"name": "x", "level": "primary", "school_year": 2030}, headers=planner)
    pid = created.json()["id"]
    r = client.put(f"/v1/plans/{pid}/zones", json=doc, headers=planner | {"If-Match": created.headers["ETag"]})
    assert r.status_code == 422, r.text
    body = r.json()
    assert r.headers["content-type"] == "application/problem+json"
    assert body["where"] == where and body["detail"]
    assert client.get(f"/v1/plans/{pid}/zones").json()["features"] == []


def test_no_input_gives_a_500(client: TestClient, keys: dict[str, str]) -> None:
    """Odd inputs across the API all answer 4xx problem+json (TestClient re-raises any server error)."""
    planner = bearer(keys["planner"])
    cases = [
        ("get", "/v1/lookup?lon=nan&lat=1", None), ("get", "/v1/lookup?lon=inf&lat=1", None),
        ("get", "/v1/schools?bbox=1,2,3", None), ("get", "/v1/schools?bbox=3,2,1,0", None),
        ("get", "/v1/schools?level=%00", None), ("get", "/v1/plans/abc", None), ("get", "/v1/plans/999999", None),
        ("put", "/v1/plans/1/zones", b"\xff\xfe binary"), ("put", "/v1/plans/1/zones", b"[]"),
        ("post", "/v1/plans", b'{"name": "", "level": "BAD LEVEL", "school_year": 1}'),
        ("post", "/v1/lookup/batch", b"not json"), ("post", "/v1/lookup/batch", b'{"points": [{"lon": "a"}]}'),
        ("post", "/v1/lookup/batch", b'{"points": [{"id": 1, "lon": 500, "lat": 0}]}'),
        ("post", "/v1/plans/1/adopt", b'{"effective_year": "soon"}'),
    ]
    for method, url, body in cases:
        r = client.request(method, url, content=body, headers=planner | {"content-type": "application/json"})
        assert 400 <= r.status_code < 500, (url, r.status_code, r.text)
        assert r.headers["content-type"] == "application/problem+json", url
        assert r.json()["detail"], url


def test_batch_json_and_csv(shared_client: TestClient) -> None:
    pts = [{"id": "a", "lon": 151.1796, "lat": -33.7738}, {"id": "b", "lon": 151.32, "lat": -33.90}]
    r = shared_client.post("/v1/lookup/batch", json={"points": pts})
    assert r.status_code == 200
    rows = r.json()["rows"]
    assert [row["id"] for row in rows] == ["a", "b"]
    assert rows[0]["levels"]["primary"]["schools"] == ["2404"]
    assert rows[1]["levels"] == {}
    csv = shared_client.post("/v1/lookup/batch?format=csv&level=primary", files={"file": ("p.csv", b"id,lon,lat\nx,151.1796,-33.7738\n")})
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    assert csv.text.splitlines() == ["id,lon,lat,primary_schools,primary_zones", f"x,151.1796,-33.7738,2404,{rows[0]['levels']['primary']['zones'][0]}"]


def test_health_and_docs(shared_client: TestClient) -> None:
    assert shared_client.get("/healthz").json()["status"] == "ok"
    ready = shared_client.get("/readyz").json()
    assert ready["status"] == "ok" and ready["detail"]["zones"] > 1000
    assert "/v1/lookup" in shared_client.get("/openapi.json").json()["paths"]
