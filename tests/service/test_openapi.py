"""The OpenAPI document: error responses as problem+json with the statuses each operation really answers."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from service.main import create_app
from tests.conftest import bearer, settings_for

WRITES = {"post", "put", "patch", "delete"}
PUBLIC_WRITES = {("post", "/v1/lookup/batch")}  # a lookup of many points: a POST that needs no key


@pytest.fixture(scope="module")
def doc() -> dict[str, Any]:
    return create_app(settings_for("sqlite:///unused.db")).openapi()


def _operations(doc: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(m, p, op) for p, ops in doc["paths"].items() for m, op in ops.items()]


def test_every_error_is_problem_json_with_the_shared_schema(doc: dict[str, Any]) -> None:
    assert "ProblemDetail" in doc["components"]["schemas"]
    assert "HTTPValidationError" not in doc["components"]["schemas"]
    for method, path, op in _operations(doc):
        errors = {s: r for s, r in op["responses"].items() if int(s) >= 400}
        for status, resp in errors.items():
            assert list(resp["content"]) == ["application/problem+json"], (method, path, status)
            assert resp["content"]["application/problem+json"]["schema"] == {"$ref": "#/components/schemas/ProblemDetail"}
        if op.get("parameters") or "requestBody" in op:
            assert "422" in errors, (method, path)


def test_statuses_follow_what_each_operation_takes(doc: dict[str, Any]) -> None:
    for method, path, op in _operations(doc):
        statuses = {int(s) for s in op["responses"]}
        secured = "security" in op
        key_reads = method == "get" and path in {"/v1/keys", "/v1/audit", "/v1/jobs", "/v1/jobs/{job_id}", "/v1/jobs/{job_id}/result"}
        assert secured == ((method in WRITES and (method, path) not in PUBLIC_WRITES) or key_reads), (method, path)
        if secured:
            assert op["security"] == [{"bearer": []}]
            assert {401, 429} <= statuses, (method, path)
        else:  # public: no key to refuse, nothing stored to clash with (an ambiguous address is a 409)
            # OGC collections show drafts to a planner's key when one is sent, and refuse a bad one (401).
            optional_key = path.startswith("/ogc/collections")
            assert not statuses & ({403, 412, 428} if optional_key else {401, 403, 412, 428}), (method, path)
            assert 409 not in statuses or path in {"/v1/lookup", "/v1/addresses/geocode", "/v1/maps/lookup"}, (method, path)
        body = "requestBody" in op
        assert ({413, 415} <= statuses) == body, (method, path)
        if_match = any(p["name"] == "if-match" for p in op.get("parameters", []))
        assert ({412, 428} <= statuses) == if_match, (method, path)
        assert ("{" in path) <= (404 in statuses), (method, path)
    ops = {(m, p): {int(s) for s in op["responses"]} for m, p, op in _operations(doc)}
    # 403 only where a planner key is not enough.
    assert 403 in ops[("post", "/v1/schools")] and 403 in ops[("post", "/v1/keys")]
    assert 403 not in ops[("post", "/v1/plans")] and 403 not in ops[("post", "/v1/plans/{plan_id}/edits")]
    assert ops[("get", "/healthz")] == {200}
    assert {429, 404, 409} <= ops[("get", "/v1/lookup")]


def test_bearer_scheme_for_the_authorize_button(doc: dict[str, Any]) -> None:
    assert doc["components"]["securitySchemes"]["bearer"] == {
        "type": "http", "scheme": "bearer", "description": "an API key: `catchment keys create --role planner|admin`"}


def test_other_media_types_are_declared(doc: dict[str, Any]) -> None:
    zones = doc["paths"]["/v1/plans/{plan_id}/zones"]["get"]["responses"]["200"]["content"]
    assert list(zones) == ["application/geo+json"]
    capacity = doc["paths"]["/v1/reports/capacity"]["get"]["responses"]["200"]["content"]
    assert set(capacity) == {"application/json", "text/csv"}
    batch = doc["paths"]["/v1/lookup/batch"]["post"]
    assert set(batch["requestBody"]["content"]) == {"application/json", "text/csv", "multipart/form-data"}


def test_declared_statuses_are_what_the_api_answers(client: TestClient, keys: dict[str, str]) -> None:
    # A few answers checked against the document: the shapes line up.
    doc = client.get("/openapi.json").json()
    r = client.post("/v1/schools", json={})
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
    assert "401" in doc["paths"]["/v1/schools"]["post"]["responses"]
    r = client.post("/v1/schools", json={}, headers=bearer(keys["planner"]))
    assert r.status_code == 403 and set(r.json()) >= {"type", "status", "title", "detail", "where"}
