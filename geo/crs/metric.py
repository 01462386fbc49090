"""Files' CRSs and metres: the one metric-CRS chooser (UTM, equal-area) and moving geometries there.
"""


from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import shapely
from numpy.typing import NDArray
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError

from geo.crs.parse import _ALIASES, WGS84
from geo.errors import InvalidInput

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


