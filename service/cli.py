"""The ``catchment`` command: serve, import, export, lookup, keys, db."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from geo.errors import CatchmentError
from geo.io.write import schools_frame, write_frame, zones_frame
from geo.models import Role
from service.operations.imports import ImportOptions, import_schools_file, import_zones_file, report_lines
from service.settings import Settings
from service.storage import network_dir, open_repository
from service.storage.base import Repository

app = typer.Typer(help="Catchment: school catchment lookup, maps and planning.", no_args_is_help=True)
import_app = typer.Typer(help="Import schools or zones from GeoJSON, GeoPackage, Shapefile (.shp/.zip) or CSV.")
export_app = typer.Typer(help="Export schools or a plan's zones.")
keys_app = typer.Typer(help="API keys for writes.")
db_app = typer.Typer(help="Database schema.")
network_app = typer.Typer(help="Street networks from OpenStreetMap, for walking and driving distances.")
plans_app = typer.Typer(help="Plans: generate zones.")
app.add_typer(import_app, name="import")
app.add_typer(export_app, name="export")
app.add_typer(keys_app, name="keys")
app.add_typer(db_app, name="db")
app.add_typer(network_app, name="network")
app.add_typer(plans_app, name="plans")

console = Console(stderr=True)
CLI_ACTOR = f"cli:{os.environ.get('USER', 'unknown')}"

DbOpt = Annotated[str | None, typer.Option("--database", envvar="CATCHMENT_DATABASE_URL", help="sqlite:///path or postgresql://...")]
MapOpt = Annotated[list[str] | None, typer.Option("--map", help="target=SOURCE_FIELD, e.g. code=USE_ID (repeatable)")]
WhereOpt = Annotated[list[str] | None, typer.Option("--where", help="FIELD=v1,v2: keep rows whose FIELD is listed")]


def _repo(url: str | None) -> Repository:
    return open_repository(url or Settings().database.url)


@contextmanager
def _errors() -> Iterator[None]:
    try:
        yield
    except CatchmentError as exc:
        console.print(f"[red]error[/red]: {exc.message}" + (f" (at {exc.where})" if exc.where else ""))
        report = getattr(exc, "extra", {}).get("report") if hasattr(exc, "extra") else None
        if report:
            for p in report["rejected"][:50]:
                console.print(f"  rejected row {p['row']} ({p['feature']}): {p['reason']}")
        raise typer.Exit(2) from exc


@contextmanager
def _bar(label: str) -> Iterator[tuple[Any, Any]]:
    with Progress(TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console,
                  transient=False, disable=not console.is_terminal) as bar:
        task = bar.add_task(label, total=None)
        yield (lambda n: bar.advance(task, n)), (lambda total: bar.update(task, total=total))


@app.command()
def serve(host: Annotated[str, typer.Option()] = "127.0.0.1", port: Annotated[int, typer.Option()] = 8000,
          workers: Annotated[int, typer.Option(min=1)] = 1, sample: Annotated[bool, typer.Option(help="load the bundled sample into an empty database first")] = True,
          database: DbOpt = None) -> None:
    """Run the HTTP service (uvicorn)."""
    import uvicorn

    from service.sample import is_empty, load_sample

    settings = Settings()
    url = database or settings.database.url
    os.environ["CATCHMENT_DATABASE_URL"] = url
    with _errors():
        repo = open_repository(url)
        if sample and is_empty(repo):
            console.print("Loading the bundled real sample (Greater Sydney, Fairfax County) ...")
            load_sample(repo, settings.sample.dir, networks=network_dir(url), say=console.print)
        repo.close()
    # The sample is loaded here once, before any worker starts, so workers never race to load it.
    os.environ["CATCHMENT_SAMPLE_LOAD"] = "false"
    base = f"http://{host}:{port}"
    console.print(f"API docs: {base}/docs")
    console.print(f"Coverage map: {base}/v1/maps/coverage?district=nsw")
    console.print(f"Lookup: {base}/v1/lookup?lon=151.1796&lat=-33.7738")
    uvicorn.run("service.main:app", host=host, port=port, workers=workers, log_level="info")


@import_app.command("schools")
def import_schools(file: Path, map: MapOpt = None, code_prefix: Annotated[str, typer.Option()] = "",
                   from_osm: Annotated[bool, typer.Option("--from-osm", help="FILE is an .osm.pbf: read amenity=school features")] = False,
                   level: Annotated[list[str] | None, typer.Option("--level", help="with --from-osm: level(s) of the schools")] = None,
                   name_pattern: Annotated[str | None, typer.Option(help="with --from-osm: also take named buildings matching this regex")] = None,
                   only_names: Annotated[str | None, typer.Option(help="with --from-osm: keep only schools whose name matches this regex")] = None,
                   level_map: Annotated[list[str] | None, typer.Option("--level-map", help="'Source value=level[,level]'")] = None,
                   where: WhereOpt = None, crs: Annotated[str | None, typer.Option(help="CRS of the file when it has none, e.g. EPSG:28356")] = None,
                   allow_rejects: Annotated[bool, typer.Option(help="write the valid rows even if some are rejected")] = False,
                   database: DbOpt = None) -> None:
    """Import (insert or update) schools, all-or-nothing."""
    if from_osm:

        from service.operations.imports import osm_schools

        with _errors():
            found = osm_schools(file, levels=level or (), name_pattern=name_pattern, only_names=only_names)
            written = _repo(database).import_schools(found, actor=CLI_ACTOR)
        console.print(f"schools from OpenStreetMap {file.name}: {written} written")
        for s in found:
            console.print(f"  {s.code}  {s.name}  ({s.lon:.5f}, {s.lat:.5f})")
        return
    opts = ImportOptions(mapping=map or [], code_prefix=code_prefix, where=where or [], level_map=level_map or [], crs=crs,
                         allow_rejects=allow_rejects)
    with _errors(), _bar(f"schools from {file.name}") as (advance, total):
        report = import_schools_file(_repo(database), file, opts=opts, actor=CLI_ACTOR, progress=advance, on_total=total)
    for line in report_lines(report):
        console.print(line)


@import_app.command("zones")
def import_zones(file: Path, plan: Annotated[str, typer.Option(help="name of the new plan")],
                 level: Annotated[str, typer.Option(help="school level, e.g. primary")],
                 year: Annotated[int, typer.Option(help="school year the plan is for")],
                 district: Annotated[str, typer.Option(help="authority the plan belongs to")] = "default",
                 adopt: Annotated[bool, typer.Option(help="adopt the plan (archives the adopted one)")] = False,
                 map: MapOpt = None, code_prefix: Annotated[str, typer.Option()] = "", where: WhereOpt = None,
                 crs: Annotated[str | None, typer.Option()] = None,
                 allow_rejects: Annotated[bool, typer.Option()] = False, database: DbOpt = None) -> None:
    """Import zones into a new plan, all-or-nothing; invalid polygons are repaired and reported."""
    opts = ImportOptions(mapping=map or [], code_prefix=code_prefix, where=where or [], crs=crs, allow_rejects=allow_rejects)
    with _errors(), _bar(f"zones from {file.name}") as (advance, total):
        created, report = import_zones_file(_repo(database), file, plan_name=plan, district=district, level=level, year=year,
                                            adopt=adopt, opts=opts, actor=CLI_ACTOR, progress=advance, on_total=total)
    for line in report_lines(report):
        console.print(line)
    console.print(f"plan {created.id} '{created.name}' ({created.level}, {created.school_year}): {created.status.value}")


@import_app.command("demand")
def import_demand(file: Path, name: Annotated[str, typer.Option(help="name of the demand set (replaced if it exists)")],
                  id: Annotated[str, typer.Option("--id", help="column with each unit's unique id")],
                  population: Annotated[str | None, typer.Option(help="column of residents")] = None,
                  level: Annotated[list[str] | None, typer.Option("--level", help="LEVEL=COLUMN of children of that level")] = None,
                  grade: Annotated[list[str] | None, typer.Option("--grade", help="GRADE=COLUMN of children of that grade")] = None,
                  rate: Annotated[list[str] | None, typer.Option("--rate", help="LEVEL=children per resident")] = None,
                  calibrate: Annotated[list[str] | None, typer.Option("--calibrate", help="LEVEL: rate = enrolment of the area's schools / population")] = None,
                  crs: Annotated[str | None, typer.Option()] = None, database: DbOpt = None) -> None:
    """Import demand units (blocks, compounds, address points) with children per level or grade."""
    from service.operations.imports import import_demand_file

    with _errors():
        report = import_demand_file(_repo(database), file, name=name, id_column=id, population=population,
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
    with _errors():
        name, n = import_addresses_file(_repo(database), source, dataset=dataset, mapping=map or [], crs=crs,
                                        actor=CLI_ACTOR)
    console.print(f"addresses: {n} points written to dataset {name!r}; lookups use them within a second")
    with _errors():
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

    with _errors():
        n = import_rules_file(_repo(database), file, plan_id=plan, actor=CLI_ACTOR)
    console.print(f"rules: {n} rules written to plan {plan}; lookups use them within a second")


@import_app.command("sample")
def import_sample(database: DbOpt = None) -> None:
    """Load the bundled real sample (see data/boundaries/README.md)."""
    from service.sample import load_sample

    with _errors():
        url = database or Settings().database.url
        load_sample(_repo(url), Settings().sample.dir, networks=network_dir(url), say=console.print)


@export_app.command("schools")
def export_schools(out: Path, database: DbOpt = None) -> None:
    """Write every school to OUT (.geojson, .gpkg, .shp, .zip or .csv by suffix)."""
    with _errors():
        schools = _repo(database).list_schools()
        write_frame(schools_frame(schools), out)
    console.print(f"{len(schools)} schools written to {out}")


@export_app.command("zones")
def export_zones(plan_id: int, out: Path, database: DbOpt = None) -> None:
    """Write one plan's zones to OUT."""
    with _errors():
        zones = _repo(database).zones(plan_id)
        write_frame(zones_frame(zones), out)
    console.print(f"{len(zones)} zones written to {out}")


