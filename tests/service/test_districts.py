"""/v1/districts: CRUD with its 422/404/409/412 answers, formation as a job (result, infeasible, cancel), adoption."""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from geo.models import School
from service.storage.base import Repository
from tests.conftest import bearer

# The hand-checkable line of tests/geo/districts/test_formation.py: km along the equator, quality.
POS = {"A": 0, "B": 1, "C": 2, "D": 10, "E": 11, "F": 12}
Q = {"A": 90, "B": 70, "C": 80, "D": 60, "E": 40, "F": 50}
KM = 1 / 111.32  # degrees of longitude per km at the equator


def _line(repo: Repository) -> None:
    repo.import_schools([School(code=f"t-{c}", name=f"School {c}", name_local=f"{c}校", levels=("town",),
                                lon=POS[c] * KM, lat=0.0, attributes={"q": Q[c]}) for c in POS], actor="t")


def _body(**over: Any) -> dict[str, Any]:
    return {"name": "第一学区", "levels": ["town"], "school_year": 2026, "lead": "t-A", "schools": ["t-A", "t-B"]} | over


def _wait(client: TestClient, job_id: int, key: str, until: Callable[[dict[str, Any]], bool], timeout: float = 60.0) -> dict[str, Any]:
    end = time.monotonic() + timeout
    while True:
        body = client.get(f"/v1/jobs/{job_id}", headers=bearer(key)).json()
        if until(body) or time.monotonic() > end:
            return body
        time.sleep(0.05)


def test_crud_public_reads_planner_writes(client: TestClient, keys: dict[str, str], repo: Repository) -> None:
    _line(repo)
    assert client.post("/v1/districts", json=_body()).status_code == 401
    r = client.post("/v1/districts", json=_body(schools=["t-B", "t-A", "t-C"]), headers=bearer(keys["planner"]))
    assert r.status_code == 201, r.text
    d = r.json()
    assert d["schools"] == ["t-A", "t-B", "t-C"] and d["status"] == "effective" and r.headers["Location"] == d["href"]
    listed = client.get("/v1/districts?level=town&year=2026").json()
    assert [(x["name"], x["lead"]) for x in listed] == [("第一学区", "t-A")]
    got = client.get(d["href"])
    assert got.status_code == 200 and got.headers["ETag"] == '"1"'
    put = client.put(d["href"], json=_body(lead="t-B", schools=["t-A", "t-B"]), headers=bearer(keys["planner"]) | {"If-Match": '"1"'})
    assert put.status_code == 200 and put.json()["lead"] == "t-B" and put.json()["version"] == 2
    stale = client.put(d["href"], json=_body(), headers=bearer(keys["planner"]) | {"If-Match": '"1"'})
    assert stale.status_code == 412
    assert client.delete(d["href"], headers=bearer(keys["planner"])).status_code == 204
    assert client.get(d["href"]).status_code == 404
    actions = sorted(e.action for e in repo.audit_events(target=f"district:{d['id']}"))
    assert actions == ["district.create", "district.delete", "district.update"]


@pytest.mark.parametrize(("body", "status", "where"), [
    (_body(schools=["t-A", "t-Z"]), 422, "schools"),                      # unknown school
    (_body(lead="t-C"), 422, "lead"),                                       # lead not a member
    (_body(name="x", lead="t-B", schools=["t-B", "t-C"]), 422, "schools"),  # t-B is in 第一学区 (town, 2026)
    (_body(lead="t-C", schools=["t-C", "t-D"]), 409, "name"),               # 第一学区 exists for 2026
])
def test_invalid_districts_name_the_field(client: TestClient, keys: dict[str, str], repo: Repository,
                                          body: dict[str, Any], status: int, where: str) -> None:
    _line(repo)
    assert client.post("/v1/districts", json=_body(), headers=bearer(keys["planner"])).status_code == 201
    r = client.post("/v1/districts", json=body, headers=bearer(keys["planner"]))
    assert r.status_code == status and r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["where"] == where, r.json()
    assert " / " in r.json()["detail"]  # English / Chinese


