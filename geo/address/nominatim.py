"""Remote geocoder: a Nominatim-compatible ``/search`` API (``format=jsonv2``), over httpx.

Configured with a base URL (the public https://nominatim.openstreetmap.org, a self-hosted
Nominatim, or any server that answers Nominatim's jsonv2 search format). Requests carry a
User-Agent (Nominatim's usage policy requires one that names the application), time out,
are retried with exponential backoff on connection errors, timeouts, 429 and 5xx, and
answers are kept in an in-process LRU cache with a time-to-live. When the server cannot be
reached :class:`~geo.errors.Unavailable` says so (the web layer maps it to 503).

Precision from the answer's ``place_rank`` (Nominatim's search rank, 0-30):

* 28-30 (houses, buildings, points of interest), or type/addresstype ``house``/``building``:
  ``exact``. Nominatim also answers numbers it interpolated along OSM address-interpolation
  lines as ``place/house``; the API does not flag them, so they are reported as ``exact``.
* 26-27 (streets; category ``highway``, addresstype ``road``): ``street``.
* below 26 (suburbs, towns, postcodes, regions): ``locality``.

``score`` is Nominatim's ``importance`` (its own 0..1 ranking), not a text-match score.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Mapping, Sequence
from typing import Any, Self

import httpx

from geo.address.geocode import GeocodeResult, Precision, check_address_text, pick_best
from geo.errors import Unavailable

DEFAULT_USER_AGENT = "catchment/0.1 (school catchment lookup; https://github.com/catchment)"
_RETRY_STATUS = frozenset({429, 500, 502, 503, 504})


class TTLCache:
    """A small thread-safe LRU cache whose entries expire ``ttl_s`` seconds after being stored."""

    def __init__(self, *, maxsize: int = 1024, ttl_s: float = 86_400.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._data: OrderedDict[Hashable, tuple[float, Any]] = OrderedDict()
        self._maxsize = maxsize
        self._ttl = ttl_s
        self._clock = clock
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> Any | None:
        """The stored value, or None when absent or expired."""
        with self._lock:
            hit = self._data.get(key)
            if hit is None:
                return None
            if hit[0] <= self._clock():
                del self._data[key]
                return None
            self._data.move_to_end(key)
            return hit[1]

    def put(self, key: Hashable, value: Any) -> None:
        """Store ``value``, evicting the least recently used entry when full."""
        if self._maxsize <= 0:
            return
        with self._lock:
            self._data[key] = (self._clock() + self._ttl, value)
            self._data.move_to_end(key)
            while len(self._data) > self._maxsize:
                self._data.popitem(last=False)

    def __len__(self) -> int:
        return len(self._data)


def precision_of(item: Mapping[str, Any]) -> Precision:
    """Map one Nominatim result (jsonv2, or json with ``class``) to our :class:`Precision`."""
    rank = item.get("place_rank")
    kind = {str(item.get(k) or "") for k in ("type", "addresstype")}
    category = str(item.get("category") or item.get("class") or "")
    if kind & {"house", "building"} or (isinstance(rank, int) and rank >= 28):
        return Precision.EXACT
    if (isinstance(rank, int) and rank >= 26) or category == "highway" or "road" in kind:
        return Precision.STREET
    return Precision.LOCALITY


_COMPONENTS = {
    "number": ("house_number",),
    "street": ("road", "pedestrian", "footway"),
    "locality": ("suburb", "city_district", "town", "village", "city", "county"),
    "postcode": ("postcode",),
    "country_code": ("country_code",),
}


def _components(address: Mapping[str, Any]) -> dict[str, str]:
    out: dict[str, str] = {}
    for ours, theirs in _COMPONENTS.items():
        for key in theirs:
            if address.get(key):
                out[ours] = str(address[key])
                break
    return out


class NominatimGeocoder:
    """Geocoder over a Nominatim-compatible search API.

    Parameters
    ----------
    base_url
        Server root, e.g. ``https://nominatim.openstreetmap.org``; ``search`` is appended.
    timeout_s
        Per-request timeout (connect, read, write, pool).
    retries
        Extra attempts after the first, on connection errors, timeouts, 429 and 5xx.
    backoff_s
        Sleep before retry k (0-based) is ``backoff_s * 2**k``.
    user_agent
        Sent on every request; name your deployment and a contact.
    cache_size, cache_ttl_s
        Answers cached per query text; 0 disables the cache.
    country_codes
        ISO 3166-1 alpha-2 codes to restrict results (``countrycodes``).
    accept_language
        Preferred language of names (``accept-language``), e.g. ``"en"`` or ``"zh-CN"``.
    email
        Contact address sent as ``email`` (asked for by the public server for heavy use).
    limit
        Most results requested per query.
    name
        Geocoder name reported in answers.
    clock
        Time source of the cache (seconds, monotonic).
    """

    def __init__(self, base_url: str, *, timeout_s: float = 5.0, retries: int = 2, backoff_s: float = 0.5,
                 user_agent: str = DEFAULT_USER_AGENT, cache_size: int = 1024, cache_ttl_s: float = 86_400.0,
                 country_codes: Sequence[str] = (), accept_language: str | None = None, email: str | None = None,
                 limit: int = 5, name: str = "nominatim", clock: Callable[[], float] = time.monotonic) -> None:
        self._name = name
        self._base = base_url.rstrip("/") + "/"
        self._timeout = timeout_s
        self._retries = max(0, retries)
        self._backoff = backoff_s
        self._limit = limit
        self._params: dict[str, str] = {"format": "jsonv2", "addressdetails": "1"}
        if country_codes:
            self._params["countrycodes"] = ",".join(c.lower() for c in country_codes)
        if accept_language:
            self._params["accept-language"] = accept_language
        if email:
            self._params["email"] = email
        self._cache = TTLCache(maxsize=cache_size, ttl_s=cache_ttl_s, clock=clock)
        self._client = httpx.Client(base_url=self._base, timeout=httpx.Timeout(timeout_s),
                                    headers={"User-Agent": user_agent, "Accept": "application/json"})

    @property
    def name(self) -> str:
        return self._name

    def close(self) -> None:
        """Close the HTTP connection pool."""
        self._client.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _fetch(self, query: str, limit: int) -> list[dict[str, Any]]:
        params = {**self._params, "q": query, "limit": str(limit)}
        last = ""
        for attempt in range(self._retries + 1):
            if attempt:
                time.sleep(self._backoff * 2 ** (attempt - 1))
            try:
                resp = self._client.get("search", params=params)
            except httpx.TimeoutException:
                last = f"no answer within {self._timeout:g} s"
                continue
            except httpx.TransportError as exc:
                last = f"cannot connect ({type(exc).__name__}: {exc})"
                continue
            if resp.status_code in _RETRY_STATUS:
                last = f"HTTP {resp.status_code}"
                continue
            if resp.status_code != 200:
                msg = f"geocoder at {self._base} refused the request: HTTP {resp.status_code} (地理编码服务拒绝请求)"
                raise Unavailable(msg, where="geocoder")
            try:
                body = resp.json()
            except ValueError as exc:
                msg = f"geocoder at {self._base} answered with invalid JSON: {exc} (地理编码服务返回无效数据)"
                raise Unavailable(msg, where="geocoder") from exc
            if not isinstance(body, list):
                msg = f"geocoder at {self._base} did not answer a Nominatim result list (地理编码服务返回格式错误)"
                raise Unavailable(msg, where="geocoder")
            return [item for item in body if isinstance(item, dict)]
        msg = (f"geocoder at {self._base} is unavailable after {self._retries + 1} attempts: {last}; "
               "try again later (地理编码服务暂时不可用，请稍后再试)")
        raise Unavailable(msg, where="geocoder")

    def _result(self, query: str, item: Mapping[str, Any]) -> GeocodeResult | None:
        try:
            lon, lat = float(item["lon"]), float(item["lat"])
        except (KeyError, TypeError, ValueError):
            return None  # a result without a usable point cannot answer a lookup
        precision = precision_of(item)
        importance = item.get("importance")
        score = min(max(float(importance), 0.0), 1.0) if isinstance(importance, (int, float)) else 0.5
        explanation: dict[str, str] = {}
        if precision is Precision.STREET:
            explanation = {"en": "The geocoder matched the street only: placed at the street's centre.",
                           "zh": "地理编码服务仅匹配到街道：定位于街道中心。"}
        elif precision is Precision.LOCALITY:
            explanation = {"en": "The geocoder matched a locality only: placed at its centre.",
                           "zh": "地理编码服务仅匹配到地区：定位于其中心。"}
        osm = f"{item.get('osm_type', '')}/{item.get('osm_id', '')}".strip("/")
        return GeocodeResult(query=query, address=str(item.get("display_name") or query), lon=lon, lat=lat,
                             precision=precision, score=round(score, 4), geocoder=self._name,
                             address_id=osm or None, components=_components(item.get("address") or {}),
                             explanation=explanation)

    def search(self, text: str, *, limit: int = 5) -> list[GeocodeResult]:
        """Up to ``limit`` answers in the server's order (cached).

        Raises
        ------
        InvalidInput
            Empty, over-long or binary text (checked before any request).
        Unavailable
            The server is down, times out, or answers something that is not Nominatim jsonv2.
        """
        clean = check_address_text(text)
        n = max(1, min(limit, 50))
        key = (" ".join(clean.casefold().split()), n)
        items = self._cache.get(key)
        if items is None:
            items = self._fetch(clean, n)
            self._cache.put(key, items)
        return [r for item in items if (r := self._result(clean, item)) is not None]

    def geocode(self, text: str) -> GeocodeResult:
        """The best answer; raises AddressNotFound, AmbiguousAddress, InvalidInput or Unavailable."""
        clean = check_address_text(text)
        return pick_best(clean, self.search(clean, limit=self._limit))
