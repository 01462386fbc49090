"""CRS URIs of the OGC API (Part 2): which are offered and their transformers.
"""


from __future__ import annotations

from functools import lru_cache

from pyproj import CRS, Transformer

from geo.errors import InvalidInput

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
