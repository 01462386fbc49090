"""The pages at / and /plan, the API docs served locally, the bearer scheme, and the two small
endpoints the pages use (zones of an answer, the distance distribution), through HTTP."""

from __future__ import annotations

import csv
import io
import itertools
import re

import numpy as np
import pytest
import shapely
from fastapi.testclient import TestClient

from geo.errors import InvalidInput
from service.operations.pages import pick_lang

SCRIPT = re.compile(r"<script\b([^>]*)>(.*?)</script>", re.DOTALL)


@pytest.mark.parametrize(("query", "header", "want"), [
    (None, None, "en"),
    (None, "zh-CN,zh;q=0.9,en;q=0.8", "zh"),
    (None, "zh-TW", "zh"),
    (None, "zh-Hant-HK;q=0.9, fr", "zh"),
    (None, "en-GB,en;q=0.9,zh;q=0.8", "en"),
    (None, "fr-FR, de;q=0.5", "en"),
    (None, "fr, zh;q=0.3, en;q=0.2", "zh"),
    (None, "zh;q=0, en;q=0.1", "en"),
    (None, "garbage;;q=x, zh", "zh"),
    ("en", "zh-CN", "en"),
    ("zh", "en-US", "zh"),
])
def test_language_from_accept_language_or_the_query(query: str | None, header: str | None, want: str) -> None:
    assert pick_lang(query, header) == want


def test_an_unknown_lang_is_refused() -> None:
    with pytest.raises(InvalidInput, match="'fr' is not supported"):
        pick_lang("fr", None)


def _scripts(html: str) -> list[tuple[str, str]]:
    return SCRIPT.findall(html)


