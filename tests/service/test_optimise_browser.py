"""The optimiser in headless Chromium against a real `catchment serve`: the workspace's button starts
a job, shows its progress and links the draft; the compare map outlines the blocks that move; the
editing map of the draft shows its parent dashed, locks a block and runs the optimiser again.
The plan is four real Fairfax zones (tests/support/optimise_sample.py)."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import shapely

from geo.models import Role
from service.storage import open_repository
from tests.conftest import bearer
from tests.support.optimise_sample import OVER, small_plan
from tests.support.pages import IDLE_PLAN, OFFLINE, Tab, axe, browser
from tests.support.server import running_service

pytestmark = pytest.mark.browser

__all__ = ["browser"]  # module fixture

IDLE_EDITOR = ("() => window.catchmentEditor && window.catchmentEditor.ready && window.catchmentEditor.state.pending === 0"
               " && window.catchmentProposal && window.catchmentProposal.ready")


@pytest.fixture(scope="module")
def service(sample_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str], int]]:
    target = tmp_path_factory.mktemp("optimise") / "catchment.db"
    src, dst = sqlite3.connect(sample_db), sqlite3.connect(target)
    src.backup(dst)
    src.close()
    dst.close()
    url = f"sqlite:///{target}"
    repo = open_repository(url)
    keys = {"planner": repo.create_key(name="planner", role=Role.PLANNER, actor="test")[1]}
    plan_id = small_plan(repo, own_demand=False).plan.id
    repo.close()
    with running_service(url, env=OFFLINE) as base:
        yield base, keys, plan_id


@pytest.fixture
def api(service: tuple[str, dict[str, str], int]) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=service[0], timeout=120) as client:
        yield client


def _job(api: httpx.Client, key: str, job_id: int) -> dict[str, Any]:
    end = time.monotonic() + 60
    while True:
        job = api.get(f"/v1/jobs/{job_id}", headers=bearer(key)).json()
        if job["status"] != "running" and job["status"] != "queued" or time.monotonic() > end:
            return job  # type: ignore[no-any-return]
        time.sleep(0.2)


def test_workspace_starts_the_optimiser_and_the_maps_show_the_proposal(browser: Any, service: tuple[str, dict[str, str], int],
                                                                      api: httpx.Client, tmp_path: Path) -> None:
    base, keys, plan_id = service
    tab = Tab(browser, base)
    tab.open(f"/plan?lang=en&plan={plan_id}", IDLE_PLAN)
    tab.page.fill("#key", keys["planner"])
    tab.page.click("#key-use")
    tab.page.wait_for_selector("#signed-in:not([hidden])")
    tab.idle(IDLE_PLAN)
    tab.page.fill("#opt-time", "30")
    tab.page.click("#optimise-go")
    tab.page.wait_for_selector("#optimise-open", timeout=60_000)
    job = api.get(f"/v1/jobs/{tab.page.evaluate('() => window.catchmentOptimise.job')}", headers=bearer(keys["planner"])).json()
    res = job["result"]
    assert job["status"] == "done" and job["params"]["time_limit_s"] == 30 and job["params"]["demand"] is None
    assert f"{round(res['moved'])} children moved" in tab.text("#optimise-status").replace(",", "")
    assert tab.page.get_attribute("#optimise-compare", "href") == f"/v1/maps/compare?a={plan_id}&b={res['plan_id']}&lang=en"
    assert api.get(f"/v1/plans/{res['plan_id']}").json()["parent_id"] == plan_id
    tab.page.click("#jobs-refresh")
    tab.page.wait_for_selector("#jobs a.job-draft")
    assert tab.page.get_attribute("#jobs a.job-draft", "href") == f"/plan?plan={res['plan_id']}&lang=en"
    assert axe(tab) == []
    tab.shot("workspace-optimise", tmp_path)

    # The compare map: one outline per block that moves, and the count in the summary.
    tab.page.click("#optimise-compare")
    tab.page.wait_for_function("window.catchmentLayers !== undefined", timeout=30_000)
    assert tab.page.locator("path.catchment-moved-unit").count() == res["units_moved"] == len(res["report"]["units_changed"]) > 0
    assert f"{res['units_moved']} blocks move" in tab.text("body")
    tab.close()


def test_editing_map_locks_a_block_and_runs_again(browser: Any, service: tuple[str, dict[str, str], int], api: httpx.Client,
                                                  tmp_path: Path) -> None:
    base, keys, plan_id = service
    r = api.post(f"/v1/plans/{plan_id}/optimise", json={}, headers=bearer(keys["planner"]))
    first = _job(api, keys["planner"], r.json()["id"])["result"]
    moved = first["report"]["units_changed"]
    tab = Tab(browser, base)
    tab.page.add_init_script(f"window.sessionStorage.setItem('catchment-planner-key', {keys['planner']!r})")
    tab.open(f"/v1/maps/plan/{first['plan_id']}/edit?lang=en", IDLE_EDITOR)
    assert tab.page.locator("path.catchment-parent-zone").count() == 4
    assert f"{len(moved)} blocks move" in tab.text(".ce-proposal")
    # zoom onto a moved block: the units load, the moved ones highlighted
    units = api.get(f"/v1/plans/{first['plan_id']}/units", params={"demand": "fairfax-blocks"}).json()["features"]
    target = next(f for f in units if f["properties"]["id"] == moved[0])
    p = shapely.geometry.shape(target["geometry"]).representative_point()
    tab.page.evaluate("([lat, lon]) => { window.catchmentMap.setView([lat, lon], 15, {animate: false}); }", [p.y, p.x])
    tab.page.wait_for_function("() => document.querySelectorAll('path.catchment-unit').length > 0", timeout=30_000)
    tab.idle(IDLE_EDITOR)
    assert tab.page.locator("path.catchment-unit-moved").count() >= 1
    # lock the moved block back to Terraset, from its popup
    tab.page.evaluate("(id) => { window.catchmentLayers.units.eachLayer(function (l) {"
                      " if (l.feature.properties.id === id) { l.fire('click', {latlng: l.getBounds().getCenter()}); } }); }",
                      moved[0])
    tab.page.wait_for_selector(".ce-lock")
    tab.page.click(".ce-lock")
    school = target["properties"]["school"]
    assert tab.page.evaluate("() => window.catchmentEditor.state.locks") == {moved[0]: school}
    # Leaflet sets a class only when a path is made: the restyled lock shows as its stroke
    assert tab.page.locator('path.catchment-unit[stroke="#08519c"]').count() == 1 and tab.text(".ce-locked") == "Locked blocks: 1"
    tab.page.click(".ce-rerun")
    tab.page.wait_for_selector(".ce-run-result a", timeout=60_000)
    jobs = api.get("/v1/jobs", headers=bearer(keys["planner"])).json()
    last = jobs[0]
    assert last["params"]["locks"] == {moved[0]: school} and last["params"]["plan_id"] == plan_id and last["status"] == "done"
    assert "Done:" in tab.text(".ce-run-status")
    href = tab.page.get_attribute(".ce-run-result a", "href")
    assert href == f"/v1/maps/plan/{last['result']['plan_id']}/edit"
    new = {f["properties"]["school_codes"][0]: shapely.geometry.shape(f["geometry"])
           for f in api.get(f"/v1/plans/{last['result']['plan_id']}/zones").json()["features"]}
    assert school != OVER and new[school].contains(p)  # the block kept the school it was locked to
    tab.shot("editor-optimise", tmp_path)
    tab.close()
