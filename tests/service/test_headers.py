"""Security headers and CORS, as a browser sees them over HTTP."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from service.main import create_app
from service.settings import HttpSettings
from tests.conftest import settings_for

ORIGIN = "https://schools.example.org"


def test_api_answers_carry_nosniff_a_closed_policy_and_frame_ancestors(shared_client: TestClient) -> None:
    for path in ("/v1/lookup?lon=-77.3&lat=38.85", "/v1/schools?limit=1", "/v1/plans/999999", "/openapi.json"):
        r = shared_client.get(path)
        assert r.headers["x-content-type-options"] == "nosniff", path
        csp = r.headers["content-security-policy"]
        assert "default-src 'none'" in csp and "frame-ancestors 'self'" in csp, path
        assert r.headers["x-frame-options"] == "SAMEORIGIN"


def test_map_pages_run_only_scripts_with_this_responses_nonce(shared_client: TestClient) -> None:
    seen = set()
    for _ in range(2):
        r = shared_client.get("/v1/maps/coverage", params={"district": "fairfax", "level": "elementary", "tiles": "none"})
        assert r.status_code == 200
        csp = r.headers["content-security-policy"]
        nonce = re.search(r"script-src 'nonce-([^']+)'", csp)
        assert nonce, csp
        assert "object-src 'none'" in csp and "base-uri 'none'" in csp and "frame-ancestors 'self'" in csp
        assert "unsafe-inline" not in csp.split("script-src", 1)[1].split(";", 1)[0]
        tags = re.findall(r"<script\b[^>]*>", r.text, flags=re.IGNORECASE)
        assert tags and all(f'nonce="{nonce[1]}"' in t for t in tags)
        seen.add(nonce[1])
    assert len(seen) == 2, "each response has its own nonce"


@pytest.mark.parametrize("path", ["/docs", "/redoc"])
def test_docs_policy_allows_what_the_docs_page_loads(shared_client: TestClient, path: str) -> None:
    r = shared_client.get(path)
    csp = r.headers["content-security-policy"]
    script_src = csp.split("script-src", 1)[1].split(";", 1)[0]
    scripts = re.findall(r'<script[^>]+src="([^"]+)"', r.text)
    assert scripts and all(url.startswith("/") for url in scripts), scripts  # every script is the service's own
    assert "'self'" in script_src and "'unsafe-inline'" not in script_src and "https:" not in script_src, csp
    # Only the docs: the API itself keeps the closed policy.
    assert "script-src" not in shared_client.get("/v1/schools?limit=1").headers["content-security-policy"]


def test_cors_is_off_by_default(shared_client: TestClient) -> None:
    pre = shared_client.options("/v1/plans/1/copy", headers={"Origin": ORIGIN, "Access-Control-Request-Method": "POST",
                                                             "Access-Control-Request-Headers": "authorization"})
    assert "access-control-allow-origin" not in pre.headers
    r = shared_client.get("/v1/schools?limit=1", headers={"Origin": ORIGIN})
    assert "access-control-allow-origin" not in r.headers


def test_cors_allow_list_answers_preflights_for_listed_origins(db_url: str) -> None:
    settings = settings_for(db_url)
    settings.http = HttpSettings(cors_origins=[ORIGIN])
    with TestClient(create_app(settings)) as c:
        pre = c.options("/v1/plans/1/copy", headers={"Origin": ORIGIN, "Access-Control-Request-Method": "POST",
                                                     "Access-Control-Request-Headers": "authorization,content-type,if-match"})
        assert pre.status_code == 200
        assert pre.headers["access-control-allow-origin"] == ORIGIN
        assert "POST" in pre.headers["access-control-allow-methods"]
        assert "authorization" in pre.headers["access-control-allow-headers"].lower()
        r = c.get("/v1/schools?limit=1", headers={"Origin": ORIGIN})
        assert r.headers["access-control-allow-origin"] == ORIGIN
        assert "etag" in r.headers["access-control-expose-headers"].lower()
        other = c.options("/v1/plans/1/copy", headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"})
        assert other.status_code == 400 and "access-control-allow-origin" not in other.headers
        assert r.headers["x-content-type-options"] == "nosniff"


def test_frame_ancestors_setting(db_url: str) -> None:
    settings = settings_for(db_url)
    settings.http = HttpSettings(frame_ancestors="https://council.example.gov")
    with TestClient(create_app(settings)) as c:
        r = c.get("/v1/maps/lookup", params={"lon": -77.3, "lat": 38.85, "tiles": "none"})
        assert "frame-ancestors https://council.example.gov" in r.headers["content-security-policy"]
        assert "x-frame-options" not in r.headers
