"""The optimiser's street-network costs (``cost=walk``) on the sample's Portland walking network.

The demand set is a grid of cells over the Portland plan's two zones (the sample has no census
blocks there); the costs are checked against the network itself, routed here independently of
the optimiser (snap each cell's point on surface, then the school x point matrix)."""

from __future__ import annotations

import json
import time
from typing import Any

import numpy as np
import pytest
import shapely
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from geo.network.graph import StreetNetwork
from geo.network.paths import SchoolTravel
from geo.planning.demand import DemandUnit
from geo.planning.optimise import geodesic_costs, start_from_zones
from service.cli import app as cli
from service.storage.base import Repository
from tests.conftest import bearer

CELL = 0.004  # degrees: about 310 m x 445 m at Portland's latitude


def _grid(repo: Repository, *, all_cells: bool = False) -> tuple[Any, list[DemandUnit]]:
    plan = next(p for p in repo.list_plans(district="portland"))
    zones = repo.zones(plan.id)
    area = shapely.union_all([z.geometry for z in zones])
    x0, y0, x1, y1 = area.bounds
    cells = []
    for i, x in enumerate(np.arange(x0, x1, CELL)):
        for j, y in enumerate(np.arange(y0, y1, CELL)):
            cell = shapely.box(x, y, x + CELL, y + CELL).intersection(area)
            if cell.area > 0.2 * CELL * CELL and cell.geom_type == "Polygon":
                cells.append(DemandUnit(id=f"c{i:03d}-{j:03d}", geometry=cell, counts={"middle": 12.0}))
    # cells with no street near their middle (river, parks) reach no school on foot: left out here
    matrix = _matrix(repo, cells, sorted({c for z in zones for c in z.school_codes}))
    units = [u for k, u in enumerate(cells) if np.isfinite(matrix[:, k]).any() or all_cells]
    assert len(units) > 0.5 * len(cells)
    repo.import_demand("portland-grid", units, kind="grid", report={"units": len(units)}, actor="test")
    return plan, units


def _wait(client: TestClient, job_id: int, key: str) -> dict[str, Any]:
    end = time.monotonic() + 120
    while time.monotonic() < end:
        body = client.get(f"/v1/jobs/{job_id}", headers=bearer(key)).json()
        if body["status"] not in ("queued", "running"):
            return body  # type: ignore[no-any-return]
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} still running: {body}")


def _matrix(repo: Repository, units: list[DemandUnit], codes: list[str], network: str = "portland") -> np.ndarray:
    """Walk metres (drive seconds), schools x units, routed on the stored network directly."""
    net = StreetNetwork.from_bytes(repo.assets.get("network", network))
    travel = SchoolTravel.from_schools(net, [repo.get_school(c) for c in codes])
    pts = shapely.point_on_surface(np.array([u.geometry for u in units], dtype=object))
    return np.asarray(travel.point_matrix(travel.snap(shapely.get_x(pts), shapely.get_y(pts))))


def _walk_mean(repo: Repository, units: list[DemandUnit], assignment: dict[str, str]) -> float:
    """Pupil-weighted walk metres of ``assignment``."""
    codes = sorted(set(assignment.values()))
    matrix = _matrix(repo, units, codes)
    cost = np.array([matrix[codes.index(assignment[u.id]), i] for i, u in enumerate(units)])
    return float(cost.mean())  # every cell holds the same 12 pupils


def test_walk_costs_come_from_the_network(client: TestClient, keys: dict[str, str], repo: Repository) -> None:
    plan, units = _grid(repo)
    assert len(units) > 30
    start = start_from_zones(units, repo.zones(plan.id))
    # travel only (nobody is kept for stability's sake): the walk-nearest contiguous plan
    body = {"demand": "portland-grid", "level": "middle",
            "options": {"cost": "walk", "capacity": "soft", "time_limit_s": 30, "weights": {"moved": 0, "units_moved": 0, "travel": 1}}}
    r = client.post(f"/v1/plans/{plan.id}/optimise", json=body, headers=bearer(keys["planner"]))
    assert r.status_code == 202, r.text
    done = _wait(client, r.json()["id"], keys["planner"])
    assert done["status"] == "done", done.get("error")
    report = done["result"]["report"]
    assert report["cost_source"] == "walk network portland" and done["result"]["cost_unit"] == "m"
    before, after = report["travel_before"]["mean"], report["travel_after"]["mean"]
    assert before == pytest.approx(_walk_mean(repo, units, start), rel=1e-6)
    proposal = {u.id: start[u.id] for u in units}
    for uid in report["units_changed"]:
        proposal[uid] = next(c for c in set(start.values()) if c != start[uid])  # two schools: the other one
    assert after == pytest.approx(_walk_mean(repo, units, proposal), rel=1e-6)
    assert after <= before + 1e-6
    # walking is longer than the straight line the default would use
    straight = geodesic_costs(units, [repo.get_school(c) for c in sorted(set(start.values()))])
    col = {c: j for j, c in enumerate(straight.school_codes)}
    crow = float(np.mean([straight.values[i, col[start[u.id]]] for i, u in enumerate(units)]))
    assert before > crow


