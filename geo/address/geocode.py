"""Geocoding protocol and answers: free address text -> a point with a precision and a source.

Two geocoders implement :class:`Geocoder`: the offline :class:`geo.address.gazetteer.Gazetteer`
(the default, built from imported address points) and :class:`geo.address.nominatim.NominatimGeocoder`
(a remote Nominatim-compatible server). Only the gazetteer offers type-ahead
(:class:`Suggester`): Nominatim's usage policy forbids autocomplete against its API.

Every answer is a :class:`GeocodeResult` in EPSG:4326 (lon, lat). Errors are domain errors:
:class:`~geo.errors.InvalidInput` (empty, too long, binary text), :class:`~geo.errors.AddressNotFound`,
:class:`~geo.errors.AmbiguousAddress` (carries the candidates) and
:class:`~geo.errors.Unavailable` (remote geocoder down).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol, runtime_checkable

import numpy as np

from geo.address.columns import COLUMN_ALIASES
from geo.crs import to_wgs84
from geo.distance import geodesic_m
from geo.errors import AddressNotFound, AmbiguousAddress, InvalidInput

#: Longest address text accepted; real addresses are far shorter, and matching cost grows with length.
MAX_ADDRESS_CHARS = 300
#: Two answers whose scores differ by at most this much are "about as good".
AMBIGUITY_MARGIN = 0.05
#: Answers closer than this (metres) are the same place, not an ambiguity.
SAME_PLACE_M = 25.0


class Precision(StrEnum):
    """How exactly a geocoded point stands for the address, best first."""

    EXACT = "exact"  # the address point itself (or a range that covers the number)
    INTERPOLATED = "interpolated"  # placed on its street between the nearest known numbers
    STREET = "street"  # the street (centroid of its known points); no usable number
    LOCALITY = "locality"  # the suburb / town / district (centroid); no street matched


@dataclass(frozen=True, slots=True)
class GeocodeResult:
    """One geocoding answer; ``lon``/``lat`` are EPSG:4326.

    ``score`` is in 0..1 (1 = the text matched exactly). ``explanation`` says, in English
    (``"en"``) and Chinese (``"zh"``), how a non-exact point was placed; empty when exact.
    """

    query: str
    address: str
    lon: float
    lat: float
    precision: Precision
    score: float
    geocoder: str
    address_id: str | None = None
    components: Mapping[str, str] = field(default_factory=dict)
    explanation: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Suggestion:
    """One type-ahead entry: a gazetteer address and its EPSG:4326 point."""

    address: str
    address_id: str
    lon: float
    lat: float


@dataclass(frozen=True, slots=True)
class AddressRecord:
    """An address point to load into a gazetteer; ``lon``/``lat`` are EPSG:4326.

    Give either ``text`` (the full address, parsed on load) or the parts ``number``,
    ``street``, ``locality`` and ``postcode``. ``number`` may be a range ("93-107").
    """

    id: str
    lon: float
    lat: float
    text: str | None = None
    number: str | None = None
    street: str | None = None
    locality: str | None = None
    postcode: str | None = None


@runtime_checkable
class Geocoder(Protocol):
    """Turns address text into a point. Implementations: Gazetteer, NominatimGeocoder."""

    @property
    def name(self) -> str:
        """Short name reported in every answer (``"gazetteer"``, ``"nominatim"``)."""
        ...

    def geocode(self, text: str) -> GeocodeResult:
        """Best answer; raises AddressNotFound, AmbiguousAddress, InvalidInput or Unavailable."""
        ...

    def search(self, text: str, *, limit: int = 5) -> list[GeocodeResult]:
        """Up to ``limit`` answers, best first (empty when nothing matches)."""
        ...


@runtime_checkable
class Suggester(Protocol):
    """Type-ahead over known addresses."""

    def suggest(self, prefix: str, *, limit: int = 10) -> list[Suggestion]:
        """Up to ``limit`` addresses that start with, or contain the words of, ``prefix``."""
        ...


def check_address_text(text: object, *, where: str = "address", max_chars: int = MAX_ADDRESS_CHARS) -> str:
    """Validate address text from a user and return it with whitespace collapsed.

    Parameters
    ----------
    text
        What the caller sent; must be ``str``.
    where
        Field name reported in the error.
    max_chars
        Longest accepted text.

    Raises
    ------
    InvalidInput
        Not text, empty, longer than ``max_chars``, containing control characters, NUL,
        U+FFFD (bytes that were not valid UTF-8), private-use or unassigned code points, or
        no letter or digit at all.
    """
    if not isinstance(text, str):
        msg = f"address must be text, not {type(text).__name__} (地址必须是文本)"
        raise InvalidInput(msg, where=where)
    if len(text) > max_chars:
        msg = f"address is {len(text)} characters long; at most {max_chars} are accepted (地址过长)"
        raise InvalidInput(msg, where=where)
    for i, ch in enumerate(text):
        cat = unicodedata.category(ch)
        if ch in "\t\n\r":
            continue
        if cat in {"Cc", "Cs", "Co", "Cn"} or ch == "\ufffd":
            msg = (f"address contains a control or binary character U+{ord(ch):04X} at position {i}; "
                   "send plain UTF-8 text (地址含有控制字符或二进制数据)")
            raise InvalidInput(msg, where=where)
    clean = " ".join(text.split())
    if not clean:
        msg = "address is empty (地址为空)"
        raise InvalidInput(msg, where=where)
    if not any(ch.isalnum() for ch in clean):
        msg = f"address {clean!r} has no letters or digits (地址中没有文字或数字)"
        raise InvalidInput(msg, where=where)
    return clean


def pick_best(query: str, results: Sequence[GeocodeResult], *, margin: float = AMBIGUITY_MARGIN,
              same_place_m: float = SAME_PLACE_M) -> GeocodeResult:
    """Choose the answer from scored candidates, or refuse to guess.

    Parameters
    ----------
    query
        The text asked, for messages.
    results
        Candidates in any order.
    margin
        Candidates scoring within ``margin`` of the best compete with it.
    same_place_m
        Competitors closer than this to the best are the same place and do not count.

    Raises
    ------
    AddressNotFound
        ``results`` is empty.
    AmbiguousAddress
        Another competitor lies elsewhere; ``candidates`` holds every competitor, best first.
    """
    if not results:
        msg = f"no address matches {query!r} (找不到该地址)"
        raise AddressNotFound(msg, where="address")
    ranked = sorted(results, key=lambda r: (-r.score, list(Precision).index(r.precision), r.address))
    best = ranked[0]
    close = [r for r in ranked if best.score - r.score <= margin]
    if len(close) > 1:
        lon = np.array([r.lon for r in close])
        lat = np.array([r.lat for r in close])
        far = geodesic_m(best.lon, best.lat, lon, lat) > same_place_m
        if far.any():
            names = "; ".join(r.address for r in close[:5])
            msg = f"{query!r} matches {len(close)} places: {names} (地址不明确，请选择其一)"
            raise AmbiguousAddress(msg, candidates=tuple(close), where="address")
    return best


_COLUMN_ALIASES = COLUMN_ALIASES


def _pick(row: Mapping[str, Any], lower: Mapping[str, Any], field_name: str, columns: Mapping[str, str]) -> Any:
    if field_name in columns:
        return row.get(columns[field_name])
    for alias in _COLUMN_ALIASES[field_name]:
        if alias in lower:
            return lower[alias]
    return None


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # a postcode read as 2046.0
    s = " ".join(str(value).split())
    if not s or s.lower() in {"nan", "none", "null"}:
        return None
    return s


def records_from_rows(rows: Iterable[Mapping[str, Any]], *, columns: Mapping[str, str] | None = None,
                      crs: str = "EPSG:4326") -> list[AddressRecord]:
    """Map table rows (CSV dicts, GeoJSON properties plus lon/lat) to :class:`AddressRecord` s.

    Parameters
    ----------
    rows
        One mapping per address.
    columns
        Our field name -> the row's column name, for fields whose column is not one of the
        usual names (``id``, ``number``/``house_number``, ``street``, ``locality``/``suburb``,
        ``postcode``, ``text``/``address``, ``lon``/``longitude``/``x``, ``lat``/``latitude``/``y``).
    crs
        CRS of the coordinates (see :func:`geo.crs.parse_crs`); converted to EPSG:4326 in bulk.

    Raises
    ------
    InvalidInput
        A row without coordinates, without any address text, or with bad coordinates;
        ``where`` names the row (1-based).
    """
    cols = dict(columns or {})
    parts: list[dict[str, str | None]] = []
    xs: list[float] = []
    ys: list[float] = []
    for i, row in enumerate(rows, start=1):
        lower = {str(k).lower(): v for k, v in row.items()}
        try:
            x = float(_pick(row, lower, "lon", cols))
            y = float(_pick(row, lower, "lat", cols))
        except (TypeError, ValueError) as exc:
            msg = f"row {i}: lon/lat missing or not numbers"
            raise InvalidInput(msg, where=f"row {i}") from exc
        p = {k: _text(_pick(row, lower, k, cols)) for k in ("id", "text", "number", "street", "locality", "postcode")}
        if not (p["text"] or p["street"] or p["locality"]):
            msg = f"row {i}: no address text, street or locality"
            raise InvalidInput(msg, where=f"row {i}")
        p["id"] = p["id"] or str(i)
        parts.append(p)
        xs.append(x)
        ys.append(y)
    if not parts:
        return []
    try:
        lon, lat = to_wgs84(np.array(xs), np.array(ys), crs)
    except InvalidInput as exc:
        msg = f"address coordinates: {exc.message}"
        raise InvalidInput(msg, where=exc.where) from exc
    return [AddressRecord(id=str(p["id"]), lon=float(lo), lat=float(la), text=p["text"], number=p["number"],
                          street=p["street"], locality=p["locality"], postcode=p["postcode"])
            for p, lo, la in zip(parts, lon, lat, strict=True)]
