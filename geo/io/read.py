"""Reading and writing schools and zones in GeoJSON, GeoPackage, Shapefile (plain or zipped)
and CSV with lon/lat columns, through pyogrio.

Everything read is reprojected to EPSG:4326 (lon, lat). Parsing is pure: it returns domain
objects plus an :class:`ImportReport`; the caller decides whether to write (imports are
all-or-nothing, so a report with rejected rows writes nothing unless rejects are allowed).
"""

from __future__ import annotations

import math
import re
import tempfile
import zipfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from pyproj import CRS
from pyproj.exceptions import CRSError
from shapely.geometry import MultiPolygon, Polygon

from geo.errors import InvalidGeometry, InvalidInput, UnsupportedFile
from geo.io.archive import ZipLimits, scrub, unpack_zip
from geo.models import GRADE_ORDER, School, SchoolStatus, Zone, normalise_grade

SUFFIXES = {".geojson": "GeoJSON", ".json": "GeoJSON", ".gpkg": "GPKG", ".shp": "ESRI Shapefile", ".zip": "ESRI Shapefile", ".csv": "CSV"}
LON_NAMES = ("lon", "longitude", "lng", "x", "long")
LAT_NAMES = ("lat", "latitude", "y")


@dataclass
class RowProblem:
    row: int
    reason: str
    feature: str | None = None


@dataclass
class ImportReport:
    """What an import read, wrote, repaired and rejected (per row, with the reason)."""

    kind: str
    rows_read: int = 0
    written: int = 0
    repaired: list[RowProblem] = field(default_factory=list)
    rejected: list[RowProblem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "rows_read": self.rows_read,
            "written": self.written,
            "repaired": [vars(p) for p in self.repaired],
            "rejected": [vars(p) for p in self.rejected],
            "notes": list(self.notes),
        }


def parse_crs(text: str | None) -> CRS | None:
    """``"EPSG:4326"``, ``"4326"``, a WKT or PROJ string -> CRS; None stays None."""
    if text is None or not str(text).strip():
        return None
    t = str(text).strip()
    try:
        return CRS.from_user_input(int(t) if t.isdigit() else t)
    except CRSError as exc:
        msg = f"unknown CRS {text!r}: {exc}"
        raise InvalidInput(msg, where="crs") from exc


