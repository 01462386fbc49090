"""File imports shared by the CLI and the HTTP upload routes: read, parse, then write atomically.

An import is all-or-nothing: if any row is rejected nothing is written (unless the caller
allows rejects explicitly), and the report says why per row.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd

from geo.errors import InvalidInput
from geo.io.archive import ZipLimits
from geo.io.osm_levels import Selection
from geo.io.read import ImportReport, RowProblem, apply_where, parse_mapping, parse_schools, parse_zones, read_frame
from geo.models import Plan, Zone, check_slug
from service.storage.base import Repository

Progress = Callable[[int], None]


class RejectedRows(InvalidInput):
    """Some rows were rejected, so nothing was written; ``extra['report']`` lists them."""

    def __init__(self, report: ImportReport) -> None:
        first = report.rejected[0]
        msg = (f"{len(report.rejected)} of {report.rows_read} {report.kind} rows rejected, nothing written; "
               f"first: row {first.row} (counting from 1), {first.feature or 'no code, id or name'}: {first.reason}")
        super().__init__(msg, where=f"row {first.row}")
        self.extra = {"report": report.as_dict()}


@dataclass
class ImportOptions:
    mapping: Sequence[str] = ()
    code_prefix: str = ""
    where: Sequence[str] = ()
    level_map: Sequence[str] = ()
    crs: str | None = None
    layer: str | None = None
    allow_rejects: bool = False
    zip_limits: ZipLimits = field(default_factory=ZipLimits)
    extra_notes: list[str] = field(default_factory=list)


def parse_level_map(pairs: Sequence[str]) -> dict[str, list[str]]:
    """``["Primary School=primary", "Central School=primary,high"]`` -> mapping to level lists."""
    out: dict[str, list[str]] = {}
    for pair in pairs:
        source, sep, target = pair.rpartition("=")
        if not sep or not source.strip():
            msg = f"level map {pair!r} must look like 'Source value=level[,level]'"
            raise InvalidInput(msg, where="level-map")
        out[source.strip()] = [check_slug(t, what="level") for t in target.split(",") if t.strip()]
    return out


def _finish(report: ImportReport, opts: ImportOptions) -> None:
    if report.rejected and not opts.allow_rejects:
        raise RejectedRows(report)
    if report.rejected:
        report.notes.append(f"{len(report.rejected)} rejected rows skipped (--allow-rejects)")


def import_schools_file(repo: Repository, path: Path, *, opts: ImportOptions, actor: str,
                        progress: Progress | None = None, on_total: Callable[[int], None] | None = None) -> ImportReport:
    frame = apply_where(read_frame(path, crs=opts.crs, layer=opts.layer, zip_limits=opts.zip_limits), opts.where)
    if on_total:
        on_total(len(frame))
    schools, report = parse_schools(frame, mapping=parse_mapping(opts.mapping), code_prefix=opts.code_prefix,
                                    level_map=parse_level_map(opts.level_map) or None, progress=progress)
    _finish(report, opts)
    report.written = repo.import_schools(schools, actor=actor)
    report.notes.extend(opts.extra_notes)
    return report


def reject_unknown_schools(repo: Repository, frame: gpd.GeoDataFrame, zones: Sequence[Zone], report: ImportReport) -> list[Zone]:
    """The zones whose schools are all stored; the others become rejected rows with the reason.

    ``zones`` are :func:`parse_zones`'s answer for ``frame`` (the rows it did not reject, in
    order); rows are reported by their position in the file, not in a ``--where`` selection.
    """
    bad_rows = {p.row for p in report.rejected}
    rows = [i for i in range(len(frame)) if i not in bad_rows]
    known = {s.code for s in repo.list_schools()}
    kept: list[Zone] = []
    for i, z in zip(rows, zones, strict=True):
        missing = [c for c in z.school_codes if c not in known]
        if missing:
            reason = (f"unknown school code(s) {', '.join(missing)}{f' ({z.name})' if z.name else ''}: "
                      "import the schools first (学校代码不存在)")
            report.rejected.append(RowProblem(int(frame.index[i]), reason, ",".join(z.school_codes)))
        else:
            kept.append(z)
    report.rejected.sort(key=lambda p: p.row)
    return kept


def import_zones_file(repo: Repository, path: Path, *, plan_name: str, district: str, level: str, year: int, adopt: bool,
                      opts: ImportOptions, actor: str, progress: Progress | None = None,
                      on_total: Callable[[int], None] | None = None) -> tuple[Plan, ImportReport]:
    level = check_slug(level, what="level")
    district = check_slug(district, what="district")
    frame = apply_where(read_frame(path, crs=opts.crs, layer=opts.layer, zip_limits=opts.zip_limits), opts.where)
    if on_total:
        on_total(len(frame))
    zones, report = parse_zones(frame, mapping=parse_mapping(opts.mapping), code_prefix=opts.code_prefix, progress=progress)
    zones = reject_unknown_schools(repo, frame, zones, report)
    _finish(report, opts)
    if not zones:
        msg = f"{Path(path).name}: no zones to import (check --where and the file)"
        raise InvalidInput(msg, where="file")
    plan = repo.import_plan(name=plan_name, district=district, level=level, school_year=year, zones=zones, adopt=adopt,
                            actor=actor)
    report.written = len(zones)
    if report.repaired:
        report.notes.append(f"{len(report.repaired)} invalid polygons repaired with shapely make_valid (polygon parts kept)")
    return plan, report


def report_lines(report: ImportReport) -> list[str]:
    """Human-readable summary lines for the CLI."""
    lines = [(f"{report.kind}: {report.rows_read} read, {report.written} written, {len(report.repaired)} repaired, "
              f"{len(report.rejected)} rejected")]
    lines += [f"  repaired row {p.row} ({p.feature or 'no code'}): {p.reason}" for p in report.repaired[:20]]
    if len(report.repaired) > 20:
        lines.append(f"  ... and {len(report.repaired) - 20} more repaired")
    lines += [f"  rejected row {p.row} ({p.feature or 'no code'}): {p.reason}" for p in report.rejected[:50]]
    lines += [f"  note: {n}" for n in report.notes]
    return lines


def import_demand_file(repo: Repository, path: Path, *, name: str, id_column: str, population: str | None = None,
                       level_columns: Sequence[str] = (), grade_columns: Sequence[str] = (), rates: Sequence[str] = (),
                       calibrate: Sequence[str] = (), crs: str | None = None, actor: str) -> dict[str, object]:
    """Load demand units (blocks, compounds 小区, address points) into the demand set ``name``.

    Counts come from per-level columns (``primary=KIDS_P``), per-grade columns (``K=KIDS_K``), or
    the population column times a per-capita rate per level: configured (``elementary=0.075``) or
    calibrated from the enrolment of the schools of each level inside the units' extent.
    """
    import shapely

    from geo.planning.demand import LevelRate, calibrate_rates, level_totals_from_schools, units_from_frame

    name = check_slug(name, what="demand")
    frame = read_frame(path, crs=crs)
    level_map = parse_mapping(level_columns)
    grade_map = parse_mapping(grade_columns)
    configured = []
    for lv, value in parse_mapping(rates).items():
        try:
            configured.append(LevelRate(check_slug(lv, what="level"), float(value), "configured", f"--rate {lv}={value}"))
        except ValueError as exc:
            msg = f"--rate {lv}={value}: the rate must be a number of children per resident"
            raise InvalidInput(msg, where="rate") from exc
    calibrated: tuple[LevelRate, ...] = ()
    bbox = tuple(float(v) for v in frame.total_bounds)
    if calibrate:
        if population is None or population not in frame.columns:
            raise InvalidInput("--calibrate needs --population naming the population column", where="population")
        levels = [check_slug(lv, what="level") for lv in calibrate]
        schools = [s for lv in levels for s in repo.list_schools(bbox=bbox, level=lv)]
        area = shapely.union_all(shapely.envelope(frame.geometry.values))
        inside = {s.code: s for s in schools if area.intersects(shapely.Point(s.lon, s.lat))}
        totals = level_totals_from_schools(list(inside.values()), levels)
        empty = [lv for lv, t in totals.items() if t <= 0]
        if empty:
            msg = f"no enrolment found for level(s) {', '.join(empty)} among the schools inside the demand area"
            raise InvalidInput(msg, where="calibrate")
        pop_total = float(frame[population].astype(float).clip(lower=0).sum())
        per_level = {lv: sum(1 for s in inside.values() if lv in s.levels) for lv in levels}
        sources = {lv: f"enrolment of {n} {lv} school{'' if n == 1 else 's'} inside the area / population of {len(frame)} units"
                   for lv, n in per_level.items()}
        calibrated = calibrate_rates(population=pop_total, level_totals=totals, source=sources)
    units, load = units_from_frame(frame, id_column=id_column, level_columns=level_map, grade_columns=grade_map,
                                   population_column=population, rates=tuple(configured) + calibrated)
    kind = load.method
    report: dict[str, object] = {
        "units": load.units, "method": load.method, "levels": list(load.levels), "totals": dict(load.totals),
        "population": load.population, "bbox": list(bbox),
        "rates": [{"level": r.level, "rate": r.rate, "basis": r.basis, "source": r.source, "children": r.children,
                   "population": r.population} for r in load.rates],
        "explanations": [{"en": en, "zh": zh} for en, zh in load.explanations],
    }
    repo.import_demand(name, units, kind=kind, report=report, actor=actor)
    return report


def osm_schools(pbf: Path, *, levels: Sequence[str], name_pattern: str | None, only_names: str | None) -> Selection:
    """Schools from an OpenStreetMap extract (amenity=school, and named buildings matching
    ``name_pattern``), kept when their name matches ``only_names`` and their tags fit ``levels``;
    universities, kindergartens and professional schools are skipped, each with the reason."""
    import re

    from geo.io.osm_levels import Skipped, select_schools
    from geo.io.osm_schools import read_osm_schools

    try:
        keep = re.compile(only_names) if only_names else None
    except re.error as exc:
        msg = f"--only-names is not a valid regular expression: {exc}"
        raise InvalidInput(msg, where="only-names") from exc
    lv = tuple(check_slug(x, what="level") for x in levels)
    found = read_osm_schools(pbf, name_pattern=name_pattern)
    named = [s for s in found if keep is None or keep.search(s.name)]
    selection = select_schools(named, lv)
    taken = {s.code for s in named}
    selection.skipped.extend(Skipped(s.code, s.name, "name does not match --only-names") for s in found if s.code not in taken)
    return selection




def import_osm_schools(repo: Repository, pbf: Path, *, levels: Sequence[str], name_pattern: str | None,
                       only_names: str | None, actor: str) -> tuple[Selection, int]:
    """The schools :func:`osm_schools` keeps, written (inserted or updated); returns them and how many were written."""
    found = osm_schools(pbf, levels=levels, name_pattern=name_pattern, only_names=only_names)
    return found, repo.import_schools(found.schools, actor=actor) if found.schools else 0
