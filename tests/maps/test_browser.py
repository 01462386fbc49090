"""Each map opened in headless Chromium: no console errors, the expected paths, legends in both languages.

Maps are written offline (no tiles, scripts inlined) because the tests run without a network.
Screenshots go to the test's tmp dir; with CATCHMENT_WRITE_SCREENSHOTS=1 the README's pictures
are (re)written to docs/img/ as well.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import shapely

from geo.lookup.explain import explain
from geo.models import Zone
from geo.standards import get_profile
from maps import (
    changed_areas,
    compare_map,
    coverage_map,
    find_problem_areas,
    lookup_map,
    overcrowding_map,
    render_html,
    travel_map,
)
from maps.geometry import bounds_of, display_tolerance_deg, prepare_for_display, to_metric
from maps.styles import Lang, band_label, label, level_label
from tests.maps import data
from tests.support.browser import chromium

pytestmark = pytest.mark.browser

DOCS_IMG = Path(__file__).resolve().parents[2] / "docs" / "img"
WRITE_DOCS = os.environ.get("CATCHMENT_WRITE_SCREENSHOTS") == "1"
LANGS: tuple[Lang, ...] = ("en", "zh")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as b:
        yield b


class Page:
    """One opened map page with everything the console said."""

    def __init__(self, browser: Any, html: str, path: Path) -> None:
        path.write_text(html, encoding="utf-8")
        self.path = path
        self.page = browser.new_page(viewport={"width": 1200, "height": 800})
        self.problems: list[str] = []
        self.page.on("console", lambda m: self.problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.problems.append(f"page error: {e}"))
        self.page.on("requestfailed", lambda r: self.problems.append(f"request failed: {r.url[:120]}"))
        self.page.goto(path.as_uri())
        self.page.wait_for_function("window.catchmentLayers !== undefined", timeout=30_000)

    def count(self, selector: str) -> int:
        return int(self.page.evaluate("(s) => document.querySelectorAll(s).length", selector))

    def text(self, selector: str) -> str:
        return str(self.page.evaluate("(s) => Array.from(document.querySelectorAll(s)).map(e => e.innerText).join('\\n')",
                                      selector))

    def shot(self, name: str, *, docs: str | None = None, view: tuple[float, float, float] | None = None) -> None:
        """Screenshot to the test's tmp dir; also to docs/img/``docs``.png when asked and enabled."""
        if view is not None:
            # The opening fit may still be animating (thousands of paths); a new view waits for it.
            self.page.wait_for_function("() => !window.catchmentMap._animatingZoom", timeout=30_000)
            # Braces: Leaflet returns the map, which Playwright would try to serialise (for a minute).
            self.page.evaluate("([lat, lon, z]) => { window.catchmentMap.setView([lat, lon], z, {animate: false}); }",
                               list(view))
        self.page.wait_for_timeout(300)
        self.page.screenshot(path=str(self.path.with_name(f"{name}.png")))
        if docs and WRITE_DOCS:
            DOCS_IMG.mkdir(parents=True, exist_ok=True)
            self.page.screenshot(path=str(DOCS_IMG / f"{docs}.png"))

    def close(self) -> None:
        assert self.problems == []
        self.page.close()


def shared_zones(zones: tuple[Zone, ...]) -> list[Zone]:
    """Places two same-grade zones both claim (over 1 km²), as zones served by both schools (多校划片)."""
    g = np.array([z.geometry for z in zones], dtype=object)
    i, j = shapely.STRtree(g).query(g, predicate="intersects")
    out = []
    for a, b in zip(i.tolist(), j.tolist(), strict=True):
        za, zb = zones[a], zones[b]
        if a >= b or za.school_codes == zb.school_codes or za.grades != zb.grades or za.phasing or zb.phasing:
            continue
        piece = shapely.intersection(za.geometry, zb.geometry)
        if shapely.area(to_metric([piece]))[0] > 1e6:
            parts = [p for p in shapely.get_parts(piece) if p.geom_type == "Polygon"]
            out.append(Zone(school_codes=za.school_codes + zb.school_codes, geometry=shapely.MultiPolygon(parts),
                            name=f"{za.name} / {zb.name}", grades=za.grades))
    return out


