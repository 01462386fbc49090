"""Every map through the API and the CLI, the size budget, and served pages in a real browser."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from service.cli import app as cli
from tests.support.browser import chromium
from tests.support.server import running_service

MAPS = [
    ("/v1/maps/coverage", {"district": "nsw"}),
    ("/v1/maps/coverage", {"district": "fairfax", "lang": "zh"}),
    ("/v1/maps/overcrowding", {"level": "elementary"}),
    ("/v1/maps/travel", {"level": "elementary"}),
    ("/v1/maps/travel", {"level": "middle", "district": "portland", "mode": "walk", "units": "nodes"}),
    ("/v1/maps/lookup", {"lon": 151.1796, "lat": -33.7738}),
    ("/v1/maps/plan/1", {}),
]


@pytest.mark.parametrize("url,params", MAPS)
def test_every_map_is_served_as_html(shared_client: TestClient, url: str, params: dict[str, Any]) -> None:
    r = shared_client.get(url, params=params | {"tiles": "none"})
    assert r.status_code == 200, r.text[:300]
    assert r.headers["content-type"].startswith("text/html")
    assert "<html" in r.text[:500].lower() and "leaflet" in r.text.lower()
    # Inlined assets: the page needs no network.
    assert "cdn.jsdelivr.net" not in r.text


def test_sydney_coverage_budget(shared_client: TestClient) -> None:
    shared_client.get("/v1/maps/coverage", params={"district": "nsw", "tiles": "none"})
    start = time.perf_counter()
    r = shared_client.get("/v1/maps/coverage", params={"district": "nsw"})
    elapsed = time.perf_counter() - start
    assert len(r.content) < 4_000_000
    assert "tile.openstreetmap.org" in r.text and "OpenStreetMap" in r.text  # default tiles, attributed
    # The 2 s render budget is measured in bench/ (timed unit tests are flaky on shared machines).
    assert elapsed < 30


def test_compare_and_bad_map_requests(shared_client: TestClient) -> None:
    plans = shared_client.get("/v1/plans", params={"district": "fairfax", "level": "elementary"}).json()
    r = shared_client.get("/v1/maps/compare", params={"a": plans[0]["id"], "b": plans[0]["id"], "tiles": "none"})
    assert r.status_code == 200
    for url, params in [("/v1/maps/coverage", {}), ("/v1/maps/coverage", {"district": "nsw", "lang": "fr"}),
                        ("/v1/maps/coverage", {"district": "nsw", "tiles": "http://x/{z}/{x}/{y}.png"}),
                        ("/v1/maps/lookup", {"lon": 500, "lat": 0}), ("/v1/maps/plan/99999", {}),
                        ("/v1/maps/travel", {"level": "elementary", "mode": "drive"})]:
        bad = shared_client.get(url, params=params)
        assert 400 <= bad.status_code < 500 and bad.headers["content-type"] == "application/problem+json", (url, params)


@pytest.mark.parametrize("args", [
    ["coverage", "--district", "fairfax"], ["overcrowding", "--level", "elementary"],
    ["travel", "--level", "elementary"], ["lookup", "--lon", "151.1796", "--lat", "-33.7738"], ["plan", "--plan", "1"],
    ["compare", "--a", "3", "--b", "3"],
])
def test_cli_writes_each_map(tmp_path: Path, sample_db: Path, args: list[str]) -> None:
    out = tmp_path / "map.html"
    result = CliRunner().invoke(cli, ["maps", *args, "--out", str(out), "--tiles", "none", "--database", f"sqlite:///{sample_db}"])
    assert result.exit_code == 0, result.output
    assert out.stat().st_size > 50_000 and "leaflet" in out.read_text(encoding="utf-8").lower()


@pytest.mark.browser
def test_served_pages_open_in_chromium(sample_db: Path, tmp_path: Path) -> None:
    with chromium() as browser, running_service(f"sqlite:///{sample_db}") as base:
        for name, url in [("coverage", "/v1/maps/coverage?district=nsw&tiles=none&lang=zh"),
                          ("lookup", "/v1/maps/lookup?lon=151.1796&lat=-33.7738&tiles=none"),
                          ("travel", "/v1/maps/travel?level=middle&district=portland&mode=walk&units=nodes&tiles=none")]:
            page = browser.new_page(viewport={"width": 1200, "height": 800})
            problems: list[str] = []
            page.on("console", lambda m, bag=problems: bag.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e, bag=problems: bag.append(str(e)))
            page.goto(base + url)
            page.wait_for_function("window.catchmentLayers !== undefined", timeout=30_000)
            page.wait_for_timeout(300)
            assert page.evaluate("() => document.querySelectorAll('path.leaflet-interactive').length") > 0, name
            page.screenshot(path=str(tmp_path / f"{name}.png"))
            assert problems == [], (name, problems)
            page.close()
