"""The rules of plan writes over HTTP (issue 12, items 5 and 10): If-Match on every plan write
(428 without), adopted and archived plans read-only (409, copy to a draft), schools created only
by admins, the version checked before anything else (412, never "no zone N"), and zone ids kept
across the edits they survive."""

from __future__ import annotations

import shapely
from fastapi.testclient import TestClient

from service.storage.base import Repository
from tests.conftest import bearer


def _adopted(client: TestClient) -> dict:
    return client.get("/v1/plans", params={"district": "fairfax", "level": "elementary", "status": "adopted"}).json()[0]


def _lookup_school(client: TestClient, lon: float, lat: float) -> str:
    body = client.get("/v1/lookup", params={"lon": lon, "lat": lat, "level": "elementary"}).json()
    return body["levels"][0]["zones"][0]["schools"][0]["code"]


def test_adopted_plans_are_read_only_and_every_write_needs_if_match(client: TestClient, repo: Repository,
                                                                    keys: dict[str, str]) -> None:
    planner = bearer(keys["planner"])
    adopted = _adopted(client)
    pid = adopted["id"]
    doc = client.get(f"/v1/plans/{pid}/zones").json()
    zone = repo.zones(pid)[0]
    pt = zone.geometry.representative_point()
    before = _lookup_school(client, pt.x, pt.y)
    version = repo.get_plan(pid).version
    # Hand every zone to one other school: the change a planner must not make to public answers.
    other = next(c for z in repo.zones(pid) for c in z.school_codes if c != before)
    for f in doc["features"]:
        f["properties"]["school_codes"] = [other]

    # No If-Match: 428, problem+json, nothing changed.
    r = client.put(f"/v1/plans/{pid}/zones", json=doc, headers=planner)
    assert r.status_code == 428 and r.headers["content-type"] == "application/problem+json", r.text
    assert r.json()["where"] == "If-Match" and "If-Match" in r.json()["detail"]
    # With the right ETag, still refused: the plan is adopted. English and Chinese, says to copy it.
    r = client.put(f"/v1/plans/{pid}/zones", json=doc, headers=planner | {"If-Match": f'"{version}"'})
    assert r.status_code == 409, r.text
    detail = r.json()["detail"]
    assert "read-only" in detail and f"/v1/plans/{pid}/copy" in detail and "草稿" in detail
    assert repo.get_plan(pid).version == version and _lookup_school(client, pt.x, pt.y) == before

    # Other plan writes need If-Match too.
    draft = client.post(f"/v1/plans/{pid}/copy", headers=planner)
    did, etag = draft.json()["id"], draft.headers["ETag"]
    for path in (f"/v1/plans/{did}/propose", f"/v1/plans/{did}/adopt", f"/v1/plans/{did}/undo"):
        r = client.post(path, headers=planner)
        assert r.status_code == 428 and r.headers["content-type"] == "application/problem+json", (path, r.text)
    assert client.get(f"/v1/plans/{did}").headers["ETag"] == etag
    # A stale ETag on adopt is 412: the version adopted is the version reviewed.
    edit = {"op": "merge", "zone_ids": [z.id for z in repo.zones(did)[:2]]}
    new = client.post(f"/v1/plans/{did}/edits", json=edit, headers=planner | {"If-Match": etag})
    assert new.status_code == 200, new.text
    assert client.post(f"/v1/plans/{did}/adopt", headers=planner | {"If-Match": etag}).status_code == 412
    assert client.get(f"/v1/plans/{did}").json()["status"] == "draft"
    # An archived plan is read-only as well.
    assert client.post(f"/v1/plans/{did}/adopt", headers=planner | {"If-Match": new.headers["ETag"]}).status_code == 200
    archived = client.get(f"/v1/plans/{pid}")
    assert archived.json()["status"] == "archived"
    r = client.put(f"/v1/plans/{pid}/zones", json=doc, headers=planner | {"If-Match": archived.headers["ETag"]})
    assert r.status_code == 409 and "archived" in r.json()["detail"] and "归档" in r.json()["detail"]


