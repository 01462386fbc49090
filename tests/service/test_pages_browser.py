"""The parents' page in headless Chromium against a real `catchment serve`.

A parent types an address, picks a suggestion with the keyboard and reads the answer in English
and Chinese, follows an ambiguous address to a choice, opens a shared link, clicks the map and
sees next year's school; a geocoder that is down and an address that matches nothing get their
message. Stored text with markup in it is shown as text and runs nothing. axe-core finds no
serious accessibility problem; the page is light and paints fast, on a phone-sized screen too.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from service.main import create_app
from service.settings import GeocoderSettings
from tests.conftest import bearer, settings_for
from tests.support.fake_nominatim import fake_nominatim
from tests.support.pages import HOSTILE, IDLE_FIND, IDLE_PLAN, Tab, api, axe, browser, served, service

pytestmark = pytest.mark.browser

__all__ = ["api", "browser", "service"]  # module fixtures


def _school_names(answer: dict[str, Any]) -> list[str]:
    return [s["name"] for lv in answer["levels"] for z in lv["zones"] for s in z["schools"]]


def _shown_schools(tab: Tab) -> list[str]:
    return list(tab.page.eval_on_selector_all("#answer .school-name", "els => els.map(e => e.textContent)"))


def test_parent_types_picks_a_suggestion_and_reads_the_answer_in_both_languages(browser: Any, service: tuple[str, dict[str, str]], api: httpx.Client,
                                                                                tmp_path: Path) -> None:
    base, _ = service
    tab = Tab(browser, base)
    tab.open("/")
    assert tab.page.get_attribute("html", "lang") == "en"
    tab.page.focus("#address")
    tab.page.keyboard.type("victoria st, ash", delay=20)
    tab.page.wait_for_selector("#suggestions:not([hidden]) li")
    want = api.get("/v1/addresses/suggest", params={"q": "victoria st, ash", "limit": 8}).json()["suggestions"][0]["address"]
    # Answers to the shorter prefixes typed on the way may show first.
    tab.page.wait_for_function("(w) => document.querySelector('#suggestions li').textContent === w", arg=want)
    assert tab.page.get_attribute("#address", "aria-expanded") == "true"
    tab.page.keyboard.press("ArrowDown")
    assert tab.page.get_attribute("#address", "aria-activedescendant") == "suggestion-0"
    tab.page.keyboard.press("Enter")
    tab.page.wait_for_selector("#answer:not([hidden])")
    tab.idle()
    answer = api.get("/v1/lookup", params={"address": want}).json()
    assert _shown_schools(tab) == _school_names(answer)
    assert tab.text("#answer-explanation") == answer["explanation"]["en"]
    assert "Your zoned school" in tab.text("#answer") and "in a straight line" in tab.text("#answer")
    assert tab.page.evaluate("() => new URLSearchParams(location.search).get('address')") == want
    # The map shows the answering zones, the place, and a line and a marker per school.
    zones = api.get("/v1/lookup/zones", params={"lon": answer["lon"], "lat": answer["lat"]}).json()["features"]
    tab.page.wait_for_function("(n) => window.catchmentFind.layers.zones.getLayers().length === 1 && "
                               "window.catchmentFind.layers.zones.getLayers()[0].getLayers().length === n", arg=len(zones))
    assert tab.page.locator(".school-mark").count() == len(_school_names(answer))
    assert tab.page.evaluate("() => document.activeElement.id") == "answer"
    assert axe(tab) == []
    tab.page.evaluate("() => { document.querySelector('.panel').scrollTop = 0; }")
    tab.shot("find-school", tmp_path)

    # The switch keeps the query: the same answer, in Chinese.
    tab.page.click("#lang-switch")
    tab.idle()
    assert tab.page.get_attribute("html", "lang") == "zh-Hans"
    assert "lang=zh" in tab.page.url
    assert tab.text("#answer-explanation") == answer["explanation"]["zh"]
    assert "对口学校" in tab.text("#answer") and "直线距离" in tab.text("#answer")
    assert _shown_schools(tab) == _school_names(answer)
    assert tab.text("#search") == "查询" and tab.text("#lang-switch") == "English"
    assert axe(tab) == []
    tab.page.evaluate("() => { document.querySelector('.panel').scrollTop = 0; }")
    tab.shot("find-school-zh", tmp_path)
    tab.close()


def test_accept_language_picks_chinese(browser: Any, service: tuple[str, dict[str, str]], api: httpx.Client) -> None:
    base, _ = service
    tab = Tab(browser, base, locale="zh-TW")
    tab.open("/")
    assert tab.page.get_attribute("html", "lang") == "zh-Hans" and tab.page.title().startswith("查询对口学校")
    tab.page.fill("#address", "")
    tab.page.click("#search")
    assert tab.text("#status") == "请先输入地址。"
    tab.close()


def test_ambiguous_address_offers_the_candidates_and_a_share_link_round_trips(browser: Any, service: tuple[str, dict[str, str]], api: httpx.Client,
                                                                             tmp_path: Path) -> None:
    base, _ = service
    candidates = api.get("/v1/lookup", params={"address": "Victoria St"}).json()["candidates"]
    assert len(candidates) >= 2
    tab = Tab(browser, base)
    tab.open("/?lang=en")
    tab.page.fill("#address", "Victoria St")
    tab.page.press("#address", "Enter")
    tab.page.wait_for_selector("#choices:not([hidden]) .choice")
    assert "“Victoria St” matches several places" in tab.text("#choices")
    choices = tab.page.eval_on_selector_all("#choices .choice", "els => els.map(e => e.textContent)")
    assert choices == [c["address"] for c in candidates]
    assert tab.page.evaluate("() => document.activeElement.textContent") == choices[0]
    tab.shot("find-school-ambiguous", tmp_path)
    tab.page.click(f"#choices .choice >> text={choices[1]}")
    tab.page.wait_for_selector("#answer:not([hidden])")
    tab.idle()
    answer = api.get("/v1/lookup", params={"address": choices[1]}).json()
    assert _shown_schools(tab) == _school_names(answer) and _school_names(answer)
    link = tab.page.input_value("#share-link")
    assert link == tab.page.url and "address=" in link
    tab.close(expected=("status of 409",))

    # The shared link opens the same answer in a fresh browser.
    other = Tab(browser, base)
    other.page.goto(link)
    other.page.wait_for_selector("#answer:not([hidden])")
    other.idle()
    assert _shown_schools(other) == _school_names(answer)
    assert other.page.input_value("#address") == choices[1]
    # Back in history leaves the answer for the page without a query.
    other.close()


def test_not_found_map_click_and_next_years_zone(browser: Any, service: tuple[str, dict[str, str]], api: httpx.Client) -> None:
    base, keys = service
    tab = Tab(browser, base)
    tab.open("/?address=" + "Nowhere Rd, Atlantis 9999" + "&lang=en")
    tab.page.wait_for_selector("#problem:not([hidden])")
    assert "No address matches “Nowhere Rd, Atlantis 9999”" in tab.text("#problem")
    assert tab.page.is_hidden("#answer")

    # A click on the map answers for that point.
    answer = api.get("/v1/lookup", params={"address": "Victoria St, Kogarah"}).json()
    tab.page.evaluate("([lat, lon]) => { window.catchmentFind.map.setView([lat, lon], 15, {animate: false}); }",
                      [answer["lat"], answer["lon"]])
    box = tab.page.locator("#map").bounding_box()
    tab.page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    tab.page.wait_for_selector("#answer:not([hidden])")
    tab.idle()
    lon, lat = (float(tab.page.evaluate(f"() => new URLSearchParams(location.search).get('{k}')")) for k in ("lon", "lat"))
    assert abs(lon - answer["lon"]) < 1e-4 and abs(lat - answer["lat"]) < 1e-4
    at_click = api.get("/v1/lookup", params={"lon": lon, "lat": lat}).json()
    assert _shown_schools(tab) == _school_names(at_click)
    assert tab.page.locator(".next-year:not([hidden])").count() == 0

    # Next school year's plan gives this place another primary school: the page says so.
    primary = next(lv for lv in at_click["levels"] if lv["level"] == "primary")
    plan_id = primary["zones"][0]["plan"]["id"]
    year = int(tab.page.evaluate("() => window.catchment.config.year")) + 1
    copy = api.post(f"/v1/plans/{plan_id}/copy", json={"name": "Next year", "school_year": year}, headers=bearer(keys["planner"]))
    assert copy.status_code == 201
    features = api.get(f"/v1/plans/{copy.json()['id']}/zones").json()
    codes = {c for f in features["features"] for c in f["properties"]["school_codes"]}
    old_code = primary["zones"][0]["schools"][0]["code"]
    new_code = min(codes - {old_code})
    moved = 0
    for f in features["features"]:
        if f["properties"]["name"] == primary["zones"][0]["zone_name"] and old_code in f["properties"]["school_codes"]:
            f["properties"]["school_codes"] = [new_code]
            moved += 1
    assert moved == 1
    r = api.put(f"/v1/plans/{copy.json()['id']}/zones", json=features, headers=bearer(keys["planner"]) | {"If-Match": copy.headers["ETag"]})
    assert r.status_code == 200, r.text
    assert api.post(f"/v1/plans/{copy.json()['id']}/adopt", headers=bearer(keys["planner"]) | {"If-Match": r.headers["ETag"]}).status_code == 200
    new_name = api.get(f"/v1/schools/{new_code}").json()["name"]
    tab.page.reload()
    tab.page.wait_for_selector('.level[data-level="primary"] .next-year:not([hidden])', timeout=60_000)
    tab.idle()
    note = tab.text('.level[data-level="primary"] .next-year')
    assert note == f"From school year {year} this changes: {new_name}"
    # This year's answer is unchanged.
    assert _shown_schools(tab) == _school_names(at_click)
    tab.close(expected=("status of 404",))


def test_geocoder_down_says_so(browser: Any, sample_db: Path) -> None:
    with fake_nominatim(lambda q, srv: (503, {"error": "down"})) as nom:
        settings = settings_for(f"sqlite:///{sample_db}")
        settings.geocoder = GeocoderSettings(geocoder="nominatim", geocoder_url=nom.url, geocoder_retries=0, geocoder_timeout_s=2)
        settings.maps.tiles = "none"
        with served(create_app(settings)) as base:
            tab = Tab(browser, base)
            tab.open("/?lang=zh")
            tab.page.fill("#address", "1 Nowhere Street")
            tab.page.press("#address", "Enter")
            tab.page.wait_for_selector("#problem:not([hidden])")
            assert tab.text("#problem") == "地址查询暂时不可用。请稍后重试，或在地图上点击。"
            assert nom.requests, "the remote geocoder was asked"
            tab.close(expected=("status of 503",))


def test_stored_markup_is_shown_as_text(browser: Any, service: tuple[str, dict[str, str]], api: httpx.Client) -> None:
    base, keys = service
    answer = api.get("/v1/lookup", params={"address": "Victoria St, Revesby"}).json()
    school = next(s for lv in answer["levels"] for z in lv["zones"] for s in z["schools"])
    body = api.get(f"/v1/schools/{school['code']}").json()
    r = api.put(f"/v1/schools/{school['code']}", json=body | {"name": HOSTILE}, headers=bearer(keys["admin"]))
    assert r.status_code == 200, r.text
    plan = api.post("/v1/plans", json={"name": HOSTILE, "level": "primary", "school_year": 2031, "district": "hostile"},
                    headers=bearer(keys["planner"]))
    assert plan.status_code == 201
    try:
        tab = Tab(browser, base)
        tab.open("/?address=Victoria%20St,%20Revesby&lang=en")
        tab.page.wait_for_selector("#answer:not([hidden])")
        tab.idle()
        assert HOSTILE in _shown_schools(tab)
        tab.page.hover(".school-mark")
        assert tab.page.evaluate("() => window.__pwned") is None
        assert tab.page.locator("#answer img, #answer script, .leaflet-tooltip img").count() == 0
        tab.close()
        ws = Tab(browser, base)
        ws.open(f"/plan?plan={plan.json()['id']}&lang=en", IDLE_PLAN)
        assert HOSTILE in ws.text("#plan-table") and ws.text("#plan-heading") == f"Plan “{HOSTILE}”"
        assert ws.page.evaluate("() => window.__pwned") is None and ws.page.locator("main img").count() == 0
        ws.close(expected=("status of 422",))
    finally:
        api.put(f"/v1/schools/{school['code']}", json=body, headers=bearer(keys["admin"]))


def test_page_weight_and_first_paint(browser: Any, service: tuple[str, dict[str, str]], api: httpx.Client, capsys: pytest.CaptureFixture[str]) -> None:
    base, _ = service
    tab = Tab(browser, base)
    sizes: dict[str, int] = {}
    tab.page.on("response", lambda r: sizes.__setitem__(r.url, len(r.body())) if r.url.startswith(base) else None)
    tab.page.goto(base + "/?lang=en")
    tab.idle()
    fcp = tab.page.evaluate("() => performance.getEntriesByName('first-contentful-paint')[0].startTime")
    total = sum(sizes.values())
    with capsys.disabled():
        print(f"\n/ page: {len(sizes)} files, {total / 1000:.1f} kB (uncompressed), first contentful paint {fcp:.0f} ms")
    assert total < 300_000 and fcp < 1000
    assert all(u.startswith((base + "/static/", base + "/?")) for u in sizes)
    tab.close()


def test_phone_sized_screen(browser: Any, service: tuple[str, dict[str, str]], api: httpx.Client, tmp_path: Path) -> None:
    base, _ = service
    tab = Tab(browser, base, width=390, height=844)
    tab.open("/?address=Victoria%20St,%20Kogarah&lang=en")
    tab.page.wait_for_selector("#answer:not([hidden])")
    tab.idle()
    assert tab.page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")
    assert tab.page.locator("#map").bounding_box()["height"] >= 280
    assert axe(tab) == []
    tab.page.evaluate("() => window.scrollTo(0, 0)")
    tab.shot("find-school-phone", tmp_path)
    tab.close()


def test_walking_distance_boundary_warning_and_nearest_schools(browser: Any, service: tuple[str, dict[str, str]],
                                                               api: httpx.Client) -> None:
    base, _ = service
    tab = Tab(browser, base)
    # Portland has a walking network: the walking distance is shown next to the straight line.
    walk = api.get("/v1/lookup", params={"lon": -122.7123, "lat": 45.5368}).json()
    school = walk["levels"][0]["zones"][0]["schools"][0]
    assert school["walk_m"] is not None
    tab.open("/?lon=-122.7123&lat=45.5368&lang=en")
    tab.page.wait_for_selector("#answer:not([hidden])")
    tab.idle()
    assert tab.text("#answer .school-distance") == \
        f"{school['distance_m'] / 1000:.1f} km in a straight line · {school['walk_m'] / 1000:.1f} km walking"

    # A point a few metres inside a zone's edge is warned about.
    zone = api.get("/v1/lookup/zones", params={"lon": 151.1796, "lat": -33.7738, "level": "primary"}).json()["features"][0]
    ring = zone["geometry"]["coordinates"][0] if zone["geometry"]["type"] == "Polygon" else zone["geometry"]["coordinates"][0][0]
    (x0, y0), (x1, y1) = ring[0], ring[1]
    mx, my = (x0 + x1) / 2, (y0 + y1) / 2
    near = None
    for step in (2e-5, -2e-5):  # ~2 m either side of the edge's midpoint: one side is inside
        lon, lat = mx - (y1 - y0) * step / max(abs(y1 - y0), abs(x1 - x0)), my + (x1 - x0) * step / max(abs(y1 - y0), abs(x1 - x0))
        got = api.get("/v1/lookup", params={"lon": lon, "lat": lat, "level": "primary"}).json()
        hits = [z for z in got["levels"][0]["zones"] if z["zone_id"] == zone["properties"]["zone_id"]]
        if hits and hits[0]["near_boundary_m"] is not None:
            near = (lon, lat, hits[0]["near_boundary_m"])
            break
    assert near is not None
    tab.open(f"/?lon={near[0]:.7f}&lat={near[1]:.7f}&lang=en")
    tab.page.wait_for_selector("#answer .warn")
    tab.idle()
    assert "from the zone's edge" in tab.text("#answer .warn")

    # No zone covers the sea off Manly: the nearest schools (within the 50 km limit), in Chinese.
    far = api.get("/v1/lookup", params={"lon": 151.32, "lat": -33.80}).json()
    tab.open("/?lon=151.32&lat=-33.8&lang=zh")
    tab.page.wait_for_selector("#answer:not([hidden])")
    tab.idle()
    assert "该位置不在任何招生片区内" in tab.text("#answer")
    nearest = [s["name"] for lv in far["levels"] for s in lv["nearest_schools"]]
    assert nearest and _shown_schools(tab) == nearest
    tab.close()


CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
       "object-src 'none'; base-uri 'none'; frame-ancestors 'none'")


@pytest.mark.parametrize("path", ["/?address=Victoria%20St,%20Kogarah&lang=en", "/plan?plan=3&lang=en"])
def test_pages_work_under_a_strict_content_security_policy(browser: Any, service: tuple[str, dict[str, str]], path: str) -> None:
    base, _ = service
    tab = Tab(browser, base)

    def strict(route: Any) -> None:
        response = route.fetch()
        route.fulfill(response=response, headers={**response.headers, "content-security-policy": CSP})

    tab.context.route(f"{base}/**", strict)
    tab.context.add_init_script("document.addEventListener('securitypolicyviolation', e =>"
                                " (window.__csp = window.__csp || []).push(e.violatedDirective + ' ' + e.blockedURI));")
    idle = IDLE_PLAN if path.startswith("/plan") else IDLE_FIND
    tab.open(path, idle)
    if path.startswith("/plan"):
        tab.page.wait_for_selector("#detail:not([hidden]) #capacity svg")
        assert tab.page.evaluate("() => window.catchmentPlan.zoneCount") > 0
    else:
        tab.page.wait_for_selector("#answer:not([hidden])")
        tab.page.wait_for_function("() => window.catchmentFind.layers.zones.getLayers().length === 1")
    tab.idle(idle)
    assert tab.page.evaluate("() => window.__csp || []") == []
    # The policy is in force and the listener hears it: an inline style is refused.
    tab.page.evaluate("() => { var s = document.createElement('style'); s.textContent = 'body{}'; document.head.appendChild(s); }")
    tab.page.wait_for_function("() => (window.__csp || []).some(v => v.startsWith('style-src'))")
    tab.close(expected=("Content Security Policy",))
