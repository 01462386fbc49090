"""``catchment import`` and ``catchment export``: schools, zones, demand and addresses in files."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from service.cli_common import (
    CLI_ACTOR,
    CrsOpt,
    DbOpt,
    FileArg,
    MapOpt,
    OutArg,
    PrefixOpt,
    WhereOpt,
    console,
    errors,
    open_repo,
    progress_bar,
)
from service.operations import exports
from service.operations.imports import ImportOptions, import_schools_file, import_zones_file, report_lines
from service.settings import Settings

import_app = typer.Typer(help="Import schools or zones from GeoJSON, GeoPackage, Shapefile (.shp/.zip) or CSV.")
export_app = typer.Typer(help="Export schools or a plan's zones.")


@import_app.command("schools")
def import_schools(file: Annotated[Path, typer.Argument(help=".geojson, .gpkg, .shp, .zip or .csv; with --from-osm an .osm.pbf")], map: MapOpt = None, code_prefix: PrefixOpt = "",
                   from_osm: Annotated[bool, typer.Option("--from-osm", help="FILE is an .osm.pbf: read amenity=school features")] = False,
                   level: Annotated[list[str] | None, typer.Option("--level", help="with --from-osm: keep schools whose tags fit this "
                                                                    "level (repeatable); untagged ones are assumed")] = None,
                   name_pattern: Annotated[str | None, typer.Option(help="with --from-osm: also take named buildings matching this regex")] = None,
                   only_names: Annotated[str | None, typer.Option(help="with --from-osm: keep only schools whose name matches this regex")] = None,
                   level_map: Annotated[list[str] | None, typer.Option("--level-map", help="'Source value=level[,level]'")] = None,
                   where: WhereOpt = None, crs: Annotated[str | None, typer.Option(help="CRS of the file when it has none, e.g. EPSG:28356")] = None,
                   allow_rejects: Annotated[bool, typer.Option(help="write the valid rows even if some are rejected")] = False,
                   database: DbOpt = None) -> None:
    """Import (insert or update) schools, all-or-nothing."""
    if from_osm:

        from service.operations.imports import import_osm_schools

        with errors():
            found, written = import_osm_schools(open_repo(database), file, levels=level or (), name_pattern=name_pattern,
                                                only_names=only_names, actor=CLI_ACTOR)
        console.print(f"schools from OpenStreetMap {file.name}: {written} written, {len(found.skipped)} skipped")
        assumed = {s.code for s in found.assumed}
        for s in found.schools:
            note = "  (level unknown, assumed)" if s.code in assumed else ""
            console.print(f"  {s.code}  {s.name}  ({s.lon:.5f}, {s.lat:.5f}){note}")
        for reason, names in found.skipped_by_reason().items():
            more = f" and {len(names) - 3} more" if len(names) > 3 else ""
            console.print(f"  skipped {len(names)}: {reason}: {'; '.join(names[:3])}{more}")
        if not found.schools and name_pattern is None:
            console.print("  no school kept: where schools are mapped only as named buildings, take them with "
                          "--name-pattern, e.g. --name-pattern '\\b(Elementary|Middle|High) School\\b'")
        return
    opts = ImportOptions(mapping=map or [], code_prefix=code_prefix, where=where or [], level_map=level_map or [], crs=crs,
                         allow_rejects=allow_rejects)
    with errors(), progress_bar(f"schools from {file.name}") as (advance, total):
        report = import_schools_file(open_repo(database), file, opts=opts, actor=CLI_ACTOR, progress=advance, on_total=total)
    for line in report_lines(report):
        console.print(line)


@import_app.command("zones")
def import_zones(file: FileArg, plan: Annotated[str, typer.Option(help="name of the new plan")],
                 level: Annotated[str, typer.Option(help="school level, e.g. primary")],
                 year: Annotated[int, typer.Option(help="school year the plan is for")],
                 district: Annotated[str, typer.Option(help="authority the plan belongs to")] = "default",
                 adopt: Annotated[bool, typer.Option(help="adopt the plan (archives the adopted one)")] = False,
                 map: MapOpt = None, code_prefix: PrefixOpt = "", where: WhereOpt = None, crs: CrsOpt = None,
                 allow_rejects: Annotated[bool, typer.Option(help="write the valid zones even if some rows are rejected "
                                                                  "(each is reported with its reason)")] = False,
                 database: DbOpt = None) -> None:
    """Import zones into a new plan, all-or-nothing; invalid polygons are repaired and reported."""
    opts = ImportOptions(mapping=map or [], code_prefix=code_prefix, where=where or [], crs=crs, allow_rejects=allow_rejects)
    with errors(), progress_bar(f"zones from {file.name}") as (advance, total):
        created, report = import_zones_file(open_repo(database), file, plan_name=plan, district=district, level=level, year=year,
                                            adopt=adopt, opts=opts, actor=CLI_ACTOR, progress=advance, on_total=total)
    for line in report_lines(report):
        console.print(line)
    console.print(f"plan {created.id} '{created.name}' ({created.level}, {created.school_year}): {created.status.value}")


@import_app.command("demand")
def import_demand(file: FileArg, name: Annotated[str, typer.Option(help="name of the demand set (replaced if it exists)")],
                  id: Annotated[str, typer.Option("--id", help="column with each unit's unique id")],
                  population: Annotated[str | None, typer.Option(help="column of residents")] = None,
                  level: Annotated[list[str] | None, typer.Option("--level", help="LEVEL=COLUMN of children of that level")] = None,
                  grade: Annotated[list[str] | None, typer.Option("--grade", help="GRADE=COLUMN of children of that grade")] = None,
                  rate: Annotated[list[str] | None, typer.Option("--rate", help="LEVEL=children per resident")] = None,
                  calibrate: Annotated[list[str] | None, typer.Option("--calibrate", help="LEVEL: rate = enrolment of the area's schools / population")] = None,
                  crs: CrsOpt = None, database: DbOpt = None) -> None:
    """Import demand units (blocks, compounds, address points) with children per level or grade."""
    from service.operations.imports import import_demand_file

    with errors():
        report = import_demand_file(open_repo(database), file, name=name, id_column=id, population=population,
                                    level_columns=level or [], grade_columns=grade or [], rates=rate or [],
                                    calibrate=calibrate or [], crs=crs, actor=CLI_ACTOR)
    console.print(f"demand set {name!r}: {report['units']} units ({report['method']})")
    for lv, total in dict(report["totals"]).items():  # type: ignore[call-overload]
        console.print(f"  {lv}: {total:,.0f} children")
    for e in report["explanations"]:  # type: ignore[attr-defined]
        console.print(f"  {e['en']}")
        console.print(f"  {e['zh']}")


@import_app.command("addresses")
def import_addresses(file: Annotated[Path | None, typer.Argument(help="CSV (lon/lat columns) or a point file: GeoJSON, "
                                                                  "GeoPackage, Shapefile; or an .osm.pbf")] = None,
                     from_osm: Annotated[Path | None, typer.Option("--from-osm", help="an OSM file (.osm.pbf): addr:* of "
                                                                                       "nodes and buildings")] = None,
                     map: Annotated[list[str] | None, typer.Option("--map", help="field=COLUMN for id, text, number, street, "
                                                                      "locality, postcode (and lon, lat in a CSV); repeatable")] = None,
                     crs: Annotated[str | None, typer.Option(help="CRS of the coordinates: EPSG:<code>, gcj02 or bd09 "
                                                                  "(default EPSG:4326, or the file's own)")] = None,
                     dataset: Annotated[str | None, typer.Option(help="name of the address set (replaced if it exists; "
                                                                      "default: the file name)")] = None,
                     database: DbOpt = None) -> None:
    """Import address points for the offline gazetteer (address lookups and type-ahead), all-or-nothing."""
    from service.operations.addresses import import_addresses_file, unread_columns

    source = from_osm or file
    if source is None or (from_osm is not None and file is not None):
        console.print("give one address file, or --from-osm FILE.osm.pbf")
        raise typer.Exit(2)
    with errors():
        name, n = import_addresses_file(open_repo(database), source, dataset=dataset, mapping=map or [], crs=crs,
                                        actor=CLI_ACTOR)
    console.print(f"addresses: {n} points written to dataset {name!r}; lookups use them within a second")
    with errors():
        note = unread_columns(source, mapping=map or [])
    if note:
        console.print(f"warning: {note}")


@import_app.command("rules")
def import_rules_cmd(file: Annotated[Path, typer.Argument(help="CSV or XLSX: school_code, street, from, to, parity, "
                                                               "compound, building_from, building_to, village, text")],
                     plan: Annotated[int, typer.Option("--plan", help="the plan whose rules are replaced")],
                     database: DbOpt = None) -> None:
    """Import a plan's address rules (招生范围 lists), all-or-nothing: a bad row writes nothing."""
    from service.operations.rules import import_rules_file

    with errors():
        n = import_rules_file(open_repo(database), file, plan_id=plan, actor=CLI_ACTOR)
    console.print(f"rules: {n} rules written to plan {plan}; lookups use them within a second")


@import_app.command("sample")
def import_sample(database: DbOpt = None,
                  if_empty: Annotated[bool, typer.Option(help="only into an empty database (for a deployment's "
                                                               "one-shot init)")] = False) -> None:
    """Load the bundled real sample (see data/boundaries/README.md)."""
    from service.sample import is_empty, load_sample

    with errors():
        url = database or Settings().database.url
        repo = open_repo(url)
        if if_empty and not is_empty(repo):
            console.print("the database holds data already: the sample is not loaded")
            return
        load_sample(repo, Settings().sample.dir, say=console.print)


@export_app.command("schools")
def export_schools(out: OutArg, database: DbOpt = None) -> None:
    """Write every school to OUT (.geojson, .gpkg, .shp, .zip or .csv by suffix)."""
    with errors():
        n = exports.export_schools(open_repo(database), out)
    console.print(f"{n} schools written to {out}")


@export_app.command("zones")
def export_zones(plan_id: Annotated[int, typer.Argument(help="id of the plan (see GET /v1/plans)")], out: OutArg,
                 database: DbOpt = None) -> None:
    """Write one plan's zones to OUT."""
    with errors():
        n = exports.export_zones(open_repo(database), plan_id, out)
    console.print(f"{n} zones written to {out}")
