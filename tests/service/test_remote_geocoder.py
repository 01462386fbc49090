"""CATCHMENT_GEOCODER=nominatim through the API, against a real local HTTP server.

The server (http.server on 127.0.0.1, a random port, in a thread) answers /search in
Nominatim's documented jsonv2 format (place_id, licence, osm_type, osm_id, boundingbox, lat/lon
as strings, display_name, category, type, place_rank, importance, addresstype, name, address).
Its house answer is a real Sydney address point from data/boundaries/nsw/sydney_addresses.csv.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from service.main import create_app
from service.settings import DatabaseSettings, GeocoderSettings, LookupSettings, SampleSettings, Settings
from tests.conftest import DATA
from tests.support.fake_nominatim import FakeNominatim, fake_nominatim

LICENCE = "Data © OpenStreetMap contributors, ODbL 1.0. http://osm.org/copyright"
ROW = pd.read_csv(DATA / "nsw" / "sydney_addresses.csv", dtype=str).set_index("id").loc["nsw-school-1041"]
HOUSE = {
    "place_id": 88123456, "licence": LICENCE, "osm_type": "node", "osm_id": 5501234567,
    "boundingbox": [ROW.lat, ROW.lat, ROW.lon, ROW.lon], "lat": ROW.lat, "lon": ROW.lon,
    "display_name": f"{ROW.number}, {ROW.street}, {ROW.locality}, Sydney, Council of the Municipality of Inner West, "
                    f"New South Wales, {ROW.postcode}, Australia",
    "category": "place", "type": "house", "place_rank": 30, "importance": 0.00009999999999995,
    "addresstype": "place", "name": "",
    "address": {"house_number": ROW.number, "road": "Johnston Street", "suburb": ROW.locality, "city": "Sydney",
                "state": "New South Wales", "postcode": ROW.postcode, "country": "Australia", "country_code": "au"},
}


def _street(osm_id: int, lat: str, lon: str, suburb: str) -> dict[str, Any]:
    return {"place_id": osm_id + 1, "licence": LICENCE, "osm_type": "way", "osm_id": osm_id, "boundingbox": [lat, lat, lon, lon],
            "lat": lat, "lon": lon, "display_name": f"Church Street, {suburb}, New South Wales, Australia",
            "category": "highway", "type": "residential", "place_rank": 26, "importance": 0.1, "addresstype": "road",
            "name": "Church Street", "address": {"road": "Church Street", "suburb": suburb, "country_code": "au"}}


STREETS = [_street(2001, "-33.8148", "151.0034", "Parramatta"), _street(2002, "-33.9095", "151.1043", "Canterbury")]


def _answer(q: str, server: FakeNominatim) -> tuple[int, Any]:
    if q.startswith("25 johnston"):
        return 200, [HOUSE]
    if q == "church street":
        return 200, STREETS
    if q == "slow":
        time.sleep(1.0)
        return 200, [HOUSE]
    if q == "overloaded":
        return 503, {"error": "overloaded"}
    return 200, []


@pytest.fixture
def server() -> Iterator[FakeNominatim]:
    with fake_nominatim(_answer) as srv:
        yield srv


def _settings(sample_db: Path, url: str) -> Settings:
    geo = GeocoderSettings(geocoder="nominatim", geocoder_url=url, geocoder_timeout_s=2.0, geocoder_retries=1,
                           geocoder_backoff_s=0.01, geocoder_user_agent="catchment-tests/1.0 (test@example.org)")
    return Settings(database=DatabaseSettings(url=f"sqlite:///{sample_db}"), sample=SampleSettings(load=False),
                    lookup=LookupSettings(version_check_s=0.0), geocoder=geo)


@pytest.fixture
def remote_client(sample_db: Path, server: FakeNominatim) -> Iterator[TestClient]:
    with TestClient(create_app(_settings(sample_db, server.url)), raise_server_exceptions=True) as c:
        yield c


def test_remote_up_answers_the_lookup(remote_client: TestClient, server: FakeNominatim, shared_client: TestClient) -> None:
    r = remote_client.get("/v1/lookup", params={"address": "25 Johnston St, Annandale"})
    assert r.status_code == 200, r.text
    body = r.json()
    g = body["geocode"]
    assert (g["geocoder"], g["precision"], g["address_id"]) == ("nominatim", "exact", "node/5501234567")
    assert g["address"] == HOUSE["display_name"] and g["components"]["street"] == "Johnston Street"
    assert (body["lon"], body["lat"]) == (float(ROW.lon), float(ROW.lat))
    by_point = shared_client.get("/v1/lookup", params={"lon": ROW.lon, "lat": ROW.lat}).json()
    assert [lv["zones"] for lv in body["levels"]] == [lv["zones"] for lv in by_point["levels"]]
    assert "nominatim" in body["explanation"]["en"]
    _, sent, _ = server.requests[-1]
    assert sent["q"] == "25 Johnston St, Annandale" and sent["addressdetails"] == "1"


def test_remote_answers_are_cached(remote_client: TestClient, server: FakeNominatim) -> None:
    for _ in range(3):
        assert remote_client.get("/v1/addresses/geocode", params={"address": "25 johnston st annandale"}).status_code == 200
    assert len(server.requests) == 1


def test_remote_ambiguous_and_no_match(remote_client: TestClient) -> None:
    r = remote_client.get("/v1/lookup", params={"address": "Church Street"})
    assert r.status_code == 409 and {c["components"]["locality"] for c in r.json()["candidates"]} == {"Parramatta", "Canterbury"}
    r = remote_client.get("/v1/lookup", params={"address": "1 Nowhere Lane"})
    assert r.status_code == 404 and r.json()["where"] == "address"


def test_remote_bad_input_never_reaches_the_server(remote_client: TestClient, server: FakeNominatim) -> None:
    for text in ("", "x" * 10_000, "a\x00b"):
        assert remote_client.get("/v1/lookup", params={"address": text}).status_code == 422
    assert server.requests == []


def test_remote_errors_are_503(remote_client: TestClient) -> None:
    r = remote_client.get("/v1/lookup", params={"address": "overloaded"})
    assert r.status_code == 503 and r.headers["content-type"] == "application/problem+json"
    assert r.headers["Retry-After"] and r.json()["where"] == "geocoder" and "HTTP 503" in r.json()["detail"]


def test_remote_down_is_503(sample_db: Path) -> None:
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with TestClient(create_app(_settings(sample_db, f"http://127.0.0.1:{port}")), raise_server_exceptions=True) as c:
        r = c.get("/v1/lookup", params={"address": "25 Johnston St, Annandale"})
        assert r.status_code == 503 and r.json()["where"] == "geocoder"
        assert "unavailable" in r.json()["detail"] and "暂时不可用" in r.json()["detail"]
        # Coordinates and the gazetteer's type-ahead keep working while the geocoder is down.
        assert c.get("/v1/lookup", params={"lon": ROW.lon, "lat": ROW.lat}).status_code == 200
        suggest = c.get("/v1/addresses/suggest", params={"q": "25 johnston"}).json()
        assert suggest["geocoder"] == "gazetteer" and suggest["suggestions"]


def test_slow_remote_does_not_block_other_requests(remote_client: TestClient) -> None:
    """The remote call runs in the thread pool: coordinate lookups answer meanwhile."""
    done: dict[str, float] = {}

    def slow() -> None:
        t0 = time.perf_counter()
        assert remote_client.get("/v1/lookup", params={"address": "slow"}).status_code == 200
        done["slow"] = time.perf_counter() - t0

    thread = threading.Thread(target=slow)
    thread.start()
    time.sleep(0.2)
    t0 = time.perf_counter()
    for _ in range(5):
        assert remote_client.get("/v1/lookup", params={"lon": ROW.lon, "lat": ROW.lat}).status_code == 200
    fast = time.perf_counter() - t0
    thread.join(timeout=10)
    assert done["slow"] >= 1.0 and fast < 0.6, (done, fast)
