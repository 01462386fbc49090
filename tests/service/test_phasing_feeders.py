"""Grades and years on the real NSW future catchments, and feeder schools (对口直升), through the API."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import shapely
from fastapi.testclient import TestClient

from geo.io.read import read_frame
from geo.models import GRADE_ORDER
from service.operations.imports import ImportOptions, RejectedRows
from service.sample import NSW_HIGH, append_future_zones
from service.storage import open_repository
from service.storage.base import Repository
from tests.conftest import DATA, bearer

FUTURE = DATA / "nsw" / "nsw_catchments_future.geojson"
ADDRESSES = DATA / "nsw" / "sydney_addresses.csv"
README_ADDRESS = "138 Abbott Rd, North Curl Curl"


def _codes(body: dict[str, Any], level: str) -> set[str]:
    return {s["code"] for lv in body["levels"] if lv["level"] == level for z in lv["zones"] for s in z["schools"]}


def _zone_ids(body: dict[str, Any], level: str) -> set[int]:
    return {z["zone_id"] for lv in body["levels"] if lv["level"] == level for z in lv["zones"]}


def _get(client: TestClient, **params: Any) -> dict[str, Any]:
    r = client.get("/v1/lookup", params=params)
    assert r.status_code == 200, r.text
    return r.json()


def test_readme_example_year_7_moves_in_2027_year_10_stays(shared_client: TestClient) -> None:
    """The README's example: a real address inside NBSC Freshwater Senior Campus's future zone."""
    fut = read_frame(FUTURE)
    row = fut[(fut.USE_ID == "8568") & (fut.YEAR7.astype(int) == 2027)].iloc[0]
    here = _get(shared_client, address=README_ADDRESS)
    assert here["geocode"]["precision"] == "exact"
    assert shapely.contains_xy(row.geometry, here["lon"], here["lat"])
    ask = {"address": README_ADDRESS, "level": "high"}
    y7_2027 = _get(shared_client, **ask, grade="7", year=2027)
    y10_2027 = _get(shared_client, **ask, grade="10", year=2027)
    y7_2026 = _get(shared_client, **ask, grade="7", year=2026)
    y10_2028 = _get(shared_client, **ask, grade="10", year=2028)
    assert _codes(y7_2027, "high") == {"8568"}  # the new zone, from 2027 for year 7
    assert int(row.YEAR10) == 2028 and "8568" not in _codes(y10_2027, "high") and _codes(y10_2027, "high")
    assert "8568" not in _codes(y7_2026, "high") and _codes(y7_2026, "high")
    assert "8568" in _codes(y10_2028, "high")
    zone = y7_2027["levels"][0]["zones"][0]
    assert zone["grade_start_years"] == {g: int(row[c]) for g, c in (("7", "YEAR7"), ("8", "YEAR8"), ("9", "YEAR9"), ("10", "YEAR10"))}
    assert "new zone: grades 7-8 from 2027, 9-10 from 2028" in y7_2027["explanation"]["en"]
    assert "新招生片区" in y7_2027["explanation"]["zh"]


def test_every_phasing_zone_answers_by_grade_and_year(shared_client: TestClient, sample_db: Path) -> None:
    """For each NSW phasing zone with a real address inside: its first grade joins it in its start
    year, not the year before; a grade that starts later is not in it yet."""
    repo = open_repository(f"sqlite:///{sample_db}")
    phasing = [(p, z) for p, z in repo.adopted_zones() if p.district == "nsw" and z.phasing]
    repo.close()
    assert len(phasing) == 52
    rows = pd.read_csv(ADDRESSES, dtype=str, keep_default_na=False)
    lon, lat = rows.lon.astype(float).to_numpy(), rows.lat.astype(float).to_numpy()
    checked = staggered = 0
    for plan, zone in phasing:
        inside = shapely.contains_xy(zone.geometry, lon, lat)
        if not inside.any():
            continue
        i = int(inside.argmax())
        starts = dict(zone.grade_start_years)
        first = min(starts, key=lambda g: (starts[g], GRADE_ORDER.index(g)))
        year = starts[first]
        at = {"lon": lon[i], "lat": lat[i], "level": plan.level}
        assert zone.id in _zone_ids(_get(shared_client, **at, grade=first, year=year), plan.level)
        assert zone.id not in _zone_ids(_get(shared_client, **at, grade=first, year=year - 1), plan.level)
        later = [g for g, y in starts.items() if y > year]
        if later:
            staggered += 1
            assert zone.id not in _zone_ids(_get(shared_client, **at, grade=later[0], year=year), plan.level)
            assert zone.id in _zone_ids(_get(shared_client, **at, grade=later[0], year=starts[later[0]]), plan.level)
        checked += 1
    assert checked >= 20 and staggered >= 3, (checked, staggered)


def _future_opts(*, allow_rejects: bool) -> ImportOptions:
    return ImportOptions(mapping=("school_code=USE_ID", "name=USE_DESC"), where=(NSW_HIGH,), allow_rejects=allow_rejects)


def test_future_zones_append_to_the_adopted_plan(repo: Repository) -> None:
    plan = next(p for p in repo.list_plans(district="nsw", level="high") if p.status.value == "adopted")
    zones = repo.zones(plan.id)
    dropped = next(z for z in zones if z.phasing and z.name == "Wentworth Point HS")
    repo.replace_zones(plan.id, [z for z in zones if z.id != dropped.id], actor="test")
    before = repo.get_plan(plan.id).version
    stamp = repo.zone_version()
    with pytest.raises(RejectedRows):
        append_future_zones(repo, FUTURE, district="nsw", level="high", opts=_future_opts(allow_rejects=False), actor="test")
    assert repo.get_plan(plan.id).version == before
    report = append_future_zones(repo, FUTURE, district="nsw", level="high", opts=_future_opts(allow_rejects=True), actor="test")
    assert report.written == 1 and "1 zones added, 32 already in the plan" in report.notes[-1]
    assert len(report.rejected) == 15 and all("not in the schools table" in p.reason for p in report.rejected)
    assert "8928" in {p.feature for p in report.rejected}  # Googong HS (Provisional): a new school
    after = repo.get_plan(plan.id)
    assert after.version == before + 1 and repo.zone_version() > stamp
    assert repo.plan_versions(plan.id)[-1]["action"] == "zones.append-future"
    added = [z for z in repo.zones(plan.id) if z.name == "Wentworth Point HS" and z.phasing]
    assert len(added) == 1 and dict(added[0].grade_start_years) == dict(dropped.grade_start_years)
    again = append_future_zones(repo, FUTURE, district="nsw", level="high", opts=_future_opts(allow_rejects=True), actor="test")
    assert again.written == 0 and repo.get_plan(plan.id).version == after.version


# --------------------------------------------------------------------------- feeders


def _fairfax_point(repo: Repository) -> tuple[float, float]:
    """A point inside a real Fairfax elementary zone (its representative point)."""
    zone = next(z for p, z in repo.adopted_zones() if p.district == "fairfax" and p.level == "elementary")
    pt = zone.geometry.representative_point()
    return pt.x, pt.y


def test_feeders_set_by_planners_show_in_lookups(client: TestClient, repo: Repository, keys: dict[str, str]) -> None:
    lon, lat = _fairfax_point(repo)
    body = _get(client, lon=lon, lat=lat)
    (es,), (ms,), (hs,) = _codes(body, "elementary"), _codes(body, "middle"), _codes(body, "high")
    planner = bearer(keys["planner"])
    r = client.put(f"/v1/schools/{es}/feeders", json={"feeds_into": [ms]}, headers=planner)
    assert r.status_code == 200, r.text
    assert [s["code"] for s in r.json()["feeds_into"]] == [ms]
    assert client.put(f"/v1/schools/{ms}/feeders", json={"feeds_into": [hs]}, headers=planner).status_code == 200
    body = _get(client, lon=lon, lat=lat)
    by_level = {lv["level"]: lv["zones"][0]["schools"][0] for lv in body["levels"]}
    assert [(f["code"], f["path"]) for f in by_level["elementary"]["feeders"]] == [(ms, [es, ms]), (hs, [es, ms, hs])]
    assert [f["code"] for f in by_level["middle"]["feeders"]] == [hs] and by_level["high"]["feeders"] == []
    assert all(f["distance_m"] > 0 for f in by_level["elementary"]["feeders"])
    names = {s["code"]: s["name"] for s in (by_level["elementary"], by_level["middle"], by_level["high"])}
    assert f"pupils of {names[es]} move up to {names[ms]}, then {names[hs]}" in body["explanation"]["en"]
    assert f"对口直升：{names[es]} → {names[ms]} → {names[hs]}" in body["explanation"]["zh"]
    got = client.get(f"/v1/schools/{ms}/feeders").json()
    assert [s["code"] for s in got["fed_by"]] == [es] and [s["code"] for s in got["feeds_into"]] == [hs]
    assert repo.get_school(es).feeds_into == (ms,)
    event = repo.audit_events(target=f"school:{es}")[0]
    assert event.action == "school.update" and event.after["feeds_into"] == [ms]
    # Clearing the path.
    assert client.put(f"/v1/schools/{es}/feeders", json={"feeds_into": []}, headers=planner).json()["feeds_into"] == []
    body = _get(client, lon=lon, lat=lat)
    assert next(lv for lv in body["levels"] if lv["level"] == "elementary")["zones"][0]["schools"][0]["feeders"] == []


def test_feeder_writes_are_checked(client: TestClient, repo: Repository, keys: dict[str, str]) -> None:
    lon, lat = _fairfax_point(repo)
    body = _get(client, lon=lon, lat=lat)
    (es,), (ms,) = _codes(body, "elementary"), _codes(body, "middle")
    planner = bearer(keys["planner"])
    assert client.put(f"/v1/schools/{es}/feeders", json={"feeds_into": [ms]}).status_code == 401
    for payload, where in (({"feeds_into": ["no-such-school"]}, "feeds_into[0]"), ({"feeds_into": [es]}, "feeds_into[0]")):
        r = client.put(f"/v1/schools/{es}/feeders", json=payload, headers=planner)
        assert r.status_code == 422 and r.json()["where"] == where, r.text
    assert client.put(f"/v1/schools/{es}/feeders", json={"feeds_into": [ms], "x": 1}, headers=planner).status_code == 422
    assert client.put("/v1/schools/no-such-school/feeders", json={"feeds_into": []}, headers=planner).status_code == 404
    assert client.put(f"/v1/schools/{es}/feeders", json={"feeds_into": [ms]}, headers=planner).status_code == 200
    r = client.put(f"/v1/schools/{ms}/feeders", json={"feeds_into": [es]}, headers=planner)
    assert r.status_code == 422 and "cycle" in r.json()["detail"]
    assert repo.get_school(ms).feeds_into == ()
    admin = bearer(keys["admin"])
    assert client.put(f"/v1/schools/{es}/feeders", json={"feeds_into": []}, headers=admin).status_code == 200


def test_one_grade_gets_the_latest_phasing_zone_and_the_words_match_the_flags(shared_client: TestClient) -> None:
    """Year 9 in 2028 at 138 Abbott Rd: NBSC Freshwater's zone (year 9 from 2028) replaces The
    Forest's transition zone (year 9 from 2027); one school, and no "boundary" in the words."""
    y9_2028 = _get(shared_client, address=README_ADDRESS, level="high", grade="9", year=2028)
    assert _codes(y9_2028, "high") == {"8568"}
    y9_2027 = _get(shared_client, address=README_ADDRESS, level="high", grade="9", year=2027)
    assert _codes(y9_2027, "high") == {"8372"}  # The Forest keeps year 9 in 2027
    for body in (y9_2028, y9_2027):
        assert "boundary" not in body["explanation"]["en"] and "边界" not in body["explanation"]["zh"]


def test_overlapping_zones_are_not_called_a_boundary(shared_client: TestClient) -> None:
    """25 Johnston St, Annandale lies inside two overlapping high zones, on neither edge: the words
    say several zones (with their grades), not a boundary, as the flags do."""
    body = _get(shared_client, address="25 Johnston St, Annandale", level="high")
    zones = body["levels"][0]["zones"]
    assert len(zones) == 2 and not any(z["on_boundary"] for z in zones)
    en, zh = body["explanation"]["en"], body["explanation"]["zh"]
    assert "boundary" not in en and "边界" not in zh
    assert "several zones cover this address" in en and "多个招生片区" in zh


def test_chinese_explanation_names_levels_in_chinese(shared_client: TestClient) -> None:
    body = _get(shared_client, lon=151.1796, lat=-33.7738)
    zh = body["explanation"]["zh"]
    assert "小学：" in zh and "高中：" in zh and "primary：" not in zh and "high：" not in zh
    assert "Primary: " in body["explanation"]["en"]  # English keeps the stored name
