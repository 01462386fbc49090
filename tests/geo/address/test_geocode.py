"""geo.address.geocode: input checks and the choice between close candidates."""

from __future__ import annotations

import pytest

from geo.address.geocode import GeocodeResult, Precision, check_address_text, pick_best
from geo.errors import AddressNotFound, AmbiguousAddress, InvalidInput
from service.errors import candidate_body


def _r(address: str, lon: float, lat: float, score: float, precision: Precision = Precision.STREET) -> GeocodeResult:
    return GeocodeResult(query="q", address=address, lon=lon, lat=lat, precision=precision, score=score, geocoder="t")


def test_check_address_text_cleans_whitespace() -> None:
    assert check_address_text("  12\tSmith St\n Glebe ") == "12 Smith St Glebe"
    assert check_address_text("上海市 徐汇区") == "上海市 徐汇区"


@pytest.mark.parametrize("bad", [None, 12, b"abc", "", " \t ", "a" * 301, "\x1b[31mred", "x\u200e\ue000", "···"])
def test_check_address_text_refuses(bad: object) -> None:
    with pytest.raises(InvalidInput) as err:
        check_address_text(bad)
    assert err.value.where == "address"


def test_pick_best_clear_winner_and_empty() -> None:
    a, b = _r("A", 151.0, -33.0, 0.99), _r("B", 151.1, -33.1, 0.80)
    assert pick_best("q", [b, a]) is a
    with pytest.raises(AddressNotFound):
        pick_best("q", [])


def test_pick_best_close_scores_far_apart_is_ambiguous() -> None:
    a, b = _r("A", 151.0, -33.0, 0.99), _r("B", 151.1, -33.1, 0.96)
    with pytest.raises(AmbiguousAddress) as err:
        pick_best("q", [b, a])
    assert [c.address for c in err.value.candidates] == ["A", "B"]
    # The 409 body is built by the web layer from the candidates (geo/errors.py knows no wire format).
    body = [candidate_body(c) for c in err.value.candidates]
    assert [(c["address"], c["precision"], c["score"]) for c in body] == [("A", "street", 0.99), ("B", "street", 0.96)]


def test_pick_best_close_scores_same_place_is_not_ambiguous() -> None:
    # 0.0001 deg of latitude is about 11 m: the same place, whichever record answers.
    a, b = _r("A", 151.0, -33.0, 0.99, Precision.EXACT), _r("B", 151.0, -33.0001, 0.99)
    assert pick_best("q", [b, a]) is a  # equal score: the more precise wins
