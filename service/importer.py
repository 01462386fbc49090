"""File imports shared by the CLI and the HTTP upload routes: read, parse, then write atomically.

An import is all-or-nothing: if any row is rejected nothing is written (unless the caller
allows rejects explicitly), and the report says why per row.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from geo.errors import InvalidInput
from geo.io import ImportReport, apply_where, parse_mapping, parse_schools, parse_zones, read_frame
from geo.models import Plan, check_slug
from service.storage.base import Repository

Progress = Callable[[int], None]


class RejectedRows(InvalidInput):
    """Some rows were rejected, so nothing was written; ``extra['report']`` lists them."""

    def __init__(self, report: ImportReport) -> None:
        first = report.rejected[0]
        msg = (f"{len(report.rejected)} of {report.rows_read} {report.kind} rows rejected, nothing written; "
               f"first: row {first.row} ({first.feature or '?'}): {first.reason}")
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
    frame = apply_where(read_frame(path, crs=opts.crs, layer=opts.layer), opts.where)
    if on_total:
        on_total(len(frame))
    schools, report = parse_schools(frame, mapping=parse_mapping(opts.mapping), code_prefix=opts.code_prefix,
                                    level_map=parse_level_map(opts.level_map) or None, progress=progress)
    _finish(report, opts)
    report.written = repo.import_schools(schools, actor=actor)
    report.notes.extend(opts.extra_notes)
    return report


def import_zones_file(repo: Repository, path: Path, *, plan_name: str, district: str, level: str, year: int, adopt: bool,
                      opts: ImportOptions, actor: str, progress: Progress | None = None,
                      on_total: Callable[[int], None] | None = None) -> tuple[Plan, ImportReport]:
    level = check_slug(level, what="level")
    district = check_slug(district, what="district")
    frame = apply_where(read_frame(path, crs=opts.crs, layer=opts.layer), opts.where)
    if on_total:
        on_total(len(frame))
    zones, report = parse_zones(frame, mapping=parse_mapping(opts.mapping), code_prefix=opts.code_prefix, progress=progress)
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
    lines = [f"{report.kind}: {report.rows_read} read, {report.written} written, {len(report.repaired)} repaired, "
             f"{len(report.rejected)} rejected"]
    lines += [f"  repaired row {p.row} ({p.feature}): {p.reason}" for p in report.repaired[:20]]
    if len(report.repaired) > 20:
        lines.append(f"  ... and {len(report.repaired) - 20} more repaired")
    lines += [f"  rejected row {p.row} ({p.feature}): {p.reason}" for p in report.rejected[:50]]
    lines += [f"  note: {n}" for n in report.notes]
    return lines


def mapping_dict(pairs: Mapping[str, str]) -> list[str]:
    return [f"{k}={v}" for k, v in pairs.items()]
