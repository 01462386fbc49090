"""Reading schools and zones from GeoJSON, GeoPackage, Shapefile (plain or zipped) and CSV
(files: :mod:`geo.io.frames`; cell values: :mod:`geo.io.values`).

Everything read is reprojected to EPSG:4326 (lon, lat). Parsing is pure: it returns domain
objects plus an :class:`ImportReport`; the caller decides whether to write (imports are
all-or-nothing, so a report with rejected rows writes nothing unless rejects are allowed).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import geopandas as gpd

from geo.crs import lon_lat_problem
from geo.errors import InvalidInput
from geo.io.frames import SUFFIXES, frame_from_geojson, read_frame
from geo.io.rows import ImportReport, MappedFields, RowProblem, apply_where, code_text, row_label
from geo.io.values import int_or_none as _int_or_none
from geo.io.values import is_blank as _blank
from geo.io.values import json_safe as _json_safe
from geo.io.values import parse_grades, parse_mapping, split_list
from geo.io.zone_rows import (
    grade_columns,
    parse_start_years,
    parse_zones,
    repair_polygonal,
)
from geo.models import School, SchoolStatus, check_code

#: Re-exported: callers read files and parse rows through this module.
__all__ = ["SUFFIXES", "ImportReport", "RowProblem", "apply_where", "frame_from_geojson", "grade_columns",
           "parse_grades", "parse_mapping", "parse_schools", "parse_start_years", "parse_zones", "read_frame",
           "repair_polygonal", "split_list"]


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
    fields = MappedFields(frame, mapping or {})
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
        label = None if _blank(code_raw) else f"{code_prefix}{code_text(code_raw)}"
        try:
            if label is None:
                raise ValueError("missing school code")
            check_code(label)
            check_code(label)
            if label in seen:
                raise ValueError(f"school code {label} appears twice in the file")
            if geom is None or geom.is_empty:
                raise ValueError("missing point geometry")
            if geom.geom_type != "Point":
                geom = geom.representative_point() if geom.geom_type in {"Polygon", "MultiPolygon"} else None
                if geom is None:
                    raise ValueError("geometry is not a point")
            lon, lat = float(geom.x), float(geom.y)
            if (problem := lon_lat_problem(lon, lat, lon, lat)) is not None:
                raise ValueError(f"point {lon}, {lat}: {problem}")
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
            report.rejected.append(RowProblem(i + 1, str(exc), label or row_label(row)))
            continue
        seen.add(label)
        out.append(school)
    return out, report


def _levels(v: Any, level_map: Mapping[str, Sequence[str]] | None) -> tuple[str, ...]:
    out: list[str] = []
    if level_map and not _blank(v) and str(v).strip() in level_map:
        out = list(level_map[str(v).strip()])
    elif not _blank(v):
        values = split_list(v)
        for x in values:
            out.extend(level_map.get(x, []) if level_map else [x.lower()])
    return tuple(dict.fromkeys(x.strip().lower() for x in out if x.strip()))


