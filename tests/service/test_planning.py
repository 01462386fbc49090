"""A planner's whole day on the real Fairfax sample: copy, edit, conflict, validate, compare,
propose, adopt, and see lookups, the notice and the audit log change."""

from __future__ import annotations

import pytest
import shapely
from fastapi.testclient import TestClient

from geo.planning.demand import assign_units
from service.storage.base import Repository
from tests.conftest import bearer


def _overcrowded_move(client: TestClient, repo: Repository, plan_id: int) -> tuple[str, str, list[str]]:
    """The most overcrowded elementary school, its neighbour, and blocks along their shared edge."""
    rows = client.get("/v1/reports/capacity", params={"plan": plan_id}).json()["rows"]
    worst = max((r for r in rows if r["utilisation_enrolment"]), key=lambda r: r["utilisation_enrolment"])
    assert worst["utilisation_enrolment"] > 1.0
    zones = repo.zones(plan_id)
    home = next(z for z in zones if worst["code"] in z.school_codes)
    edge = lambda z: shapely.length(shapely.intersection(home.geometry.boundary, z.geometry.boundary))
    neighbour = max((z for z in zones if z.id != home.id), key=edge)
    units = repo.demand_units("fairfax-blocks")
    asg = assign_units(units, zones)
    home_pos = zones.index(home)
    inside = {units[u].id for u, z, s in zip(asg.unit_pos, asg.zone_pos, asg.share, strict=True) if z == home_pos and s > 0.999}
    border = neighbour.geometry.boundary
    moved = [u.id for u in units if u.id in inside and u.geometry.distance(border) < 1e-7][:5]
    assert moved
    return worst["code"], neighbour.school_codes[0], moved


def test_planner_workflow_end_to_end(client: TestClient, repo: Repository, keys: dict[str, str]) -> None:
    planner = bearer(keys["planner"])
    adopted = client.get("/v1/plans", params={"district": "fairfax", "level": "elementary", "status": "adopted"}).json()[0]
    # Copy the adopted plan into a draft.
    r = client.post(f"/v1/plans/{adopted['id']}/copy", json={"name": "Relieve overcrowding"}, headers=planner)
    assert r.status_code == 201
    draft, etag = r.json(), r.headers["ETag"]
    assert draft["status"] == "draft" and draft["parent_id"] == adopted["id"]
    before_validation = client.get(f"/v1/plans/{draft['id']}/validation").json()
    source, target, blocks = _overcrowded_move(client, repo, draft["id"])

    # Move blocks from the overcrowded school to its neighbour.
    edit = {"op": "move_units", "demand": "fairfax-blocks", "moves": {b: target for b in blocks}}
    r = client.post(f"/v1/plans/{draft['id']}/edits", json=edit, headers=planner | {"If-Match": etag})
    assert r.status_code == 200, r.text
    new_etag = r.headers["ETag"]
    assert new_etag != etag and "validation" in r.json()
    # A second planner still holding the old ETag gets a 412, not a silent overwrite.
    stale = client.post(f"/v1/plans/{draft['id']}/edits", json=edit, headers=planner | {"If-Match": etag})
    assert stale.status_code == 412 and stale.headers["content-type"] == "application/problem+json"
    # Without If-Match the edit is refused outright (428 Precondition Required since issue 12).
    assert client.post(f"/v1/plans/{draft['id']}/edits", json=edit, headers=planner).status_code == 428
    # Resolve: re-read the plan, take its ETag (nothing more to do, the edit is in).
    assert client.get(f"/v1/plans/{draft['id']}").headers["ETag"] == new_etag

    # Validation runs on the edited draft: a clean edit adds no error.
    after_validation = client.get(f"/v1/plans/{draft['id']}/validation").json()
    assert after_validation["errors"] == before_validation["errors"]
    assert after_validation["counts"].get("overlap", 0) == after_validation["counts"].get("gap", 0) == 0
    # Impact against the adopted plan: the moved pupils leave the source for the target.
    impact = client.get("/v1/plans/compare", params={"a": adopted["id"], "b": draft["id"]}).json()
    assert impact["units_changed"] == len(blocks) and impact["pupils_moved"] > 0
    rows = {s["code"]: s for s in impact["schools"]}
    assert rows[source]["demand_after"] < rows[source]["demand_before"]
    # Figures are published to 0.001 pupil.
    assert rows[target]["demand_after"] - rows[target]["demand_before"] == pytest.approx(impact["pupils_moved"], abs=2e-3)
    csv = client.get("/v1/plans/compare", params={"a": adopted["id"], "b": draft["id"], "format": "csv", "table": "units"})
    assert csv.status_code == 200 and len(csv.text.strip().splitlines()) == len(blocks) + 1

    # Undo and redo through the history.
    r = client.post(f"/v1/plans/{draft['id']}/undo", headers=planner | {"If-Match": new_etag})
    assert r.status_code == 200
    assert client.get("/v1/plans/compare", params={"a": adopted["id"], "b": draft["id"]}).json()["units_changed"] == 0
    r = client.post(f"/v1/plans/{draft['id']}/redo", headers=planner | {"If-Match": r.headers["ETag"]})
    assert r.status_code == 200
    assert client.get("/v1/plans/compare", params={"a": adopted["id"], "b": draft["id"]}).json()["units_changed"] == len(blocks)

    # Propose, then adopt for a school year; the old plan is archived and lookups switch at once.
    block = next(u for u in repo.demand_units("fairfax-blocks") if u.id == blocks[0])
    pt = block.geometry.representative_point()
    old = client.get("/v1/lookup", params={"lon": pt.x, "lat": pt.y, "level": "elementary"}).json()
    assert old["levels"][0]["zones"][0]["schools"][0]["code"] == source
    proposed = client.post(f"/v1/plans/{draft['id']}/propose", headers=planner | {"If-Match": client.get(f"/v1/plans/{draft['id']}").headers["ETag"]})
    assert proposed.json()["status"] == "proposed"
    r = client.post(f"/v1/plans/{draft['id']}/adopt", json={"effective_year": 2024}, headers=planner | {"If-Match": proposed.headers["ETag"]})
    assert r.status_code == 200 and r.json()["status"] == "adopted"
    assert r.json()["archived"] == [adopted["id"]]
    assert client.get(f"/v1/plans/{adopted['id']}").json()["status"] == "archived"
    new = client.get("/v1/lookup", params={"lon": pt.x, "lat": pt.y, "level": "elementary"}).json()
    assert new["levels"][0]["zones"][0]["schools"][0]["code"] == target

    # The public notice names the areas that change school, in English and Chinese.
    notice = client.get(f"/v1/plans/{draft['id']}/notice").json()
    assert notice["areas"]["features"] and notice["text"]["en"] and notice["text"]["zh"]
    assert notice["replaces"]["id"] == adopted["id"]
    # Every write is in the audit log, newest first.
    actions = [e["action"] for e in client.get("/v1/audit", headers=planner).json()]
    for a in ("plan.copy", "plan.edit.move_units", "plan.undo", "plan.redo", "plan.proposed", "plan.adopt", "plan.archive"):
        assert a in actions, a


