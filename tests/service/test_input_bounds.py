"""Inputs at the edges: integers past 64 bits, school codes, upload names, unreadable bodies, wrong methods.

Each of these answered 500 (or lost the write's answer) before; now each is a problem+json that
says what was wrong, and nothing is written.
"""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from geo.errors import NotFound
from service.storage.base import Repository
from tests.conftest import bearer

BIG = 2**63  # one past the largest integer SQLite and PostgreSQL store
SCHOOL = {"code": "T-1", "name": "Test Public School", "lon": 151.2, "lat": -33.8, "levels": ["primary"]}


def _problem(r: object, status: int) -> dict[str, object]:
    assert r.status_code == status, r.text  # type: ignore[attr-defined]
    assert r.headers["content-type"] == "application/problem+json"  # type: ignore[attr-defined]
    return r.json()  # type: ignore[attr-defined, no-any-return]


@pytest.mark.parametrize(("path", "where"), [
    (f"/v1/schools?offset={BIG}", "query.offset"),
    (f"/v1/plans/{BIG}", "path.plan_id"),
    (f"/v1/plans/{BIG}/zones", "path.plan_id"),
    (f"/v1/reports/capacity?plan={BIG}", "query.plan"),
    (f"/v1/plans/compare?a=1&b={BIG}", "query.b"),
    (f"/v1/maps/plan/{BIG}", "path.plan_id"),
    ("/v1/plans/0", "path.plan_id"),
])
def test_integers_beyond_64_bits_are_422(client: TestClient, path: str, where: str) -> None:
    body = _problem(client.get(path), 422)
    assert body["where"] == where


def test_largest_integers_are_answered(client: TestClient) -> None:
    # 2**63 - 1 is still an integer the databases hold: not found, or an empty page, never a 500.
    assert client.get(f"/v1/plans/{BIG - 1}").status_code == 404
    doc = client.get(f"/v1/schools?offset={BIG - 1}").json()
    assert doc["numberReturned"] == 0 and doc["numberMatched"] > 0


def test_integers_in_bodies_and_key_ids_are_bounded(client: TestClient, keys: dict[str, str]) -> None:
    admin = bearer(keys["admin"])
    body = _problem(client.post("/v1/schools", json=SCHOOL | {"capacity": BIG}, headers=admin), 422)
    assert body["where"] == "body.capacity"
    assert _problem(client.delete(f"/v1/keys/{BIG}", headers=admin), 422)["where"] == "path.key_id"
    assert client.get("/v1/schools/T-1").status_code == 404


@pytest.mark.parametrize("code", ["a/b", "北京01", "bell\x07", "with space", "..", "-lead", "x" * 65, "é"])
def test_bad_school_codes_are_refused_before_the_write(client: TestClient, repo: Repository, keys: dict[str, str],
                                                      code: str) -> None:
    body = _problem(client.post("/v1/schools", json=SCHOOL | {"code": code}, headers=bearer(keys["admin"])), 422)
    assert body["where"] == "body.code"
    if len(code) <= 64:
        # The message says which characters are allowed, in English and Chinese.
        assert "letters A-Z a-z, digits 0-9, '-', '_' or '.'" in str(body["detail"])
        assert "学校代码须为" in str(body["detail"])
    with pytest.raises(NotFound):
        repo.get_school(code)


def test_created_school_is_reachable_at_its_location(client: TestClient, keys: dict[str, str]) -> None:
    admin = bearer(keys["admin"])
    r = client.post("/v1/schools", json=SCHOOL | {"code": "NSW_2404.b"}, headers=admin)
    assert r.status_code == 201
    assert r.headers["location"] == "/v1/schools/NSW_2404.b"
    assert client.get(r.headers["location"]).json()["code"] == "NSW_2404.b"
    assert client.delete(r.headers["location"], headers=admin).status_code == 204


def test_imported_school_codes_follow_the_same_rule(client: TestClient, repo: Repository, keys: dict[str, str]) -> None:
    doc = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [151.2, -33.8]}, "properties": {"code": c, "name": n}}
        for c, n in (("ok-1", "Fine"), ("a/b", "Slashed"))]}
    files = {"file": ("schools.geojson", json.dumps(doc).encode())}
    body = _problem(client.post("/v1/imports/schools", files=files, headers=bearer(keys["admin"])), 422)
    assert "a/b" in json.dumps(body) and "学校代码须为" in json.dumps(body, ensure_ascii=False)
    with pytest.raises(NotFound):  # all-or-nothing: the good row is not written either
        repo.get_school("ok-1")


@pytest.mark.parametrize("name", ["s" * 300 + ".geojson", "学" * 100 + ".geojson"])
def test_upload_names_that_cannot_name_a_file_are_422(client: TestClient, keys: dict[str, str], name: str) -> None:
    r = client.post("/v1/imports/schools", files={"file": (name, b"{}")}, headers=bearer(keys["admin"]))
    body = _problem(r, 422)
    assert body["where"] == "file" and "rename the file" in str(body["detail"])


def test_a_body_that_is_not_utf8_is_422(client: TestClient, keys: dict[str, str]) -> None:
    r = client.post("/v1/schools", content=b"\xf1\x98\x96", headers=bearer(keys["admin"]) | {"content-type": "application/json"})
    body = _problem(r, 422)
    assert body["where"] == "body" and "could not be read" in str(body["detail"])


def test_wrong_method_is_405_with_allow(client: TestClient) -> None:
    r = client.delete("/v1/plans")
    body = _problem(r, 405)
    assert body["status"] == 405
    # Starlette names the methods of the first route on the path (GET here; POST is a second route).
    assert "GET" in {m.strip() for m in r.headers["allow"].split(",")}
