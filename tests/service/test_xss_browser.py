"""Stored XSS: hostile school, zone and plan names on every map page, in headless Chromium.

The names are stored in a real database, the real service serves the pages with its real
headers (the Content-Security-Policy included), and Chromium opens every tooltip and popup,
types into the search box and checks that nothing ran: no ``window.__pwned`` marker, no
dialog, no CSP violation (the page's own scripts carry the nonce, so a violation would mean
either an injected script or a page that the policy breaks), and the names shown as text.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest
import shapely

from geo.models import PlanStatus
from service.storage import open_repository
from tests.support.browser import chromium
from tests.support.server import running_service

pytestmark = pytest.mark.browser

#: Each payload sets window.__pwned (or opens a dialog) if it ever runs; the tag finds it as text.
PAYLOADS = (
    "</script><script>window.__pwned='script';alert(1)</script>",
    '"><img src=x onerror="window.__pwned=\'img\'">',
    "'><svg onload=window.__pwned='svg'>",
    "`;window.__pwned='backtick';`",
    "${window.__pwned='template'}",
    "<b onmouseover=window.__pwned='hover'>bold</b> & \"quotes\" 'single'",
    "\\`${alert('escaped backtick')}\\u003c/script\\u003e",
)
TAG = "XSS"

OPEN_ALL = """() => {
  const maps = [...new Set(Object.values(window).filter(v => v instanceof L.Map))];
  let tips = 0, pops = 0;
  // A map's eachLayer visits every layer on it, the features of its GeoJSON layers included.
  // Points (schools: the hostile names) first, then up to 150 other features (zones, units);
  // popups open one at a time (opening one closes the last): 30 of each kind.
  maps.forEach(m => {
    const points = [], others = [];
    m.eachLayer(l => { (l.getLatLng ? points : others).push(l); });
    [[points, 400], [others, 150]].forEach(([layers, most]) => {
      layers.slice(0, most).forEach((l, i) => {
        const where = l.getLatLng ? l.getLatLng() : (l.getBounds && l.feature ? l.getBounds().getCenter() : null);
        if (l.getTooltip && l.getTooltip()) { l.openTooltip(where || undefined); tips++; }
        if (i >= 30 || !where) { return; }
        if (l.getPopup && l.getPopup()) { l.openPopup(where); pops++; }
        else if (l.feature && l.listens && l.listens('click')) { l.fire('click', {latlng: where}); pops++; }
      });
    });
  });
  return {maps: maps.length, tips, pops};
}"""
SHOWN = """() => Array.from(document.querySelectorAll(
  '.leaflet-tooltip, .leaflet-popup-content, .leaflet-control-layers, .catchment-box, .search-tooltip'))
  .map(e => e.textContent).join('\\n')"""
WATCH = """
window.__csp = [];
document.addEventListener('securitypolicyviolation', e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));
"""


def hostile(i: int) -> str:
    return f"{TAG}{i} {PAYLOADS[i % len(PAYLOADS)]}"


@pytest.fixture
def browser() -> Iterator[Any]:
    with chromium() as b:
        yield b


def _store_hostile_names(db_url: str) -> dict[str, Any]:
    """Rename the Fairfax elementary schools, copy the adopted plan under a hostile name with
    hostile zone names; return the plan ids and a point inside one of its zones."""
    repo = open_repository(db_url)
    try:
        adopted = repo.list_plans(district="fairfax", level="elementary", status=PlanStatus.ADOPTED)[0]
        zones = repo.zones(adopted.id)
        codes = sorted({c for z in zones for c in z.school_codes})
        for i, code in enumerate(codes):
            s = repo.get_school(code)
            repo.update_school(replace(s, name=hostile(i), address=hostile(i + 3)), actor="test")
        draft = repo.copy_plan(adopted.id, name=hostile(2), actor="test")
        named = [replace(z, id=None, plan_id=None, name=hostile(k)) for k, z in enumerate(repo.zones(draft.id))]
        repo.replace_zones(draft.id, named, actor="test")
        inside = shapely.point_on_surface(zones[0].geometry)
        return {"adopted": adopted.id, "draft": draft.id, "lon": inside.x, "lat": inside.y}
    finally:
        repo.close()


def _open(browser: Any, url: str, shots: Path, name: str) -> dict[str, Any]:
    page = browser.new_page(viewport={"width": 1200, "height": 800})
    dialogs: list[str] = []
    problems: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.add_init_script(WATCH)
    response = page.goto(url)
    assert response is not None and response.status == 200, url
    csp = response.headers.get("content-security-policy", "")
    page.wait_for_function("() => window.L && Object.values(window).some(v => v instanceof L.Map)", timeout=30_000)
    page.wait_for_timeout(300)
    opened = page.evaluate(OPEN_ALL)
    search = page.locator("input.search-input")
    if search.count():
        search.first.fill(TAG[:-1])
        search.first.press(TAG[-1])  # a key press makes leaflet-search list its tips
        page.wait_for_selector(".search-tip", timeout=5_000)
    page.wait_for_timeout(300)
    # Hover over the map too, for handlers bound to mouse events.
    page.mouse.move(600, 400)
    page.mouse.move(620, 420)
    page.wait_for_timeout(200)
    page.screenshot(path=str(shots / f"{name}.png"))
    out = {"csp": csp, "opened": opened, "dialogs": dialogs, "problems": problems,
           "pwned": page.evaluate("() => window.__pwned === undefined ? null : String(window.__pwned)"),
           "violations": page.evaluate("() => window.__csp"), "shown": page.evaluate(SHOWN),
           "drawn": page.evaluate("() => document.querySelectorAll('.leaflet-interactive').length")}
    page.close()
    return out


def test_hostile_names_run_nothing_on_any_map_page(browser: Any, db_url: str, tmp_path: Path) -> None:
    ids = _store_hostile_names(db_url)
    a, d = ids["adopted"], ids["draft"]
    pages = {
        "coverage": "/v1/maps/coverage?district=fairfax&level=elementary",
        "plan": f"/v1/maps/plan/{d}",
        "overcrowding": f"/v1/maps/overcrowding?plan={d}",
        "travel": f"/v1/maps/travel?plan={d}",
        "lookup": f"/v1/maps/lookup?lon={ids['lon']:.6f}&lat={ids['lat']:.6f}&level=elementary",
        "compare": f"/v1/maps/compare?a={a}&b={d}",
        "compare-side-by-side": f"/v1/maps/compare?a={a}&b={d}&side_by_side=true",
        "editor": f"/v1/maps/plan/{d}/edit",
    }
    with running_service(db_url, env={"CATCHMENT_TILES": "none"}) as base:
        assert httpx.get(f"{base}/v1/plans/{d}").json()["name"] == hostile(2)
        for name, path in pages.items():
            # The labels around the names differ by language, the escaping does not: both
            # languages on the parent's page, English elsewhere (each page takes ~30 s here).
            for lang in ("en", "zh") if name == "lookup" else ("en",):
                sep = "&" if "?" in path else "?"
                got = _open(browser, f"{base}{path}{sep}lang={lang}", tmp_path, f"{name}-{lang}")
                where = f"{name} ({lang})"
                assert "script-src 'nonce-" in got["csp"], where
                assert got["drawn"] > 0 and got["opened"]["tips"] + got["opened"]["pops"] > 0, where
                assert got["pwned"] is None, f"{where}: a stored name ran: {got['pwned']}"
                assert got["dialogs"] == [], f"{where}: a stored name opened a dialog: {got['dialogs']}"
                assert got["violations"] == [], f"{where}: CSP violations: {got['violations']}"
                assert got["problems"] == [], f"{where}: console errors: {got['problems']}"
                # The names are shown as the text they are (at least one full payload, verbatim).
                shown = [p for p in (hostile(i) for i in range(len(PAYLOADS) * 3)) if p in got["shown"]]
                assert shown, f"{where}: no hostile name shown as text in tooltips, popups or boxes"