def read_frame(path: Path, *, crs: str | None = None, layer: str | None = None,
               zip_limits: ZipLimits | None = None) -> gpd.GeoDataFrame:
    """Read any supported file into a GeoDataFrame in EPSG:4326.

    ``crs`` overrides (or supplies) the file's CRS: CSV files carry none and default to
    EPSG:4326. A zip archive is unpacked within ``zip_limits`` (default :class:`ZipLimits`)
    into a temporary folder first. Raises UnsupportedFile when the content is not a readable
    vector file, TooLarge when an archive unpacks past its limits; messages name files as
    the caller named them, never by the folder they sit in on the server.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        msg = f"{path.name}: unsupported file type {suffix or '(none)'}; use .geojson, .gpkg, .shp, .zip or .csv"
        raise UnsupportedFile(msg, where="file")
    given = parse_crs(crs)
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
    if lon_col is None or lat_col is None:
        msg = f"{path.name} needs lon and lat columns (any of {LON_NAMES} / {LAT_NAMES})"
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


# --------------------------------------------------------------------------- values


def _blank(v: Any) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v)) or (isinstance(v, str) and not v.strip()) or v is pd.NA


def _int_or_none(v: Any, *, what: str) -> int | None:
    if _blank(v):
        return None
    try:
        f = float(v)
    except (TypeError, ValueError) as exc:
        msg = f"{what} {v!r} is not a number"
        raise ValueError(msg) from exc
    if not math.isfinite(f) or f < 0:
        msg = f"{what} {v!r} must be a non-negative number"
        raise ValueError(msg)
    return round(f)


def split_list(v: Any) -> list[str]:
    """``"a,b"``, ``"a;b"``, ``["a", "b"]`` -> ``["a", "b"]``; blanks -> []."""
    if _blank(v):
        return []
    if isinstance(v, (list, tuple, np.ndarray)):
        return [str(x).strip() for x in v if not _blank(x)]
    return [x.strip() for x in re.split(r"[;,|]", str(v)) if x.strip()]


_RANGE = re.compile(r"^(?P<a>[^-]+?)\s*(?:-|to|–)\s*(?P<b>.+)$", re.IGNORECASE)


def parse_grades(v: Any) -> tuple[str, ...]:
    """``"K-6"``, ``"Kindergarten to Year 6"``, ``"7,8"``, ``["K", 1]`` -> grades in order.

    Unknown texts (``"N/A"``, ``"Medium / High Support needs"``) give an empty tuple.
    """
    out: list[str] = []
    for part in split_list(v):
        text = re.sub(r"^preschool", "K", part.strip(), flags=re.IGNORECASE)
        m = _RANGE.match(text)
        try:
            if m:
                a, b = normalise_grade(m["a"]), normalise_grade(m["b"])
                ia, ib = GRADE_ORDER.index(a), GRADE_ORDER.index(b)
                out.extend(GRADE_ORDER[ia : ib + 1])
            else:
                out.append(normalise_grade(text))
        except ValueError:
            continue
    return tuple(g for g in GRADE_ORDER if g in set(out))


def _json_safe(v: Any) -> Any:
    if _blank(v):
        return None
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (np.floating,)):
        return float(v)
    if isinstance(v, (np.bool_,)):
        return bool(v)
    if isinstance(v, pd.Timestamp):
        return v.isoformat()
    if isinstance(v, (str, int, float, bool, list, dict)):
        return v
    return str(v)


def parse_mapping(pairs: Sequence[str]) -> dict[str, str]:
    """``["code=USE_ID", "name=USE_DESC"]`` -> ``{"code": "USE_ID", "name": "USE_DESC"}``."""
    out: dict[str, str] = {}
    for pair in pairs:
        target, sep, source = pair.partition("=")
        if not sep or not target.strip() or not source.strip():
            msg = f"mapping {pair!r} must look like target=SOURCE_FIELD"
            raise InvalidInput(msg, where="map")
        out[target.strip()] = source.strip()
    return out


def apply_where(frame: gpd.GeoDataFrame, where: Sequence[str]) -> gpd.GeoDataFrame:
    """Keep rows where FIELD is one of the listed values: ``["CATCH_TYPE=PRIMARY,INFANTS"]``."""
    for cond in where:
        name, _, values = cond.partition("=")
        if name not in frame.columns:
            msg = f"--where names field {name!r}, which the file does not have"
            raise InvalidInput(msg, where="where")
        frame = frame[frame[name].astype(str).isin(split_list(values))]
    return frame


class _Fields:
    """Field lookup through the user's mapping (target name -> source column)."""

    def __init__(self, frame: gpd.GeoDataFrame, mapping: Mapping[str, str]) -> None:
        for target, source in mapping.items():
            if source not in frame.columns:
                msg = f"--map {target}={source}: the file has no field {source!r}"
                raise InvalidInput(msg, where="map")
        self.mapping = dict(mapping)
        self.columns = list(frame.columns)

    def column(self, target: str) -> str | None:
        if target in self.mapping:
            return self.mapping[target]
        return target if target in self.columns else None

    def get(self, row: Mapping[str, Any], target: str) -> Any:
        col = self.column(target)
        return None if col is None else row.get(col)

    def used(self) -> set[str]:
        return set(self.mapping.values())


# --------------------------------------------------------------------------- schools


