"""Zones from rows: school codes, grades (columns or text), phase-in years, polygons repaired
with ``make_valid`` (polygon parts kept) or the row rejected with the reason.
"""


import json
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import geopandas as gpd
import shapely
from shapely.geometry import MultiPolygon, Polygon

from geo.crs import lon_lat_problem
from geo.errors import InvalidGeometry, InvalidInput
from geo.io.rows import ImportReport, MappedFields, RowProblem, code_text, row_label
from geo.io.values import int_or_none as _int_or_none
from geo.io.values import is_blank as _blank
from geo.io.values import json_safe as _json_safe
from geo.io.values import parse_grades, split_list
from geo.models import GRADE_ORDER, Zone, normalise_grade

#: Names a zone's school codes and phase-in years are read from, besides the mapped ones: ours,
#: our Shapefile names, and GDAL's 10-character truncations of ours (older Shapefile exports).
CODE_NAMES = ("school_codes", "school_code", "sch_codes", "school_cod")
START_NAMES = ("grade_start_years", "start_yrs", "grade_star")
#: Our zone identity, written on export: not a zone attribute. It is carried on the Zone (``id``,
#: ``plan_id``), so that a PUT of a plan's own zones keeps their ids; the store gives fresh ids to
#: zones of any other plan (an import into a new plan).
IDENTITY_NAMES = ("zone_id", "plan_id")



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

    Recognised fields: ``school_code`` or ``school_codes`` (list or comma text; per row the one
    filled), ``name``, ``grades``, ``grade_start_years`` (object, JSON or ``K:2027,1:2028``),
    ``source``, and per-grade columns (``KINDERGART``, ``YEAR1``..): ``Y``/``N`` flags
    say which grades a zone serves; numbers give the first school year of each grade (0 = not).
    """
    fields = MappedFields(frame, mapping or {})
    code_cols = _named_columns(fields, CODE_NAMES)
    if not code_cols:
        msg = "zones need a school_code or school_codes property (from a file, map one with --map school_code=FIELD)"
        raise InvalidInput(msg, where="school_code")
    start_cols = _named_columns(fields, START_NAMES)
    gcols = grade_columns([c for c in frame.columns if c != frame.geometry.name])
    report = ImportReport(kind="zones", rows_read=len(frame))
    skip = {*code_cols, *start_cols, *IDENTITY_NAMES} | set(gcols) | {c for t in ("name", "grades", "source") if (c := fields.column(t))}
    extra_cols = [c for c in frame.columns if c not in skip and c != frame.geometry.name]
    out: list[Zone] = []
    records = frame.drop(columns=frame.geometry.name).to_dict("records")
    for i, (row, geom) in enumerate(zip(records, frame.geometry.values, strict=True)):
        if progress:
            progress(1)
        # Per row, the first code column that is filled: a file may mix school_code (one school)
        # and school_codes (several, 多校划片) rows.
        raw = next((row.get(c) for c in code_cols if not _blank(row.get(c))), None)
        codes = tuple(f"{code_prefix}{code_text(c)}" for c in split_list(raw))
        label = ",".join(codes) or None
        try:
            if not codes:
                raise ValueError("zone names no school")
            mp, repaired = repair_polygonal(geom)
            if (problem := lon_lat_problem(*mp.bounds)) is not None:
                raise ValueError(f"zone extent {', '.join(f'{v:.6g}' for v in mp.bounds)}: {problem}")
            grades, starts = _zone_grades(row, gcols, fields.get(row, "grades"))
            given = next((row.get(c) for c in start_cols if not _blank(row.get(c))), None)
            if given is not None:
                starts = parse_start_years(given)
                outside = sorted(set(starts) - set(grades), key=GRADE_ORDER.index) if grades is not None else []
                if outside:
                    msg = f"grade_start_years names grade(s) {', '.join(outside)}, which the zone's grades do not include"
                    raise ValueError(msg)
        except (ValueError, InvalidGeometry) as exc:
            reason = exc.message if isinstance(exc, InvalidGeometry) else str(exc)
            report.rejected.append(RowProblem(i + 1, reason, label or row_label(row)))
            continue
        if repaired:
            report.repaired.append(RowProblem(i + 1, "invalid polygon repaired with make_valid (polygon parts kept)", label))
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
                id=_whole(row.get("zone_id")),
                plan_id=_whole(row.get("plan_id")),
            )
        )
    return out, report


def _whole(v: Any) -> int | None:
    """A stored id as a file or JSON carries it (an int, or a float such as 12.0); else None."""
    if _blank(v) or isinstance(v, bool):
        return None
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return int(f) if f.is_integer() and 0 < f < 2**63 else None


def _named_columns(fields: MappedFields, names: Sequence[str]) -> list[str]:
    """The columns present for ``names`` (mapped first), in order, without repeats."""
    return list(dict.fromkeys(c for n in names if (c := fields.column(n)) is not None))


def parse_start_years(v: Any) -> dict[str, int]:
    """A zone's phase-in years: ``{"K": 2027, "1": 2028}`` (GeoJSON), its JSON text, or the
    ``"K:2027,1:2028"`` pairs our file exports write -> ``{"K": 2027, "1": 2028}``.

    Raises ValueError naming what is wrong.
    """
    if isinstance(v, str) and v.strip().startswith("{"):
        try:
            v = json.loads(v)
        except json.JSONDecodeError as exc:
            msg = f"grade_start_years {v!r} is not valid JSON: {exc}"
            raise ValueError(msg) from exc
    pairs: list[tuple[Any, Any]]
    if isinstance(v, Mapping):
        pairs = list(v.items())
    else:
        pairs = []
        for part in split_list(v):
            grade, sep, year = part.partition(":")
            if not sep:
                msg = f"grade_start_years {v!r}: expected grade:year pairs like K:2027,1:2028"
                raise ValueError(msg)
            pairs.append((grade, year))
    out: dict[str, int] = {}
    for grade, year in pairs:
        g = normalise_grade(grade)
        y = _int_or_none(year, what=f"grade_start_years[{g}]")
        if y is None or not 1900 <= y <= 2200:
            msg = f"grade_start_years[{g}] = {year!r}: expected a school year between 1900 and 2200"
            raise ValueError(msg)
        out[g] = y
    return {g: out[g] for g in GRADE_ORDER if g in out}


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
