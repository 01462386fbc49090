"""Every map builds from the real samples; size budget, tiles, languages and contents (no browser)."""

from __future__ import annotations

import dataclasses
import json
import re
import time

import numpy as np
import pytest
from branca.element import Element
from pyproj import Geod
from shapely.geometry import LineString

from geo.errors import InvalidInput
from geo.lookup.explain import explain
from geo.standards import LevelKind, get_profile
from maps import (
    OSM,
    Tiles,
    changed_areas,
    compare_map,
    coverage_map,
    lookup_map,
    overcrowding_map,
    parse_tiles,
    render_html,
    travel_map,
)
from maps.layer import LightGeoJson
from maps.lookup import route_length_m
from maps.overcrowding import breaches
from maps.styles import fmt_distance, fmt_share
from tests.maps import data

BUDGET_BYTES = 4_000_000


def light_layers(m: Element) -> list[LightGeoJson]:
    out = []
    for child in m._children.values():
        if isinstance(child, LightGeoJson):
            out.append(child)
        out.extend(light_layers(child))
    return out


def js_text(text: str) -> str:
    """How a string appears inside the page's JSON (non-ASCII and <, >, & escaped, as Jinja's tojson does)."""
    return json.dumps(text)[1:-1].replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


@pytest.fixture(scope="module")
def sydney_html() -> tuple[str, float, list[int]]:
    levels, schools = dict(data.nsw_levels()), data.nsw_schools()
    start = time.perf_counter()
    m = coverage_map(levels, schools)
    page = render_html(m)
    seconds = time.perf_counter() - start
    return page, seconds, [layer.feature_count for layer in light_layers(m)]


def test_sydney_coverage_map_fits_the_size_budget(sydney_html: tuple[str, float, list[int]]) -> None:
    page, seconds, counts = sydney_html
    levels = data.nsw_levels()
    assert sum(len(z) for z in levels.values()) == 902
    # Zone layers hold every zone: 683 primary and 219 high, then problems and the schools.
    assert len(levels["primary"]) in counts and len(levels["high"]) in counts and len(data.nsw_schools()) in counts
    assert len(page.encode()) < BUDGET_BYTES
    print(f"Greater Sydney coverage map: {len(page.encode()) / 1e6:.2f} MB, built and rendered in {seconds:.2f} s")


def test_offline_page_fits_the_budget_and_needs_no_network() -> None:
    m = coverage_map(dict(data.nsw_levels()), data.nsw_schools(), tiles="none")
    page = render_html(m, inline=True)
    assert len(page.encode()) < BUDGET_BYTES
    assert not re.search(r'<script src="http', page) and not re.search(r'<link rel="stylesheet" href="http', page)
    assert "tile.openstreetmap.org" not in page and "L.tileLayer" not in page


def test_tiles_default_to_openstreetmap_with_attribution() -> None:
    m = coverage_map({"es": data.fairfax_es()}, data.fairfax_schools())
    page = render_html(m)
    assert OSM.url in page and js_text(OSM.attribution) in page
    custom = Tiles("https://tiles.example.org/{z}/{x}/{y}.png", "&copy; Example")
    page = render_html(coverage_map({"es": data.fairfax_es()}, data.fairfax_schools(), tiles=custom))
    assert custom.url in page and js_text(custom.attribution) in page and OSM.url not in page


def test_parse_tiles_setting() -> None:
    assert parse_tiles(None) == OSM and parse_tiles("osm") == OSM
    assert parse_tiles("none") is None
    assert parse_tiles("https://a.example/{z}/{x}/{y}.png|(c) A") == Tiles("https://a.example/{z}/{x}/{y}.png", "(c) A")
    for bad in ("https://a.example/{z}/{x}/{y}.png", "ftp://x/{z}|a", "https://a.example/tile.png|a"):
        with pytest.raises(InvalidInput):
            parse_tiles(bad)


def test_unknown_language_is_refused() -> None:
    with pytest.raises(InvalidInput):
        coverage_map({"es": data.fairfax_es()}, data.fairfax_schools(), lang="de")


def test_coverage_labels_follow_the_language() -> None:
    for lang, title in (("en", "Catchment zones"), ("zh", "招生片区划分")):
        page = render_html(coverage_map({"es": data.fairfax_es()}, data.fairfax_schools(), lang=lang, tiles="none"))
        assert js_text(title) in page


