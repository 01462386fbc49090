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


def distance_to_boundary_m(geometry: shapely.Geometry, lon: float, lat: float, *, within_m: float) -> float | None:
    """Metres from (lon, lat) to the nearest point of ``geometry``'s boundary, if closer than ``within_m``.

    Only the part of the boundary inside a small box around the point is examined, in a local
    equirectangular frame (error well under 0.1 % at these distances), and the nearest point it
    finds is then measured geodesically. Returns None when the boundary is farther than ``within_m``.

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
    box = shapely.box(lon - dlon, lat - dlat, lon + dlon, lat + dlat)
    near = shapely.intersection(shapely.boundary(geometry), box)
    if near.is_empty:
        return None
    # Scale longitudes so a degree east and a degree north have the same length here.
    local = shapely.transform(near, lambda xy: np.column_stack(((xy[:, 0] - lon) * coslat, xy[:, 1] - lat)))
    _, p = shapely.ops.nearest_points(shapely.Point(0.0, 0.0), local)
    plon, plat = p.x / coslat + lon, p.y + lat
    dist = float(geodesic_m(lon, lat, plon, plat))
    return dist if dist <= within_m else None

