"""Capacity and balance reports through the API, on the real Fairfax sample and a hand example."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import geopandas as gpd
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from geo.capacity.balance import weighted_cv
from geo.models import Role
from service.cli import app as cli
from service.main import create_app
from service.storage import open_repository
from tests.conftest import DATA, bearer, settings_for


@pytest.mark.parametrize("level,file", [("elementary", "zones_ES.geojson"), ("middle", "zones_MS.geojson"), ("high", "zones_HS.geojson")])
def test_capacity_report_reproduces_fairfax_published_figures(shared_client: TestClient, level: str, file: str) -> None:
    r = shared_client.get("/v1/reports/capacity", params={"level": level, "district": "fairfax"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["profile"].startswith("generic@")
    rows = {row["code"]: row for row in body["rows"]}
    published = gpd.read_file(DATA / "fairfax" / file)
    for _, z in published.iterrows():
        row = rows[f"fcps-{z.object_id_school}"]
        assert row["capacity"] == z.capacity and row["enrolment"] == z.membership
    # Demand comes from the census blocks: calibrated so the county's children match its membership.
    assert body["demand_source"]["demand"] == "fairfax-blocks" and body["demand_source"]["units_outside_zones"] == 0
    total_demand = sum(row["demand"] or 0 for row in body["rows"])
    assert total_demand == pytest.approx(body["totals"]["enrolment"], rel=1e-6)
    per_zone_pop = published.set_index("object_id_school")["pop"]
    rate = body["totals"]["enrolment"] / published["pop"].sum()
    some = published.object_id_school.iloc[0]
    assert rows[f"fcps-{some}"]["demand"] == pytest.approx(per_zone_pop[some] * rate, rel=1e-6)


def test_capacity_csv_and_ambiguous_level(shared_client: TestClient) -> None:
    r = shared_client.get("/v1/reports/capacity", params={"level": "high"})
    assert r.status_code == 422 and r.json()["where"] == "district"
    r = shared_client.get("/v1/reports/capacity", params={"level": "elementary", "format": "csv"})
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert len(rows) >= 138 and {"capacity", "demand", "utilisation_demand", "band_demand_zh"} <= set(rows[0])
    # Campuses without a capacity figure are flagged, not guessed.
    flagged = [row for row in rows if "no_capacity" in row["flags"]]
    assert flagged and all(row["utilisation_enrolment"] == "" for row in flagged)


def test_lookup_carries_the_school_utilisation_band(shared_client: TestClient) -> None:
    body = shared_client.get("/v1/lookup", params={"lon": -77.29, "lat": 38.85, "level": "middle"}).json()
    school = body["levels"][0]["zones"][0]["schools"][0]
    assert school["utilisation_band"]["key"] in {"under", "ok", "tight", "over"}
    assert school["utilisation_band"]["label_zh"]


def test_demand_import_rejects_negative_counts(tmp_path: Path, db_url: str) -> None:
    blocks = gpd.read_file(DATA / "fairfax" / "blocks2020.gpkg").head(50)
    blocks.loc[blocks.index[7], "pop"] = -3
    path = tmp_path / "bad.gpkg"
    blocks.to_file(path)
    result = CliRunner().invoke(cli, ["import", "demand", str(path), "--name", "bad", "--id", "geoid20", "--population", "pop",
                                      "--rate", "elementary=0.07", "--database", db_url])
    assert result.exit_code == 2
    assert "negative" in result.output and "pop" in result.output


def test_balance_report_on_a_hand_example(db_url: str) -> None:
    """Three schools small enough to check on paper (cn profile, junior level)."""
    settings = settings_for(db_url)
    settings.profile = "cn"
    with TestClient(create_app(settings)) as client:
        repo = open_repository(db_url)
        _, admin = repo.create_key(name="a", role=Role.ADMIN, actor="t")
        h = bearer(admin)
        # Sports ground m2 and pupils: 1000/200, 3000/400, 9000/1000 -> 5, 7.5, 9 m2 per pupil.
        for i, (area, pupils) in enumerate([(1000, 200), (3000, 400), (9000, 1000)]):
            school = {"code": f"hx-{i}", "name": f"Hand {i}", "lon": 120.0 + i * 0.01, "lat": 30.0, "levels": ["junior"],
                      "enrolment": pupils, "attributes": {"sports_area_m2": area}}
            assert client.post("/v1/schools", json=school, headers=h).status_code == 201
        plan = client.post("/v1/plans", json={"name": "hand", "level": "junior", "school_year": 2025, "district": "hand"},
                           headers=h).json()
        ring = [[119.99, 29.99], [120.03, 29.99], [120.03, 30.01], [119.99, 30.01], [119.99, 29.99]]
        doc = {"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [ring]},
                                                          "properties": {"school_codes": ["hx-0", "hx-1", "hx-2"]}}]}
        put = client.put(f"/v1/plans/{plan['id']}/zones", json=doc, headers=h | {"If-Match": f'"{plan["version"]}"'})
        assert put.status_code == 200
        client.post(f"/v1/plans/{plan['id']}/adopt", headers=h | {"If-Match": put.headers["ETag"]})
        body = client.get("/v1/reports/balance", params={"level": "junior", "district": "hand"}).json()
    sports = next(i for i in body["indicators"] if i["indicator"]["key"] == "sports_area_m2")
    # xbar = 13000 / 1600 = 8.125; CV = sqrt(sum n_i/N (x_i - xbar)^2) / xbar
    xbar = 13000 / 1600
    var = (200 * (5 - xbar) ** 2 + 400 * (7.5 - xbar) ** 2 + 1000 * (9 - xbar) ** 2) / 1600
    assert sports["cv_weighted"] == pytest.approx(var**0.5 / xbar, rel=1e-9)
    assert sports["cv_weighted"] == pytest.approx(weighted_cv([1000, 3000, 9000], [200, 400, 1000]), rel=1e-12)
    assert sports["cv_weighted"] != pytest.approx(sports["cv_unweighted"], rel=1e-3)
    assert sports["cv_limit"] == 0.45
    verdicts = {v["code"]: v for v in sports["schools"]}
    assert verdicts["hx-0"]["passed"] is False and verdicts["hx-2"]["passed"] is False  # 9 < 10.2 m2 junior threshold
    assert body["profile"].startswith("cn@")


def test_calibration_counts_each_levels_own_schools(sample_db: Path) -> None:
    """Each level's calibrated rate quotes how many schools of that level it was summed over."""
    import re

    from service.storage import open_repository
    repo = open_repository(f"sqlite:///{sample_db}")
    try:
        report = next(d for d in repo.demand_sets() if d["name"] == "fairfax-blocks")["report"]
        fcps = [s for s in repo.list_schools() if s.code.startswith("fcps-")]
    finally:
        repo.close()
    counts = {}
    for r in report["rates"]:
        n = int(re.match(r"enrolment of (\d+) (\w+) schools? inside", r["source"]).group(1))
        counts[r["level"]] = n
        assert 0 < n <= sum(1 for s in fcps if r["level"] in s.levels)
        assert r["children"] == pytest.approx(sum(s.enrolment or 0 for s in fcps if r["level"] in s.levels), rel=0.05)
    assert set(counts) == {"elementary", "middle", "high"} and len(set(counts.values())) == 3