def test_edit_rules(client: TestClient, keys: dict[str, str], repo: Repository) -> None:
    planner = bearer(keys["planner"])
    adopted = client.get("/v1/plans", params={"district": "fairfax", "level": "elementary", "status": "adopted"}).json()[0]
    etag = client.get(f"/v1/plans/{adopted['id']}").headers["ETag"]
    # Adopted plans are not edited in place.
    r = client.post(f"/v1/plans/{adopted['id']}/edits", json={"op": "merge", "zone_ids": [1, 2]}, headers=planner | {"If-Match": etag})
    assert r.status_code == 409
    draft = client.post(f"/v1/plans/{adopted['id']}/copy", headers=planner)
    pid, etag = draft.json()["id"], draft.headers["ETag"]
    zones = repo.zones(pid)
    # Bad edits are clear 4xx and change nothing.
    for body in ({"op": "replace_geometry", "zone_id": zones[0].id, "geometry": {"type": "Point", "coordinates": [0, 0]}},
                 {"op": "move_units", "moves": {"no-such-block": zones[0].school_codes[0]}},
                 {"op": "split", "zone_id": zones[0].id}, {"op": "teleport"}):
        r = client.post(f"/v1/plans/{pid}/edits", json=body, headers=planner | {"If-Match": etag})
        assert 400 <= r.status_code < 500 and r.headers["content-type"] == "application/problem+json", body
    assert client.get(f"/v1/plans/{pid}").headers["ETag"] == etag
    # A planned school with a zone carved from its neighbours.
    centre = zones[0].geometry.representative_point()
    square = shapely.box(centre.x - 0.003, centre.y - 0.003, centre.x + 0.003, centre.y + 0.003)
    school = {"code": "fcps-new-1", "name": "New Elementary", "lon": centre.x, "lat": centre.y, "levels": ["elementary"],
              "capacity": 800}
    # Schools are admin data: the planner's key may not create one (test_plan_writes covers it); an admin's may.
    r = client.post(f"/v1/plans/{pid}/edits", json={"op": "add_school", "school": school, "geometry": square.__geo_interface__,
                                                    "take_from_neighbours": True}, headers=bearer(keys["admin"]) | {"If-Match": etag})
    assert r.status_code == 200, r.text
    assert client.get("/v1/schools/fcps-new-1").json()["status"] == "planned"
    assert r.json()["validation"]["counts"].get("overlap", 0) == 0
    # The edit's answer and /validation agree for the same version (gaps and slivers too).
    checked = client.get(f"/v1/plans/{pid}/validation").json()
    assert r.json()["validation"] == {"counts": checked["counts"], "errors": checked["errors"]}


def test_notice_of_an_unmodified_copy_says_nothing_changes_and_is_cached(client: TestClient, keys: dict[str, str]) -> None:
    """NSW primary overlaps itself (infants and primary zones): an unmodified copy of it moves no
    area; the notice is computed once per plan version; the compare map of a plan with itself draws."""
    planner = bearer(keys["planner"])
    nsw = client.get("/v1/plans", params={"district": "nsw", "level": "primary"}).json()[0]
    draft = client.post(f"/v1/plans/{nsw['id']}/copy", headers=planner).json()
    first = client.get(f"/v1/plans/{draft['id']}/notice").json()
    assert first["areas"]["features"] == [] and "No area changes school" in first["text"]["en"]
    assert "没有区域调整就读学校" in first["text"]["zh"]
    cache = client.app.state.notices  # type: ignore[attr-defined]
    cached = dict(cache._items)
    assert client.get(f"/v1/plans/{draft['id']}/notice").json() == first and dict(cache._items) == cached
    r = client.get("/v1/maps/compare", params={"a": nsw["id"], "b": nsw["id"], "tiles": "none"})
    assert r.status_code == 200, r.text
