"""Address lookups through the API: the offline gazetteer on the real Sydney address points
(data/boundaries/nsw/sydney_addresses.csv, loaded by the sample), type-ahead, and bad input.

Expected answers come from the data files themselves (the CSV's points, a coordinate lookup at
the same point), not from copies of the answers.
"""

from __future__ import annotations

import statistics
import time
from typing import Any

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from geo.distance import geodesic_m
from tests.conftest import DATA

ADDRESSES = DATA / "nsw" / "sydney_addresses.csv"
PROBLEM = "application/problem+json"


@pytest.fixture(scope="module")
def rows() -> pd.DataFrame:
    return pd.read_csv(ADDRESSES, dtype=str, keep_default_na=False)


def _row(rows: pd.DataFrame, number: str, street: str, locality: str) -> pd.Series:
    hit = rows[(rows.number == number) & (rows.street == street) & (rows.locality == locality)]
    assert len(hit) == 1, (number, street, locality)
    return hit.iloc[0]


def _zones(body: dict[str, Any]) -> dict[str, set[int]]:
    return {lv["level"]: {z["zone_id"] for z in lv["zones"]} for lv in body["levels"]}


def _ok(client: TestClient, **params: Any) -> dict[str, Any]:
    r = client.get("/v1/lookup", params=params)
    assert r.status_code == 200, r.text
    return r.json()


def test_exact_address_answers_like_its_point(shared_client: TestClient, rows: pd.DataFrame) -> None:
    row = _row(rows, "25", "Johnston St", "Annandale")
    body = _ok(shared_client, address="25 Johnston St, Annandale NSW 2038")
    g = body["geocode"]
    assert (g["precision"], g["score"], g["geocoder"], g["address_id"]) == ("exact", 1.0, "gazetteer", row.id)
    assert g["address"].startswith("25 Johnston St, Annandale") and g["query"] == "25 Johnston St, Annandale NSW 2038"
    assert (body["lon"], body["lat"]) == (float(row.lon), float(row.lat)) and body["crs"] == "EPSG:4326"
    assert body["input"] == {"address": "25 Johnston St, Annandale NSW 2038"}
    by_point = _ok(shared_client, lon=row.lon, lat=row.lat)
    assert _zones(body) == _zones(by_point) and any(_zones(body).values())
    assert body["explanation"]["en"].startswith("Address matched: 25 Johnston St, Annandale")
    assert "exact match" in body["explanation"]["en"] and "精确匹配" in body["explanation"]["zh"]
    # The rest of the sentence is the coordinate lookup's.
    assert body["explanation"]["en"].endswith(by_point["explanation"]["en"])


@pytest.mark.parametrize(("text", "why"), [
    ("25 JOHNSTON STREET ANNANDALE", "case and St/Street"),
    ("25 Jonston St, Annandale", "typo"),
    ("25, Johnston St., (Annandale).", "punctuation"),
    ("２５ Johnston St Annandale", "full-width digits"),
])
def test_normalised_and_typo_tolerant(shared_client: TestClient, rows: pd.DataFrame, text: str, why: str) -> None:
    row = _row(rows, "25", "Johnston St", "Annandale")
    g = _ok(shared_client, address=text)["geocode"]
    assert g["address_id"] == row.id and g["precision"] == "exact", why
    assert 0.8 <= g["score"] <= 1.0


def test_abbreviations_both_ways(shared_client: TestClient, rows: pd.DataFrame) -> None:
    road = _row(rows, "350", "Great North Rd", "Abbotsford")
    assert _ok(shared_client, address="350 Great North Road, Abbotsford")["geocode"]["address_id"] == road.id
    avenue = rows[(rows.street.str.endswith(" Avenue")) & (rows.number != "")].iloc[0]
    text = f"{avenue.number} {avenue.street.removesuffix(' Avenue')} Ave {avenue.locality}"
    assert _ok(shared_client, address=text)["geocode"]["address_id"] == avenue.id


def test_number_not_in_gazetteer_is_interpolated(shared_client: TestClient, rows: pd.DataFrame) -> None:
    a, b = _row(rows, "25", "Johnston St", "Annandale"), _row(rows, "206", "Johnston St", "Annandale")
    body = _ok(shared_client, address="115 Johnston St, Annandale")
    g = body["geocode"]
    assert g["precision"] == "interpolated" and g["score"] < 1.0 and g["address_id"] is None
    lon, lat = body["lon"], body["lat"]
    assert min(float(a.lon), float(b.lon)) < lon < max(float(a.lon), float(b.lon))
    assert min(float(a.lat), float(b.lat)) < lat < max(float(a.lat), float(b.lat))
    assert geodesic_m(lon, lat, float(a.lon), float(a.lat)) > 50 and geodesic_m(lon, lat, float(b.lon), float(b.lat)) > 50
    assert "between" in g["explanation"]["en"] and "插值" in g["explanation"]["zh"]
    assert "interpolated" in body["explanation"]["en"] and "插值" in body["explanation"]["zh"]


def test_street_and_locality_precision_warn_in_the_sentence(shared_client: TestClient) -> None:
    street = _ok(shared_client, address="Johnston St, Annandale")
    assert street["geocode"]["precision"] == "street"
    locality = _ok(shared_client, address="Annandale")
    assert locality["geocode"]["precision"] == "locality"
    for body in (street, locality):
        assert "approximate" in body["explanation"]["en"] and "近似" in body["explanation"]["zh"]