def parse_schools(
    frame: gpd.GeoDataFrame,
    *,
    mapping: Mapping[str, str] | None = None,
    code_prefix: str = "",
    level_map: Mapping[str, Sequence[str]] | None = None,
    progress: Callable[[int], None] | None = None,
) -> tuple[list[School], ImportReport]:
    """Turn rows into Schools. Points only; other fields go to ``attributes``.

    ``level_map`` maps a source value of the ``levels`` field (e.g. ``"Primary School"``) to our
    level names; without it the values are used as written, lower-cased.
    """
    fields = _Fields(frame, mapping or {})
    if fields.column("code") is None or fields.column("name") is None:
        msg = "schools need a code and a name field (map them with --map code=FIELD --map name=FIELD)"
        raise InvalidInput(msg, where="map")
    report = ImportReport(kind="schools", rows_read=len(frame))
    known = {"code", "name", "name_local", "levels", "grades", "capacity", "enrolment", "classes", "address", "status", "feeds_into"}
    used = {c for t in known if (c := fields.column(t))}
    extra_cols = [c for c in frame.columns if c not in used and c != frame.geometry.name]
    out: list[School] = []
    seen: set[str] = set()
    records = frame.drop(columns=frame.geometry.name).to_dict("records")
    for i, (row, geom) in enumerate(zip(records, frame.geometry.values, strict=True)):
        if progress:
            progress(1)
        code_raw = fields.get(row, "code")
        label = None if _blank(code_raw) else f"{code_prefix}{_code_text(code_raw)}"
        try:
            if label is None:
                raise ValueError("missing school code")
            if label in seen:
                raise ValueError(f"school code {label} appears twice in the file")
            if geom is None or geom.is_empty:
                raise ValueError("missing point geometry")
            if geom.geom_type != "Point":
                geom = geom.representative_point() if geom.geom_type in {"Polygon", "MultiPolygon"} else None
                if geom is None:
                    raise ValueError("geometry is not a point")
            lon, lat = float(geom.x), float(geom.y)
            if not (-180 <= lon <= 180 and -90 <= lat <= 90):
                raise ValueError(f"point {lon}, {lat} is outside EPSG:4326 lon/lat range")
            name = fields.get(row, "name")
            if _blank(name):
                raise ValueError("missing school name")
            levels = _levels(fields.get(row, "levels"), level_map)
            status_raw = fields.get(row, "status")
            status = SchoolStatus(str(status_raw).strip().lower()) if not _blank(status_raw) else SchoolStatus.OPEN
            school = School(
                code=label,
                name=str(name).strip(),
                lon=lon,
                lat=lat,
                levels=levels,
                grades=parse_grades(fields.get(row, "grades")),
                name_local=None if _blank(v := fields.get(row, "name_local")) else str(v),
                address=None if _blank(v := fields.get(row, "address")) else str(v),
                capacity=_int_or_none(fields.get(row, "capacity"), what="capacity"),
                enrolment=_int_or_none(fields.get(row, "enrolment"), what="enrolment"),
                classes=_int_or_none(fields.get(row, "classes"), what="classes"),
                status=status,
                feeds_into=tuple(f"{code_prefix}{c}" for c in split_list(fields.get(row, "feeds_into"))),
                attributes={c: _json_safe(row.get(c)) for c in extra_cols if not _blank(row.get(c))},
            )
        except ValueError as exc:
            report.rejected.append(RowProblem(i, str(exc), label))
            continue
        seen.add(label)
        out.append(school)
    return out, report


def _code_text(v: Any) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v).strip()


def _levels(v: Any, level_map: Mapping[str, Sequence[str]] | None) -> tuple[str, ...]:
    out: list[str] = []
    if level_map and not _blank(v) and str(v).strip() in level_map:
        out = list(level_map[str(v).strip()])
    elif not _blank(v):
        values = split_list(v)
        for x in values:
            out.extend(level_map.get(x, []) if level_map else [x.lower()])
    return tuple(dict.fromkeys(x.strip().lower() for x in out if x.strip()))


# --------------------------------------------------------------------------- zones

GRADE_COLUMN = re.compile(r"^(KINDERGART(EN)?|K|YEAR_?(\d{1,2})|GRADE_?(\d{1,2}))$", re.IGNORECASE)


def grade_columns(columns: Sequence[str]) -> dict[str, str]:
    """Columns that carry per-grade flags or start years (NSW: KINDERGART, YEAR1..YEAR12)."""
    out: dict[str, str] = {}
    for c in columns:
        m = GRADE_COLUMN.match(str(c))
        if m:
            num = m.group(3) or m.group(4)
            grade = "K" if num is None else str(int(num))
            if grade in GRADE_ORDER:
                out[c] = grade
    return out if len(out) >= 2 else {}


def repair_polygonal(geom: shapely.Geometry | None) -> tuple[MultiPolygon, bool]:
    """Return (MultiPolygon, was_repaired); invalid shapes go through make_valid keeping polygon parts.

    Raises InvalidGeometry when nothing polygonal is left.
    """
    if geom is None or geom.is_empty:
        raise InvalidGeometry("missing or empty geometry")
    if geom.geom_type not in {"Polygon", "MultiPolygon"}:
        msg = f"geometry is a {geom.geom_type}, not a Polygon or MultiPolygon"
        raise InvalidGeometry(msg)
    repaired = False
    if not geom.is_valid:
        fixed = shapely.make_valid(geom, method="structure", keep_collapsed=False)
        parts = [g for g in shapely.get_parts(fixed) if g.geom_type == "Polygon" and not g.is_empty]
        if not parts:
            raise InvalidGeometry("invalid polygon with no area left after repair")
        geom = shapely.union_all(parts)
        repaired = True
    if geom.geom_type == "Polygon":
        geom = MultiPolygon([geom])
    elif geom.geom_type != "MultiPolygon":
        parts = [g for g in shapely.get_parts(geom) if isinstance(g, Polygon)]
        geom = MultiPolygon(parts)
    if geom.has_z:
        geom = shapely.force_2d(geom)
    return geom, repaired


