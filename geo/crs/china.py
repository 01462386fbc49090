"""China's GCJ-02 and BD-09 offsets, forward and inverse, applied only inside mainland China.

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

import numpy as np
from numpy.typing import ArrayLike, NDArray

from geo.crs.parse import FloatArray, _arrays, _check_lon_lat, _Forward

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