def test_more_schools_than_the_profile_allows(client: TestClient, keys: dict[str, str], repo: Repository) -> None:
    repo.import_schools([School(code=f"m-{i}", name=f"M {i}", levels=("town",), lon=i / 100, lat=0.0) for i in range(11)], actor="t")
    r = client.post("/v1/districts", json=_body(lead="m-0", schools=[f"m-{i}" for i in range(11)]), headers=bearer(keys["planner"]))
    assert r.status_code == 422 and r.json()["where"] == "schools" and "at most 10" in r.json()["detail"]


def test_form_as_a_job_then_adopt(client: TestClient, keys: dict[str, str], repo: Repository) -> None:
    _line(repo)
    form = {"level": "town", "school_year": 2026, "max_schools": 3, "score": "q", "strong_share": None, "time_limit_s": 30,
            "lead_codes": ["t-A", "t-D"]}
    r = client.post("/v1/districts/form", json=form, headers=bearer(keys["planner"]))
    assert r.status_code == 202, r.text
    job = r.json()
    assert r.headers["Location"] == f"/v1/jobs/{job['id']}" and job["kind"] == "districts.form"
    done = _wait(client, job["id"], keys["planner"], lambda b: b["status"] in ("done", "failed"))
    assert done["status"] == "done", done
    res = done["result"]
    # The unique balanced optimum of the line: {A, B, E} / {D, C, F} (see the geo test's docstring).
    assert {frozenset(d["schools"]) for d in res["districts"]} == {frozenset({"t-A", "t-B", "t-E"}), frozenset({"t-C", "t-D", "t-F"})}
    assert res["between_cv"] == pytest.approx(5 / 195)  # totals 200 and 190 against 195 each and res["status"] == "optimal" and res["seconds"] >= 0
    assert res["max_within_range"] == pytest.approx(50.0)  # A 90 - E 40
    proposals = client.get(f"/v1/districts?job={job['id']}").json()
    assert [p["status"] for p in proposals] == ["proposed", "proposed"] and proposals[0]["report"]["gap"] is not None
    adopted = client.post(f"/v1/districts/proposals/{job['id']}/adopt", headers=bearer(keys["planner"]))
    assert adopted.status_code == 200 and [d["status"] for d in adopted.json()] == ["effective", "effective"]
    assert len(client.get("/v1/districts?status=effective&level=town").json()) == 2


def test_infeasible_options_are_a_422_with_why(client: TestClient, keys: dict[str, str], repo: Repository) -> None:
    _line(repo)
    form = {"level": "town", "school_year": 2026, "max_schools": 3, "score": "q", "max_travel_m": 3000, "districts": 1}
    r = client.post("/v1/districts/form", json=form, headers=bearer(keys["planner"]))
    assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["detail"] and client.get("/v1/jobs", headers=bearer(keys["planner"])).json() == []
    missing = client.post("/v1/districts/form", json=form | {"score": "nope", "districts": None}, headers=bearer(keys["planner"]))
    assert missing.status_code == 422 and "nope" in missing.json()["detail"]


def test_cancel_a_formation_job(client: TestClient, keys: dict[str, str], repo: Repository) -> None:
    rng = random.Random(7)
    repo.import_schools([School(code=f"r-{i}", name=f"R {i}", levels=("rural",), lon=rng.uniform(0, 0.5), lat=rng.uniform(0, 0.5),
                                attributes={"q": rng.uniform(40, 100)}) for i in range(80)], actor="t")
    form = {"level": "rural", "school_year": 2026, "score": "q", "time_limit_s": 120, "mip_rel_gap": 0}
    job = client.post("/v1/districts/form", json=form, headers=bearer(keys["planner"])).json()
    _wait(client, job["id"], keys["planner"], lambda b: b["status"] == "running")
    started = time.monotonic()
    assert client.delete(f"/v1/jobs/{job['id']}", headers=bearer(keys["planner"])).status_code == 202
    end = _wait(client, job["id"], keys["planner"], lambda b: b["status"] in ("cancelled", "done", "failed"))
    assert end["status"] == "cancelled" and time.monotonic() - started < 30
    assert client.get(f"/v1/districts?job={job['id']}").json() == []  # nothing proposed


