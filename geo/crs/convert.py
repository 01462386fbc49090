"""Converting coordinates to and from EPSG:4326 (lon, lat), vectorised or one point at a time.
"""


from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from geo.crs.china import bd09_to_wgs84, gcj02_to_wgs84, wgs84_to_bd09, wgs84_to_gcj02
from geo.crs.parse import BD09, GCJ02, WGS84, FloatArray, _arrays, _check_lon_lat, _transformer, parse_crs
from geo.errors import InvalidInput


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


