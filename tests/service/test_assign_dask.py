"""Batch assignment on a real Dask cluster (a scheduler and two workers, separate processes),
checked row for row against the in-process batch lookup; the job API and the CLI on it."""

from __future__ import annotations

import io
import time
from collections.abc import Iterator
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from distributed import Client
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from service.cli import app as cli
from service.main import create_app
from service.operations import batch as batch_op
from service.operations.assign import run_assign
from service.settings import Settings
from service.state import Snapshot, build_snapshot
from service.storage.base import Repository
from tests.conftest import bearer, settings_for
from tests.support.dask_cluster import dask_cluster

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def scheduler() -> Iterator[str]:
    with dask_cluster(workers=2) as address:
        yield address


@pytest.fixture(scope="module")
def points(tmp_path_factory: pytest.TempPathFactory, sample_db: Path) -> Path:
    """20,000 random points over Greater Sydney and Fairfax, plus zone vertices (on edges) and far-away points."""
    from service.storage import open_repository

    rng = np.random.default_rng(7)
    syd = np.column_stack([rng.uniform(150.6, 151.4, 12_000), rng.uniform(-34.1, -33.5, 12_000)])
    ffx = np.column_stack([rng.uniform(-77.55, -77.04, 8_000), rng.uniform(38.6, 39.06, 8_000)])
    repo = open_repository(f"sqlite:///{sample_db}")
    zones = repo.adopted_zones()
    repo.close()
    verts = np.array([c for _, z in zones[::40] for c in list(z.geometry.geoms[0].exterior.coords)[:5]])
    far = np.array([[0.0, 0.0], [100.0, 10.0]])
    xy = np.vstack([syd, ffx, verts, far])
    frame = pd.DataFrame({"id": [f"p{i}" for i in range(len(xy))], "lon": xy[:, 0], "lat": xy[:, 1]})
    path = tmp_path_factory.mktemp("assign") / "points.csv"
    frame.to_csv(path, index=False)
    return path


def _reference(snap: Snapshot, settings: Settings, path: Path) -> pd.DataFrame:
    frame = pd.read_csv(path, dtype={"id": str})
    got = batch_op.batch(snap, settings, frame, level=None, grade=None, year=None, want_csv=True)
    return pd.read_csv(io.StringIO("".join(got.rows)), dtype=str, keep_default_na=False).set_index("id")


def _compare(out: pd.DataFrame, ref: pd.DataFrame) -> None:
    out = out.set_index("id").loc[ref.index]
    cols = [c for c in ref.columns if c.endswith(("_schools", "_zones"))]
    assert cols
    for c in cols:
        mine = out[c].fillna("").astype(str).to_numpy()
        theirs = ref[c].astype(str).to_numpy()
        assert (mine == theirs).all(), f"{c}: {int((mine != theirs).sum())} rows differ"
    assert ((out[[c for c in out.columns if c.endswith("_edge")]].to_numpy()).sum() > 0)  # the vertices lie on edges


def test_cluster_output_equals_the_in_process_batch(scheduler: str, points: Path, repo: Repository, tmp_path: Path) -> None:
    snap = build_snapshot(repo)
    settings = Settings()
    seen: list[tuple[int, int]] = []
    with Client(scheduler) as client:
        got = run_assign(snap, settings, client, points, tmp_path / "out.csv", fmt="csv", partitions=6,
                         progress=lambda d, n: seen.append((d, n)))
        assert got.rows == len(pd.read_csv(points)) and got.partitions == 6
        assert [d for d, _ in seen] == list(range(1, 7)) and {n for _, n in seen} == {6}
        ref = _reference(snap, settings, points)
        _compare(pd.read_csv(tmp_path / "out.csv", dtype={"id": str}), ref)
        # GeoParquet: a dataset folder, points in EPSG:4326, the same answers; spatially shuffled this time.
        got = run_assign(snap, settings, client, points, tmp_path / "out.parquet", fmt="parquet", shuffle=True, partitions=4)
        table = gpd.read_parquet(tmp_path / "out.parquet")
        assert table.crs.to_epsg() == 4326 and len(table) == got.rows
        assert np.allclose(table.geometry.x, table["lon"]) and np.allclose(table.geometry.y, table["lat"])
        _compare(pd.DataFrame(table.drop(columns="geometry")), ref)
        plan_ids = {p["id"] for p in got.plans}
        assert set(table["primary_plan_id"].unique()) - {-1} <= plan_ids


def test_cancel_stops_between_partitions(scheduler: str, points: Path, repo: Repository, tmp_path: Path) -> None:
    with Client(scheduler) as client, pytest.raises(InterruptedError):
        run_assign(build_snapshot(repo), Settings(), client, points, tmp_path / "x.csv", fmt="csv", partitions=8,
                   cancelled=lambda: True)
    assert not (tmp_path / "x.csv").exists()


def test_job_api_on_the_cluster(scheduler: str, points: Path, db_url: str, repo: Repository, keys: dict[str, str],
                                tmp_path: Path) -> None:
    settings = settings_for(db_url)
    settings.dask.scheduler = scheduler
    settings.jobs.dir = tmp_path / "jobs"
    planner = bearer(keys["planner"])
    with TestClient(create_app(settings)) as client:
        with points.open("rb") as fh:
            assert client.post("/v1/jobs/assign", files={"file": ("points.csv", fh, "text/csv")}).status_code == 401
            fh.seek(0)
            r = client.post("/v1/jobs/assign?format=csv&partitions=4", files={"file": ("points.csv", fh, "text/csv")},
                            headers=planner)
        assert r.status_code == 202 and r.headers["location"] == f"/v1/jobs/{r.json()['id']}"
        job_id = r.json()["id"]
        deadline = time.monotonic() + 240
        fractions = []
        while True:
            body = client.get(f"/v1/jobs/{job_id}", headers=planner).json()
            fractions.append(body["progress"].get("fraction", 0.0))
            if body["status"] in ("done", "failed", "cancelled") or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert body["status"] == "done", body
        assert body["progress"]["partitions_done"] == body["progress"]["partitions"] == 4 and fractions == sorted(fractions)
        assert body["result"]["rows"] == len(pd.read_csv(points)) and body["result"]["href"] == f"/v1/jobs/{job_id}/result"
        download = client.get(body["result"]["href"], headers=planner)
        assert download.status_code == 200 and download.headers["content-type"].startswith("text/csv")
        _compare(pd.read_csv(io.BytesIO(download.content), dtype={"id": str}), _reference(build_snapshot(repo), settings, points))
        bad = client.post("/v1/jobs/assign", files={"file": ("points.txt", b"x", "text/plain")}, headers=planner)
        assert bad.status_code == 415 and bad.headers["content-type"].startswith("application/problem+json")
        assert client.post("/v1/jobs/assign?path=../../etc/passwd", headers=planner).status_code == 422


def test_cli_assign_with_a_scheduler(scheduler: str, points: Path, db_url: str, repo: Repository, tmp_path: Path) -> None:
    out = tmp_path / "cli.csv"
    r = CliRunner().invoke(cli, ["assign", str(points), str(out), "--scheduler", scheduler, "--database", db_url, "--partitions", "3"])
    assert r.exit_code == 0, r.output
    assert "points in 3 partitions assigned" in r.output
    _compare(pd.read_csv(out, dtype={"id": str}), _reference(build_snapshot(repo), Settings(), points))
