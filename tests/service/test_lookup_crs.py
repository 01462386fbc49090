"""Lookups with crs=: EPSG codes (pyproj), GCJ-02 and BD-09; the answer is WGS84 and echoes the input.

Round-trip error is measured in metres. The Chinese offsets are checked against the CC0
``prcoords`` package's forward formula; outside China they are not applied.
"""

from __future__ import annotations

from typing import Any

import prcoords
import pytest
from fastapi.testclient import TestClient
from pyproj import Transformer

from geo.distance import geodesic_m

# A house in East Lindfield (Sydney), EPSG:4326 (lon, lat), as in test_lookup.py.
LINDFIELD = (151.1796, -33.7738)
# Points in mainland China (WGS84), where the GCJ-02 / BD-09 offsets apply.
CHINA = [(121.4737, 31.2304), (116.3975, 39.9087), (113.2644, 23.1291), (87.6168, 43.8256)]


def _zones(body: dict[str, Any]) -> dict[str, set[int]]:
    return {lv["level"]: {z["zone_id"] for z in lv["zones"]} for lv in body["levels"]}


def _get(client: TestClient, **params: Any) -> dict[str, Any]:
    r = client.get("/v1/lookup", params=params)
    assert r.status_code == 200, r.text
    return r.json()


@pytest.mark.parametrize("epsg", ["EPSG:3857", "EPSG:28356", "EPSG:4283", "EPSG:7844"])
def test_epsg_input_answers_like_wgs84(shared_client: TestClient, epsg: str) -> None:
    x, y = Transformer.from_crs("EPSG:4326", epsg, always_xy=True).transform(*LINDFIELD)
    body = _get(shared_client, lon=x, lat=y, crs=epsg)
    err = geodesic_m(body["lon"], body["lat"], *LINDFIELD)
    assert err < 0.01, err  # round trip through pyproj, metres
    assert body["crs"] == "EPSG:4326"
    assert body["input"] == {"lon": x, "lat": y, "crs": epsg}
    assert body["in_crs"]["crs"] == epsg and (body["in_crs"]["x"], body["in_crs"]["y"]) == (x, y)
    assert _zones(body) == _zones(_get(shared_client, lon=LINDFIELD[0], lat=LINDFIELD[1]))


def test_projected_crs_has_no_degree_shift(shared_client: TestClient) -> None:
    x, y = Transformer.from_crs("EPSG:4326", "EPSG:3857", always_xy=True).transform(*LINDFIELD)
    assert _get(shared_client, lon=x, lat=y, crs="EPSG:3857")["in_crs"]["shift_m"] is None


@pytest.mark.parametrize("crs", ["gcj02", "bd09", "GCJ-02", "bd09ll"])
def test_chinese_offsets_are_not_applied_outside_china(shared_client: TestClient, crs: str) -> None:
    body = _get(shared_client, lon=LINDFIELD[0], lat=LINDFIELD[1], crs=crs)
    assert (body["lon"], body["lat"]) == LINDFIELD and body["in_crs"]["shift_m"] == 0.0
    assert body["in_crs"]["crs"] in ("gcj02", "bd09")
    assert _zones(body) == _zones(_get(shared_client, lon=LINDFIELD[0], lat=LINDFIELD[1]))


@pytest.mark.parametrize(("crs", "forward"), [("gcj02", prcoords.wgs_gcj), ("bd09", prcoords.wgs_bd)])
def test_chinese_offsets_inverted_within_a_centimetre(shared_client: TestClient, crs: str, forward: Any) -> None:
    worst = 0.0
    for lon, lat in CHINA:
        shifted = forward((lat, lon), False)
        body = _get(shared_client, lon=shifted.lon, lat=shifted.lat, crs=crs)
        worst = max(worst, geodesic_m(body["lon"], body["lat"], lon, lat))
        # The offset is real (tens to hundreds of metres) and reported.
        assert 10 < body["in_crs"]["shift_m"] < 2000
        assert body["input"]["crs"] == crs and body["crs"] == "EPSG:4326"
        assert body["explanation"]["en"]  # no catchment data there: said plainly
    assert worst < 0.01, worst


def test_address_with_crs_gives_the_point_in_that_crs(shared_client: TestClient) -> None:
    wgs = _get(shared_client, address="25 Johnston St, Annandale")
    body = _get(shared_client, address="25 Johnston St, Annandale", crs="EPSG:28356")
    assert (body["lon"], body["lat"]) == (wgs["lon"], wgs["lat"])
    x, y = Transformer.from_crs("EPSG:4326", "EPSG:28356", always_xy=True).transform(wgs["lon"], wgs["lat"])
    assert body["in_crs"]["x"] == pytest.approx(x, abs=1e-6) and body["in_crs"]["y"] == pytest.approx(y, abs=1e-6)
    assert body["input"] == {"address": "25 Johnston St, Annandale", "crs": "EPSG:28356"}


@pytest.mark.parametrize(("params", "where"), [
    ({"lon": 151.2, "lat": -33.9, "crs": "EPSG:999999"}, "crs"),
    ({"lon": 151.2, "lat": -33.9, "crs": "mars-ish"}, "crs"),
    ({"lon": 151.2, "lat": -33.9, "crs": "bd09mc"}, "crs"),
    ({"lon": 1e30, "lat": 1e30, "crs": "EPSG:3857"}, "coordinates"),
    ({"lon": 200, "lat": 0}, "query.lon"),
    ({"lon": 0, "lat": -91}, "query.lat"),
    ({"lon": "nan", "lat": 0}, "query.lon"),
    ({"lon": 200, "lat": 0, "crs": "gcj02"}, "coordinates"),
])
def test_bad_crs_input_is_422(shared_client: TestClient, params: dict[str, Any], where: str) -> None:
    r = shared_client.get("/v1/lookup", params=params)
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json", r.text
    assert r.json()["where"] == where