@app.command()
def lookup(lon: Annotated[float, typer.Argument(help="longitude, EPSG:4326")], lat: Annotated[float, typer.Argument(help="latitude")],
           level: Annotated[str | None, typer.Option()] = None, grade: Annotated[str | None, typer.Option()] = None,
           year: Annotated[int | None, typer.Option()] = None, database: DbOpt = None) -> None:
    """Which school serves (lon, lat); prints the JSON answer (the same answer as GET /v1/lookup)."""
    from service.operations.lookup import lookup as lookup_op
    from service.schemas import LookupOut
    from service.state import build_snapshot

    with _errors():
        snap = build_snapshot(_repo(database))
        got = asyncio.run(lookup_op(snap, Settings(), remote=None, lon=lon, lat=lat, level=level, grade=grade, year=year))
    out = LookupOut.from_answer(got.answer, input=got.at.input, in_crs=got.at.in_crs)
    sys.stdout.write(out.model_dump_json(indent=2) + "\n")


@keys_app.command("create")
def keys_create(role: Annotated[Role, typer.Option(help="planner or admin")],
                name: Annotated[str, typer.Option(help="who the key is for")] = "key", database: DbOpt = None) -> None:
    """Create a key; the secret is printed once (stored hashed)."""
    with _errors():
        key, secret = _repo(database).create_key(name=name, role=role, actor=CLI_ACTOR)
    console.print(f"key {key.id} ({key.role.value}, {key.name}) created; keep the secret, it is not shown again:")
    sys.stdout.write(secret + "\n")


