"""Geodesic distances on the WGS84 ellipsoid (pyproj), vectorised.

All inputs are EPSG:4326 degrees in (lon, lat) order; outputs are metres.
"""

from __future__ import annotations

import math

import numpy as np
import shapely
import shapely.ops
from numpy.typing import ArrayLike, NDArray
from pyproj import Geod

WGS84 = Geod(ellps="WGS84")
_EARTH_R = 6_371_008.8


def geodesic_m(lon1: ArrayLike, lat1: ArrayLike, lon2: ArrayLike, lat2: ArrayLike) -> NDArray[np.float64]:
    """Geodesic distance in metres between (lon1, lat1) and (lon2, lat2), broadcast.

    Parameters
    ----------
    lon1, lat1, lon2, lat2
        Degrees, EPSG:4326. Scalars or arrays of one shape.

    Returns
    -------
    numpy.ndarray
        Distances in metres.
    """
    a, b, c, d = np.broadcast_arrays(
        np.asarray(lon1, dtype=float), np.asarray(lat1, dtype=float),
        np.asarray(lon2, dtype=float), np.asarray(lat2, dtype=float),
    )
    _, _, dist = WGS84.inv(a, b, c, d)
    return np.asarray(dist, dtype=float)


#: WGS84 semi-major axis (m) and first eccentricity squared.
WGS84_A = 6_378_137.0
WGS84_E2 = 0.00669437999014


def _metres_per_degree(lat: float) -> tuple[float, float]:
    """Metres per degree of longitude and of latitude at ``lat`` on WGS84."""
    phi = math.radians(lat)
    w = 1.0 - WGS84_E2 * math.sin(phi) ** 2
    n = WGS84_A / math.sqrt(w)  # prime vertical radius of curvature
    m = WGS84_A * (1.0 - WGS84_E2) / w ** 1.5  # meridian radius of curvature
    return max(math.radians(n * math.cos(phi)), 1e-6), math.radians(m)


def distance_to_boundary_m(geometry: shapely.Geometry, lon: float, lat: float, *, within_m: float) -> float | None:
    """Metres from (lon, lat) to the nearest point of ``geometry``'s boundary, if closer than ``within_m``.

    Only the part of the boundary inside a small box around the point is examined, in a local
    frame of metres east and north (the ellipsoid's radii of curvature at the point; at these
    distances its error is far below a millimetre), and the nearest point it finds is then
    measured geodesically. Returns None when the boundary is farther than ``within_m``.

    Parameters
    ----------
    geometry
        A polygonal geometry in EPSG:4326.
    lon, lat
        The point, degrees.
    within_m
        Search radius in metres.
    """
    dlat = math.degrees(within_m / _EARTH_R) * 1.01
    coslat = max(math.cos(math.radians(lat)), 1e-6)
    dlon = dlat / coslat
    near = shapely.intersection(shapely.boundary(geometry), shapely.box(lon - dlon, lat - dlat, lon + dlon, lat + dlat))
    if near.is_empty:
        return None
    # Metres east and north of the point on the ellipsoid: a degree north is the meridian's radius
    # of curvature, a degree east the prime vertical's times cos(lat) (they differ by up to 0.7 %,
    # enough to pick the wrong foot on a slanted edge with one scale for both).
    kx, ky = _metres_per_degree(lat)
    local = shapely.transform(near, lambda xy: np.column_stack(((xy[:, 0] - lon) * kx, (xy[:, 1] - lat) * ky)))
    _, p = shapely.ops.nearest_points(shapely.Point(0.0, 0.0), local)
    plon, plat = p.x / kx + lon, p.y / ky + lat
    dist = float(geodesic_m(lon, lat, plon, plat))
    return dist if dist <= within_m else None