def test_walk_cost_on_the_cli_and_a_missing_drive_network(db_url: str, client: TestClient, keys: dict[str, str],
                                                          repo: Repository) -> None:
    plan, _ = _grid(repo)
    got = CliRunner().invoke(cli, ["plans", "optimise", str(plan.id), "--demand", "portland-grid", "--level", "middle",
                                   "--cost", "walk", "--capacity", "soft", "--time-limit", "20", "--json", "--database", db_url])
    assert got.exit_code == 0, got.output
    doc = json.loads(got.stdout)
    assert doc["report"]["cost_source"] == "walk network portland" and doc["cost_unit"] == "m"
    r = client.post(f"/v1/plans/{plan.id}/optimise", json={"demand": "portland-grid", "level": "middle",
                                                           "options": {"cost": "drive"}}, headers=bearer(keys["planner"]))
    assert r.status_code == 422, r.text
    problem = r.json()
    assert problem["where"] == "options.cost" and "no drive network" in problem["detail"]
    cli_drive = CliRunner().invoke(cli, ["plans", "optimise", str(plan.id), "--demand", "portland-grid", "--level", "middle",
                                         "--cost", "drive", "--database", db_url])
    assert cli_drive.exit_code == 2 and "no drive network" in cli_drive.output


def test_units_no_school_can_be_walked_to_are_a_422_before_any_job(client: TestClient, keys: dict[str, str],
                                                                     repo: Repository) -> None:
    plan, units = _grid(repo, all_cells=True)
    walk = _matrix(repo, units, sorted({c for z in repo.zones(plan.id) for c in z.school_codes}))
    lost = [u.id for k, u in enumerate(units) if not np.isfinite(walk[:, k]).any()]
    assert lost  # cells in the river and the parks
    r = client.post(f"/v1/plans/{plan.id}/optimise", json={"demand": "portland-grid", "level": "middle",
                                                           "options": {"cost": "walk"}}, headers=bearer(keys["planner"]))
    assert r.status_code == 422, r.text
    problem = r.json()
    assert problem["where"] == "options.cost" and f"{len(lost)} of {len(units)} demand unit(s) reach no school" in problem["detail"]
    assert lost[0] in problem["detail"] and "需求单元" in problem["detail"]
    assert client.get("/v1/jobs", headers=bearer(keys["planner"])).json() == []


def test_drive_costs_from_a_drive_network_built_with_the_cli(db_url: str, keys: dict[str, str], repo: Repository) -> None:
    from service.main import create_app
    from tests.conftest import ROOT, settings_for

    plan, _ = _grid(repo)
    built = CliRunner().invoke(cli, ["network", "build", str(ROOT / "data" / "osm" / "portland.osm.pbf"), "--mode", "drive",
                                     "--database", db_url])
    assert built.exit_code == 0, built.output
    name = next(n["name"] for n in repo.networks() if n["mode"] == "drive")
    units = repo.demand_units("portland-grid")
    drive = _matrix(repo, units, sorted({c for z in repo.zones(plan.id) for c in z.school_codes}), network=name)
    reach = [u for k, u in enumerate(units) if np.isfinite(drive[:, k]).any()]
    if len(reach) < len(units):  # a few cells reach no driveable street: a demand set of the rest
        repo.import_demand("portland-drive", reach, kind="grid", report={"units": len(reach)}, actor="test")
    demand = "portland-drive" if len(reach) < len(units) else "portland-grid"
    with TestClient(create_app(settings_for(db_url))) as client:
        r = client.post(f"/v1/plans/{plan.id}/optimise", json={"demand": demand, "level": "middle",
                                                               "options": {"cost": "drive", "capacity": "soft", "time_limit_s": 20}},
                        headers=bearer(keys["planner"]))
        assert r.status_code == 202, r.text
        done = _wait(client, r.json()["id"], keys["planner"])
    assert done["status"] == "done", done.get("error")
    report = done["result"]["report"]
    assert report["cost_source"] == f"drive network {name}" and done["result"]["cost_unit"] == "s"
    start = start_from_zones(reach, repo.zones(plan.id))
    codes = sorted({c for z in repo.zones(plan.id) for c in z.school_codes})
    seconds = _matrix(repo, reach, codes, network=name)
    mean = float(np.mean([seconds[codes.index(start[u.id]), k] for k, u in enumerate(reach)]))
    assert report["travel_before"]["mean"] == pytest.approx(mean, rel=1e-6)
    assert 30 < mean < 1800  # seconds by car across a few kilometres of Portland
