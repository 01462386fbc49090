"""Vector files into GeoDataFrames in EPSG:4326: GeoJSON, GeoPackage, Shapefile (plain or
zipped) through pyogrio, CSV with lon/lat or WKT columns, and GeoJSON documents already parsed."""

from __future__ import annotations

import tempfile
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from pyproj import CRS

from geo.crs import file_crs
from geo.errors import InvalidInput, UnsupportedFile
from geo.io.archive import ZipLimits, scrub, unpack_zip

SUFFIXES = {".geojson": "GeoJSON", ".json": "GeoJSON", ".gpkg": "GPKG", ".shp": "ESRI Shapefile", ".zip": "ESRI Shapefile", ".csv": "CSV"}
LON_NAMES = ("lon", "longitude", "lng", "x", "long")
LAT_NAMES = ("lat", "latitude", "y")
WKT_NAMES = ("wkt", "geometry", "geom", "the_geom")


def read_frame(path: Path, *, crs: str | None = None, layer: str | None = None,
               zip_limits: ZipLimits | None = None) -> gpd.GeoDataFrame:
    """Read any supported file into a GeoDataFrame in EPSG:4326.

    ``crs`` overrides (or supplies) the file's CRS: CSV files carry none and default to
    EPSG:4326; a shapefile without ``.prj`` needs it. A zip archive is unpacked within
    ``zip_limits`` (default :class:`ZipLimits`) into a temporary folder first. Raises
    UnsupportedFile when the content is not a readable vector file, TooLarge when an archive
    unpacks past its limits; messages name files as the caller named them, never by the folder
    they sit in on the server.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        msg = f"{path.name}: unsupported file type {suffix or '(none)'}; use .geojson, .gpkg, .shp, .zip or .csv"
        raise UnsupportedFile(msg, where="file")
    given = file_crs(crs)
    if suffix == ".csv":
        frame = _read_csv(path, given)
    elif suffix == ".zip":
        if not zipfile.is_zipfile(path):
            msg = f"{path.name} is not a zip archive"
            raise UnsupportedFile(msg, where="file")
        with tempfile.TemporaryDirectory(prefix="catchment-zip-") as tmp:
            source = unpack_zip(path, Path(tmp), limits=zip_limits or ZipLimits())
            frame = _read_vector(source, layer=layer, name=path.name, folder=Path(tmp), shown_as=f"{path.name}/")
    else:
        frame = _read_vector(path, layer=layer, name=path.name, folder=path.parent, shown_as="")
    if not isinstance(frame, gpd.GeoDataFrame) or frame.geometry is None:
        msg = f"{path.name} has no geometry column"
        raise UnsupportedFile(msg, where="file")
    if given is not None:
        frame = frame.set_crs(given, allow_override=True)
    elif frame.crs is None and suffix in {".shp", ".zip"}:
        # A shapefile says its CRS only in the .prj beside it; guessing EPSG:4326 for one in
        # metres stores zones no index can build. GeoJSON is EPSG:4326 by definition (RFC 7946).
        msg = (f"{path.name}: the shapefile has no .prj, so its coordinate system is unknown; add the .prj, or give it "
               f"with --crs (CLI) or crs= (upload), e.g. EPSG:4326, EPSG:3857 or EPSG:28356 / "
               f"Shapefile 缺少 .prj，坐标系未知：请补上 .prj，或用 --crs（命令行）或 crs=（上传）指定坐标系")
        raise InvalidInput(msg, where="crs")
    elif frame.crs is None:
        frame = frame.set_crs(4326)
    if not frame.crs.equals(CRS.from_epsg(4326)):
        frame = frame.to_crs(4326)
    return frame


def _read_vector(source: Path, *, layer: str | None, name: str, folder: Path, shown_as: str) -> gpd.GeoDataFrame:
    try:
        return pyogrio.read_dataframe(str(source), layer=layer)
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError, pyogrio.errors.FieldError) as exc:
        kind = SUFFIXES[Path(name).suffix.lower()]
        msg = f"{name} could not be read as {kind}: {scrub(str(exc), folder=folder, shown_as=shown_as)}"
        raise UnsupportedFile(msg, where="file") from exc
    except IndexError as exc:
        # pyogrio on a folder in which GDAL opened no layer (every shapefile in it unreadable).
        msg = f"{name} holds no readable layer / 文件中没有可读取的图层"
        raise UnsupportedFile(msg, where="file") from exc


def _read_csv(path: Path, crs: CRS | None) -> gpd.GeoDataFrame:
    try:
        table = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        msg = f"{path.name} is not a readable UTF-8 CSV: {exc}"
        raise UnsupportedFile(msg, where="file") from exc
    cols = {c.lower().strip(): c for c in table.columns}
    lon_col = next((cols[n] for n in LON_NAMES if n in cols), None)
    lat_col = next((cols[n] for n in LAT_NAMES if n in cols), None)
    wkt_col = next((cols[n] for n in WKT_NAMES if n in cols), None)
    if (lon_col is None or lat_col is None) and wkt_col is not None:
        return _read_wkt_csv(path, table, wkt_col, crs)
    if lon_col is None or lat_col is None:
        msg = f"{path.name} needs lon and lat columns (any of {LON_NAMES} / {LAT_NAMES}) or a WKT geometry column ({WKT_NAMES})"
        raise InvalidInput(msg, where="columns")
    xs = pd.to_numeric(table[lon_col], errors="coerce")
    ys = pd.to_numeric(table[lat_col], errors="coerce")
    bad = xs.isna() | ys.isna()
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0]) + 2
        msg = f"{path.name} line {row}: {lon_col}/{lat_col} are not numbers"
        raise InvalidInput(msg, where=f"line {row}")
    props = table.drop(columns=[lon_col, lat_col])
    return gpd.GeoDataFrame(props, geometry=gpd.points_from_xy(xs, ys), crs=crs or 4326)


def _read_wkt_csv(path: Path, table: pd.DataFrame, col: str, crs: CRS | None) -> gpd.GeoDataFrame:
    """Rows whose geometry is WKT text (as ``catchment export zones x.csv`` writes polygons)."""
    text = table[col].to_numpy(dtype=object)
    geoms = []
    for i, t in enumerate(text):
        try:
            geoms.append(shapely.from_wkt(t) if str(t).strip() else None)
        except shapely.errors.GEOSException as exc:
            msg = f"{path.name} line {i + 2}: column {col} is not WKT geometry: {exc}"
            raise InvalidInput(msg, where=f"line {i + 2}") from exc
    return gpd.GeoDataFrame(table.drop(columns=[col]), geometry=geoms, crs=crs or 4326)


def frame_from_geojson(doc: Mapping[str, Any]) -> gpd.GeoDataFrame:
    """A GeoJSON FeatureCollection (as parsed JSON, EPSG:4326) -> GeoDataFrame, with row errors."""
    if not isinstance(doc, Mapping) or doc.get("type") != "FeatureCollection" or not isinstance(doc.get("features"), list):
        msg = "expected a GeoJSON FeatureCollection with a 'features' list"
        raise InvalidInput(msg, where="body")
    geoms, props = [], []
    for i, feat in enumerate(doc["features"]):
        if not isinstance(feat, Mapping) or feat.get("type") != "Feature":
            msg = f"features[{i}] is not a GeoJSON Feature"
            raise InvalidInput(msg, where=f"features[{i}]")
        try:
            geoms.append(shapely.geometry.shape(feat["geometry"]) if feat.get("geometry") else None)
        except (KeyError, TypeError, ValueError, AttributeError, shapely.errors.GEOSException) as exc:
            msg = f"features[{i}].geometry is not valid GeoJSON geometry: {exc}"
            raise InvalidInput(msg, where=f"features[{i}].geometry") from exc
        p = feat.get("properties") or {}
        if not isinstance(p, Mapping):
            msg = f"features[{i}].properties must be an object"
            raise InvalidInput(msg, where=f"features[{i}].properties")
        props.append(dict(p))
    return gpd.GeoDataFrame(pd.DataFrame(props, index=range(len(props))), geometry=geoms, crs=4326)
