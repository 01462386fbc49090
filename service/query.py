"""The query string of ``GET /v1/lookup``, read and checked without FastAPI's per-parameter dependencies.

FastAPI validates each declared query parameter through its dependency machinery, a large part
of a lookup's time. :func:`lookup_query` reads the query string once: plain decimal numbers and
years are taken at once, and anything else (an exponent, ``nan``, a word where a number belongs,
a year out of range) goes through a pydantic model with the route's own parameter types, so a
bad query is refused with exactly the errors FastAPI gives (422 problem+json naming
``query.<name>``, through the same handler in ``service/errors.py``).
"""

from __future__ import annotations

import re
from typing import Annotated, Any
from urllib.parse import parse_qsl

from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field, ValidationError

NAMES = ("lon", "lat", "address", "crs", "level", "grade", "year")
_DECIMAL = re.compile(r"-?\d{1,20}(\.\d{1,30})?")
_YEAR = re.compile(r"\d{4}")
YEAR_MIN, YEAR_MAX = 1900, 2200


class LookupQuery(BaseModel):
    """The parameters' types, as the route declares them (their documentation lives on the route)."""

    lon: float | None = None
    lat: float | None = None
    address: str | None = None
    crs: str | None = None
    level: str | None = None
    grade: str | None = None
    year: Annotated[int | None, Field(ge=YEAR_MIN, le=YEAR_MAX)] = None


def _strict(raw: dict[str, str]) -> dict[str, Any]:
    try:
        return LookupQuery.model_validate(raw).model_dump()
    except ValidationError as exc:
        raise RequestValidationError([{**e, "loc": ("query", *e["loc"])} for e in exc.errors()]) from None


def lookup_query(query_string: bytes) -> dict[str, Any]:
    """The parameters of a lookup from the raw query string (the last of repeated names counts,
    unknown names are ignored, as FastAPI does); RequestValidationError when one is not valid."""
    raw: dict[str, str] = {}
    if query_string:
        text = query_string.decode("latin-1")
        if "%" in text or "+" in text or ";" in text:
            pairs = parse_qsl(text, keep_blank_values=True, encoding="utf-8", errors="replace")
        else:  # nothing to unquote (a plain lon/lat query): the same pairs parse_qsl gives, cheaper
            pairs = [(k, v) for k, _, v in (part.partition("=") for part in text.split("&") if part)]
        for k, v in pairs:
            if k in NAMES:
                raw[k] = v
    out: dict[str, Any] = dict.fromkeys(NAMES)
    for k, v in raw.items():
        if k in ("lon", "lat"):
            if not _DECIMAL.fullmatch(v):
                return _strict(raw)
            out[k] = float(v)
        elif k == "year":
            if not _YEAR.fullmatch(v) or not YEAR_MIN <= int(v) <= YEAR_MAX:
                return _strict(raw)
            out[k] = int(v)
        else:
            out[k] = v
    return out
