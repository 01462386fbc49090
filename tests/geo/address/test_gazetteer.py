"""geo.address.gazetteer on the real Sydney address sample (data/boundaries/nsw/sydney_addresses.csv).

The sample is 955 real address points (NSW government schools' published street addresses);
expected answers are computed from the file itself, never typed in.
"""

from __future__ import annotations

import csv
import random
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest

from geo.address.gazetteer import Gazetteer
from geo.address.geocode import Geocoder, Precision, Suggester, records_from_rows
from geo.address.parse import normalise, parse_house_number
from geo.distance import geodesic_m
from geo.errors import AddressNotFound, AmbiguousAddress, InvalidInput

CSV = Path(__file__).resolve().parents[3] / "data" / "boundaries" / "nsw" / "sydney_addresses.csv"


@pytest.fixture(scope="module")
def rows() -> list[dict[str, str]]:
    with CSV.open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def gaz(rows: list[dict[str, str]]) -> Gazetteer:
    return Gazetteer(records_from_rows(rows))


def _street_rows(rows: list[dict[str, str]]) -> dict[tuple[str, str], list[dict[str, str]]]:
    out: dict[tuple[str, str], list[dict[str, str]]] = defaultdict(list)
    for r in rows:
        if r["street"]:
            out[(normalise(r["street"]), normalise(r["locality"]))].append(r)
    return out


def test_protocols_and_size(gaz: Gazetteer, rows: list[dict[str, str]]) -> None:
    assert isinstance(gaz, Geocoder) and isinstance(gaz, Suggester)
    assert len(gaz) == len(rows) == 955


def test_every_numbered_address_is_found_exactly(gaz: Gazetteer, rows: list[dict[str, str]]) -> None:
    by_address: dict[tuple[str, str, str], set[str]] = defaultdict(set)
    for r in rows:
        by_address[(r["number"], normalise(r["street"]), normalise(r["locality"]))].add(r["id"])
    checked = 0
    for r in rows:
        if not (r["number"] and r["street"]):
            continue
        res = gaz.geocode(f"{r['number']} {r['street']}, {r['locality']} {r['postcode']}")
        assert res.precision is Precision.EXACT, r
        assert res.address_id in by_address[(r["number"], normalise(r["street"]), normalise(r["locality"]))]
        assert res.score == 1.0 and res.geocoder == "gazetteer" and not res.explanation
        checked += 1
    assert checked > 350


def test_abbreviations_case_and_punctuation(gaz: Gazetteer) -> None:
    a = gaz.geocode("350 Great North Rd, Abbotsford NSW 2046")
    for text in ("350 GREAT NORTH ROAD ABBOTSFORD", "350 great north rd. abbotsford", "Unit 2/350 Great North Road"):
        b = gaz.geocode(text)
        assert (b.address_id, b.precision) == (a.address_id, Precision.EXACT)


def test_range_number_covers_its_numbers(gaz: Gazetteer, rows: list[dict[str, str]]) -> None:
    ranged = [r for r in rows if "-" in r["number"] and r["street"]]
    assert ranged
    for r in ranged:
        n = parse_house_number(r["number"])
        assert n is not None
        res = gaz.geocode(f"{n.first + 2} {r['street']} {r['locality']}")
        assert res.precision is Precision.EXACT and res.address_id == r["id"]


def test_interpolated_same_side(gaz: Gazetteer, rows: list[dict[str, str]]) -> None:
    """Streets with two known numbers of one parity: a number between them lands between them."""
    tested = 0
    for members in _street_rows(rows).values():
        parsed = [(parse_house_number(r["number"]), r) for r in members if r["number"] and "-" not in r["number"]]
        nums = sorted(((n, r) for n, r in parsed if n is not None and not n.suffix), key=lambda nr: nr[0].first)
        if len(nums) != 2 or (nums[0][0].first - nums[1][0].first) % 2 or nums[1][0].first - nums[0][0].first < 4:
            continue
        (lo, a), (hi, b) = nums
        target = lo.first + 2
        res = gaz.geocode(f"{target} {a['street']} {a['locality']}")
        assert res.precision is Precision.INTERPOLATED
        t = (target - lo.first) / (hi.first - lo.first)
        want = (float(a["lon"]) + t * (float(b["lon"]) - float(a["lon"])),
                float(a["lat"]) + t * (float(b["lat"]) - float(a["lat"])))
        assert geodesic_m(res.lon, res.lat, *want) < 0.01
        assert str(lo.first) in res.explanation["en"] and str(hi.first) in res.explanation["en"]
        assert res.explanation["zh"] and 0 < res.score < 1
        tested += 1
    assert tested >= 3  # e.g. Allambie Road 165/189, Walters Road 158/166, North Rocks Road 547/549


