"""Naming a CRS: the accepted names and EPSG codes, the cached pyproj transformers, and array input.
"""


from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache

import numpy as np
from numpy.typing import ArrayLike, NDArray
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError

from geo.errors import InvalidInput

FloatArray = NDArray[np.float64]
_Forward = Callable[[FloatArray, FloatArray], tuple[FloatArray, FloatArray]]

WGS84, GCJ02, BD09 = "wgs84", "gcj02", "bd09"

_ALIASES = {
    "wgs84": WGS84, "wgs-84": WGS84, "wgs 84": WGS84, "epsg:4326": WGS84, "crs84": WGS84, "ogc:crs84": WGS84,
    "urn:ogc:def:crs:ogc:1.3:crs84": WGS84, "gcj02": GCJ02, "gcj-02": GCJ02, "gcj": GCJ02, "mars": GCJ02,
    "bd09": BD09, "bd-09": BD09, "bd09ll": BD09, "baidu": BD09,
}
_EPSG = re.compile(r"^epsg:(\d{4,6})$")

# Krasovsky 1940 ellipsoid, as used by the GCJ-02 formula.
def parse_crs(crs: str) -> str:
    """Return the canonical name of ``crs`` ("wgs84", "gcj02", "bd09" or "EPSG:<code>").

    Raises
    ------
    InvalidInput
        Unknown names, Baidu Mercator and EPSG codes pyproj does not know (``where="crs"``).
    """
    if not isinstance(crs, str) or not crs.strip():
        msg = "crs must be a name such as EPSG:4326, gcj02 or bd09"
        raise InvalidInput(msg, where="crs")
    key = crs.strip().lower()
    if key in _ALIASES:
        return _ALIASES[key]
    if key == "bd09mc":
        msg = "crs bd09mc (Baidu Mercator metres) is not supported; send Baidu lon/lat as crs=bd09"
        raise InvalidInput(msg, where="crs")
    m = _EPSG.match(key)
    if m is None:
        msg = f"unknown crs {crs!r}; use EPSG:<code>, wgs84, gcj02 or bd09"
        raise InvalidInput(msg, where="crs")
    code = f"EPSG:{m.group(1)}"
    _transformer(code)  # validates the code once; cached
    return code


@lru_cache(maxsize=64)
def _transformer(code: str) -> tuple[Transformer, Transformer]:
    try:
        src = CRS.from_user_input(code)
    except CRSError as exc:
        msg = f"unknown crs {code!r}: {exc}"
        raise InvalidInput(msg, where="crs") from exc
    return (Transformer.from_crs(src, "EPSG:4326", always_xy=True),
            Transformer.from_crs("EPSG:4326", src, always_xy=True))


def _arrays(x: ArrayLike, y: ArrayLike) -> tuple[FloatArray, FloatArray]:
    try:
        a, b = np.broadcast_arrays(np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64))
    except (TypeError, ValueError) as exc:
        msg = f"coordinates must be numbers of matching shape: {exc}"
        raise InvalidInput(msg, where="coordinates") from exc
    if not (np.isfinite(a).all() and np.isfinite(b).all()):
        msg = "coordinates must be finite numbers"
        raise InvalidInput(msg, where="coordinates")
    return a.astype(np.float64, copy=True), b.astype(np.float64, copy=True)


def _check_lon_lat(lon: FloatArray, lat: FloatArray, *, what: str) -> None:
    if (np.abs(lon) > 180.0).any() or (np.abs(lat) > 90.0).any():
        msg = f"{what} coordinates must be lon in -180..180 and lat in -90..90 (x = lon, y = lat)"
        raise InvalidInput(msg, where="coordinates")


