"""The editing map in headless Chromium against a real running service (uvicorn in a subprocess).

A planner opens a draft of the adopted Fairfax elementary plan, types the key once, moves a
census block from the most crowded school to its neighbour by clicking it, sees the two
schools' tallies change; another planner edits the draft through the API, the page reports the
conflict and reloads; the planner draws a new shape for a zone with Leaflet-Geoman and sees
validation report the gap it leaves, then undoes it. No console errors but the expected 412.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import shapely

from maps.editor import UNIT_ZOOM
from tests.conftest import bearer
from tests.maps.test_browser import DOCS_IMG, WRITE_DOCS
from tests.support.browser import chromium
from tests.support.server import running_service

pytestmark = pytest.mark.browser

IDLE = "() => window.catchmentEditor && window.catchmentEditor.ready && window.catchmentEditor.state.pending === 0"
# Chromium logs every non-2xx fetch as a console error; the 412 is the conflict the test provokes.
EXPECTED = "the server responded with a status of 412"


@pytest.fixture
def browser() -> Iterator[Any]:
    with chromium() as b:
        yield b


def _boundary_units(api: httpx.Client, plan_id: int) -> tuple[str, str, list[dict[str, Any]]]:
    """The most crowded school, the neighbour sharing most of its zone's edge, and the blocks of
    its zone sharing at least ~50 m of that edge and holding at least 3 pupils (most pupils first)."""
    rows = api.get("/v1/reports/capacity", params={"plan": plan_id}).json()["rows"]
    worst = max((r for r in rows if r["utilisation_demand"] is not None), key=lambda r: r["utilisation_demand"])
    zones = api.get(f"/v1/plans/{plan_id}/zones").json()["features"]
    home = next(z for z in zones if z["properties"]["school_codes"] == [worst["code"]])
    home_geom = shapely.geometry.shape(home["geometry"])
    others = [z for z in zones if z is not home and len(z["properties"]["school_codes"]) == 1]
    edge = {id(z): shapely.length(shapely.intersection(home_geom.boundary, shapely.geometry.shape(z["geometry"]).boundary))
            for z in others}
    neighbour = max(others, key=lambda z: edge[id(z)])
    # The units' coordinates are rounded to 1 m: an edge they share with the neighbour lies within 2 m of its boundary.
    border = shapely.geometry.shape(neighbour["geometry"]).boundary.buffer(2e-5)
    units = api.get(f"/v1/plans/{plan_id}/units", params={"bbox": ",".join(f"{v:.6f}" for v in home_geom.bounds)}).json()
    along = [f for f in units["features"] if f["properties"]["zone_id"] == home["properties"]["zone_id"]
             and f["properties"]["share"] > 0.999 and (f["properties"]["pupils"] or 0) >= 3
             and shapely.length(shapely.intersection(shapely.geometry.shape(f["geometry"]).boundary, border)) > 5e-4]
    assert len(along) >= 2
    return worst["code"], neighbour["properties"]["school_codes"][0], sorted(along, key=lambda f: -f["properties"]["pupils"])


def _inside(feature: dict[str, Any]) -> tuple[float, float]:
    p = shapely.geometry.shape(feature["geometry"]).point_on_surface()
    return p.x, p.y


class Editor:
    """The editing page, with what its console said."""

    def __init__(self, browser: Any, url: str, shots: Path) -> None:
        self.page = browser.new_page(viewport={"width": 1280, "height": 820})
        self.shots = shots
        self.problems: list[str] = []
        self.page.on("console", lambda m: self.problems.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.problems.append(f"page error: {e}"))
        self.page.goto(url)
        self.idle()

    def idle(self) -> None:
        self.page.wait_for_function(IDLE, timeout=30_000)

    def js(self, script: str, arg: Any = None) -> Any:
        return self.page.evaluate(script, arg)

    def view(self, lon: float, lat: float, zoom: int) -> None:
        self.page.wait_for_function("() => !window.catchmentMap._animatingZoom", timeout=30_000)
        # Braces: Leaflet's setView returns the map, which Playwright must not serialise.
        self.js("([lat, lon, z]) => { window.catchmentMap.setView([lat, lon], z, {animate: false}); }", [lat, lon, zoom])
        self.idle()

    def pixel(self, lon: float, lat: float) -> tuple[float, float]:
        x, y = self.js("([lat, lon]) => { var m = window.catchmentMap, p = m.latLngToContainerPoint([lat, lon]),"
                       " r = m.getContainer().getBoundingClientRect(); return [r.left + p.x, r.top + p.y]; }", [lat, lon])
        return float(x), float(y)

    def hit(self, x: float, y: float) -> str:
        return str(self.js("([x, y]) => { var e = document.elementFromPoint(x, y); return e ? e.getAttribute('class') || '' : ''; }",
                           [x, y]))

    def click(self, x: float, y: float) -> None:
        # Geoman places a vertex where the pointer last moved: move there first, as a hand does.
        self.page.mouse.move(x - 6, y - 6)
        self.page.mouse.move(x, y, steps=3)
        self.page.mouse.click(x, y)

    def version(self) -> int:
        return int(self.js("() => window.catchmentEditor.state.version"))

    def wait_version(self, above: int) -> None:
        self.page.wait_for_function(f"() => window.catchmentEditor.state.version > {above}", timeout=30_000)
        self.idle()

    def tallies(self) -> dict[str, tuple[float, float, str]]:
        rows = self.js("() => Array.from(document.querySelectorAll('.ce-tallies tbody tr'))"
                       ".map(r => [r.dataset.code, r.dataset.before, r.dataset.demand, r.innerText])")
        return {c: (float(b or "nan"), float(a or "nan"), t) for c, b, a, t in rows}

    def count(self, code: str) -> int:
        return int(self.js("(c) => { var e = document.querySelector('.ce-count[data-code=\"' + c + '\"]');"
                           " return e ? parseInt(e.dataset.count, 10) : 0; }", code))

    def shot(self, name: str, *, docs: str | None = None) -> None:
        self.page.wait_for_timeout(250)
        self.page.screenshot(path=str(self.shots / f"{name}.png"))
        if docs and WRITE_DOCS:
            DOCS_IMG.mkdir(parents=True, exist_ok=True)
            self.page.screenshot(path=str(DOCS_IMG / f"{docs}.png"))


def test_planner_edits_a_draft_on_the_map(browser: Any, db_url: str, keys: dict[str, str], tmp_path: Path) -> None:
    planner = bearer(keys["planner"])
    with running_service(db_url) as base, httpx.Client(base_url=base, timeout=60) as api:
        adopted = api.get("/v1/plans", params={"district": "fairfax", "level": "elementary", "status": "adopted"}).json()[0]
        r = api.post(f"/v1/plans/{adopted['id']}/copy", json={"name": "Relieve the most crowded school"}, headers=planner)
        assert r.status_code == 201
        plan_id, first_etag = r.json()["id"], r.headers["ETag"]
        source, target, along = _boundary_units(api, plan_id)
        unit, other = along[0], min(along[1:], key=lambda f: shapely.geometry.shape(f["geometry"]).distance(
            shapely.geometry.shape(along[0]["geometry"])))
        uid, pupils = unit["properties"]["id"], unit["properties"]["pupils"]

        ed = Editor(browser, f"{base}/v1/maps/plan/{plan_id}/edit?tiles=none&lang=en", tmp_path)
        assert ed.js("() => window.catchmentLayers.zones.getLayers().length") == len(api.get(f"/v1/plans/{plan_id}/zones").json()["features"])
        assert ed.js("() => window.catchmentEditor.state.etag") == first_etag
        # The key is typed once and kept for the tab.
        ed.page.fill(".catchment-key-input", keys["planner"])
        ed.page.click(".ce-key-use")
        assert ed.js("() => window.sessionStorage.getItem('catchment-planner-key')") == keys["planner"]
        assert ed.page.is_visible(".ce-key-ok") and not ed.page.is_visible(".catchment-key-input")

        # (a) Click a block, choose the neighbouring school, move it.
        lon, lat = _inside(unit)
        ed.view(lon, lat, 16)
        ed.page.wait_for_function("(id) => window.catchmentLayers.units.getLayers().some(l => l.feature.properties.id === id)", arg=uid)
        x, y = ed.pixel(lon, lat)
        assert "catchment-unit" in ed.hit(x, y)
        ed.click(x, y)
        ed.page.wait_for_selector(".catchment-move-select", timeout=5_000)
        assert target in ed.js("() => Array.from(document.querySelectorAll('.catchment-move-select option')).map(o => o.value)")
        ed.page.select_option(".catchment-move-select", target)
        ed.shot("editor-popup")
        v0 = ed.version()
        ed.page.click(".catchment-move-btn")
        ed.wait_version(v0)
        tallies = ed.tallies()
        assert {source, target} <= set(tallies)
        assert tallies[source][0] - tallies[source][1] == pytest.approx(pupils, abs=0.01)
        assert tallies[target][1] - tallies[target][0] == pytest.approx(pupils, abs=0.01)
        assert "→" in tallies[source][2] and "Schools changed by the last edit" in ed.page.inner_text(".catchment-tallies")
        etag_a = ed.js("() => window.catchmentEditor.state.etag")
        assert etag_a != first_etag and api.get(f"/v1/plans/{plan_id}").headers["ETag"] == etag_a
        moved = api.get(f"/v1/plans/{plan_id}/units", params={"bbox": ",".join(f"{v:.6f}" for v in (lon, lat, lon, lat))}).json()
        assert next(f for f in moved["features"] if f["id"] == uid)["properties"]["school"] == target
        assert ed.js("(id) => window.catchmentLayers.units.getLayers().find(l => l.feature.properties.id === id)"
                     ".feature.properties.school", uid) == target
        ed.view(lon, lat, 15)
        ed.page.mouse.move(1100, 60)  # over the panel: no hover outline in the picture
        ed.shot("editor-moved", docs="editor")
        x, y = ed.pixel(lon, lat)
        assert "catchment-unit" in ed.hit(x, y)

        # (b) Another planner moves a second block through the API; the page's next edit is refused.
        oid = other["properties"]["id"]
        r = api.post(f"/v1/plans/{plan_id}/edits", headers=planner | {"If-Match": etag_a},
                     json={"op": "move_units", "moves": {oid: target}})
        assert r.status_code == 200, r.text
        etag_b = r.headers["ETag"]
        ed.click(x, y)
        ed.page.wait_for_selector(".catchment-move-select", timeout=5_000)
        ed.page.select_option(".catchment-move-select", source)
        ed.page.click(".catchment-move-btn")
        ed.page.wait_for_selector(".ce-conflict", state="visible", timeout=30_000)
        ed.idle()
        assert "Someone else changed this draft — reload to see their change." in ed.page.inner_text(".ce-conflict")
        assert ed.js("() => window.catchmentEditor.state.etag") == etag_a
        ed.shot("editor-conflict")
        ed.page.click(".ce-reload")
        ed.page.wait_for_selector(".ce-conflict", state="hidden", timeout=30_000)
        ed.idle()
        assert ed.js("() => window.catchmentEditor.state.etag") == etag_b
        other_pupils = other["properties"]["pupils"]
        tallies = ed.tallies()
        assert tallies[target][1] - tallies[target][0] == pytest.approx(other_pupils, abs=0.01)
        assert "Reloaded" in ed.page.inner_text(".ce-status")
        assert ed.js("(id) => window.catchmentLayers.units.getLayers().find(l => l.feature.properties.id === id)"
                     ".feature.properties.school", uid) == target  # the refused move back did not happen

        # (c) Draw a new shape for the source school's zone: a small square leaves the rest a gap.
        zones = api.get(f"/v1/plans/{plan_id}/zones").json()["features"]
        home = next(z for z in zones if z["properties"]["school_codes"] == [source])
        zx, zy = _inside(home)
        ed.view(zx, zy, UNIT_ZOOM - 1)
        cx, cy = ed.pixel(zx, zy)
        assert "catchment-zone" in ed.hit(cx, cy)
        gaps, errors = ed.count("gap"), api.get(f"/v1/plans/{plan_id}/validation").json()["errors"]
        ed.click(cx, cy)
        ed.page.click(".ce-zone-popup .ce-draw")
        for dx, dy in [(-45, -40), (45, -40), (45, 40), (-45, 40)]:
            ed.click(cx + dx, cy + dy)
        ed.shot("editor-drawing")
        first = ed.js("() => { var m = window.catchmentMap, ll = m.pm.Draw.Polygon._layer.getLatLngs()[0],"
                      " p = m.latLngToContainerPoint(ll), r = m.getContainer().getBoundingClientRect(); return [r.left + p.x, r.top + p.y]; }")
        v1 = ed.version()
        ed.click(*first)
        ed.wait_version(v1)
        validation = api.get(f"/v1/plans/{plan_id}/validation").json()
        assert ed.count("gap") == validation["counts"].get("gap", 0) > gaps
        assert validation["errors"] > errors
        assert ed.js("() => window.catchmentLayers.findings.getLayers().filter(l => l.feature.properties.code === 'gap').length") \
            == validation["counts"]["gap"]
        assert ed.page.inner_text(".ce-findings").splitlines()[0] in {f["properties"]["message"]["en"]
                                                                     for f in validation["findings"]["features"]}
        new_home = next(z for z in api.get(f"/v1/plans/{plan_id}/zones").json()["features"] if z["properties"]["school_codes"] == [source])
        assert shapely.geometry.shape(new_home["geometry"]).area < 0.5 * shapely.geometry.shape(home["geometry"]).area
        ed.shot("editor-drawn")

        # Undo takes the drawn shape back: the gap goes.
        v2 = ed.version()
        ed.page.click(".ce-undo")
        ed.wait_version(v2)
        assert ed.count("gap") == gaps and ed.page.is_enabled(".ce-redo")

        # Reshape: drag one corner of the zone, save; the zone changes shape and its neighbours follow.
        ed.click(cx, cy)
        ed.page.click(".ce-zone-popup .ce-reshape")
        corners = ed.js("() => Array.from(document.querySelectorAll('.marker-icon:not(.marker-icon-middle)')).map(e => {"
                        " var r = e.getBoundingClientRect(); return [r.x + r.width / 2, r.y + r.height / 2]; }).filter(p => {"
                        " var e = document.elementFromPoint(p[0], p[1]); return e && e.classList.contains('marker-icon')"
                        " && !e.classList.contains('marker-icon-middle') && p[0] > 120 && p[0] < 900 && p[1] > 200 && p[1] < 540; })")
        kx, ky = min(corners, key=lambda c: (c[0] - cx) ** 2 + (c[1] - cy) ** 2)
        ed.page.mouse.move(kx, ky, steps=2)
        ed.page.mouse.down()
        for i in range(1, 11):
            ed.page.mouse.move(kx + 4 * i, ky + 3 * i)
        ed.page.mouse.up()
        v3 = ed.version()
        ed.page.click(".ce-action .ce-save")
        ed.wait_version(v3)
        reshaped = next(z for z in api.get(f"/v1/plans/{plan_id}/zones").json()["features"] if z["properties"]["school_codes"] == [source])
        assert shapely.geometry.shape(reshaped["geometry"]).symmetric_difference(shapely.geometry.shape(home["geometry"])).area > 1e-7
        assert source in ed.tallies()

        # (d) Nothing went wrong in the page but the conflict the test provoked.
        assert [p for p in ed.problems if EXPECTED not in p] == []
        assert len(ed.problems) == 1
        ed.page.close()