def parse_zones(
    frame: gpd.GeoDataFrame,
    *,
    mapping: Mapping[str, str] | None = None,
    code_prefix: str = "",
    progress: Callable[[int], None] | None = None,
) -> tuple[list[Zone], ImportReport]:
    """Turn rows into Zones, repairing invalid polygons (reported) and rejecting the rest (reported).

    Recognised fields: ``school_code`` or ``school_codes`` (list or comma text), ``name``,
    ``grades``, ``source``, and per-grade columns (``KINDERGART``, ``YEAR1``..): ``Y``/``N`` flags
    say which grades a zone serves; numbers give the first school year of each grade (0 = not).
    """
    fields = _Fields(frame, mapping or {})
    code_col = fields.column("school_codes") or fields.column("school_code")
    if code_col is None:
        msg = "zones need a school_code or school_codes property (from a file, map one with --map school_code=FIELD)"
        raise InvalidInput(msg, where="school_code")
    gcols = grade_columns([c for c in frame.columns if c != frame.geometry.name])
    report = ImportReport(kind="zones", rows_read=len(frame))
    skip = {code_col} | set(gcols) | {c for t in ("name", "grades", "source") if (c := fields.column(t))}
    extra_cols = [c for c in frame.columns if c not in skip and c != frame.geometry.name]
    out: list[Zone] = []
    records = frame.drop(columns=frame.geometry.name).to_dict("records")
    for i, (row, geom) in enumerate(zip(records, frame.geometry.values, strict=True)):
        if progress:
            progress(1)
        codes = tuple(f"{code_prefix}{_code_text(c)}" for c in split_list(row.get(code_col)))
        label = ",".join(codes) or None
        try:
            if not codes:
                raise ValueError("zone names no school")
            mp, repaired = repair_polygonal(geom)
            grades, starts = _zone_grades(row, gcols, fields.get(row, "grades"))
        except (ValueError, InvalidGeometry) as exc:
            reason = exc.message if isinstance(exc, InvalidGeometry) else str(exc)
            report.rejected.append(RowProblem(i, reason, label))
            continue
        if repaired:
            report.repaired.append(RowProblem(i, "invalid polygon repaired with make_valid (polygon parts kept)", label))
        name = fields.get(row, "name")
        source = fields.get(row, "source")
        out.append(
            Zone(
                school_codes=codes,
                geometry=mp,
                name=None if _blank(name) else str(name),
                grades=grades,
                grade_start_years=starts,
                source=None if _blank(source) else str(source),
                attributes={c: _json_safe(row.get(c)) for c in extra_cols if not _blank(row.get(c))},
            )
        )
    return out, report


def _zone_grades(row: Mapping[str, Any], gcols: Mapping[str, str], text: Any) -> tuple[tuple[str, ...] | None, dict[str, int]]:
    if not gcols:
        g = parse_grades(text)
        return (g or None), {}
    served: list[str] = []
    starts: dict[str, int] = {}
    for col, grade in gcols.items():
        v = row.get(col)
        if _blank(v):
            continue
        s = str(v).strip().upper()
        if s in {"Y", "YES", "TRUE", "1"}:
            served.append(grade)
        elif s in {"N", "NO", "FALSE", "0", "0.0"}:
            continue
        else:
            year = _int_or_none(v, what=f"{col}")
            if year is None or not 1900 <= year <= 2200:
                msg = f"{col} holds {v!r}: expected Y/N or a school year"
                raise ValueError(msg)
            served.append(grade)
            starts[grade] = year
    ordered = tuple(g for g in GRADE_ORDER if g in served)
    if not ordered:
        raise ValueError("zone serves no grade (every grade flag is N or 0)")
    return ordered, starts
