"""The lookup's query string read without FastAPI: the same pairs as ``urllib.parse.parse_qsl``."""

from __future__ import annotations

import random
from urllib.parse import parse_qsl

import pytest
from fastapi.exceptions import RequestValidationError

from service.query import lookup_query


def _reference(qs: str) -> dict[str, object]:
    raw = {k: v for k, v in parse_qsl(qs, keep_blank_values=True) if k in ("lon", "lat", "address", "crs", "level", "grade", "year")}
    out: dict[str, object] = dict.fromkeys(("lon", "lat", "address", "crs", "level", "grade", "year"))
    for k, v in raw.items():
        out[k] = float(v) if k in ("lon", "lat") else int(v) if k == "year" else v
        if k == "year" and not 1900 <= int(v) <= 2200:
            raise ValueError(v)
    return out


@pytest.mark.parametrize("qs", ["lon=151.1&lat=-33.7", "lon=1&&lat=2&", "a=b=c&lon=1.5&lat=2", "lon=1&lon=2&lat=3",
                                "lat=2&lon=1&level=primary&grade=K&year=2027", "address=25%20Johnston%20St&lon=1",
                                "address=25+Johnston+St", "crs=EPSG%3A3857&lon=1&lat=2", "", "=x&lon=3&lat=4"])
def test_same_pairs_as_parse_qsl(qs: str) -> None:
    assert lookup_query(qs.encode("latin-1")) == _reference(qs)


def test_random_queries_agree() -> None:
    rng = random.Random(5)
    alphabet = ["lon", "lat", "level", "year", "=", "&", "1", "2.5", "-", "x", "%41", "+", "2026", ""]
    for _ in range(2000):
        qs = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12)))
        try:
            want: object = _reference(qs)
        except ValueError:
            want = ValueError
        try:
            got: object = lookup_query(qs.encode("latin-1"))
        except RequestValidationError:
            got = ValueError
        assert got == want, qs
