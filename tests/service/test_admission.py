"""Admission in shared zones end to end on SQLite and PostGIS (issue 18 parts 4-5): import (CLI and HTTP,
all-or-nothing with the row at fault), the odds in the lookup and its explanation in both languages,
the two-step lottery reproduced bit for bit, enrolments and the admission report with known shares.

TEST FIXTURE, made up for these tests (see tests/data/admission/README.md): schools A, B, C, P and
their zones are invented.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from shapely.geometry import MultiPolygon, Point, box
from typer.testing import CliRunner

from geo.errors import InvalidInput
from geo.models import Role, School, Zone
from geo.planning.demand import DemandUnit
from service.cli import app as cli
from service.main import create_app
from service.operations.admission import import_admission, plan_odds, rows_from_csv
from service.operations.enrolments import admission_report, import_enrolments
from service.settings import Settings
from service.state import build_snapshot
from service.storage import open_repository
from tests.conftest import bearer, settings_for
from tests.storage.pg import new_schema_url

DATA = Path(__file__).resolve().parent.parent / "data" / "admission"
EAST = {"lon": 121.437, "lat": 31.19}
runner = CliRunner()


def _build(url: str) -> dict[str, object]:
    repo = open_repository(url)
    repo.import_schools([School(code="A", name="Huayuan Primary", name_local="华苑小学", lon=121.436, lat=31.19,
                                levels=("primary",), capacity=120),
                         School(code="B", name="Caoxi Primary", name_local="漕溪小学", lon=121.439, lat=31.19,
                                levels=("primary",), capacity=90),
                         School(code="C", name="Kangjian Primary", name_local="康健小学", lon=121.425, lat=31.19,
                                levels=("primary",), capacity=100),
                         School(code="P", name="Bilingual School", name_local="双语学校", lon=121.44, lat=31.195,
                                levels=("primary",), capacity=50, attributes={"kind": "民办"})], actor="t")
    zones = [Zone(school_codes=("C",), geometry=MultiPolygon([box(121.420, 31.18, 121.430, 31.20)]), name="West"),
             Zone(school_codes=("A", "B"), geometry=MultiPolygon([box(121.430, 31.18, 121.445, 31.20)]), name="East")]
    plan = repo.import_plan(name="2026 primary", district="xh", level="primary", school_year=2026, zones=zones, adopt=True,
                            actor="t")
    _, planner = repo.create_key(name="planner", role=Role.PLANNER, actor="t")
    repo.close()
    return {"url": url, "plan": plan.id, "key": planner}


@pytest.fixture(params=["sqlite", pytest.param("postgis", marks=pytest.mark.postgis)])
def world(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[dict[str, object]]:
    if request.param == "sqlite":
        yield _build(f"sqlite:///{tmp_path / 'adm.db'}")
    else:
        with new_schema_url() as url:
            yield _build(url)


@pytest.fixture
def client(world: dict[str, object]) -> Iterator[TestClient]:
    settings = settings_for(str(world["url"]))
    settings.profile = "cn"
    with TestClient(create_app(settings)) as c:
        yield c


def _etag(client: TestClient, plan: object) -> str:
    return client.get(f"/v1/plans/{plan}").headers["ETag"]


def _put_csv(client: TestClient, world: dict[str, object], text: str) -> object:
    return client.put(f"/v1/plans/{world['plan']}/admission", content=text.encode(),
                      headers={**bearer(str(world["key"])), "Content-Type": "text/csv", "If-Match": _etag(client, world["plan"])})


def test_cli_import_and_exact_odds_in_the_lookup(world: dict[str, object], client: TestClient) -> None:
    r = runner.invoke(cli, ["import", "admission", str(DATA / "admission.csv"), "--plan", str(world["plan"]),
                            "--database", str(world["url"])])
    assert r.exit_code == 0, r.output
    assert "2 categories, 2 schools with places, 140 applicants in 4 rows" in r.output
    assert "resident     first choice A           40 applicants  p = 0.250" in r.output
    client.app.state.holder.refresh()  # type: ignore[attr-defined]  # the CLI wrote to the database directly
    body = client.get("/v1/lookup", params=EAST).json()
    [zone] = body["admission"]
    assert (zone["schools"], zone["method"], zone["places"], zone["applicants"]) == (["A", "B"], "exact", {"A": 60, "B": 40}, 140)
    got = {(o["category"], o["school"]): o["probability"] for o in zone["odds"]}
    assert got == {("hukou", "A"): 1.0, ("resident", "A"): 0.25, ("hukou", "B"): 1.0, ("resident", "B"): 0.5}
    en, zh = body["explanation"]["en"], body["explanation"]["zh"]
    assert "This zone is shared by Huayuan Primary, Caoxi Primary: 100 places" in en
    assert "Living in the zone choosing Huayuan Primary first: 25%" in en and "(exact)" in en
    assert "本片区为多校划片（华苑小学、漕溪小学）" in zh and "居住在片区第一志愿华苑小学：25%" in zh
    assert "户籍和居住均在片区第一志愿漕溪小学：100%" in zh
    west = client.get("/v1/lookup", params={"lon": 121.425, "lat": 31.19}).json()
    assert west["admission"] == [] and "多校划片" not in west["explanation"]["zh"]


def test_batch_and_map_carry_the_odds(world: dict[str, object], client: TestClient) -> None:
    assert _put_csv(client, world, (DATA / "admission.csv").read_text()).status_code == 200
    west = {"lon": 121.425, "lat": 31.19}
    got = client.post("/v1/lookup/batch", json={"points": [{"id": "e", **EAST}, {"id": "w", **west}]}).json()
    east_row, west_row = got["rows"]
    [zone] = east_row["levels"]["primary"]["odds"]
    assert zone["schools"] == ["A", "B"] and zone["method"] == "exact"
    assert {(o["category"], o["school"]): o["probability"] for o in zone["odds"]} == {
        ("hukou", "A"): 1.0, ("resident", "A"): 0.25, ("hukou", "B"): 1.0, ("resident", "B"): 0.5}
    assert "odds" not in west_row["levels"]["primary"]  # a one-school zone has no lottery
    text = client.post("/v1/lookup/batch", content=b"id,lon,lat\ne,121.437,31.19\nw,121.425,31.19\n",
                       headers={"Content-Type": "text/csv", "Accept": "text/csv"}).text
    rows = list(csv.DictReader(io.StringIO(text)))
    assert rows[0]["primary_odds"] == "A/hukou=1;A/resident=0.25;B/hukou=1;B/resident=0.5" and rows[1]["primary_odds"] == ""
    for lang, says in (("en", "Living in the zone choosing Huayuan Primary first: 25%"), ("zh", "居住在片区第一志愿华苑小学：25%")):
        page = client.get("/v1/maps/lookup", params=EAST | {"tiles": "none", "lang": lang})
        # The explanation box of the map carries the odds (written into the page's script, JSON-escaped).
        assert page.status_code == 200 and (says in page.text or json.dumps(says)[1:-1] in page.text), lang


def test_http_import_ranked_lists_and_bad_rows(world: dict[str, object], client: TestClient,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    # B's resident applicants rank A second: those who lose B compete for A's last places.
    ranked = (DATA / "admission.csv").read_text(encoding="utf-8").replace("20,B\n", "20,B;A\n")
    r = _put_csv(client, world, ranked)
    assert r.status_code == 200, r.text
    [zone] = r.json()["zones"]
    got = {(o["category"], o["school"]): o["probability"] for o in zone["odds"]}
    assert zone["method"] == "exact"  # small enough for the exact recursion over the draw
    assert got[("resident", "A")] == pytest.approx(0.249581, abs=1e-6) and got[("resident", "B")] == 0.5
    # Too large for the recursion: Monte Carlo, within four standard errors of the exact value.
    monkeypatch.setattr("service.operations.admission.EXACT_MAX_STATES", 10)
    [mc] = client.get(f"/v1/plans/{world['plan']}/admission").json()["zones"]
    [a_res] = [o for o in mc["odds"] if (o["category"], o["school"]) == ("resident", "A")]
    assert (mc["method"], mc["runs"]) == ("monte_carlo", 2000) and 0 < a_res["stderr"] < 0.01
    assert abs(a_res["probability"] - 0.249581) < 4 * a_res["stderr"]
    up = client.put(f"/v1/plans/{world['plan']}/admission", files={"file": ("admission.csv", ranked.encode())},
                    headers={**bearer(str(world["key"])), "If-Match": _etag(client, world["plan"])})
    assert up.status_code == 200 and sum(a["count"] for a in up.json()["applicants"]) == 140
    before = client.get(f"/v1/plans/{world['plan']}/admission").json()
    bad = {"places above seats": (ranked.replace("A,60", "A,130"), "places"),
           "unknown school": (ranked.replace("20,B;A", "20,Z9"), "preferences"),
           "negative count": (ranked.replace("华苑小区,50", "华苑小区,-5"), "count"),
           "unknown category": (ranked.replace("resident,,,,,漕溪新村", "migrant,,,,,漕溪新村"), "category")}
    for why, (text, field) in bad.items():
        r = _put_csv(client, world, text)
        assert r.status_code == 422, why
        assert r.headers["content-type"].startswith("application/problem+json")
        assert r.json()["where"].endswith(f": {field}") and r.json()["where"].startswith("row "), (why, r.json())
    assert client.get(f"/v1/plans/{world['plan']}/admission").json() == before  # nothing written
    assert client.put(f"/v1/plans/{world['plan']}/admission", content=ranked.encode(),
                      headers={**bearer(str(world["key"])), "Content-Type": "text/csv"}).status_code == 428
    r = client.put(f"/v1/plans/{world['plan']}/admission", json={"categories": [{"category": "hukou"}],
                   "places": [{"school": "A", "places": 10}], "applicants": [{"unit": "U", "category": "hukou", "count": "x",
                                                                             "preferences": ["A"]}]},
                   headers={**bearer(str(world["key"])), "If-Match": _etag(client, world["plan"])})
    assert r.status_code == 422 and r.json()["where"] == "applicants[0]: count"


def _reference_draw(seed: str, rows: list[tuple[str, str, str]], places: dict[str, int]) -> list[tuple[str, str]]:
    """The draw redone from its documented rule with hashlib only (single-choice applicants)."""
    priority = {"hukou": 0, "resident": 1}
    key = {i: hashlib.sha256(f"catchment-draw-1\n{seed}\n{i}".encode()).hexdigest() for i, _, _ in rows}
    left, out = dict(places), []
    for i, cat, school in sorted(rows, key=lambda r: (priority[r[1]], key[r[0]])):
        got = school if left[school] > 0 else ""
        left[school] -= 1 if got else 0
        out.append((i, got))
    return out


def _lottery(client: TestClient, world: dict[str, object], **body: object) -> object:
    return client.post(f"/v1/plans/{world['plan']}/lottery", json=body,
                       headers={**bearer(str(world["key"])), "If-Match": _etag(client, world["plan"])})


def test_lottery_publish_then_draw_reproduced_bit_for_bit(world: dict[str, object], client: TestClient) -> None:
    assert _put_csv(client, world, (DATA / "admission.csv").read_text(encoding="utf-8")).status_code == 200
    seed = "2026-06-20 welfare lottery 3 8 15 21 30 33"
    r = _lottery(client, world, step="publish", zone="A", seed_sha256=hashlib.sha256(seed.encode()).hexdigest())
    assert r.status_code == 201, r.text
    notice = r.json()["notice"]
    assert notice["seed"] is None and notice["algorithm"] == "catchment-draw-1" and notice["applicants"] == 140
    assert len(notice["applicants_sha256"]) == 64 and "SHA-256" in notice["text_en"] and "随机派位公告" in notice["text_zh"]
    draw_id = r.json()["id"]
    assert r.headers["Location"] == f"/v1/plans/{world['plan']}/lottery/{draw_id}"
    no_match = client.post(f"/v1/plans/{world['plan']}/lottery", json={"step": "draw", "draw_id": draw_id, "seed": seed},
                           headers=bearer(str(world["key"])))
    assert no_match.status_code == 428
    wrong = _lottery(client, world, step="draw", draw_id=draw_id, seed="another seed")
    assert wrong.status_code == 422 and wrong.json()["where"] == "seed"
    r = _lottery(client, world, step="draw", draw_id=draw_id, seed=seed)
    assert r.status_code == 201, r.text
    assert r.json()["status"] == "drawn" and r.json()["placed"] == 100
    again = _lottery(client, world, step="draw", draw_id=draw_id, seed=seed)
    assert again.status_code == 409  # drawn once
    text = client.get(f"/v1/plans/{world['plan']}/lottery/{draw_id}", params={"format": "csv"}).text
    got = [(row["applicant_id"], row["school"]) for row in csv.DictReader(io.StringIO(text))]
    # Ids of aggregated rows: r<row>-<k>; rows 1-4 are 50 hukou A, 40 resident A, 30 hukou B, 20 resident B.
    apps = [(f"r{n}-{k}", cat, school) for n, cat, school, count in ((1, "hukou", "A", 50), (2, "resident", "A", 40),
                                                                      (3, "hukou", "B", 30), (4, "resident", "B", 20))
            for k in range(1, count + 1)]
    assert got == _reference_draw(seed, apps, {"A": 60, "B": 40})
    assert hashlib.sha256(text.encode()).hexdigest() == r.json()["results_sha256"]
    # A second draw from the same inputs and seed gives the same bytes.
    r2 = _lottery(client, world, step="publish", zone="B", seed=seed)
    d2 = _lottery(client, world, step="draw", draw_id=r2.json()["id"])
    assert d2.json()["results_sha256"] == r.json()["results_sha256"]
    listed = client.get(f"/v1/plans/{world['plan']}/lottery").json()["draws"]
    assert [(d["id"], d["status"], d["seed"], "results" in d) for d in listed] == [(draw_id, "drawn", seed, False),
                                                                                  (r2.json()["id"], "drawn", seed, False)]
    assert listed[0]["notice"]["seed"] is None and listed[0]["seed_sha256"] == hashlib.sha256(seed.encode()).hexdigest()
    audit = [e for e in world_events(world) if e["action"].startswith("lottery.")]
    assert [e["action"] for e in audit] == ["lottery.draw", "lottery.publish", "lottery.draw", "lottery.publish"]


def world_events(world: dict[str, object]) -> list[dict[str, object]]:
    repo = open_repository(str(world["url"]))
    try:
        return [{"action": e.action, "after": e.after} for e in repo.audit_events(target=f"plan:{world['plan']}")]
    finally:
        repo.close()


def test_enrolments_and_the_admission_report(world: dict[str, object], client: TestClient) -> None:
    up = client.post("/v1/imports/enrolments", files={"file": ("enrolments.csv", (DATA / "enrolments.csv").read_bytes())},
                     data={"level": "primary"}, headers=bearer(str(world["key"])))
    assert up.status_code == 200, up.text
    assert up.json() == {"rows": 28, "pupils": 56, "levels": ["primary"], "migrant": 20}
    body = client.get("/v1/reports/admission", params={"level": "primary"}).json()
    assert body["profile"].startswith("cn")
    shares = {s["school"]: (s["pupils"], s["out_of_zone"], s["share"], s["breach"], s["excess"]) for s in body["schools"]}
    assert shares == {"A": (20, 3, 0.15, True, 1), "B": (10, 1, 0.1, False, 0), "C": (20, 1, 0.05, False, 0)}
    assert body["schools"][0]["rows"] == ["A-o1", "A-o2", "A-o3"]
    [area] = body["areas"]
    assert (area["area"], area["migrants"], area["in_public"], area["share"], area["limit"], area["breach"]) == \
        ("xh", 20, 16, 0.8, 0.85, True)
    assert area["rows"] == ["P-m1", "P-m2", "P-m3", "P-m4"] and body["unzoned"] == ["X-u1"]
    assert "above 10%" in body["text"]["en"] and "超过 10%" in body["text"]["zh"]
    generic = client.get("/v1/reports/admission", params={"level": "primary", "profile": "generic"}).json()
    assert generic["profile"].startswith("generic") and {s["breach"] for s in generic["schools"]} == {None}
    rows = list(csv.DictReader(io.StringIO(client.get("/v1/reports/admission", params={"level": "primary", "format": "csv"}).text)))
    assert [(r["kind"], r["name"], r["breach"]) for r in rows] == [("school", "A", "True"), ("school", "B", "False"),
                                                                   ("school", "C", "False"), ("area", "xh", "True")]
    good = (DATA / "enrolments.csv").read_text(encoding="utf-8")
    bad = good.replace("A-o2,121.425,31.19,A", "A-o2,121.425,31.19,Z")
    r = client.post("/v1/imports/enrolments", files={"file": ("e.csv", bad.encode())}, data={"level": "primary"},
                    headers=bearer(str(world["key"])))
    assert r.status_code == 422 and r.json()["where"] == "row 7: school"  # header row 1, A-o2 on row 7
    for old, new, where in (("A-o3,121.425,31.19,A,local", "A-o3,121.425,31.19,A,tourist", "row 8: category"),
                            ("AGG-B1,121.437,31.19,B,local,5", "AGG-B1,121.437,31.19,B,local,-5", "row 9: count")):
        r = client.post("/v1/imports/enrolments", files={"file": ("e.csv", good.replace(old, new).encode())},
                        data={"level": "primary"}, headers=bearer(str(world["key"])))
        assert r.status_code == 422 and r.json()["where"] == where, r.json()
    assert len(client.get("/v1/reports/admission", params={"level": "primary"}).json()["schools"]) == 3  # nothing replaced


def test_cli_lottery_and_report(tmp_path: Path) -> None:
    world = _build(f"sqlite:///{tmp_path / 'cli.db'}")
    db = ["--database", str(world["url"])]
    plan = ["--plan", str(world["plan"])]

    def run(*args: str) -> str:
        r = runner.invoke(cli, [*args, *db])
        assert r.exit_code == 0, r.output
        return r.output

    run("import", "admission", str(DATA / "admission.csv"), *plan)
    assert "seed '2026-06-20 福彩3D 381'" in run("lottery", "publish", *plan, "--zone", "A", "--seed", "2026-06-20 福彩3D 381")
    out = run("lottery", "draw", *plan, "1", "--out", str(tmp_path / "draw.csv"))
    assert "100 of 140 placed" in out
    assert hashlib.sha256((tmp_path / "draw.csv").read_bytes()).hexdigest() in out
    assert "28 rows, 56 pupils (20 migrant children)" in run("import", "enrolments", str(DATA / "enrolments.csv"), "--level", "primary")
    report = run("report", "admission", "--level", "primary", "--profile", "cn")
    assert "1 above 10%: A 15.0% (1 over)" in report and "16/20" in report and "BREACH" in report


def test_homes_given_as_demand_units(tmp_path: Path) -> None:
    world = _build(f"sqlite:///{tmp_path / 'units.db'}")
    repo = open_repository(str(world["url"]))
    try:
        repo.import_demand("xh-compounds", [DemandUnit("华苑小区", Point(121.437, 31.19), {"primary": 90.0}),
                                            DemandUnit("康健新村", box(121.422, 31.185, 121.428, 31.195), {"primary": 40.0})],
                           kind="compound", report={}, actor="t")
        text = "id,unit,school,category,count\nH1,华苑小区,A,,9\nH2,康健新村,A,migrant,1\nK1,康健新村,C,,5\n"
        assert import_enrolments(repo, text, level="primary", actor="t")["pupils"] == 15
        _, body = admission_report(repo, Settings(), level="primary", profile="cn")
        shares = {s["school"]: (s["pupils"], s["out_of_zone"], s["breach"], s["rows"]) for s in body["schools"]}
        assert shares == {"A": (10, 1, False, []), "C": (5, 0, False, [])}  # 1 in 10 is at the limit, not above
        bad = "id,unit,school\nH1,无名小区,A\n"
        with pytest.raises(InvalidInput) as err:
            import_enrolments(repo, bad, level="primary", actor="t")
        assert err.value.where == "row 2: unit"
    finally:
        repo.close()


def test_data_that_no_longer_fits_the_zones_leaves_the_lookup_without_odds(tmp_path: Path) -> None:
    world = _build(f"sqlite:///{tmp_path / 'stale.db'}")
    repo = open_repository(str(world["url"]))
    try:
        ranked = (DATA / "admission.csv").read_text(encoding="utf-8").replace("20,B\n", "20,B;A\n")
        import_admission(repo, int(str(world["plan"])), rows_from_csv(ranked), actor="t")
        # Stored data of a plan whose zones are now apart (a copy of the data under new zones).
        apart = [Zone(school_codes=("A", "C"), geometry=MultiPolygon([box(121.420, 31.18, 121.430, 31.20)])),
                 Zone(school_codes=("B", "C"), geometry=MultiPolygon([box(121.430, 31.18, 121.445, 31.20)]))]
        other = repo.import_plan(name="apart", district="yp", level="primary", school_year=2026, zones=apart, adopt=True, actor="t")
        repo.admission.replace(replace(repo.admission.get(int(str(world["plan"]))), plan_id=other.id), actor="t")
        with pytest.raises(InvalidInput):
            plan_odds(repo.admission.get(other.id), apart)
        snap = build_snapshot(repo)  # does not fail: the plan answers without odds
        assert snap.admission[other.id][1] == {} and len(snap.odds) == 1
    finally:
        repo.close()