def test_interpolated_across_sides_and_beyond_the_ends(gaz: Gazetteer, rows: list[dict[str, str]]) -> None:
    members = _street_rows(rows)[("johnston street", "annandale")]
    known = {int(r["number"]): r for r in members}
    assert sorted(known) == [25, 206]
    res = gaz.geocode("100 Johnston Street, Annandale")
    # 100 is even and only 206 is even: no same-side pair, so it is placed between 25 and 206.
    t = (100 - 25) / (206 - 25)
    a, b = known[25], known[206]
    want = (float(a["lon"]) + t * (float(b["lon"]) - float(a["lon"])), float(a["lat"]) + t * (float(b["lat"]) - float(a["lat"])))
    assert res.precision is Precision.INTERPOLATED and geodesic_m(res.lon, res.lat, *want) < 0.01
    far = gaz.geocode("9999 Johnston Street, Annandale")
    assert far.precision is Precision.INTERPOLATED
    assert (far.lon, far.lat) == (float(b["lon"]), float(b["lat"]))
    assert "206" in far.explanation["en"] and "nearest" in far.explanation["en"]


def test_street_only_is_the_street_centroid(gaz: Gazetteer, rows: list[dict[str, str]]) -> None:
    members = _street_rows(rows)[("johnston street", "annandale")]
    res = gaz.geocode("Johnston St Annandale")
    assert res.precision is Precision.STREET
    assert res.lon == pytest.approx(np.mean([float(r["lon"]) for r in members]))
    assert res.lat == pytest.approx(np.mean([float(r["lat"]) for r in members]))
    assert "house number" in res.explanation["en"].lower() and res.explanation["zh"]


def test_locality_only(gaz: Gazetteer, rows: list[dict[str, str]]) -> None:
    members = [r for r in rows if r["locality"] == "Annandale"]
    for text in ("Annandale", "annandale nsw", members[0]["postcode"]):
        res = gaz.geocode(text)
        assert res.precision is Precision.LOCALITY
        in_postcode = [r for r in rows if r["postcode"] == members[0]["postcode"]]
        ref = members if text != members[0]["postcode"] else in_postcode
        assert res.lon == pytest.approx(np.mean([float(r["lon"]) for r in ref]))
    missing = gaz.geocode("12 Nowhere Street, Annandale")
    assert missing.precision is Precision.LOCALITY and "not found" in missing.explanation["en"]
    assert missing.score <= 0.5


def test_typo_tolerance(gaz: Gazetteer, rows: list[dict[str, str]]) -> None:
    """One random edit (drop, swap, replace a letter) in the street name of 200 real addresses."""
    rng = random.Random(4)
    streets = _street_rows(rows)
    sample = rng.sample([r for r in rows if r["street"] and len(r["street"]) > 8], 200)
    right = 0
    for r in sample:
        name = r["street"]
        i = rng.randrange(1, len(name.split()[0]))  # inside the first word, keep the street type readable
        op = rng.choice(["drop", "swap", "replace"])
        typo = (name[:i] + name[i + 1:] if op == "drop" else
                name[:i - 1] + name[i] + name[i - 1] + name[i + 1:] if op == "swap" else
                name[:i] + rng.choice("aeiourst") + name[i + 1:])
        try:
            res = gaz.geocode(f"{r['number']} {typo} {r['locality']}".strip())
        except (AmbiguousAddress, AddressNotFound):
            continue
        key = (normalise(r["street"]), normalise(r["locality"]))
        ids = {m["id"] for m in streets[key]}
        if res.address_id in ids or (res.precision is not Precision.EXACT
                                     and geodesic_m(res.lon, res.lat, float(r["lon"]), float(r["lat"])) < 3000):
            right += 1
    assert right / len(sample) >= 0.9, right