def test_lookup_names_the_district(client: TestClient, keys: dict[str, str], repo: Repository) -> None:
    plan, zone = next((p, z) for p, z in repo.adopted_zones() if p.level == "elementary" and len(z.school_codes) == 1)
    pt = zone.geometry.representative_point()
    code = zone.school_codes[0]
    other = next(s.code for s in repo.list_schools(level="elementary") if s.code != code)
    lead = repo.get_school(other)
    before = client.get(f"/v1/lookup?lon={pt.x}&lat={pt.y}&level=elementary&year=2026").json()
    assert before["districts"] == {} and "学区长学校" not in before["explanation"]["zh"]
    body = {"name": "North <b>", "levels": ["elementary"], "school_year": 2025, "lead": other, "schools": [code, other]}
    d = client.post("/v1/districts", json=body, headers=bearer(keys["planner"])).json()
    got = client.get(f"/v1/lookup?lon={pt.x}&lat={pt.y}&level=elementary&year=2026").json()
    assert got["districts"] == {code: {"id": d["id"], "name": "North <b>", "lead": other, "lead_name": lead.name,
                                       "href": f"/v1/districts/{d['id']}"}}
    assert f"is in the school district North <b> (lead school {lead.name})" in got["explanation"]["en"]
    assert f"属于North <b>（学区长学校：{lead.name_local or lead.name}）" in got["explanation"]["zh"]
    # Not yet in force for 2024, and proposals are never said.
    assert client.get(f"/v1/lookup?lon={pt.x}&lat={pt.y}&level=elementary&year=2024").json()["districts"] == {}
    assert plan.level == "elementary"


def _shown(text: str, html: str) -> bool:
    """``text`` is on the page as itself or inside a script's JSON string (the legend travels so)."""
    js = json.dumps(text)[1:-1].replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return text in html or js in html


def test_coverage_map_by_district(client: TestClient, keys: dict[str, str], repo: Repository) -> None:
    es = sorted(s.code for s in repo.list_schools(level="elementary"))
    lead = repo.get_school(es[0])
    for name, members in (("North <script>alert(1)</script>", es[:4]), ("南区 & co", es[4:8])):
        body = {"name": name, "levels": ["elementary"], "school_year": 2024, "lead": members[0], "schools": members}
        assert client.post("/v1/districts", json=body, headers=bearer(keys["planner"])).status_code == 201
    html = client.get("/v1/maps/coverage?level=elementary&district=fairfax&year=2026&by=district&tiles=none").text
    # The legend is escaped HTML carried in a JSON string; hover names and popups are text nodes.
    assert "<script>alert" not in html and _shown("North &lt;script&gt;alert(1)", html)
    assert _shown("南区 &amp; co", html) and _shown("School districts", html) and 'window.catchmentLayers["districts"]' in html
    assert html.count("catchment-district-link") == 6  # 3 members to their lead in each district
    assert f"{lead.name}" in html
    zh = client.get("/v1/maps/coverage?level=elementary&district=fairfax&year=2026&by=district&tiles=none&lang=zh").text
    assert _shown("<h4>学区</h4>", zh) and _shown("成员学校—学区长学校", zh)
    plain = client.get("/v1/maps/coverage?level=elementary&district=fairfax&year=2026&tiles=none").text
    assert "catchment-district-link" not in plain


