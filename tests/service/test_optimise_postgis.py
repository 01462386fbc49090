"""The optimise job on PostGIS: the same four real Fairfax zones (tests/support/optimise_sample.py),
copied from the SQLite sample into a fresh schema; the draft is stored, validates clean and is listed."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import shapely
from fastapi.testclient import TestClient

from geo.models import Role
from service.main import create_app
from service.storage import open_repository
from tests.conftest import bearer, settings_for
from tests.storage.pg import new_schema_url
from tests.support.optimise_sample import CODES, OVER, small_plan

pytestmark = [pytest.mark.postgis]


@pytest.fixture
def pg_url(sample_db: Path, tmp_path: Path) -> Iterator[str]:
    src = open_repository(f"sqlite:///{sample_db}")
    with new_schema_url() as url:
        dst = open_repository(url)
        dst.upgrade()
        dst.import_schools([src.get_school(c) for c in CODES], actor="test")
        plan = next(p for p in src.list_plans(district="fairfax", level="elementary"))
        zones = [z for z in src.zones(plan.id) if z.school_codes[0] in CODES]
        dst.import_plan(name="FCPS elementary 2024-25", district="fairfax", level="elementary", school_year=2024, zones=zones,
                        adopt=True, actor="test")
        area = shapely.prepared.prep(shapely.union_all([z.geometry for z in zones]).buffer(1e-6))
        units = [u for u in src.demand_units("fairfax-blocks") if area.contains(u.geometry.representative_point())]
        dst.import_demand("fairfax-blocks", units, kind="blocks", report={"bbox": list(shapely.total_bounds([u.geometry for u in units]))},
                          actor="test")
        dst.close()
        src.close()
        yield url


def test_optimise_job_on_postgis(pg_url: str) -> None:
    repo = open_repository(pg_url)
    secret = repo.create_key(name="planner", role=Role.PLANNER, actor="test")[1]
    sp = small_plan(repo, own_demand=False)
    with TestClient(create_app(settings_for(pg_url))) as client:
        r = client.post(f"/v1/plans/{sp.plan.id}/optimise", json={"demand": sp.demand}, headers=bearer(secret))
        assert r.status_code == 202, r.text
        end = time.monotonic() + 60
        while (job := client.get(r.headers["Location"], headers=bearer(secret)).json())["status"] in ("queued", "running"):
            assert time.monotonic() < end
            time.sleep(0.1)
        assert job["status"] == "done", job
        res = job["result"]
        assert res["over_capacity_before"] > 150 and res["over_capacity_after"] == 0 and res["status"] == "optimal"
        assert next(s for s in res["report"]["schools"] if s["code"] == OVER)["demand_after"] <= 718
        draft = client.get(f"/v1/plans/{res['plan_id']}").json()
        assert draft["parent_id"] == sp.plan.id and draft["status"] == "draft"
        val = client.get(f"/v1/plans/{res['plan_id']}/validation").json()
        assert val["errors"] == 0 and not {"gap", "overlap"} & set(val["counts"]), val["counts"]
        assert [j["id"] for j in client.get("/v1/jobs", headers=bearer(secret)).json()] == [job["id"]]
    repo.close()