def test_ambiguous_street_returns_candidates(gaz: Gazetteer, rows: list[dict[str, str]]) -> None:
    localities = {r["locality"] for r in rows if normalise(r["street"]) == "church street"}
    assert len(localities) >= 2
    with pytest.raises(AmbiguousAddress) as err:
        gaz.geocode("Church Street")
    cands = err.value.candidates
    assert {c.components["locality"] for c in cands} == localities
    assert all(c.precision is Precision.STREET for c in cands)
    one = min(localities)
    res = gaz.geocode(f"Church St, {one}")
    assert res.components["locality"] == one


def test_search_lists_best_first(gaz: Gazetteer) -> None:
    found = gaz.search("Church Street", limit=3)
    assert len(found) == 3 and [r.score for r in found] == sorted((r.score for r in found), reverse=True)


def test_no_match(gaz: Gazetteer) -> None:
    with pytest.raises(AddressNotFound):
        gaz.geocode("Qwxyz Blorpf Vvv")
    assert gaz.search("Qwxyz Blorpf Vvv") == []


@pytest.mark.parametrize("bad", ["", "   ", "x" * 10_000, "12 Smith\x00 St", "\x89PNG\r\n\x1a\n\x00\x00", "abc\ufffd",
                                 "!!!", "12 Smith\x07St", b"12 Smith St"])
def test_bad_input(gaz: Gazetteer, bad: object) -> None:
    with pytest.raises(InvalidInput):
        gaz.geocode(bad)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput):
        gaz.suggest(bad)  # type: ignore[arg-type]


def test_ten_kilobytes_of_real_looking_text_is_refused(gaz: Gazetteer) -> None:
    with pytest.raises(InvalidInput) as err:
        gaz.geocode("350 Great North Rd Abbotsford " * 400)
    assert "characters" in err.value.message and err.value.where == "address"


def test_suggest(gaz: Gazetteer, rows: list[dict[str, str]]) -> None:
    top = gaz.suggest("350 gre")
    assert top and top[0].address.startswith("350 Great North")
    streets = gaz.suggest("johnston st ann")
    assert {s.address_id for s in streets} == {r["id"] for r in rows if r["street"] == "Johnston St" and r["locality"] == "Annandale"}
    many = gaz.suggest("church")
    assert 4 <= len(many) <= 10 and all("church" in s.address.lower() for s in many)
    assert len(gaz.suggest("1", limit=10)) == 10
    assert gaz.suggest("unit 4/350 great nor")[0].address_id == top[0].address_id
    assert [s.address_id for s in gaz.suggest("abbotsford")] == [r["id"] for r in rows if r["locality"] == "Abbotsford"]
    assert gaz.suggest("zzzzqqq") == []


def test_suggest_while_typing_an_abbreviation(gaz: Gazetteer, rows: list[dict[str, str]]) -> None:
    # "Hw" is the start of "Hwy": the highway's addresses come back.
    want = [r["id"] for r in rows if r["number"] == "218" and r["street"] == "Pacific Highway"]
    got = gaz.suggest("218 Pacific Hw")
    assert want and [s.address_id for s in got][: len(want)] == want
    # "St" after a street type starts a suburb ("St Peters"), not another "Street".
    st_peters = {r["id"] for r in rows if r["street"] == "Church St" and r["locality"] == "St Peters"}
    assert st_peters and {s.address_id for s in gaz.suggest("church st st")} >= st_peters


def test_records_from_rows_maps_columns_and_crs(rows: list[dict[str, str]]) -> None:
    from geo.crs import from_wgs84

    r = rows[0]
    x, y = from_wgs84(float(r["lon"]), float(r["lat"]), "EPSG:3857")
    mapped = records_from_rows([{"Street": f"{r['number']} {r['street']}", "Suburb": r["locality"],
                                 "X": float(x), "Y": float(y), "Code": r["id"]}],
                               columns={"text": "Street", "id": "Code"}, crs="EPSG:3857")
    assert mapped[0].id == r["id"] and mapped[0].locality == r["locality"]
    assert geodesic_m(mapped[0].lon, mapped[0].lat, float(r["lon"]), float(r["lat"])) < 0.001
    with pytest.raises(InvalidInput) as err:
        records_from_rows([{"street": "A St", "lon": "x", "lat": "1"}])
    assert err.value.where == "row 1"
    with pytest.raises(InvalidInput):
        records_from_rows([{"lon": 151.0, "lat": -33.0}])