def test_cli_form_json(db_url: str, repo: Repository) -> None:
    from typer.testing import CliRunner

    from service.cli import app as cli

    _line(repo)
    r = CliRunner().invoke(cli, ["districts", "form", "--level", "town", "--max-schools", "3", "--score", "q", "--strong-share", "0.34",
                                 "--districts", "2", "--time-limit", "30", "--year", "2026", "--json", "--database", db_url])
    assert r.exit_code == 0, r.output
    got = json.loads(r.stdout)
    assert {frozenset(d["schools"]) for d in got["districts"]} == {frozenset({"t-A", "t-B", "t-E"}), frozenset({"t-C", "t-D", "t-F"})}
    assert all(d["name"] and d["lead"] in d["schools"] for d in got["districts"])
    assert got["between_cv"] == pytest.approx(5 / 195) and got["gap"] is not None and got["seconds"] >= 0
    assert [d.status.value for d in repo.districts.list(job_id=got["job_id"])] == ["proposed", "proposed"]
    text = CliRunner().invoke(cli, ["districts", "form", "--level", "town", "--max-schools", "3", "--score", "q",
                                    "--strong-share", "0.34", "--districts", "2", "--time-limit", "30", "--database", db_url])
    assert text.exit_code == 0 and "between-district CV 0.02564" in text.stdout
    bad = CliRunner().invoke(cli, ["districts", "form", "--level", "town", "--score", "nope", "--database", db_url])
    assert bad.exit_code == 2 and "nope" in bad.output


def test_districts_report(client: TestClient, keys: dict[str, str], repo: Repository) -> None:
    es = sorted(s.code for s in repo.list_schools(level="elementary"))
    for name, members in (("North", es[:4]), ("South", es[4:8])):
        body = {"name": name, "levels": ["elementary"], "school_year": 2024, "lead": members[0], "schools": members}
        assert client.post("/v1/districts", json=body, headers=bearer(keys["planner"])).status_code == 201
    r = client.get("/v1/reports/districts?level=elementary&year=2026")
    assert r.status_code == 200, r.text
    got = r.json()
    assert got["profile"].startswith("generic") and got["level"] == "elementary"
    assert [(d["name"], d["lead"]) for d in got["districts"]] == [("North", es[0]), ("South", es[4])]
    assert [d["lead"] for d in got["report"]["districts"]] == [es[0], es[4]]
    assert "between" in got["report"]
    # generic sets no teacher threshold: the table's keys are there, empty, with why in both languages.
    assert got["teacher_moves"] is None and got["teacher_short"] is None
    assert "per-100-pupil threshold" in got["teacher_moves_note"]
    assert got["teacher_moves_text"]["en"].startswith("no teacher exchange") and "轮岗" in got["teacher_moves_text"]["zh"]
    none = client.get("/v1/reports/districts?level=middle&year=2026")
    assert none.status_code == 404 and none.headers["content-type"].startswith("application/problem+json")


def test_lookup_zh_says_zone_and_district_apart(client: TestClient, keys: dict[str, str], repo: Repository) -> None:
    """The zone is a 招生片区, the grouping a 学区: a lookup never calls the zone 学区 (issue #18)."""
    _plan, zone = next((p, z) for p, z in repo.adopted_zones() if p.level == "elementary" and len(z.school_codes) == 1)
    pt = zone.geometry.representative_point()
    code = zone.school_codes[0]
    other = next(s.code for s in repo.list_schools(level="elementary") if s.code != code)
    school = repo.get_school(code)
    body = {"name": "North", "levels": ["elementary"], "school_year": 2025, "lead": code, "schools": [code, other]}
    assert client.post("/v1/districts", json=body, headers=bearer(keys["planner"])).status_code == 201
    zh = client.get(f"/v1/lookup?lon={pt.x}&lat={pt.y}&level=elementary&year=2026").json()["explanation"]["zh"]
    assert "的招生片区" in zh and f"{school.name_local or school.name}是North的学区长学校" in zh
    assert zh.count("学区") == zh.count("学区长学校") == 1  # 学区 only for the district