def test_overcrowding_rings_the_schools_that_break_a_standard() -> None:
    report, zones = data.fairfax_capacity()
    assert any(r.demand is not None for r in report.rows)
    # A profile whose primary school-size limit some Fairfax elementary schools exceed.
    cn = get_profile("cn")
    strict = dataclasses.replace(cn, levels={**cn.levels, LevelKind.PRIMARY: dataclasses.replace(
        cn.levels[LevelKind.PRIMARY], school_size_max=900)})
    report, zones = data.fairfax_capacity(strict)
    broken = [r for r in report.rows if r.size_breach]
    assert broken and all(breaches(r, "en") for r in broken)
    m = overcrowding_map(report, zones, data.fairfax_schools(), tiles="none")
    page = render_html(m)
    layers = light_layers(m)
    schools = next(layer for layer in layers if layer.layer_name == "Schools")
    assert schools.feature_count == sum(1 for s in data.fairfax_schools() if s.code in {r.code for r in report.rows})
    ring_styles = {i for i, st in enumerate(schools.style_table) if "catchment-breach" in st}
    ringed = [f["properties"]["label"] for f in schools.data["features"] if f["properties"]["s"] in ring_styles]
    shown = {s.code for s in data.fairfax_schools()}
    assert sorted(ringed) == sorted(f"{r.name} ({r.code})" for r in broken if r.code in shown)
    assert "school larger than 900 pupils" in page


def test_travel_summary_states_the_share_within_the_standard() -> None:
    units, cost, pupils, assigned = data.fairfax_travel()
    radius = get_profile("cn").for_level("primary").service_radius_m
    assert radius is not None
    es = [s for s in data.fairfax_schools() if "es" in s.levels]
    page = render_html(travel_map(units, cost, pupils, es, standard=radius, assigned=assigned, level="es", tiles="none"))
    share = pupils[cost <= radius].sum() / pupils.sum()
    assert 0 < share < 1
    assert js_text(fmt_share(share)) in page
    assert len(page.encode()) < BUDGET_BYTES
    with pytest.raises(InvalidInput):
        travel_map(units, cost[:-1], pupils, es, standard=radius)


def test_lookup_map_shows_the_explanation() -> None:
    result = data.nsw_lookup(151.2099, -33.8650)
    assert all(a.hits for a in result.levels)
    sentence = explain(result)
    for lang in ("en", "zh"):
        page = render_html(lookup_map(result, explanation=sentence, lang=lang, tiles="none"))
        assert js_text(sentence[lang].replace("'", "&#x27;")) in page
        for a in result.levels:
            for sd in a.hits[0].schools:
                assert sd.school.name in page


def test_compare_map_highlights_each_change() -> None:
    a, b = data.fairfax_es(), data.fairfax_scenario2()
    changes = changed_areas(a, b)
    m = compare_map(a, b, data.fairfax_schools(), plan_a="today", plan_b="scenario 2", tiles="none")
    counts = {layer.layer_name: layer.feature_count for layer in light_layers(m)}
    assert len(changes) in counts.values() and len(a) in counts.values()
    dual = compare_map(a, b, data.fairfax_schools(), side_by_side=True, tiles="none")
    page = render_html(dual, inline=True)
    assert "L.Map.Sync" in page or "sync(" in page
    assert np.isclose(sum(c.area_m2 for c in changes), sum(c.area_m2 for c in changed_areas(a, b)))


def test_lookup_map_draws_a_given_route_with_its_length() -> None:
    result = data.nsw_lookup(151.2099, -33.8650)
    school = result.levels[0].hits[0].schools[0].school
    # An L-shaped walk (east-west leg, then north-south leg) to the school: longer than the straight line.
    route = LineString([(result.lon, result.lat), (school.lon, result.lat), (school.lon, school.lat)])
    g = Geod(ellps="WGS84")
    expected = g.inv(result.lon, result.lat, school.lon, result.lat)[2] + g.inv(school.lon, result.lat, school.lon, school.lat)[2]
    assert abs(route_length_m(route) - expected) < 0.01
    page = render_html(lookup_map(result, routes={school.code: route}, tiles="none"))
    assert f"Walking route: {fmt_distance(expected, 'en')} · {school.name}" in page
    assert page.count("catchment-route") == 1