@pytest.mark.parametrize("lang", LANGS)
def test_coverage_map_in_a_browser(browser: Any, tmp_path: Path, lang: Lang) -> None:
    current = data.nsw_current()
    shared = shared_zones(current["primary"])
    assert shared
    levels = {"primary": current["primary"] + tuple(shared), "high": current["high"]}
    schools = data.nsw_schools()
    problems = {lv: find_problem_areas(zs) for lv, zs in levels.items()}
    page = Page(browser, render_html(coverage_map(levels, schools, lang=lang, tiles="none"), inline=True),
                tmp_path / f"coverage-{lang}.html")
    n_primary = len(levels["primary"])
    assert page.count("path.catchment-zone") == n_primary
    assert page.count("path.catchment-zone-multi") == len(shared)
    assert page.page.evaluate("() => Array.from(document.querySelectorAll('path.catchment-zone-multi'))"
                              ".every(p => (p.getAttribute('fill') || '').startsWith('url(#'))")
    assert page.count("path.catchment-school") == len(schools)
    assert page.count("path.catchment-gap") == len(problems["primary"].gaps)
    assert page.count("path.catchment-overlap") == len(problems["primary"].overlaps)
    legend = page.text(".catchment-legend")
    assert label("coverage_title", lang) in legend and label("several_schools", lang) in legend
    assert level_label("high", lang) in page.text(".leaflet-control-layers")
    assert page.count(".leaflet-control-scale") == 1 and page.count(".leaflet-control-zoom-fullscreen") == 1
    # The page decodes the compact coordinates back to the rounded, simplified geometry.
    first = page.page.evaluate("() => window.catchmentLayers['zones:primary'].toGeoJSON().features[0].geometry.coordinates[0][0]")
    all_geoms = [z.geometry for zs in levels.values() for z in zs]
    prepared = prepare_for_display([z.geometry for z in levels["primary"]],
                                   tolerance_deg=display_tolerance_deg(bounds_of(all_geoms)))[0]
    assert np.allclose(np.array(first), np.asarray(prepared.geoms[0].exterior.coords), atol=1e-9)
    page.shot(f"coverage-{lang}", docs="coverage" if lang == "en" else None, view=(-33.80, 151.02, 11))
    # The search box finds a school by name.
    name = schools[0].name
    box = page.page.locator(".leaflet-control-search input")
    box.press_sequentially(name[:8], delay=20)
    page.page.wait_for_selector(".search-tip", timeout=5_000)
    assert name in page.text(".search-tooltip")
    box.fill("")
    # The high-school layer starts hidden; switching it on draws its zones too.
    page.page.evaluate("() => { window.catchmentMap.addLayer(window.catchmentLayers['zones:high']); }")
    assert page.count("path.catchment-zone") == n_primary + len(levels["high"])
    page.page.evaluate("() => { window.catchmentMap.removeLayer(window.catchmentLayers['zones:high']); }")
    page.close()


@pytest.mark.parametrize("lang", LANGS)
def test_lookup_map_in_a_browser(browser: Any, tmp_path: Path, lang: Lang) -> None:
    result = data.nsw_lookup(151.2099, -33.8650)
    near_area = shapely.Point(result.lon, result.lat).buffer(0.03)
    nearby = [z for zs in data.nsw_current().values() for z in zs if z.geometry.intersects(near_area)]
    sentence = explain(result)
    page = Page(browser, render_html(lookup_map(result, nearby=nearby, explanation=sentence, lang=lang, tiles="none"),
                                     inline=True), tmp_path / f"lookup-{lang}.html")
    hits = [h for a in result.levels for h in a.hits]
    schools = {sd.school.code for h in hits for sd in h.schools}
    assert page.count("path.catchment-point") == 1
    assert page.count("path.catchment-zone") == len(hits)
    assert page.count("path.catchment-nearby") == len(nearby) - len(hits)
    assert page.count("path.catchment-line") == len(schools)
    assert page.count("path.catchment-school") == len(schools)
    assert page.text(".catchment-info").strip() == sentence[lang]
    labels = page.text(".catchment-label")
    assert label("your_address", lang) in labels
    assert label("your_zone", lang) in page.text(".catchment-legend")
    page.shot(f"lookup-{lang}", docs="lookup" if lang == "en" else "lookup-zh")
    page.close()