@keys_app.command("list")
def keys_list(database: DbOpt = None) -> None:
    """List keys (never their secrets)."""
    for k in _repo(database).list_keys():
        state = f"revoked {k.revoked_at:%Y-%m-%d}" if k.revoked_at else "active"
        sys.stdout.write(f"{k.id}\t{k.role.value}\t{k.name}\t{state}\n")


@keys_app.command("revoke")
def keys_revoke(key_id: int, database: DbOpt = None) -> None:
    """Revoke a key at once."""
    with _errors():
        _repo(database).revoke_key(key_id, actor=CLI_ACTOR)
    console.print(f"key {key_id} revoked")


@db_app.command("upgrade")
def db_upgrade(database: DbOpt = None) -> None:
    """Apply pending migrations (also done on every start)."""
    from service.storage import open_repository as _open

    with _errors():
        repo = _open(database or Settings().database.url)
        console.print(json.dumps({"zone_version": repo.zone_version()}))


@network_app.command("build")
def network_build(file: Path, mode: Annotated[str, typer.Option(help="walk or drive")] = "walk",
                  name: Annotated[str | None, typer.Option(help="name to register (default: the file's stem)")] = None,
                  database: DbOpt = None) -> None:
    """Turn an .osm.pbf extract into a routable graph, store it next to the database and register it."""
    from service.networks import build_and_register, check_mode
    from service.storage import network_dir

    url = database or Settings().database.url
    with _errors(), _bar(f"{mode} network from {file.name}") as (advance, _):
        check_mode(mode, allow_straight=False)
        info = build_and_register(_repo(url), file, mode=mode, name=name or file.name.split(".")[0], folder=network_dir(url),
                                  actor=CLI_ACTOR, progress=advance)
    console.print(f"network {info['name']} ({mode}): {info['nodes']:,} nodes, {info['edges']:,} edges -> {info['path']}")


