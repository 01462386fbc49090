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

The package: ``parse`` (names and EPSG codes), ``china`` (GCJ-02, BD-09), ``convert`` (to and
from EPSG:4326), ``metric`` (files' CRSs and the one metric-CRS chooser), ``ogc`` (OGC API CRS
URIs), ``lonlat`` (the one lon/lat range check). Import from ``geo.crs``: every name is here.
"""

from __future__ import annotations

from geo.crs.china import bd09_to_wgs84, gcj02_to_wgs84, in_china, wgs84_to_bd09, wgs84_to_gcj02
from geo.crs.convert import from_wgs84, point_to_wgs84, to_wgs84
from geo.crs.lonlat import check_lon_lat, likely_crs, lon_lat_problem
from geo.crs.metric import centre_of, equal_area_crs, file_crs, metric_transformer, transform_geoms, utm_crs
from geo.crs.ogc import CRS84_URI, OGC_CRS_URIS, ogc_crs, ogc_transformers
from geo.crs.parse import BD09, GCJ02, WGS84, FloatArray, parse_crs

__all__ = ["BD09", "CRS84_URI", "GCJ02", "OGC_CRS_URIS", "WGS84", "FloatArray", "bd09_to_wgs84", "centre_of", "check_lon_lat", "equal_area_crs", "file_crs", "from_wgs84", "gcj02_to_wgs84", "in_china", "likely_crs", "lon_lat_problem", "metric_transformer", "ogc_crs", "ogc_transformers", "parse_crs", "point_to_wgs84", "to_wgs84", "transform_geoms", "utm_crs", "wgs84_to_bd09", "wgs84_to_gcj02"]
