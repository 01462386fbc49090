"""The planners' workspace and the API docs in headless Chromium against a real `catchment serve`.

A planner signs in (a wrong key first), filters and opens a plan, reads its map, findings and
reports (tables, charts, CSV), copies it to a draft, compares, and adopts the draft after a
confirmation that names the plan it replaces; Swagger UI and ReDoc run offline.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.pages import IDLE_PLAN, Tab, api, axe, browser, service

pytestmark = pytest.mark.browser

__all__ = ["api", "browser", "service"]  # module fixtures


def test_planner_signs_in_opens_a_plan_reads_reports_and_adopts_a_draft(browser: Any, service: tuple[str, dict[str, str]], api: httpx.Client,
                                                                       tmp_path: Path) -> None:
    base, keys = service
    tab = Tab(browser, base)
    tab.open("/plan?lang=en", IDLE_PLAN)
    assert tab.page.is_disabled("#adopt") if tab.page.is_visible("#adopt") else True
    tab.page.fill("#key", "ck_wrong")
    tab.page.click("#key-use")
    tab.page.wait_for_function("() => document.getElementById('key-status').textContent.includes('not accepted')")
    tab.page.fill("#key", keys["planner"])
    tab.page.click("#key-use")
    tab.page.wait_for_selector("#signed-in:not([hidden])")
    assert tab.page.evaluate("() => sessionStorage.getItem('catchment-planner-key')") == keys["planner"]
    tab.idle(IDLE_PLAN)
    tab.page.select_option("#f-district", "fairfax")
    tab.page.select_option("#f-level", "elementary")
    tab.page.select_option("#f-status", "adopted")
    listed = api.get("/v1/plans", params={"district": "fairfax", "level": "elementary", "status": "adopted"}).json()
    assert tab.page.locator("#plan-table tbody tr").count() == len(listed) == 1
    tab.page.click("#plan-table .open-plan")
    tab.page.wait_for_selector("#detail:not([hidden])")
    tab.idle(IDLE_PLAN)
    adopted = listed[0]
    assert tab.text("#plan-heading") == f"Plan “{adopted['name']}”"
    assert f"plan={adopted['id']}" in tab.page.url
    zones = api.get(f"/v1/plans/{adopted['id']}/zones").json()["features"]
    assert tab.page.evaluate("() => window.catchmentPlan.zoneCount") == len(zones)
    rows = api.get("/v1/reports/capacity", params={"plan": adopted["id"]}).json()["rows"]
    assert tab.page.locator("#capacity tbody tr").count() == len(rows)
    assert tab.page.locator("#capacity svg rect").count() == min(15, sum(1 for r in rows if r["utilisation_demand"] is not None))
    worst = max(rows, key=lambda r: r["utilisation_demand"] or 0)
    assert tab.text("#capacity tbody tr:first-child td:first-child") == worst["name"]
    findings = api.get(f"/v1/plans/{adopted['id']}/validation").json()["findings"]["features"]
    assert tab.page.locator("#validation tbody tr").count() == len(findings)
    dist = api.get("/v1/reports/travel/distribution", params={"plan": adopted["id"]}).json()
    assert tab.page.locator("#travel svg rect").count() == len(dist["pupils"])
    assert tab.page.get_attribute("#capacity-csv", "href") == f"/v1/reports/capacity?plan={adopted['id']}&format=csv"
    csv = api.get(tab.page.get_attribute("#capacity-csv", "href"))
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    assert axe(tab) == []
    tab.page.evaluate("() => window.scrollTo(0, document.getElementById('detail').offsetTop - 10)")
    tab.shot("workspace", tmp_path)

    # Copy to a draft, compare with the adopted plan, and adopt the draft after the confirmation.
    tab.page.click("#copy-plan")
    tab.page.wait_for_function("() => window.catchmentPlan.state.plan && window.catchmentPlan.state.plan.status === 'draft'",
                               timeout=60_000)
    tab.idle(IDLE_PLAN)
    draft = tab.page.evaluate("() => window.catchmentPlan.state.plan")
    assert draft["parent_id"] == adopted["id"] and tab.page.is_visible("#edit-link")
    assert tab.page.get_attribute("#edit-link", "href") == f"/v1/maps/plan/{draft['id']}/edit?lang=en"
    tab.page.select_option("#compare-with", str(adopted["id"]))
    tab.page.click("#compare-form button")
    tab.page.wait_for_selector("#compare .moved")
    assert tab.text("#compare .moved") == "0 children in 0 places change school."
    tab.page.click("#adopt")
    tab.page.wait_for_selector("#confirm[open]")
    tab.idle(IDLE_PLAN)
    lines = tab.page.eval_on_selector_all("#confirm-body p", "els => els.map(e => e.textContent)")
    assert lines[0].startswith(f"Adopt “{draft['name']}” for fairfax, Primary, school year {draft['school_year']}?")
    assert lines[1] == f"It replaces “{adopted['name']}”, which will be archived."
    assert lines[2] == "0 children in 0 places change school."
    assert tab.page.evaluate("() => document.activeElement.id") == "confirm-no"
    tab.shot("workspace-adopt", tmp_path)
    tab.page.click("#confirm-yes")
    tab.page.wait_for_function("() => window.catchmentPlan.state.plan.status === 'adopted'", timeout=60_000)
    tab.idle(IDLE_PLAN)
    assert tab.text("#action-status") == "Adopted. It now answers the parents' lookups."
    assert api.get(f"/v1/plans/{draft['id']}").json()["status"] == "adopted"
    assert api.get(f"/v1/plans/{adopted['id']}").json()["status"] == "archived"
    assert "No jobs yet." in tab.text("#jobs") or tab.page.locator("#jobs tbody tr").count() >= 1

    # In Chinese, the same plan.
    tab.page.click("#lang-switch")
    tab.idle(IDLE_PLAN)
    assert tab.text("#plan-heading") == f"方案「{draft['name']}」" and "已采纳" in tab.text("#plan-meta")
    tab.close(expected=("status of 401",))  # the wrong key typed first


def test_swagger_ui_has_an_authorize_button_offline(browser: Any, service: tuple[str, dict[str, str]], api: httpx.Client) -> None:
    base, _ = service
    tab = Tab(browser, base)
    tab.page.goto(base + "/docs")
    tab.page.wait_for_selector(".swagger-ui .btn.authorize", timeout=60_000)
    tab.page.wait_for_selector('.opblock-summary-path[data-path="/v1/lookup/zones"]', state="attached")
    tab.close()
    # ReDoc shows its maker's logo from cdn.redoc.ly (unconditionally, in its bundle); offline the image
    # fails and ReDoc hides it. That is the one request allowed to leave.
    redoc = Tab(browser, base)
    redoc.page.goto(base + "/redoc")
    redoc.page.wait_for_selector("[data-section-id]", timeout=60_000)
    assert redoc.page.locator("text=Which school serves this address").count() >= 1
    redoc.page.wait_for_timeout(500)
    # ReDoc's bundle always asks for its logo on cdn.redoc.ly: the page's policy refuses it (no third
    # party, offline), and nothing else is fetched off-site.
    redoc.close(expected=("off-site: https://cdn.redoc.ly/redoc/logo-mini.svg", "Failed to load resource: net::",
                          "Loading the image 'https://cdn.redoc.ly/redoc/logo-mini.svg' violates"))