@network_app.command("list")
def network_list(database: DbOpt = None) -> None:
    """Registered networks."""
    for n in _repo(database).networks():
        sys.stdout.write(f"{n['name']}\t{n['mode']}\t{n['stats'].get('nodes')} nodes\t{n['path']}\n")


@plans_app.command("generate")
def plans_generate(name: Annotated[str, typer.Option()], level: Annotated[str, typer.Option()],
                   year: Annotated[int, typer.Option()], district: Annotated[str, typer.Option()] = "default",
                   mode: Annotated[str, typer.Option(help="walk or drive")] = "walk", database: DbOpt = None) -> None:
    """A draft plan: zones nearest each school of LEVEL along the streets (network-nearest)."""
    from service.operations.travel import generate_network_plan
    from service.state import SnapshotHolder

    with _errors():
        repo = _repo(database)
        snap = SnapshotHolder(repo, check_every_s=0).refresh()
        plan, info = generate_network_plan(repo, snap, name=name, district=district, level=level, year=year, mode=mode,
                                           actor=CLI_ACTOR)
    console.print(f"plan {plan.id} '{plan.name}' (draft): {info['zones']} zones for {info['schools']} schools; "
                  f"clean coverage: {info['coverage_valid']} (gaps {info['gap_m2']:.1f} m2, overlaps {info['overlap_m2']:.1f} m2)")


@app.command()
def bench(data: Annotated[Path | None, typer.Option(help="statewide catchments GeoJSON (default: bench/data/, copied from ../shared)")] = None,
          quick: Annotated[bool, typer.Option(help="200k points and fewer runs: a smoke test")] = False,
          only: Annotated[list[str] | None, typer.Option(help="run only this section (repeatable): import, index, single, bulk, "
                                                               "postgis, exact, memory, http, map")] = None,
          skip: Annotated[list[str] | None, typer.Option(help="skip this section (repeatable)")] = None,
          profile_http: Annotated[bool, typer.Option(help="py-spy flame graph of a worker under /v1/lookup load")] = False) -> None:
    """Benchmarks against peers (see bench/README.md); writes bench/results/catchment.json."""
    from service.settings import REPO_ROOT

    if not (REPO_ROOT / "bench" / "suite.py").is_file():
        console.print("[red]error[/red]: bench/ is only in a source checkout of catchment")
        raise typer.Exit(2)
    # bench/ is a development package beside the installed ones, not part of the wheel.
    sys.path.insert(0, str(REPO_ROOT))
    from bench.suite import main as bench_main

    argv = [*(["--data", str(data)] if data else []), *(["--quick"] if quick else []), *(["--profile-http"] if profile_http else [])]
    argv += [a for s in only or [] for a in ("--only", s)] + [a for s in skip or [] for a in ("--skip", s)]
    raise typer.Exit(bench_main(argv))


