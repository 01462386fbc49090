"""Street networks in the service, on the real Portland (OpenStreetMap) sample and Fairfax."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import numpy as np
import shapely
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from geo.network.graph import StreetNetwork
from service.cli import app as cli
from service.storage.base import Repository
from tests.conftest import DATA, bearer

# Near West Sylvan Middle School, Portland: (lon, lat) EPSG:4326.
PORTLAND = (-122.755, 45.505)


def test_lookup_gains_walk_m_where_a_network_covers_the_point(shared_client: TestClient) -> None:
    body = shared_client.get("/v1/lookup", params={"lon": PORTLAND[0], "lat": PORTLAND[1], "level": "middle"}).json()
    assert body["networks"]["walk"]["network"] == "portland" and not body["networks"]["walk"]["too_far"]
    school = body["levels"][0]["zones"][0]["schools"][0]
    # Along the streets is never shorter than the straight line.
    assert school["walk_m"] >= school["distance_m"] - body["networks"]["walk"]["snap_m"] - 1
    assert school["walk_m"] < 4 * school["distance_m"] + 500
    # The words say both: the straight line and the walk, in both languages; Chinese names the level.
    def km(m: float) -> str:
        return f"{m / 1000:.1f} km" if m >= 1000 else f"{m:.0f} m"
    assert f"{km(school['distance_m'])} in a straight line, {km(school['walk_m'])} on foot" in body["explanation"]["en"]
    assert "步行" in body["explanation"]["zh"] and body["explanation"]["zh"].startswith("初中：")
    sydney = shared_client.get("/v1/lookup", params={"lon": 151.1796, "lat": -33.7738}).json()
    assert sydney["networks"] == {} and all(s["walk_m"] is None for lv in sydney["levels"] for z in lv["zones"] for s in z["schools"])


def test_generated_plan_is_a_clean_coverage_of_nearest_schools(shared_client: TestClient, sample_db: Path) -> None:
    from service.storage import open_repository

    repo = open_repository(f"sqlite:///{sample_db}")
    plan = next(p for p in repo.list_plans(district="portland"))
    zones = repo.zones(plan.id)
    assert plan.status.value == "adopted" and len(zones) == 2
    assert shapely.coverage_is_valid([z.geometry for z in zones])
    net = StreetNetwork.from_bytes(repo.assets.get("network", repo.networks()[0]["name"]))
    # Street nodes: their zone's school is the nearest along the streets (the report says so too).
    report = shared_client.get("/v1/reports/travel", params={"level": "middle", "district": "portland", "mode": "walk",
                                                              "units": "nodes"}).json()
    assert report["share_assigned_is_nearest"] > 0.97
    assert report["summary"]["count"] > 0.9 * net.n_nodes
    assert 0 < report["summary"]["median"] < report["summary"]["p90"]
    assert report["unit"] == "m" and report["service_radius_m"] is None  # generic profile has no radius


def test_travel_report_straight_on_fairfax_blocks_csv(shared_client: TestClient) -> None:
    r = shared_client.get("/v1/reports/travel", params={"level": "elementary", "mode": "straight", "format": "csv"})
    assert r.status_code == 200
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert len(rows) == 9404
    cost = np.array([float(x["cost_m"]) for x in rows if x["cost_m"]])
    assert np.median(cost) > 300 and cost.max() < 20_000
    summary = shared_client.get("/v1/reports/travel", params={"level": "elementary", "mode": "straight"}).json()["summary"]
    assert summary["median"] > 0 and summary["p90"] >= summary["median"]
    assert shared_client.get("/v1/reports/travel", params={"level": "elementary", "mode": "fly"}).status_code == 422
    missing = shared_client.get("/v1/reports/travel", params={"level": "elementary", "mode": "drive"})
    assert missing.status_code == 404 and "network build" in missing.json()["detail"]


def test_walkshed_and_networks(shared_client: TestClient) -> None:
    nets = shared_client.get("/v1/networks").json()
    assert nets[0]["name"] == "portland" and nets[0]["stats"]["nodes"] > 10_000
    school = shared_client.get("/v1/schools", params={"level": "middle", "bbox": "-123,45,-122,46"}).json()["features"][0]
    shed = shared_client.get(f"/v1/schools/{school['id']}/walkshed", params={"within": 800}).json()
    poly = shapely.geometry.shape(shed["geometry"])
    assert poly.contains(shapely.Point(*school["geometry"]["coordinates"]).buffer(0.0005)) or poly.intersects(
        shapely.Point(*school["geometry"]["coordinates"]))
    assert shared_client.get(f"/v1/schools/{school['id']}/walkshed", params={"within": 800, "mode": "drive"}).status_code == 404


def test_generate_over_http_and_cli(client: TestClient, keys: dict[str, str], db_url: str, repo: Repository) -> None:
    r = client.post("/v1/plans?generate=network-nearest&mode=walk",
                    json={"name": "again", "level": "middle", "school_year": 2027, "district": "portland"},
                    headers=bearer(keys["planner"]))
    assert r.status_code == 201, r.text
    assert r.json()["status"] == "draft" and len(repo.zones(r.json()["id"])) == 2
    # One validation, one answer: the generator's report is /validation's for the stored plan.
    info = json.loads(r.headers["X-Generation"])
    checked = client.get(f"/v1/plans/{r.json()['id']}/validation").json()
    assert info["validation"]["counts"] == checked["counts"] and info["validation"]["errors"] == checked["errors"]
    breaks = [f for f in checked["findings"]["features"] if f["properties"]["code"] in ("gap", "overlap", "invalid_geometry")
              or (f["properties"]["code"] == "sliver" and f["properties"]["detail"].get("kind") in ("gap", "overlap"))]
    assert info["coverage_valid"] == (not breaks)
    out = CliRunner().invoke(cli, ["plans", "generate", "--name", "cli", "--level", "middle", "--year", "2028",
                                   "--district", "portland", "--database", db_url])
    assert out.exit_code == 0, out.output
    assert "clean coverage: True" in out.output
    bad = client.post("/v1/plans?generate=network-nearest", json={"name": "x", "level": "primary", "school_year": 2027},
                      headers=bearer(keys["planner"]))
    assert bad.status_code == 422


def test_network_build_cli(tmp_path: Path) -> None:
    from service.storage import open_repository

    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    out = CliRunner().invoke(cli, ["network", "build", str(DATA.parent / "osm" / "portland.osm.pbf"), "--mode", "drive",
                                   "--database", url])
    assert out.exit_code == 0, out.output
    # Stored in the database (every host loads it from there), not as a file next to it.
    stored = open_repository(url).assets.list("network")
    assert [(a.name, a.codec) for a in stored] == [("portland-drive", "npz")] and stored[0].size > 100_000
    assert not (tmp_path / "networks").exists()
    assert StreetNetwork.from_bytes(open_repository(url).assets.get("network", "portland-drive")).mode == "drive"
    bad = tmp_path / "not.osm.pbf"
    bad.write_bytes(b"nonsense")
    out = CliRunner().invoke(cli, ["network", "build", str(bad), "--database", url])
    assert out.exit_code == 2 and "error" in out.output


def test_a_registered_network_whose_file_is_gone_is_said_not_dropped(tmp_path: Path, db_url: str) -> None:
    """A container recreated without its volume keeps the registry but loses the files: the
    lookup says the network is missing instead of silently leaving drive_s out."""
    from service.main import create_app
    from service.storage import open_repository
    from tests.conftest import settings_for

    repo = open_repository(db_url)
    gone = tmp_path / "gone-drive.npz"
    repo.register_network("portland-gone", mode="drive", path=str(gone), source=None,
                          stats={"bbox": [-122.8, 45.45, -122.6, 45.6], "key": "x", "nodes": 1, "edges": 1}, actor="test")
    repo.close()
    with TestClient(create_app(settings_for(db_url))) as c:
        body = c.get("/v1/lookup", params={"lon": PORTLAND[0], "lat": PORTLAND[1], "level": "middle"}).json()
    drive = body["networks"]["drive"]
    assert drive["missing"] is True and drive["network"] == "portland-gone" and "portland-gone" in drive["detail"]
    assert str(tmp_path) not in drive["detail"]  # said by name: server paths stay on the server
    assert "路网" in drive["detail_zh"]
    assert body["networks"]["walk"]["network"] == "portland"  # the network that is there still answers
def test_walk_and_drive_networks_of_one_file_live_side_by_side(client: TestClient, db_url: str, repo: Repository) -> None:
    pbf = DATA.parent / "osm" / "portland.osm.pbf"
    # The sample holds the walk network of this file (named "portland"); a drive build beside it.
    out = CliRunner().invoke(cli, ["network", "build", str(pbf), "--mode", "drive", "--database", db_url])
    assert out.exit_code == 0, out.output
    nets = {n["name"]: n["mode"] for n in repo.networks()}
    assert nets == {"portland": "walk", "portland-drive": "drive"}
    client.app.state.holder.refresh()  # the CLI wrote to the database behind the app's back
    for mode, unit in (("walk", "m"), ("drive", "s")):
        r = client.get("/v1/reports/travel", params={"level": "middle", "district": "portland", "mode": mode, "units": "nodes"})
        assert r.status_code == 200, r.text
        assert r.json()["unit"] == unit
    # Rebuilding the same (file, mode) is refused unless --replace, before any build work.
    again = CliRunner().invoke(cli, ["network", "build", str(pbf), "--mode", "walk", "--database", db_url])
    assert again.exit_code == 2 and "--replace" in again.output and "'portland'" in again.output
    assert {n["name"] for n in repo.networks()} == {"portland", "portland-drive"}
    named = CliRunner().invoke(cli, ["network", "build", str(pbf), "--mode", "walk", "--name", "portland-drive",
                                     "--database", db_url])
    assert named.exit_code == 2 and "already exists" in named.output
    out = CliRunner().invoke(cli, ["network", "build", str(pbf), "--mode", "walk", "--replace", "--database", db_url])
    assert out.exit_code == 0, out.output
    assert {n["name"]: n["mode"] for n in repo.networks()} == {"portland-walk": "walk", "portland-drive": "drive"}
    client.app.state.holder.refresh()
    r = client.get("/v1/reports/travel", params={"level": "middle", "district": "portland", "mode": "walk", "units": "nodes"})
    assert r.status_code == 200 and r.json()["summary"]["count"] > 0
