"""geo.address.nominatim against a local HTTP server that answers in Nominatim's jsonv2 search format.

The answers follow the documented /search?format=jsonv2&addressdetails=1 output (fields
place_id, licence, osm_type, osm_id, boundingbox, lat, lon as strings, display_name, category,
type, place_rank, importance, addresstype, name, address); the first is the documentation's
own example (135 Pilkington Avenue, Birmingham). The server is real (http.server on 127.0.0.1,
a random port, in a thread); it decides what to answer from the query text.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest

from geo.address.geocode import Geocoder, Precision, Suggester
from geo.address.nominatim import NominatimGeocoder, TTLCache, precision_of
from geo.errors import AddressNotFound, AmbiguousAddress, InvalidInput, Unavailable
from tests.support.fake_nominatim import FakeNominatim, fake_nominatim

LICENCE = "Data © OpenStreetMap contributors, ODbL 1.0. http://osm.org/copyright"

HOUSE = {
    "place_id": 12345678, "licence": LICENCE, "osm_type": "node", "osm_id": 240109189,
    "boundingbox": ["52.5487229", "52.5488229", "-1.8160710", "-1.8159710"],
    "lat": "52.5487429714954", "lon": "-1.81602098644987",
    "display_name": "135, Pilkington Avenue, Wylde Green, Sutton Coldfield, Birmingham, West Midlands Combined "
                    "Authority, England, B72 1LH, United Kingdom",
    "category": "place", "type": "house", "place_rank": 30, "importance": 0.62100895764854,
    "addresstype": "place", "name": "",
    "address": {"house_number": "135", "road": "Pilkington Avenue", "suburb": "Wylde Green",
                "town": "Sutton Coldfield", "city": "Birmingham", "county": "West Midlands Combined Authority",
                "state": "England", "postcode": "B72 1LH", "country": "United Kingdom", "country_code": "gb"},
}


def _street(place_id: int, osm_id: int, lat: str, lon: str, suburb: str, importance: float) -> dict[str, Any]:
    return {
        "place_id": place_id, "licence": LICENCE, "osm_type": "way", "osm_id": osm_id,
        "boundingbox": [lat, lat, lon, lon], "lat": lat, "lon": lon,
        "display_name": f"Church Street, {suburb}, Sydney, New South Wales, 2000, Australia",
        "category": "highway", "type": "residential", "place_rank": 26, "importance": importance,
        "addresstype": "road", "name": "Church Street",
        "address": {"road": "Church Street", "suburb": suburb, "city": "Sydney", "state": "New South Wales",
                    "postcode": "2000", "country": "Australia", "country_code": "au"},
    }


AMBIGUOUS = [_street(1001, 2001, "-33.8148", "151.0034", "Parramatta", 0.1001),
             _street(1002, 2002, "-33.9095", "151.1043", "Canterbury", 0.1000),
             _street(1003, 2003, "-33.9183", "151.1829", "St Peters", 0.0999)]
SUBURB = {
    "place_id": 3003, "licence": LICENCE, "osm_type": "relation", "osm_id": 5750005,
    "boundingbox": ["-33.8914", "-33.8744", "151.1599", "151.1792"], "lat": "-33.8823", "lon": "151.1697",
    "display_name": "Annandale, Sydney, Council of the City of Sydney, New South Wales, 2038, Australia",
    "category": "boundary", "type": "administrative", "place_rank": 20, "importance": 0.35,
    "addresstype": "suburb", "name": "Annandale",
    "address": {"suburb": "Annandale", "city": "Sydney", "state": "New South Wales", "postcode": "2038",
                "country": "Australia", "country_code": "au"},
}


def _answer(q: str, server: FakeNominatim) -> tuple[int, Any]:
    if q.startswith("135 pilkington"):
        return 200, [HOUSE]
    if q == "church street":
        return 200, AMBIGUOUS
    if q == "annandale":
        return 200, [SUBURB]
    if q == "flaky":
        server.counts["flaky"] = server.counts.get("flaky", 0) + 1
        return (500, {"error": "temporarily broken"}) if server.counts["flaky"] <= 2 else (200, [HOUSE])
    if q == "always 503":
        return 503, {"error": "overloaded"}
    if q == "slow":
        time.sleep(0.6)
        return 200, [HOUSE]
    if q == "forbidden":
        return 403, {"error": "blocked"}
    if q == "not json":
        return 200, b"<html"
    return 200, []


@pytest.fixture
def server() -> Iterator[FakeNominatim]:
    with fake_nominatim(_answer) as srv:
        yield srv


@pytest.fixture
def geocoder(server: FakeNominatim) -> Iterator[NominatimGeocoder]:
    with NominatimGeocoder(server.url, timeout_s=0.3, retries=2, backoff_s=0.01,
                           user_agent="catchment-tests/1.0 (test@example.org)", accept_language="en") as g:
        yield g


def test_protocol(geocoder: NominatimGeocoder) -> None:
    assert isinstance(geocoder, Geocoder) and not isinstance(geocoder, Suggester)
    assert geocoder.name == "nominatim"


def test_up_house_exact(geocoder: NominatimGeocoder, server: FakeNominatim) -> None:
    res = geocoder.geocode("135 pilkington avenue, birmingham")
    assert res.precision is Precision.EXACT and res.geocoder == "nominatim"
    assert (res.lon, res.lat) == (float(HOUSE["lon"]), float(HOUSE["lat"]))
    assert res.address == HOUSE["display_name"] and res.address_id == "node/240109189"
    assert res.components["number"] == "135" and res.components["street"] == "Pilkington Avenue"
    assert res.components["locality"] == "Wylde Green" and res.components["postcode"] == "B72 1LH"
    assert res.score == pytest.approx(0.621, abs=1e-3)
    path, qs, headers = server.requests[-1]
    assert path == "/search" and qs["addressdetails"] == "1" and qs["accept-language"] == "en"
    assert headers["User-Agent"] == "catchment-tests/1.0 (test@example.org)"


def test_cache_answers_repeat_queries(geocoder: NominatimGeocoder, server: FakeNominatim) -> None:
    geocoder.geocode("135 pilkington avenue, birmingham")
    n = len(server.requests)
    again = geocoder.geocode("135  Pilkington Avenue, Birmingham")  # same text up to case and spaces
    assert len(server.requests) == n and again.precision is Precision.EXACT


def test_cache_expires_and_evicts() -> None:
    now = [0.0]
    cache = TTLCache(maxsize=2, ttl_s=10.0, clock=lambda: now[0])
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.get("a") == 1  # a is now the most recent
    cache.put("c", 3)  # evicts b, the least recently used
    assert cache.get("b") is None and cache.get("c") == 3
    now[0] = 10.5
    assert cache.get("a") is None and len(cache) == 1


def test_ambiguous_results(geocoder: NominatimGeocoder) -> None:
    with pytest.raises(AmbiguousAddress) as err:
        geocoder.geocode("church street")
    cands = err.value.candidates
    assert [c.components["locality"] for c in cands] == ["Parramatta", "Canterbury", "St Peters"]
    assert all(c.precision is Precision.STREET for c in cands)
    assert len(geocoder.search("church street")) == 3


def test_locality_precision(geocoder: NominatimGeocoder) -> None:
    res = geocoder.geocode("annandale")
    assert res.precision is Precision.LOCALITY and res.explanation["en"] and res.explanation["zh"]


def test_empty_result(geocoder: NominatimGeocoder) -> None:
    with pytest.raises(AddressNotFound):
        geocoder.geocode("nowhere at all")
    assert geocoder.search("nowhere at all") == []


def test_retries_500_then_succeeds(geocoder: NominatimGeocoder, server: FakeNominatim) -> None:
    res = geocoder.geocode("flaky")
    assert res.precision is Precision.EXACT
    assert server.counts["flaky"] == 3  # two 500s, then the answer


def test_persistent_503_is_unavailable(geocoder: NominatimGeocoder, server: FakeNominatim) -> None:
    with pytest.raises(Unavailable) as err:
        geocoder.geocode("always 503")
    assert "HTTP 503" in err.value.message and "3 attempts" in err.value.message
    assert sum(1 for _, qs, _ in server.requests if qs.get("q") == "always 503") == 3


def test_slow_server_times_out(geocoder: NominatimGeocoder) -> None:
    t0 = time.perf_counter()
    with pytest.raises(Unavailable) as err:
        geocoder.geocode("slow")
    assert "no answer within 0.3 s" in err.value.message
    assert time.perf_counter() - t0 < 3.0


def test_server_down() -> None:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # nothing listens on this port now
    with (NominatimGeocoder(f"http://127.0.0.1:{port}", timeout_s=0.3, retries=1, backoff_s=0.01) as g,
          pytest.raises(Unavailable) as err):
        g.geocode("135 pilkington avenue")
    assert "cannot connect" in err.value.message and err.value.where == "geocoder"


def test_refused_and_garbage(geocoder: NominatimGeocoder) -> None:
    with pytest.raises(Unavailable, match="HTTP 403"):
        geocoder.geocode("forbidden")
    with pytest.raises(Unavailable, match="invalid JSON"):
        geocoder.geocode("not json")


def test_bad_input_sends_nothing(geocoder: NominatimGeocoder, server: FakeNominatim) -> None:
    for bad in ("", "x" * 10_000, "a\x00b", "\ufffd\ufffd"):
        with pytest.raises(InvalidInput):
            geocoder.geocode(bad)
    assert server.requests == []


@pytest.mark.parametrize(("item", "want"), [
    ({"place_rank": 30, "type": "house"}, Precision.EXACT),
    ({"place_rank": 30, "category": "amenity", "type": "school"}, Precision.EXACT),
    ({"place_rank": 26, "category": "highway", "type": "residential"}, Precision.STREET),
    ({"place_rank": 27, "category": "highway", "type": "service"}, Precision.STREET),
    ({"place_rank": 20, "category": "place", "type": "suburb"}, Precision.LOCALITY),
    ({"place_rank": 21, "category": "place", "type": "postcode"}, Precision.LOCALITY),
    ({"class": "highway", "type": "primary"}, Precision.STREET),  # format=json has class, no rank
    ({"class": "building", "type": "building"}, Precision.EXACT),
])
def test_precision_mapping(item: dict[str, Any], want: Precision) -> None:
    assert precision_of(item) is want