@pytest.mark.parametrize("path", ["/", "/plan"])
def test_pages_load_only_files_of_the_service_and_no_inline_script(shared_client: TestClient, path: str) -> None:
    r = shared_client.get(path, headers={"Accept-Language": "zh-CN"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert r.headers["vary"] == "Accept-Language"
    html = r.text
    assert '<html lang="zh-Hans">' in html
    assert "onclick" not in html.lower() and "javascript:" not in html.lower()
    for attrs, body in _scripts(html):
        # Either a file of the service or a JSON data block (not run, so not subject to script-src).
        assert ('src="/static/' in attrs and not body.strip()) or 'type="application/json"' in attrs, attrs
    urls = re.findall(r'(?:src|href)="([^"#?]+)', html)
    assert not [u for u in urls if u.startswith(("http:", "https:", "//"))]
    for u in urls:
        if u.startswith("/static/"):
            assert shared_client.get(u).status_code == 200, u
    en = shared_client.get(path, params={"lang": "en"}, headers={"Accept-Language": "zh-CN"}).text
    assert '<html lang="en">' in en and ">中文<" in en


def test_the_data_block_cannot_be_closed_by_configured_text(shared_client: TestClient) -> None:
    html = shared_client.get("/").text
    block = re.search(r'<script type="application/json" id="catchment-config">(.*?)</script>', html, re.DOTALL)
    assert block is not None
    assert "<" not in block[1] and ">" not in block[1]


def test_bad_lang_is_a_problem(shared_client: TestClient) -> None:
    r = shared_client.get("/", params={"lang": "fr"})
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
    assert r.json()["where"] == "lang"


@pytest.mark.parametrize(("path", "asset"), [("/docs", "/static/vendor/swagger-ui/swagger-ui-bundle.js"),
                                             ("/redoc", "/static/vendor/redoc/redoc.standalone.js")])
def test_api_docs_are_served_locally(shared_client: TestClient, path: str, asset: str) -> None:
    html = shared_client.get(path).text
    assert asset in html and "cdn." not in html and "https://" not in html
    assert not [b for _, b in _scripts(html) if b.strip()], "no inline script"
    r = shared_client.get(asset)
    assert r.status_code == 200 and "javascript" in r.headers["content-type"] and len(r.content) > 500_000


def test_openapi_declares_the_bearer_scheme_on_operations_that_need_a_key(shared_client: TestClient) -> None:
    doc = shared_client.get("/openapi.json").json()
    assert doc["components"]["securitySchemes"]["bearer"] == {
        "type": "http", "scheme": "bearer", "description": "an API key: `catchment keys create --role planner|admin`"}
    paths = doc["paths"]
    for path, method in [("/v1/plans/{plan_id}/adopt", "post"), ("/v1/plans", "post"), ("/v1/jobs", "get"),
                         ("/v1/schools/{code}", "put")]:
        assert paths[path][method]["security"] == [{"bearer": []}], (path, method)
    for path, method in [("/v1/lookup", "get"), ("/v1/plans", "get"), ("/v1/lookup/zones", "get")]:
        assert "security" not in paths[path][method], (path, method)
    assert "/" not in paths and "/plan" not in paths


def test_unauthenticated_writes_keep_their_message(shared_client: TestClient) -> None:
    for headers in ({}, {"Authorization": "Basic abc"}, {"Authorization": "Bearer "}):
        r = shared_client.post("/v1/plans/1/adopt", headers=headers)
        assert r.status_code == 401 and "'Authorization: Bearer KEY'" in r.json()["detail"]
        assert r.headers["www-authenticate"] == "Bearer"
    r = shared_client.post("/v1/plans/1/adopt", headers={"Authorization": "Bearer nope"})
    assert r.status_code == 401 and r.json()["detail"] == "unknown API key"


@pytest.mark.parametrize(("lon", "lat"), [(151.130055, -33.902692), (-77.2, 38.85), (-122.7123, 45.5368)])
def test_lookup_zones_are_the_zones_of_the_answer(shared_client: TestClient, lon: float, lat: float) -> None:
    answer = shared_client.get("/v1/lookup", params={"lon": lon, "lat": lat}).json()
    r = shared_client.get("/v1/lookup/zones", params={"lon": lon, "lat": lat})
    assert r.status_code == 200 and r.headers["content-type"] == "application/geo+json"
    doc = r.json()
    want = sorted((lv["level"], z["zone_id"]) for lv in answer["levels"] for z in lv["zones"])
    got = sorted((f["properties"]["level"], f["properties"]["zone_id"]) for f in doc["features"])
    assert got == want and want
    point = shapely.Point(lon, lat)
    for f in doc["features"]:
        shape = shapely.geometry.shape(f["geometry"])
        assert shape.is_valid and shape.distance(point) < 1e-4
        zone = next(z for lv in answer["levels"] for z in lv["zones"] if z["zone_id"] == f["properties"]["zone_id"])
        assert f["properties"]["school_names"] == [s["name"] for s in zone["schools"]]
        assert f["properties"]["plan_name"] == zone["plan"]["name"]


def test_lookup_zones_outside_every_zone_and_bad_input(shared_client: TestClient) -> None:
    r = shared_client.get("/v1/lookup/zones", params={"lon": 0, "lat": 0})
    assert r.status_code == 200 and r.json()["features"] == []
    r = shared_client.get("/v1/lookup/zones", params={"lon": 200, "lat": 0})
    assert r.status_code == 422 and r.json()["where"] == "query.lon"
    r = shared_client.get("/v1/lookup/zones", params={"lon": 151.13, "lat": -33.9, "level": "Not A Slug!"})
    assert r.status_code == 422 and r.json()["where"] == "level"


def test_travel_distribution_matches_the_per_unit_rows(shared_client: TestClient) -> None:
    plan = next(p for p in shared_client.get("/v1/plans", params={"district": "fairfax", "level": "elementary"}).json()
                if p["status"] == "adopted")
    dist = shared_client.get("/v1/reports/travel/distribution", params={"plan": plan["id"], "bins": 10}).json()
    rows = list(csv.DictReader(io.StringIO(shared_client.get("/v1/reports/travel",
                                                             params={"plan": plan["id"], "format": "csv"}).text)))
    cost = np.array([float(r["cost_m"]) if r["cost_m"] else np.nan for r in rows])
    pupils = np.array([float(r["pupils"]) for r in rows])
    edges = np.array(dist["edges"])
    assert len(edges) == 11 and len(dist["pupils"]) == 10 and dist["unit"] == "m"
    ok = np.isfinite(cost)
    want = [pupils[ok & (cost >= a) & (cost < b)].sum() for a, b in itertools.pairwise(edges[:-1])]
    want.append(pupils[ok & (cost >= edges[-2])].sum())
    assert dist["pupils"] == pytest.approx(want, abs=0.5)
    assert sum(dist["pupils"]) + dist["unreachable_pupils"] == pytest.approx(pupils.sum(), abs=1)
    r = shared_client.get("/v1/reports/travel/distribution", params={"plan": plan["id"], "bins": 1})
    assert r.status_code == 422