def test_no_match_is_a_clear_404(shared_client: TestClient) -> None:
    r = shared_client.get("/v1/lookup", params={"address": "1 Qwxzv Boulevard, Nowhereville"})
    assert r.status_code == 404 and r.headers["content-type"] == PROBLEM
    body = r.json()
    assert body["where"] == "address" and "no address matches" in body["detail"] and "找不到" in body["detail"]


def test_ambiguous_returns_the_candidates(shared_client: TestClient, rows: pd.DataFrame) -> None:
    # A street name that several suburbs of the file share, asked without a suburb.
    counts = rows[rows.street != ""].groupby("street").locality.nunique()
    street = next(s for s, n in counts.sort_values(ascending=False).items() if n >= 3 and " " in s)
    r = shared_client.get("/v1/lookup", params={"address": street})
    assert r.status_code == 409 and r.headers["content-type"] == PROBLEM, r.text
    body = r.json()
    cands = body["candidates"]
    assert len(cands) >= 2 and body["where"] == "address" and "地址不明确" in body["detail"]
    places = set(rows[rows.street == street].locality)
    assert all(c["components"]["locality"] in places for c in cands)
    assert len({(c["lon"], c["lat"]) for c in cands}) == len(cands)
    assert {"address", "lon", "lat", "precision", "score", "geocoder"} <= set(cands[0])
    # Naming the suburb settles it.
    one = cands[0]["components"]["locality"]
    assert _ok(shared_client, address=f"{street}, {one}")["geocode"]["components"]["locality"] == one


def test_geocode_endpoint(shared_client: TestClient, rows: pd.DataFrame) -> None:
    row = _row(rows, "350", "Great North Rd", "Abbotsford")
    r = shared_client.get("/v1/addresses/geocode", params={"address": "350 great north rd abbotsford"})
    assert r.status_code == 200 and r.json()["address_id"] == row.id
    assert (r.json()["lon"], r.json()["lat"]) == (float(row.lon), float(row.lat))


@pytest.mark.parametrize("params", [
    {"address": ""},
    {"address": "   "},
    {"address": "1 Main St " * 1024},  # about 10 kB
    {"address": "12 Main\x00 St"},
    {"address": "12 Main\x07 St"},
    {"address": "\ufffd\ufffd\ufffd"},
    {"address": "!!! ??? ..."},
    {"address": "25 Johnston St", "lon": 151.2, "lat": -33.9},
    {"lon": 151.2},
    {},
])
def test_bad_input_is_422_problem(shared_client: TestClient, params: dict[str, Any]) -> None:
    r = shared_client.get("/v1/lookup", params=params)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == PROBLEM and r.json()["where"]


def test_raw_binary_bytes_in_the_query_are_422(shared_client: TestClient) -> None:
    for query in ("address=%FF%FE%00%01", "address=%C3%28abc", "q=%FF%FE"):
        path = "/v1/addresses/suggest" if query.startswith("q=") else "/v1/lookup"
        r = shared_client.get(f"{path}?{query}")
        assert r.status_code == 422 and r.headers["content-type"] == PROBLEM, (query, r.text)


def test_suggest_top_10(shared_client: TestClient, rows: pd.DataFrame) -> None:
    r = shared_client.get("/v1/addresses/suggest", params={"q": "great western h"})
    assert r.status_code == 200
    body = r.json()
    assert body["geocoder"] == "gazetteer" and body["addresses"] == len(rows)
    got = body["suggestions"]
    want = set(rows[rows.street == "Great Western Hwy"].id)
    assert 1 <= len(got) <= 10 and {s["address_id"] for s in got} <= want | set(rows.id)
    assert want & {s["address_id"] for s in got}
    assert all("Great Western" in s["address"] for s in got)
    many = shared_client.get("/v1/addresses/suggest", params={"q": "1"}).json()["suggestions"]
    assert len(many) == 10
    assert len(shared_client.get("/v1/addresses/suggest", params={"q": "st", "limit": 3}).json()["suggestions"]) <= 3
    for bad in ({"q": ""}, {"q": "x" * 5000}, {"q": "st", "limit": 11}, {}):
        r = shared_client.get("/v1/addresses/suggest", params=bad)
        assert r.status_code == 422 and r.headers["content-type"] == PROBLEM


def test_suggest_is_fast(shared_client: TestClient, rows: pd.DataFrame) -> None:
    """Median request time (in-process HTTP included) over 50 real partial addresses < 20 ms."""
    sample = rows[rows.number != ""].sample(50, random_state=3)
    prefixes = [f"{r.number} {r.street}"[: max(4, len(f'{r.number} {r.street}') * 2 // 3)] for r in sample.itertuples()]
    shared_client.get("/v1/addresses/suggest", params={"q": prefixes[0]})  # warm up
    times, found = [], 0
    for p, rid in zip(prefixes, sample.id, strict=True):
        t0 = time.perf_counter()
        r = shared_client.get("/v1/addresses/suggest", params={"q": p})
        times.append(time.perf_counter() - t0)
        assert r.status_code == 200
        found += rid in {s["address_id"] for s in r.json()["suggestions"]}
    assert statistics.median(times) < 0.020, statistics.median(times)
    assert found >= 40, found  # the address being typed is among the suggestions nearly always
