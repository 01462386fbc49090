"""What we write, we read back: zone exports in every format import to the same plan, a plan's
zones survive GET -> PUT unchanged, and unknown school codes are rejected rows, not an abort."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
import shapely
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from geo.models import Zone
from service.cli import app as cli
from service.storage.base import Repository
from tests.conftest import DATA, bearer

runner = CliRunner()
FUTURE = DATA / "nsw" / "nsw_catchments_future.geojson"


def _invoke(*args: str) -> str:
    result = runner.invoke(cli, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def _source_plan(repo: Repository) -> int:
    """A draft of real Sydney primary zones: the 19 phasing in (grade_start_years), 15 current
    ones, and one of those shared by two schools (多校划片)."""
    nsw = next(p for p in repo.list_plans(district="nsw", level="primary"))
    zones = repo.zones(nsw.id)
    phasing = [z for z in zones if z.grade_start_years]
    current = [z for z in zones if not z.grade_start_years][:15]
    shared = dataclasses.replace(current[0], school_codes=(current[0].school_codes[0], current[1].school_codes[0]),
                                 name="Shared zone 多校划片")
    assert len(phasing) == 19
    plan = repo.import_plan(name="round trip source", district="nsw", level="primary", school_year=2026,
                            zones=[shared, *current[1:], *phasing], adopt=False, actor="test")
    return plan.id


def _same_zones(a: list[Zone], b: list[Zone]) -> None:
    assert len(a) == len(b)
    for x, y in zip(a, b, strict=True):
        assert (x.school_codes, x.grades, dict(x.grade_start_years), x.name, x.source) == \
               (y.school_codes, y.grades, dict(y.grade_start_years), y.name, y.source)
        assert {k: str(v) for k, v in x.attributes.items()} == {k: str(v) for k, v in y.attributes.items()}
        moved = shapely.symmetric_difference(x.geometry, y.geometry).area
        assert moved <= 1e-9 * x.geometry.area, (x.name, moved)


@pytest.mark.parametrize("suffix", [".geojson", ".gpkg", ".shp", ".zip", ".csv"])
def test_export_then_import_gives_the_same_zones(repo: Repository, db_url: str, tmp_path: Path, suffix: str) -> None:
    src = _source_plan(repo)
    out = tmp_path / f"zones{suffix}"
    _invoke("export", "zones", str(src), str(out), "--database", db_url)
    text = _invoke("import", "zones", str(out), "--plan", "round trip", "--level", "primary", "--year", "2026",
                   "--district", "nsw", "--database", db_url)
    assert "0 rejected" in text
    back = next(p for p in repo.list_plans(district="nsw") if p.name == "round trip")
    zones = repo.zones(back.id)
    _same_zones(repo.zones(src), zones)
    assert sum(len(z.school_codes) == 2 for z in zones) == 1 and sum(bool(z.grade_start_years) for z in zones) == 19


def test_get_put_get_keeps_every_zone_property(client: TestClient, keys: dict[str, str], repo: Repository) -> None:
    nsw = next(p for p in repo.list_plans(district="nsw", level="primary"))
    auth = bearer(keys["planner"])
    copy = client.post(f"/v1/plans/{nsw.id}/copy", json={"name": "PUT round trip"}, headers=auth)
    assert copy.status_code == 201, copy.text
    pid = copy.json()["id"]
    got = client.get(f"/v1/plans/{pid}/zones")
    doc = got.json()
    assert sum(bool(f["properties"]["grade_start_years"]) for f in doc["features"]) == 19
    put = client.put(f"/v1/plans/{pid}/zones", json=doc, headers={**auth, "If-Match": got.headers["ETag"]})
    assert put.status_code == 200, put.text
    again = client.get(f"/v1/plans/{pid}/zones").json()

    def props(d: dict) -> list[dict]:
        return [{k: v for k, v in f["properties"].items() if k != "zone_id"} for f in d["features"]]

    assert props(again) == props(doc)
    assert [f["geometry"] for f in again["features"]] == [f["geometry"] for f in doc["features"]]
    assert [z.grade_start_years for z in repo.zones(pid)] == [z.grade_start_years for z in repo.zones(nsw.id)]
    # A phase-in year for a grade the zone does not serve is a clear 422, not a silent drop.
    bad = json.loads(json.dumps(again))
    phasing = next(f for f in bad["features"] if f["properties"]["grade_start_years"])
    phasing["properties"]["grades"] = ["K"]
    phasing["properties"]["grade_start_years"] = {"K": 2027, "3": 2028}
    r = client.put(f"/v1/plans/{pid}/zones", json=bad, headers={**auth, "If-Match": put.headers["ETag"]})
    assert r.status_code == 422 and "grade_start_years" in r.text


def test_unknown_school_codes_are_rejected_rows(repo: Repository, db_url: str) -> None:
    # Real NSW future catchments: 5 of the 24 primary ones name schools outside the sample.
    args = ["import", "zones", str(FUTURE), "--plan", "future primary", "--level", "primary", "--year", "2027",
            "--district", "nsw", "--map", "school_code=USE_ID", "--map", "name=USE_DESC",
            "--where", "CATCH_TYPE=PRIMARY,INFANTS,CENTRAL_PRIMARY", "--database", db_url]
    plans = len(repo.list_plans())
    refused = runner.invoke(cli, args)
    assert refused.exit_code == 2 and "5 of 24 zones rows rejected, nothing written" in refused.output
    assert "unknown school code(s) 2623 (Morpeth PS)" in refused.output
    assert len(repo.list_plans()) == plans
    text = _invoke(*args, "--allow-rejects")
    assert "24 read, 19 written" in text and "5 rejected" in text and "Lennox Head PS" in text
    plan = next(p for p in repo.list_plans() if p.name == "future primary")
    assert len(repo.zones(plan.id)) == 19
