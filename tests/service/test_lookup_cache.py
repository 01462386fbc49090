"""The lean ``GET /v1/lookup``: the per-cell answer cache gives byte for byte the answer computed
the ordinary way, for points inside cells, near edges and in no zone, with every query option;
the query string read directly refuses what FastAPI refused, with the same problem+json."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import numpy as np
import pytest
import shapely
from fastapi.testclient import TestClient

from geo.crs import from_wgs84
from service.main import create_app
from service.operations.lookup import lookup_json
from service.settings import RateLimitSettings
from service.storage.base import Repository
from tests.conftest import bearer, settings_for

OPTIONS: list[dict[str, Any]] = [{}, {"level": "primary"}, {"level": "high"}, {"grade": "K"}, {"grade": "7", "year": 2027},
                                 {"level": "high", "grade": "10", "year": 2028}, {"year": 2030}, {"grade": "k", "level": "primary"}]


@pytest.fixture(scope="module")
def fast(sample_db: Path) -> Iterator[TestClient]:
    """Read-only, with the lookup limit on but far above the thousands of lookups asked here."""
    settings = settings_for(f"sqlite:///{sample_db}")
    settings.rate = RateLimitSettings(lookups_per_client="1000000/minute")
    with TestClient(create_app(settings)) as c:
        yield c


@pytest.fixture
def limited(db_url: str) -> Iterator[TestClient]:
    settings = settings_for(db_url)
    settings.rate = RateLimitSettings(lookups_per_client="1000000/minute")
    with TestClient(create_app(settings)) as c:
        yield c


def _ordinary(client: TestClient, **query: Any) -> bytes:
    """The answer computed without the cache (the ordinary path of the same service)."""
    state = client.app.state  # type: ignore[attr-defined]
    snap = state.holder.current()
    return anyio.run(lambda: lookup_json(snap, state.settings, None, remote=None, **query))  # type: ignore[no-any-return]


def _points(client: TestClient, n: int = 120) -> list[tuple[float, float]]:
    """Seeded points over the sample's zones: inside cells, on and beside edges, and in no zone."""
    index = client.app.state.holder.current().index  # type: ignore[attr-defined]
    rng = np.random.default_rng(17)
    out: list[tuple[float, float]] = []
    for geom in index.geoms[:: max(1, len(index.geoms) // 80)]:
        x0, y0, x1, y1 = shapely.bounds(geom)
        out += [(float(x), float(y)) for x, y in zip(rng.uniform(x0, x1, 3), rng.uniform(y0, y1, 3), strict=True)]
        ring = np.asarray(shapely.get_coordinates(shapely.get_exterior_ring(geom.geoms[0] if hasattr(geom, "geoms") else geom)))
        vx, vy = ring[len(ring) // 2]
        out += [(float(vx), float(vy)), (float(vx) + 2e-4, float(vy) + 1e-4)]  # on an edge, about 20 m beside it
    x0, y0, x1, y1 = shapely.total_bounds(index.geoms)
    out += [(float(x), float(y)) for x, y in zip(rng.uniform(x0, x1, n), rng.uniform(y0, y1, n), strict=True)]
    return out


def _same(client: TestClient, query: dict[str, Any], ordinary: dict[str, Any] | None = None) -> None:
    r = client.get("/v1/lookup", params=query)
    assert r.status_code == 200, r.text
    assert r.content == _ordinary(client, **(ordinary or query)), query


def test_cached_answers_are_the_ordinary_answers_for_every_option(fast: TestClient) -> None:
    cache = fast.app.state.answer_cache  # type: ignore[attr-defined]
    hits_before, built_before = cache.hits, cache.built
    points = _points(fast)
    for opts in OPTIONS:
        for lon, lat in points:
            _same(fast, {"lon": lon, "lat": lat, **opts})
    # Asked twice: the second round comes from the cache wherever the first built a template.
    for lon, lat in points[:60]:
        _same(fast, {"lon": lon, "lat": lat})
    # Served from templates (built or kept) often enough that the ordinary path was not compared with itself.
    assert cache.hits - hits_before > 100 and cache.built - built_before > 300, (cache.hits, cache.built)
    assert cache.rejected == 0  # every template matched the ordinary answer at the point that built it


def test_cached_answers_in_chinese_offsets_and_projected_crs(fast: TestClient) -> None:
    points = [p for p in _points(fast, n=20) if p[0] > 140][:40]  # Sydney (inside China's offsets: not applied)
    for crs in ("gcj02", "bd09", "EPSG:3857"):
        xs, ys = from_wgs84(np.array([p[0] for p in points]), np.array([p[1] for p in points]), crs)
        for x, y in zip(xs.tolist(), ys.tolist(), strict=True):
            for opts in ({}, {"level": "primary"}):
                _same(fast, {"lon": x, "lat": y, "crs": crs, **opts})
                _same(fast, {"lon": x, "lat": y, "crs": crs, **opts})


def test_an_address_lookup_answers_as_before(fast: TestClient) -> None:
    query = {"address": "25 Johnston St, Annandale", "level": "primary"}
    r = fast.get("/v1/lookup", params=query)
    assert r.status_code == 200 and r.content == _ordinary(fast, **query)
    assert r.json()["geocode"]["precision"] == "exact"


def test_a_write_starts_a_new_cache(limited: TestClient, repo: Repository, keys: dict[str, str]) -> None:
    zone = next(z for p, z in repo.adopted_zones() if p.district == "fairfax" and p.level == "elementary")
    pt = zone.geometry.representative_point()
    query = {"lon": pt.x, "lat": pt.y}
    first = limited.get("/v1/lookup", params=query).json()
    limited.get("/v1/lookup", params=query)  # from the cache now
    es = first["levels"][[lv["level"] for lv in first["levels"]].index("elementary")]["zones"][0]["schools"][0]["code"]
    ms = next(lv for lv in first["levels"] if lv["level"] == "middle")["zones"][0]["schools"][0]["code"]
    r = limited.put(f"/v1/schools/{es}/feeders", json={"feeds_into": [ms]}, headers=bearer(keys["planner"]))
    assert r.status_code == 200, r.text
    again = limited.get("/v1/lookup", params=query)
    school = next(lv for lv in again.json()["levels"] if lv["level"] == "elementary")["zones"][0]["schools"][0]
    assert [f["code"] for f in school["feeders"]] == [ms] and school["feeders"][0]["distance_m"] > 0
    assert "Feeder path" in again.json()["explanation"]["en"]
    assert again.content == _ordinary(limited, **query)
    moved = {"lon": pt.x + 1e-5, "lat": pt.y}  # the same cell, another point: the feeder's distance is its own
    assert limited.get("/v1/lookup", params=moved).content == _ordinary(limited, **moved)


def _problem(client: TestClient, query: str) -> dict[str, Any]:
    r = client.get(f"/v1/lookup?{query}")
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    return r.json()  # type: ignore[no-any-return]


def test_bad_query_values_are_refused_as_fastapi_refused_them(fast: TestClient) -> None:
    body = _problem(fast, "lon=abc&lat=-33.7")
    assert body["where"] == "query.lon" and body["errors"] == [
        {"where": "query.lon", "message": "Input should be a valid number, unable to parse string as a number"}]
    body = _problem(fast, "lon=151.1&lat=-33.7&year=1800")
    assert body["where"] == "query.year" and "greater than or equal to 1900" in body["detail"]
    body = _problem(fast, "lon=&lat=x&year=20.5")
    assert [e["where"] for e in body["errors"]] == ["query.lon", "query.lat", "query.year"]
    assert _problem(fast, "lat=-33.7")["where"] == "query.lon"  # missing: the lookup's own message
    assert _problem(fast, "lon=151.1796&lat=-33.7738&grade=13")["where"] == "grade"


def test_numbers_in_any_form_pydantic_reads(fast: TestClient) -> None:
    plain = fast.get("/v1/lookup?lon=151.1796&lat=-33.7738").json()
    other = fast.get("/v1/lookup?lon=1.511796e2&lat=-3.37738E1&lon=151.1796").json()  # the last lon counts
    assert other["levels"] == plain["levels"] and other["input"]["lon"] == 151.1796
    assert fast.get("/v1/lookup?lon=+151.1796&lat=-33.7738&year=2026").status_code == 200


def test_lookup_keeps_its_rate_limit_and_headers(shared_client: TestClient) -> None:
    r = shared_client.get("/v1/lookup?lon=151.1796&lat=-33.7738")
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["content-security-policy"].startswith("default-src 'none'")
    assert r.headers["content-type"] == "application/json"
    assert int(r.headers["content-length"]) == len(r.content)


def test_a_template_that_differs_is_not_used(limited: TestClient, repo: Repository, monkeypatch: pytest.MonkeyPatch) -> None:
    """An addition the template cannot follow (here: words the ordinary path does not say) is caught
    when the template is built: the cell answers the ordinary way, and the worker says so once."""
    from service.operations import lookup_cache

    real = lookup_cache.complete

    def differs(*args: Any, **kwargs: Any) -> Any:
        got = real(*args, **kwargs)
        return type(got)(got.result, {k: v + " (differs)" for k, v in got.explanation.items()}, got.feeders, got.bands,
                         got.travel, got.geocode, got.decisions)

    monkeypatch.setattr(lookup_cache, "complete", differs)
    zone = next(z for p, z in repo.adopted_zones() if p.district == "fairfax" and p.level == "elementary")
    pt = zone.geometry.representative_point()
    cache = limited.app.state.answer_cache  # type: ignore[attr-defined]
    for _ in range(2):
        r = limited.get("/v1/lookup", params={"lon": pt.x, "lat": pt.y})
        assert r.status_code == 200 and "(differs)" not in r.text
        assert r.content == _ordinary(limited, lon=pt.x, lat=pt.y)
    assert cache.rejected == 1 and cache.hits == 0 and cache.built == 0