@app.command()
def assign(file: Annotated[Path, typer.Argument(help="points: GeoParquet, CSV (id, lon, lat) or a vector file")],
           out: Annotated[Path, typer.Argument(help="result: a GeoParquet folder (.parquet) or a CSV file (.csv)")],
           scheduler: Annotated[str | None, typer.Option(help="tcp://host:8786 of a Dask scheduler (default: a LocalCluster)")] = None,
           workers: Annotated[int, typer.Option(min=1, help="LocalCluster worker processes")] = 2,
           level: Annotated[str | None, typer.Option(help="only this level's zones")] = None,
           grade: Annotated[str | None, typer.Option(help="only zones serving this grade (K, 1..12)")] = None,
           year: Annotated[int | None, typer.Option(help="the school year (default: this year)")] = None,
           partitions: Annotated[int, typer.Option(min=0, help="partitions (0: as read)")] = 0,
           shuffle: Annotated[bool, typer.Option(help="sort the whole input spatially across partitions first")] = False,
           database: DbOpt = None) -> None:
    """Assign every point of FILE to its zones and schools on Dask, with a progress bar."""
    from service.dask_cluster import DaskClients
    from service.operations.assign import run_assign
    from service.settings import DaskSettings
    from service.state import build_snapshot

    settings = Settings()
    fmt = "csv" if out.suffix.lower() == ".csv" else "parquet"
    clients = DaskClients(DaskSettings(scheduler=scheduler or settings.dask.scheduler, workers=workers))
    with _errors(), _bar(f"assigning {file.name}") as (advance, total):
        snap = build_snapshot(_repo(database))
        seen = [0]

        def progress(done: int, n: int) -> None:
            total(n)
            advance(done - seen[0])
            seen[0] = done

        try:
            got = run_assign(snap, settings, clients.client(), file, out, fmt=fmt, level=level, grade=grade, year=year,
                             partitions=partitions, shuffle=shuffle, progress=progress)
        finally:
            clients.close()
    console.print(f"{got.rows:,} points in {got.partitions} partitions assigned in {got.seconds:.1f} s "
                  f"({got.rows / max(got.seconds, 1e-9):,.0f} points/s) -> {out}")


@app.command("maps")
def maps_cmd(kind: Annotated[str, typer.Argument(help="coverage, travel, overcrowding, lookup, plan or compare")],
             out: Annotated[Path, typer.Option("--out", help="the HTML file to write")],
             level: Annotated[str | None, typer.Option()] = None, district: Annotated[str | None, typer.Option()] = None,
             year: Annotated[int | None, typer.Option()] = None, plan: Annotated[int | None, typer.Option()] = None,
             mode: Annotated[str, typer.Option(help="travel: straight, walk or drive")] = "straight",
             units: Annotated[str, typer.Option(help="travel: demand or nodes")] = "demand",
             lon: Annotated[float | None, typer.Option(help="lookup: longitude, EPSG:4326")] = None,
             lat: Annotated[float | None, typer.Option(help="lookup: latitude, EPSG:4326")] = None,
             a: Annotated[int | None, typer.Option(help="compare: plan before")] = None,
             b: Annotated[int | None, typer.Option(help="compare: plan after")] = None,
             lang: Annotated[str, typer.Option(help="en or zh")] = "en",
             tiles: Annotated[str | None, typer.Option(help="'osm', 'none' or 'URL|ATTRIBUTION'")] = None,
             database: DbOpt = None) -> None:
    """Write a map as a self-contained HTML file (the same maps the service serves under /v1/maps)."""
    from service.operations import maps as m
    from service.problem_cache import ProblemCache
    from service.state import SnapshotHolder

    settings = Settings()
    with _errors():
        repo = _repo(database)
        snap = SnapshotHolder(repo, check_every_s=0).refresh()
        if lang not in ("en", "zh"):
            raise typer.BadParameter("--lang must be en or zh")
        common: dict[str, Any] = {"lang": lang, "tiles": tiles}
        if kind == "coverage":
            html = m.coverage_page(repo, settings, ProblemCache(), level=level, year=year, plan=plan, district=district, **common)
        elif kind == "plan":
            html = m.coverage_page(repo, settings, ProblemCache(), plan=plan or 0, **common)
        elif kind == "overcrowding":
            html = m.overcrowding_page(repo, settings, level=level, year=year, plan=plan, district=district, **common)
        elif kind == "travel":
            html = m.travel_page(repo, snap, settings, level=level, plan=plan, district=district, year=year, mode=mode,
                                 units=units, **common)
        elif kind == "lookup":
            if lon is None or lat is None:
                raise typer.BadParameter("lookup maps need --lon and --lat (EPSG:4326)")
            html = asyncio.run(m.lookup_page(snap, settings, remote=None, lon=lon, lat=lat, level=level, year=year, **common))
        elif kind == "compare":
            if a is None or b is None:
                raise typer.BadParameter("compare maps need --a and --b (plan ids)")
            html = m.compare_page(repo, settings, a=a, b=b, **common)
        else:
            raise typer.BadParameter(f"unknown map kind {kind!r}")
        out.write_text(html, encoding="utf-8")
    console.print(f"{kind} map written to {out} ({out.stat().st_size / 1e6:.1f} MB)")


if __name__ == "__main__":
    app()