@pytest.mark.parametrize("lang", LANGS)
def test_overcrowding_map_in_a_browser(browser: Any, tmp_path: Path, lang: Lang) -> None:
    report, zones = data.fairfax_capacity()
    schools = data.fairfax_schools()
    page = Page(browser, render_html(overcrowding_map(report, zones, schools, lang=lang, tiles="none"), inline=True),
                tmp_path / f"overcrowding-{lang}.html")
    assert page.count("path.catchment-zone") == len(zones)
    assert page.count("path.catchment-school") == sum(1 for s in schools if s.code in {r.code for r in report.rows})
    legend = page.text(".catchment-legend")
    assert label("overcrowding_title", lang) in legend
    assert all(band_label(b, lang) in legend for b in get_profile("cn").utilisation_bands.bands)
    page.shot(f"overcrowding-{lang}", docs="overcrowding" if lang == "en" else None)
    page.close()


@pytest.mark.parametrize("lang", LANGS)
def test_travel_map_in_a_browser(browser: Any, tmp_path: Path, lang: Lang) -> None:
    units, cost, pupils, assigned = data.fairfax_travel()
    radius = get_profile("cn").for_level("primary").service_radius_m
    assert radius is not None
    es = [s for s in data.fairfax_schools() if "es" in s.levels]
    m = travel_map(units, cost, pupils, es, standard=radius, assigned=assigned, level="es", lang=lang, tiles="none")
    page = Page(browser, render_html(m, inline=True), tmp_path / f"travel-{lang}.html")
    assert page.count("path.catchment-unit") == len(units)
    assert page.count("path.catchment-school") == len(es)
    assert page.count("path.catchment-ring") == len(es)
    info = page.text(".catchment-info")
    assert label("within_standard", lang) in info and label("p90", lang) in info
    assert label("travel_title", lang) in page.text(".catchment-legend")
    page.shot(f"travel-{lang}", docs="travel" if lang == "en" else None, view=(38.85, -77.25, 12))
    page.close()


@pytest.mark.parametrize("lang", LANGS)
def test_compare_map_in_a_browser(browser: Any, tmp_path: Path, lang: Lang) -> None:
    a, b = data.fairfax_es(), data.fairfax_scenario2()
    changes = changed_areas(a, b)
    m = compare_map(a, b, data.fairfax_schools(), plan_a="2024-25", plan_b="scenario 2", lang=lang, tiles="none")
    page = Page(browser, render_html(m, inline=True), tmp_path / f"compare-{lang}.html")
    assert page.count("path.catchment-plan-a") == len(a)
    assert page.count("path.catchment-zone") == len(b)
    assert page.count("path.catchment-changed") == len(changes)
    assert label("changed", lang) in page.text(".catchment-legend")
    page.shot(f"compare-{lang}", docs="compare" if lang == "en" else None)
    page.close()


def test_side_by_side_compare_in_a_browser(browser: Any, tmp_path: Path) -> None:
    a, b = data.fairfax_es(), data.fairfax_scenario2()
    changes = changed_areas(a, b)
    m = compare_map(a, b, data.fairfax_schools(), side_by_side=True, tiles="none")
    page = Page(browser, render_html(m, inline=True), tmp_path / "compare-dual.html")
    assert page.count(".folium-map") == 2
    assert page.count("path.catchment-zone") == len(a) + len(b)
    assert page.count("path.catchment-changed") == 2 * len(changes)
    page.shot("compare-dual")
    page.close()
