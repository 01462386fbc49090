"""Address rules end to end: import (CLI CSV/XLSX, HTTP), rule-first lookup with disagreement,
validation, the notice's rule lists in both languages, CSV export (issue 15, part 2).

TEST FIXTURE, made up for these tests: the schools S1 (漕溪北路小学) and S2 (华苑小学), their two
zones (West and East of lon 121.4375), the address points and the rules table below are invented;
no real notice or address is reproduced.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from shapely.geometry import MultiPolygon, box
from typer.testing import CliRunner

from geo.address.geocode import AddressRecord
from geo.models import PlanStatus, Role, School, Zone
from service.cli import app as cli
from service.main import create_app
from service.storage import open_repository
from tests.conftest import bearer, settings_for

runner = CliRunner()

#: The made-up rules table (a notice's 招生范围 as rows).
RULES_CSV = """school_code,street,from,to,parity,compound,building_from,building_to,village,text
S1,漕溪北路,1,99,单号,,,,,
S2,漕溪北路,2,98,双号,,,,,
S2,,,,,华苑小区,1,12,,
S1;S2,,,,,,,,,华苑小区13-20栋
"""


@pytest.fixture
def world(tmp_path: Path) -> tuple[str, int]:
    url = f"sqlite:///{tmp_path / 'rules.db'}"
    repo = open_repository(url)
    repo.import_schools([School(code="S1", name="Caoxi North Road Primary", name_local="漕溪北路小学", lon=121.4365,
                                lat=31.19, levels=("primary",)),
                         School(code="S2", name="Huayuan Primary", name_local="华苑小学", lon=121.4385, lat=31.19,
                                levels=("primary",))], actor="t")
    zones = [Zone(school_codes=("S1",), geometry=MultiPolygon([box(121.430, 31.180, 121.4375, 31.200)]), name="West"),
             Zone(school_codes=("S2",), geometry=MultiPolygon([box(121.4375, 31.180, 121.445, 31.200)]), name="East")]
    plan = repo.import_plan(name="2026 primary", district="xh", level="primary", school_year=2026, zones=zones, adopt=True,
                            actor="t")
    recs = [AddressRecord(id=f"c{n}", lon=121.4370 if n % 2 else 121.4380, lat=31.185 + n * 0.0003,
                          text=f"上海市徐汇区漕溪北路{n}号") for n in range(1, 21)]
    # 21 is odd (the rule says S1) but drawn on the east side (the map says S2).
    recs.append(AddressRecord(id="c21", lon=121.4380, lat=31.1920, text="上海市徐汇区漕溪北路21号"))
    recs.append(AddressRecord(id="k5", lon=121.4360, lat=31.1900, text="上海市徐汇区康健路5号"))
    repo.import_addresses("xh", recs, actor="t")
    repo.close()
    return url, plan.id


def _cli(url: str, *args: str) -> tuple[int, str]:
    r = runner.invoke(cli, ["import", "rules", *args, "--database", url])
    return r.exit_code, r.output


@pytest.fixture
def client(world: tuple[str, int]) -> Iterator[TestClient]:
    with TestClient(create_app(settings_for(world[0]))) as c:
        yield c


def _import_csv(world: tuple[str, int], tmp_path: Path) -> None:
    path = tmp_path / "rules.csv"
    path.write_text(RULES_CSV, encoding="utf-8")
    code, out = _cli(world[0], str(path), "--plan", str(world[1]))
    assert code == 0, out
    assert "4 rules written" in out


def _level(client: TestClient, address: str) -> dict:
    r = client.get("/v1/lookup", params={"address": address})
    assert r.status_code == 200, r.text
    body = r.json()
    (lv,) = [x for x in body["levels"] if x["level"] == "primary"]
    return {"level": lv, "explanation": body["explanation"]}


def test_lookup_uses_the_rule_first_and_says_when_the_map_disagrees(world: tuple[str, int], tmp_path: Path) -> None:
    _import_csv(world, tmp_path)
    with TestClient(create_app(settings_for(world[0]))) as client:
        # Odd number on the west: rule S1, polygon S1.
        got = _level(client, "徐汇区漕溪北路11号")
        assert got["level"]["decided_by"] == "rule"
        assert got["level"]["rule"]["schools"] == ["S1"] and not got["level"]["rule"]["disagrees"]
        assert got["level"]["rule"]["rules"][0]["text"] == {"zh": "漕溪北路1-99号(单号)", "en": "漕溪北路 1-99 (odd numbers)"}
        assert "漕溪北路1-99号(单号)" in got["explanation"]["zh"] and "address rule" in got["explanation"]["en"]
        # 21 lies in the East polygon (S2) but the odd-side rule names S1: the rule decides, the disagreement is said.
        got = _level(client, "漕溪北路21号")
        assert got["level"]["decided_by"] == "rule" and got["level"]["rule"]["schools"] == ["S1"]
        assert got["level"]["rule"]["polygon_schools"] == ["S2"] and got["level"]["rule"]["disagrees"]
        assert "disagree" in got["explanation"]["en"] and "不一致" in got["explanation"]["zh"]
        # No rule for 康健路: the polygon decides, as before.
        got = _level(client, "徐汇区康健路5号")
        assert got["level"]["decided_by"] == "polygon" and got["level"]["rule"] is None
        assert [z["schools"][0]["code"] for z in got["level"]["zones"]] == ["S1"]


def test_bad_rows_are_422_naming_the_row_and_write_nothing(world: tuple[str, int], tmp_path: Path, client: TestClient) -> None:
    url, pid = world
    _import_csv(world, tmp_path)
    bad = tmp_path / "bad.csv"
    bad.write_text(RULES_CSV + "S1,康健路,50,10,all,,,,,\n", encoding="utf-8")
    code, out = _cli(url, str(bad), "--plan", str(pid))
    assert code == 2 and "row 6" in out and "50 > to 10" in out
    repo = open_repository(url)
    keys = {role: repo.create_key(name=role.value, role=role, actor="t")[1] for role in (Role.PLANNER,)}
    assert len(repo.rules.list([pid])) == 4  # unchanged
    for row, needle in (({"school_code": "S1", "street": "康健路", "parity": "sometimes"}, "unknown parity"),
                        ({"school_code": "S9", "street": "康健路"}, "unknown school S9"),
                        ({"school_code": "S1", "street": "康健路", "from": 9, "to": 1}, "9 > to 1")):
        r = client.put(f"/v1/plans/{pid}/rules", json={"rows": [{"school_code": "S1", "street": "A路"}, row]},
                       headers=bearer(keys[Role.PLANNER]))
        assert r.status_code == 422, r.text
        assert r.headers["content-type"].startswith("application/problem+json")
        assert "row 2" in r.text and needle in r.text
    assert len(repo.rules.list([pid])) == 4
    r = client.put(f"/v1/plans/{pid}/rules", json={"rows": [{"school_code": "S2", "text": "华苑小区1-12栋"}]})
    assert r.status_code in (401, 403)  # planners only
    r = client.put(f"/v1/plans/{pid}/rules", json={"rows": [{"school_code": "S2", "text": "华苑小区1-12栋"}]},
                   headers=bearer(keys[Role.PLANNER]))
    assert r.status_code == 200 and r.json()["rules"] == 1
    assert [x.compound for x in repo.rules.list([pid])] == ["华苑小区"]
    repo.close()


def test_xlsx_import_validation_notice_and_export(world: tuple[str, int], tmp_path: Path) -> None:
    url, pid = world
    xlsx = tmp_path / "rules.xlsx"
    pd.read_csv(io.StringIO(RULES_CSV), dtype=str, keep_default_na=False).to_excel(xlsx, index=False)
    code, out = _cli(url, str(xlsx), "--plan", str(pid))
    assert code == 0, out
    with TestClient(create_app(settings_for(url))) as client:
        v = client.get(f"/v1/plans/{pid}/rules/validation").json()
        assert v["counts"] == {"unmatched": 2, "overlaps": 0, "uncovered": 1, "contradictions": 1}
        assert v["per_zone"]["East"]["contradictions"] == 1 and v["per_zone"]["West"]["uncovered"] == 1
        assert sorted(u["row"] for u in v["unmatched"]) == [4, 5]  # no 华苑小区 address is known
        n = client.get(f"/v1/plans/{pid}/rules/notice").json()["zones"]
        by = {z["zone"]: z["text"] for z in n}
        assert by["West"]["zh"] == "漕溪北路小学：漕溪北路1-99号(单号)；华苑小区13-20栋"
        assert by["East"]["zh"] == "华苑小学：漕溪北路2-98号(双号)；华苑小区1-12栋；华苑小区13-20栋"
        assert by["East"]["en"].startswith("Huayuan Primary: 漕溪北路 2-98 (even numbers); 华苑小区 buildings 1-12")
        r = client.get(f"/v1/plans/{pid}/rules", params={"format": "csv"})
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
        rows = list(csv.DictReader(io.StringIO(r.text)))
        assert [x["notice_zh"] for x in rows] == ["漕溪北路1-99号(单号)", "漕溪北路2-98号(双号)", "华苑小区1-12栋", "华苑小区13-20栋"]
    # The export imports back unchanged.
    back = tmp_path / "back.csv"
    back.write_text(r.text, encoding="utf-8")
    code, out = _cli(url, str(back), "--plan", str(pid))
    assert code == 0, out
    repo = open_repository(url)
    assert [x.text or x.street or x.compound for x in repo.rules.list([pid])][:2] == ["漕溪北路", "漕溪北路"]
    assert repo.get_plan(pid).status is PlanStatus.ADOPTED
    repo.close()


def test_public_notice_prints_the_rule_lists_beside_the_map(world: tuple[str, int], tmp_path: Path) -> None:
    url, pid = world
    repo = open_repository(url)
    new = repo.copy_plan(pid, name="2027 primary", actor="t", school_year=2027)
    repo.close()
    path = tmp_path / "rules.csv"
    path.write_text(RULES_CSV, encoding="utf-8")
    code, out = _cli(url, str(path), "--plan", str(new.id))
    assert code == 0, out
    with TestClient(create_app(settings_for(url))) as client:
        r = client.get(f"/v1/plans/{new.id}/notice")
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["areas"]["type"] == "FeatureCollection"  # the map's areas, as before
        texts = {z["zone"]: z["text"] for z in body["rules"]}
        assert texts["West"]["zh"] == "漕溪北路小学：漕溪北路1-99号(单号)；华苑小区13-20栋"
        assert texts["West"]["en"] == ("Caoxi North Road Primary: 漕溪北路 1-99 (odd numbers); 华苑小区 buildings 13-20")


def test_rules_upload_over_http_csv_and_xlsx_all_or_nothing(world: tuple[str, int], tmp_path: Path, client: TestClient) -> None:
    url, pid = world
    repo = open_repository(url)
    _, key = repo.create_key(name="planner", role=Role.PLANNER, actor="t")
    auth = bearer(key)
    xlsx = io.BytesIO()
    pd.read_csv(io.StringIO(RULES_CSV), dtype=str, keep_default_na=False).to_excel(xlsx, index=False)
    xlsx_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    r = client.post("/v1/imports/rules", data={"plan": str(pid)}, files={"file": ("招生范围.xlsx", xlsx.getvalue(), xlsx_type)},
                    headers=auth)
    assert r.status_code == 200, r.text
    assert r.json() == {"plan_id": pid, "rules": 4}
    assert [x.parity for x in repo.rules.list([pid])][:2] == ["odd", "even"]
    # The uploaded rules decide a lookup at once.
    got = _level(client, "漕溪北路21号")
    assert got["level"]["decided_by"] == "rule" and got["level"]["rule"]["schools"] == ["S1"]
    # A bad row anywhere: 422 naming it, the four rules stay.
    bad = (RULES_CSV + "S1,康健路,50,10,all,,,,,\n").encode("utf-8")
    r = client.post("/v1/imports/rules", data={"plan": str(pid)}, files={"file": ("bad.csv", bad, "text/csv")}, headers=auth)
    assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json")
    assert "row 6" in r.text and "50 > to 10" in r.text
    assert len(repo.rules.list([pid])) == 4
    # A CSV replaces them; a shapefile or an unknown plan is refused; planners only.
    one = "school_code,compound,building_from,building_to\nS2,华苑小区,1,12\n".encode()
    r = client.post("/v1/imports/rules", data={"plan": str(pid)}, files={"file": ("one.csv", one, "text/csv")}, headers=auth)
    assert r.status_code == 200 and r.json()["rules"] == 1
    assert [x.compound for x in repo.rules.list([pid])] == ["华苑小区"]
    r = client.post("/v1/imports/rules", data={"plan": str(pid)}, files={"file": ("z.gpkg", b"x", "application/octet-stream")},
                    headers=auth)
    assert r.status_code == 415, r.text
    assert ".csv or .xlsx" in r.text
    r = client.post("/v1/imports/rules", data={"plan": "999"}, files={"file": ("one.csv", one, "text/csv")}, headers=auth)
    assert r.status_code == 404, r.text
    r = client.post("/v1/imports/rules", data={"plan": str(pid)}, files={"file": ("one.csv", one, "text/csv")})
    assert r.status_code in (401, 403)
    assert len(repo.rules.list([pid])) == 1
    repo.close()
