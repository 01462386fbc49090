"""The one lon/lat range check at the boundary, and a guess of the CRS that numbers out of range are in.
"""


from __future__ import annotations

import numpy as np

from geo.errors import InvalidInput

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