def test_a_planner_may_not_create_schools_through_an_edit(client: TestClient, repo: Repository, keys: dict[str, str]) -> None:
    planner, admin = bearer(keys["planner"]), bearer(keys["admin"])
    draft = client.post(f"/v1/plans/{_adopted(client)['id']}/copy", headers=planner)
    did, etag = draft.json()["id"], draft.headers["ETag"]
    centre = repo.zones(did)[0].geometry.representative_point()
    square = shapely.box(centre.x - 0.003, centre.y - 0.003, centre.x + 0.003, centre.y + 0.003).__geo_interface__
    school = {"code": "fcps-plan-9", "name": "Planned Nine", "lon": centre.x, "lat": centre.y, "levels": ["elementary"]}
    schools = repo.count_schools()
    r = client.post(f"/v1/plans/{did}/edits", json={"op": "add_school", "school": school, "geometry": square},
                    headers=planner | {"If-Match": etag})
    assert r.status_code == 403 and "admin" in r.json()["detail"], r.text
    assert repo.count_schools() == schools and client.get(f"/v1/plans/{did}").headers["ETag"] == etag
    # An admin stores it as planned; then the planner's edit references it and creates no row.
    assert client.post("/v1/schools", json=school | {"status": "planned"}, headers=admin).status_code == 201
    r = client.post(f"/v1/plans/{did}/edits", json={"op": "add_school", "school_codes": ["fcps-plan-9"], "geometry": square},
                    headers=planner | {"If-Match": etag})
    assert r.status_code == 200, r.text
    assert repo.count_schools() == schools + 1
    assert any(z.school_codes == ("fcps-plan-9",) for z in repo.zones(did))
    # An open school cannot be "added" as planned.
    open_code = next(c for z in repo.zones(did) for c in z.school_codes if c != "fcps-plan-9")
    r = client.post(f"/v1/plans/{did}/edits", json={"op": "add_school", "school_codes": [open_code], "geometry": square},
                    headers=planner | {"If-Match": r.headers["ETag"]})
    assert r.status_code == 409, r.text


def test_a_stale_edit_is_412_and_zone_ids_survive_edits(client: TestClient, repo: Repository, keys: dict[str, str]) -> None:
    planner = bearer(keys["planner"])
    draft = client.post(f"/v1/plans/{_adopted(client)['id']}/copy", headers=planner)
    did, etag = draft.json()["id"], draft.headers["ETag"]
    zones = repo.zones(did)
    a, b = zones[0], zones[1]
    first = client.post(f"/v1/plans/{did}/edits", json={"op": "merge", "zone_ids": [a.id, b.id]},
                        headers=planner | {"If-Match": etag})
    assert first.status_code == 200, first.text
    after = repo.zones(did)
    # The zones the merge left alone keep their ids; the merged zone keeps the first one's.
    assert {z.id for z in after} == {z.id for z in zones} - {b.id}
    untouched = {z.id: z.geometry.wkb for z in zones if z.id not in (a.id, b.id)}
    assert {z.id: z.geometry.wkb for z in after if z.id in untouched} == untouched
    # A second planner still holding the old ETag edits zone b (gone now): 412, not 404 "no zone".
    c = zones[2]
    stale = client.post(f"/v1/plans/{did}/edits", json={"op": "merge", "zone_ids": [b.id, c.id]},
                        headers=planner | {"If-Match": etag})
    assert stale.status_code == 412 and stale.headers["content-type"] == "application/problem+json", stale.text
    # With a fresh ETag, the ids they hold for untouched zones still work.
    d = zones[3]
    r = client.post(f"/v1/plans/{did}/edits", json={"op": "merge", "zone_ids": [c.id, d.id]},
                    headers=planner | {"If-Match": first.headers["ETag"]})
    assert r.status_code == 200, r.text
    # Undo brings the merged zones back; the survivors still carry their ids.
    r = client.post(f"/v1/plans/{did}/undo", headers=planner | {"If-Match": r.headers["ETag"]})
    assert r.status_code == 200
    assert {c.id, d.id} <= {z.id for z in repo.zones(did)}


def test_a_put_of_the_zones_as_get_gives_them_keeps_their_ids(client: TestClient, repo: Repository,
                                                              keys: dict[str, str]) -> None:
    planner = bearer(keys["planner"])
    draft = client.post(f"/v1/plans/{_adopted(client)['id']}/copy", headers=planner)
    did = draft.json()["id"]
    doc = client.get(f"/v1/plans/{did}/zones").json()
    ids = [f["properties"]["zone_id"] for f in doc["features"]]
    first = doc["features"][0]
    first["properties"]["name"] = "renamed"
    dropped = doc["features"].pop()
    r = client.put(f"/v1/plans/{did}/zones", json=doc, headers=planner | {"If-Match": draft.headers["ETag"]})
    assert r.status_code == 200, r.text
    stored = {z.id: z for z in repo.zones(did)}
    assert sorted(stored) == sorted(ids[:-1]) and dropped["properties"]["zone_id"] not in stored
    assert stored[first["properties"]["zone_id"]].name == "renamed"
    assert not any({"zone_id", "plan_id"} & set(z.attributes) for z in stored.values())
