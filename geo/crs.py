"""Coordinate systems at the boundary: EPSG codes (pyproj) and China's GCJ-02 / BD-09 offsets.

Everything inside Catchment is EPSG:4326 in (lon, lat) order. Callers convert input once with
:func:`to_wgs84` (vectorised) or :func:`point_to_wgs84` and output with :func:`from_wgs84`.

Accepted ``crs`` names (case-insensitive):

* ``"wgs84"``, ``"EPSG:4326"``, ``"CRS84"``: no change.
* ``"EPSG:<code>"``: any CRS pyproj knows, always in (x, y) = (easting, northing) or
  (lon, lat) order (``always_xy=True``), e.g. ``EPSG:3857``, ``EPSG:32650`` (UTM 50N),
  ``EPSG:4490`` (CGCS2000).
* ``"gcj02"`` (Amap/Gaode, Tencent, Google inside China) and ``"bd09"`` (Baidu, lon/lat
  form ``bd09ll``; Baidu's Mercator ``bd09mc`` is refused).

The GCJ-02 forward formula is the published one (Krasovsky 1940 constants), the same as in the
CC0 ``prcoords`` package which the tests use as the reference; here it is vectorised with numpy.
The inverse is a fixed-point iteration ``w <- w - (F(w) - g)`` run until every point moves
less than 1e-12 degrees (about 0.1 micrometre), which the tests measure at below 0.01 m.

Outside China the offset is not applied, in either direction: the obfuscation only exists for
mainland China. "In China" is the widely used rough test of six including and six excluding
rectangles (first published by Aimeast, cnblogs 2012, and copied by most GCJ libraries): it
keeps Taiwan and the northern neighbours out and is loose along land borders (parts of
northern Vietnam, Myanmar and Korea count as China). The test is always made on the WGS84
point: the inverse solves for it and keeps the solution only when that point is in China, so
forward and inverse agree even within the offset's reach (< 1.5 km) of a rectangle's edge.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Any

import numpy as np
import shapely
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
_GCJ_A = 6378245.0
_GCJ_EE = 0.00669342162296594323
# Baidu's extra offsets on top of GCJ-02.
_BD_DLON, _BD_DLAT = 0.0065, 0.0060
_ITER_TOL_DEG = 1e-12
_ITER_MAX = 30

# (west, south, east, north) of mainland China and of the holes cut out of it.
_CHINA_IN = np.array([
    (79.446200, 42.889900, 96.330000, 49.220400),
    (109.687200, 39.374200, 135.000200, 54.141500),
    (73.124600, 29.529700, 124.143255, 42.889900),
    (82.968400, 26.718600, 97.035200, 29.529700),
    (97.025300, 20.414096, 124.367395, 29.529700),
    (107.975793, 17.871542, 111.744104, 20.414096),
])
_CHINA_OUT = np.array([
    (119.921265, 21.785006, 122.497559, 25.398623),  # Taiwan
    (101.865200, 20.098800, 106.665000, 22.284000),  # northern Laos / Vietnam
    (106.452500, 20.487800, 108.051000, 21.542200),  # Gulf of Tonkin coast, Vietnam
    (109.032300, 50.325700, 119.127000, 55.817500),  # Mongolia / Russia
    (127.456800, 49.557400, 137.022700, 55.817500),  # Russia, north of the Amur
    (131.266200, 42.569200, 137.022700, 44.892200),  # Russia, Primorye
])
# Every point the offsets can move into or out of the test lies in this box (rectangles + 0.05 deg).
_CHINA_BOX = (72.9, 17.8, 137.1, 55.9)


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


def in_china(lon: ArrayLike, lat: ArrayLike) -> NDArray[np.bool_]:
    """True where (lon, lat) falls in the rough mainland-China test (see the module docstring)."""
    x = np.asarray(lon, dtype=np.float64)[..., None]
    y = np.asarray(lat, dtype=np.float64)[..., None]

    def hit(boxes: NDArray[np.float64]) -> NDArray[np.bool_]:
        w, s, e, n = boxes.T
        return np.asarray(((x >= w) & (x <= e) & (y >= s) & (y <= n)).any(axis=-1))

    return hit(_CHINA_IN) & ~hit(_CHINA_OUT)


def _gcj_offset(lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    """GCJ-02 offset in degrees at WGS84 (lon, lat), no China test (the published formula)."""
    x, y = lon - 105.0, lat - 35.0
    pi = np.pi
    dlat_m = (-100 + 2 * x + 3 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
              + (2 * np.sin(x * 6 * pi) + 2 * np.sin(x * 2 * pi) + 2 * np.sin(y * pi) + 4 * np.sin(y / 3 * pi)
                 + 16 * np.sin(y / 12 * pi) + 32 * np.sin(y / 30 * pi)) * 20 / 3)
    dlon_m = (300 + x + 2 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
              + (2 * np.sin(x * 6 * pi) + 2 * np.sin(x * 2 * pi) + 2 * np.sin(x * pi) + 4 * np.sin(x / 3 * pi)
                 + 15 * np.sin(x / 12 * pi) + 30 * np.sin(x / 30 * pi)) * 20 / 3)
    rad = np.radians(lat)
    magic = 1 - _GCJ_EE * np.sin(rad) ** 2
    lat_deg_m = np.radians(_GCJ_A * (1 - _GCJ_EE) / magic**1.5)
    lon_deg_m = np.radians(_GCJ_A * np.cos(rad) / np.sqrt(magic))
    return dlon_m / lon_deg_m, dlat_m / lat_deg_m


def _gcj_to_bd_raw(lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    z = np.hypot(lon, lat) + 0.00002 * np.sin(np.radians(lat) * 3000)
    theta = np.arctan2(lat, lon) + 0.000003 * np.cos(np.radians(lon) * 3000)
    return z * np.cos(theta) + _BD_DLON, z * np.sin(theta) + _BD_DLAT


def _invert(fwd_lon: FloatArray, fwd_lat: FloatArray, forward: _Forward) -> tuple[FloatArray, FloatArray]:
    """Solve forward(w) = target by fixed-point iteration; the offsets vary slowly, so it converges fast."""
    lon, lat = fwd_lon.copy(), fwd_lat.copy()
    for _ in range(_ITER_MAX):
        f_lon, f_lat = forward(lon, lat)
        d_lon, d_lat = f_lon - fwd_lon, f_lat - fwd_lat
        lon -= d_lon
        lat -= d_lat
        if max(float(np.abs(d_lon).max(initial=0.0)), float(np.abs(d_lat).max(initial=0.0))) < _ITER_TOL_DEG:
            break
    return lon, lat


def _wgs_to_gcj_all(lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    d_lon, d_lat = _gcj_offset(lon, lat)
    return lon + d_lon, lat + d_lat


def _wgs_to_bd_all(lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    return _gcj_to_bd_raw(*_wgs_to_gcj_all(lon, lat))


def wgs84_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """WGS84 -> GCJ-02 (degrees, lon/lat), unchanged outside China."""
    x, y = _arrays(lon, lat)
    _check_lon_lat(x, y, what="wgs84")
    m = in_china(x, y)
    x[m], y[m] = _wgs_to_gcj_all(x[m], y[m])
    return x, y


def _inverse_in_china(x: FloatArray, y: FloatArray, forward: _Forward) -> tuple[FloatArray, FloatArray]:
    """Invert ``forward`` where its solution lies in China (so the forward would have moved it)."""
    shape = x.shape
    fx, fy = x.reshape(-1), y.reshape(-1)
    w, s, e, n = _CHINA_BOX
    near = (fx >= w) & (fx <= e) & (fy >= s) & (fy <= n)
    sx, sy = _invert(fx[near], fy[near], forward)
    moved = in_china(sx, sy)
    idx = np.flatnonzero(near)[moved]
    fx[idx], fy[idx] = sx[moved], sy[moved]
    return fx.reshape(shape), fy.reshape(shape)


def gcj02_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """GCJ-02 -> WGS84 by iterating the forward formula (error < 0.01 m), unchanged outside China."""
    x, y = _arrays(lon, lat)
    _check_lon_lat(x, y, what="gcj02")
    return _inverse_in_china(x, y, _wgs_to_gcj_all)


def wgs84_to_bd09(lon: ArrayLike, lat: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """WGS84 -> BD-09 (Baidu lon/lat), unchanged outside China."""
    x, y = _arrays(lon, lat)
    _check_lon_lat(x, y, what="wgs84")
    m = in_china(x, y)
    x[m], y[m] = _wgs_to_bd_all(x[m], y[m])
    return x, y


def bd09_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """BD-09 -> WGS84 by iterating the composed forward formula, unchanged outside China."""
    x, y = _arrays(lon, lat)
    _check_lon_lat(x, y, what="bd09")
    return _inverse_in_china(x, y, _wgs_to_bd_all)


def to_wgs84(x: ArrayLike, y: ArrayLike, crs: str) -> tuple[FloatArray, FloatArray]:
    """Convert coordinates in ``crs`` to EPSG:4326 (lon, lat), vectorised.

    Parameters
    ----------
    x, y
        Scalars or arrays of one shape: lon/lat for geographic systems, easting/northing for
        projected ones (always this order, whatever the CRS's own axis order).
    crs
        ``"EPSG:<code>"``, ``"wgs84"``, ``"gcj02"`` or ``"bd09"`` (see :func:`parse_crs`).

    Returns
    -------
    (lon, lat)
        numpy float arrays (0-d for scalar input), EPSG:4326 degrees.

    Raises
    ------
    InvalidInput
        Unknown crs, non-finite input, or points outside what the CRS can express.
    """
    name = parse_crs(crs)
    if name == WGS84:
        a, b = _arrays(x, y)
        _check_lon_lat(a, b, what="wgs84")
        return a, b
    if name == GCJ02:
        return gcj02_to_wgs84(x, y)
    if name == BD09:
        return bd09_to_wgs84(x, y)
    a, b = _arrays(x, y)
    lon, lat = _transformer(name)[0].transform(a, b, errcheck=False)
    lon, lat = np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)
    if not (np.isfinite(lon).all() and np.isfinite(lat).all()):
        msg = f"coordinates are outside the area {name} can express"
        raise InvalidInput(msg, where="coordinates")
    _check_lon_lat(lon, lat, what=f"converted {name}")
    return lon, lat


def from_wgs84(lon: ArrayLike, lat: ArrayLike, crs: str) -> tuple[FloatArray, FloatArray]:
    """Convert EPSG:4326 (lon, lat) to ``crs`` (x, y), vectorised; the inverse of :func:`to_wgs84`."""
    name = parse_crs(crs)
    if name == GCJ02:
        return wgs84_to_gcj02(lon, lat)
    if name == BD09:
        return wgs84_to_bd09(lon, lat)
    a, b = _arrays(lon, lat)
    _check_lon_lat(a, b, what="wgs84")
    if name == WGS84:
        return a, b
    x, y = _transformer(name)[1].transform(a, b, errcheck=False)
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if not (np.isfinite(x).all() and np.isfinite(y).all()):
        msg = f"coordinates are outside the area {name} can express"
        raise InvalidInput(msg, where="coordinates")
    return x, y


def point_to_wgs84(x: float, y: float, crs: str) -> tuple[float, float]:
    """One point in ``crs`` -> EPSG:4326 ``(lon, lat)`` floats (see :func:`to_wgs84`)."""
    lon, lat = to_wgs84(x, y, crs)
    return float(lon), float(lat)


# --------------------------------------------------------------------------- files and metres


def file_crs(text: str | None) -> CRS | None:
    """The CRS a user names for a file (``--crs``): ``EPSG:<code>``, a bare code, WKT or PROJ.

    None or blank stays None (the file's own CRS applies). The lon/lat names of
    :func:`parse_crs` are accepted too; GCJ-02 and BD-09 are offsets applied to points, not
    CRSs a file reader can reproject, so they are refused here with a pointer to the commands
    that take them (address and point imports convert them row by row).
    """
    if text is None or not str(text).strip():
        return None
    t = str(text).strip()
    key = t.lower()
    if key.isdigit():
        key, t = f"epsg:{key}", f"EPSG:{key}"
    if _ALIASES.get(key) == WGS84:
        return CRS.from_epsg(4326)
    if key in _ALIASES:
        msg = f"crs {text!r} is a coordinate offset, not a file CRS; import the points with --crs {key} (addresses) instead"
        raise InvalidInput(msg, where="crs")
    try:
        return CRS.from_user_input(t)
    except CRSError as exc:
        msg = f"unknown CRS {text!r}: {exc}"
        raise InvalidInput(msg, where="crs") from exc


def utm_crs(lon: float, lat: float) -> CRS:
    """The WGS84 UTM zone CRS holding (lon, lat): metric, conformal, < 0.1 % scale error nearby.

    For lengths and planar work (snapping, buffers, simplification) near one place.
    """
    zone = min(max(math.floor((lon + 180.0) / 6.0) + 1, 1), 60)
    return CRS.from_epsg((32600 if lat >= 0 else 32700) + zone)


def equal_area_crs(lon: float, lat: float) -> CRS:
    """Lambert azimuthal equal-area centred on (lon, lat), in metres.

    Areas are exact anywhere, so area shares and sliver sizes stay true for data spanning
    several UTM zones.
    """
    return CRS.from_proj4(f"+proj=laea +lat_0={lat:.6f} +lon_0={lon:.6f} +datum=WGS84 +units=m +no_defs")


def centre_of(geoms: Sequence[Any] | NDArray[np.object_]) -> tuple[float, float]:
    """Centre (lon, lat) of the geometries' bounds; (0, 0) when there is nothing to measure."""
    arr = np.asarray(geoms, dtype=object)
    live = arr[~shapely.is_empty(arr) & ~shapely.is_missing(arr)] if arr.size else arr
    if not live.size:
        return 0.0, 0.0
    x0, y0, x1, y1 = shapely.total_bounds(live)
    return float(x0 + x1) / 2.0, float(y0 + y1) / 2.0


def metric_transformer(geoms: Sequence[Any] | NDArray[np.object_], *, kind: str = "equal_area") -> Transformer:
    """EPSG:4326 -> a metric CRS fitted to ``geoms``: ``"equal_area"`` (areas) or ``"utm"`` (lengths)."""
    lon, lat = centre_of(geoms)
    crs = equal_area_crs(lon, lat) if kind == "equal_area" else utm_crs(lon, lat)
    return Transformer.from_crs(CRS.from_epsg(4326), crs, always_xy=True)


def transform_geoms(geoms: Any, transformer: Transformer) -> Any:
    """Apply ``transformer`` to geometries (a scalar or an array), vectorised over coordinates."""

    def fwd(xy: NDArray[np.float64]) -> NDArray[np.float64]:
        x, y = transformer.transform(xy[:, 0], xy[:, 1])
        return np.column_stack((x, y))

    return shapely.transform(geoms, fwd)


# --------------------------------------------------------------------------- OGC CRS URIs

#: The CRSs the OGC API offers (Part 2), by URI: WGS84 lon/lat (the default), WGS84 and CGCS2000
#: in their authorities' lat/lon axis order, and Web Mercator.
CRS84_URI = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
OGC_CRS_URIS: dict[str, str] = {
    CRS84_URI: "OGC:CRS84",
    "http://www.opengis.net/def/crs/EPSG/0/4326": "EPSG:4326",
    "http://www.opengis.net/def/crs/EPSG/0/3857": "EPSG:3857",
    "http://www.opengis.net/def/crs/EPSG/0/4490": "EPSG:4490",
}


def ogc_crs(uri: str) -> CRS:
    """The CRS of an OGC CRS URI we offer; InvalidInput naming the offered ones otherwise."""
    code = OGC_CRS_URIS.get(uri.strip())
    if code is None:
        msg = f"crs {uri!r} is not offered; use one of {', '.join(OGC_CRS_URIS)} / 不支持该坐标参考系"
        raise InvalidInput(msg, where="crs")
    return CRS.from_user_input(code)


@lru_cache(maxsize=16)
def ogc_transformers(uri: str) -> tuple[Transformer, Transformer]:
    """(from CRS84, to CRS84) for an offered CRS URI, in the CRS's own axis order (EPSG:4326 is lat, lon)."""
    crs = ogc_crs(uri)
    wgs = CRS.from_user_input("OGC:CRS84")
    return Transformer.from_crs(wgs, crs, always_xy=False), Transformer.from_crs(crs, wgs, always_xy=False)
# ------------------------------------------------------------------ lon/lat range at the boundary


def likely_crs(x: float, y: float) -> str:
    """What coordinates outside the EPSG:4326 range most likely are, in words, for error messages.

    Parameters
    ----------
    x, y
        The first coordinate pair (or bounding-box corner) that is out of range.

    Returns
    -------
    str
        A short guess naming the likely CRS and what to do about it.
    """
    big = max(abs(x), abs(y))
    if big >= 1_000_000:
        return ("values in the millions are metres, not degrees: they look like Web Mercator (EPSG:3857) "
                "or a UTM/MGA zone (e.g. EPSG:28356, MGA zone 56; EPSG:32650, UTM 50N); give the file's real CRS")
    if big >= 1_000:
        return ("values in the thousands are metres, not degrees: a projected CRS such as a UTM/MGA zone or a state "
                "plane; give the file's real CRS")
    if 180 < x <= 360 and abs(y) <= 90:
        return "longitudes in 0..360: subtract 360 from those over 180"
    if abs(x) <= 90 < abs(y) <= 180:
        return "the axes look swapped: give (lon, lat), x = longitude"
    return "coordinates are lon in -180..180 and lat in -90..90 (EPSG:4326)"


def lon_lat_problem(xmin: float, ymin: float, xmax: float, ymax: float) -> str | None:
    """Why a point or bounding box is not EPSG:4326 lon/lat, or None when it is.

    Parameters
    ----------
    xmin, ymin, xmax, ymax
        The box (a point: the same pair twice).

    Returns
    -------
    str or None
        The message, naming the first bad value and the likely CRS (:func:`likely_crs`).
    """
    values = np.array([xmin, ymin, xmax, ymax], dtype=np.float64)
    if not np.isfinite(values).all():
        return "coordinates must be finite numbers"
    for x, y in ((xmin, ymin), (xmax, ymax)):
        if abs(x) > 180.0 or abs(y) > 90.0:
            what = f"lon {x:g}" if abs(x) > 180.0 else f"lat {y:g}"
            return f"{what} is outside EPSG:4326 (lon -180..180, lat -90..90): {likely_crs(x, y)}"
    return None


def check_lon_lat(lon: float, lat: float, *, where: str = "", hint: str = "coordinates are lon, lat in EPSG:4326") -> None:
    """Raise InvalidInput unless (lon, lat) are finite EPSG:4326 degrees.

    Parameters
    ----------
    lon, lat
        The point.
    where
        Prefix of the field named in the error (``"query."`` for a query string).
    hint
        Said after the range, e.g. how to send another CRS.
    """
    if not (np.isfinite(lon) and -180.0 <= lon <= 180.0):
        guess = "" if not np.isfinite(lon) else f"; {likely_crs(lon, lat)}"
        msg = f"lon {lon} is outside -180..180 ({hint}){guess}"
        raise InvalidInput(msg, where=f"{where}lon")
    if not (np.isfinite(lat) and -90.0 <= lat <= 90.0):
        guess = "" if not np.isfinite(lat) else f"; {likely_crs(lon, lat)}"
        msg = f"lat {lat} is outside -90..90 ({hint}){guess}"
        raise InvalidInput(msg, where=f"{where}lat")
