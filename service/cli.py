"""The ``catchment`` command: serve, import, export, lookup, keys, db."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from geo.models import Role
from service.cli_admission import register as register_admission
from service.cli_common import CLI_ACTOR, DbOpt, console, errors, open_repo, progress_bar
from service.cli_districts import districts_app
from service.cli_files import export_app, import_app
from service.cli_optimise import plans_optimise
from service.settings import Settings
from service.storage import network_dir, open_repository

app = typer.Typer(help="Catchment: school catchment lookup, maps and planning.", no_args_is_help=True)
keys_app = typer.Typer(help="API keys for writes.")
db_app = typer.Typer(help="Database schema.")
network_app = typer.Typer(help="Street networks from OpenStreetMap, for walking and driving distances.")
plans_app = typer.Typer(help="Plans: generate zones, propose zones by optimisation.")
app.add_typer(import_app, name="import")
app.add_typer(export_app, name="export")
app.add_typer(keys_app, name="keys")
app.add_typer(db_app, name="db")
app.add_typer(network_app, name="network")
app.add_typer(plans_app, name="plans")
register_admission(app, import_app)
plans_app.command("optimise")(plans_optimise)
app.add_typer(districts_app, name="districts")


@app.command()
def serve(host: Annotated[str, typer.Option(help="address to listen on (0.0.0.0 for every interface)")] = "127.0.0.1",
          port: Annotated[int, typer.Option(help="TCP port to listen on")] = 8000,
          workers: Annotated[int, typer.Option(min=1, help="uvicorn worker processes")] = 1, sample: Annotated[bool, typer.Option(help="load the bundled sample into an empty database first")] = True,
          database: DbOpt = None,
          server: Annotated[str, typer.Option(help="HTTP server: uvicorn (default) or granian (the granian extra)")] = "uvicorn",
          loop: Annotated[str, typer.Option(help="uvicorn's event loop: asyncio (default; the shorter tail here) or uvloop")] = "asyncio",
          access_log: Annotated[bool, typer.Option(help="uvicorn: log a line per request (off: a proxy in front logs them)")] = False,
          ) -> None:
    """Run the HTTP service (uvicorn, or granian with --server granian)."""
    from service import serving
    from service.networks import import_network_files
    from service.sample import is_empty, load_sample

    if server not in serving.SERVERS:
        raise typer.BadParameter(f"use one of {', '.join(serving.SERVERS)}", param_hint="--server")
    if loop not in serving.LOOPS:
        raise typer.BadParameter(f"use one of {', '.join(serving.LOOPS)}", param_hint="--loop")
    settings = Settings()
    url = database or settings.database.url
    os.environ["CATCHMENT_DATABASE_URL"] = url
    with errors():
        repo = open_repository(url)
        if sample and is_empty(repo):
            console.print("Loading the bundled real sample (Greater Sydney, Fairfax County) ...")
            load_sample(repo, settings.sample.dir, say=console.print)
        for name in import_network_files(repo, folder=network_dir(url)):
            console.print(f"street network {name!r}: its file is now stored in the database")
        repo.close()
    # The sample is loaded here once, before any worker starts, so workers never race to load it.
    os.environ["CATCHMENT_SAMPLE_LOAD"] = "false"
    base = f"http://{host}:{port}"
    console.print(f"API docs: {base}/docs")
    console.print(f"Coverage map: {base}/v1/maps/coverage?district=nsw")
    console.print(f"Lookup: {base}/v1/lookup?lon=151.1796&lat=-33.7738")
    serving.run(host=host, port=port, workers=workers, server=server, loop=loop, access_log=access_log)


#: Lets ``catchment lookup 151.1796 -33.7738`` through: click would read ``-33.7738`` as the short
#: options ``-3 -3 ...``. Unknown options become arguments, which the float type then checks.
NEGATIVE_NUMBERS = {"ignore_unknown_options": True}


@app.command(context_settings=NEGATIVE_NUMBERS)
def lookup(lon: Annotated[float | None, typer.Argument(help="longitude (EPSG:4326), or x in --crs; negative numbers are fine")] = None,
           lat: Annotated[float | None, typer.Argument(help="latitude (EPSG:4326), or y in --crs, e.g. -33.7738")] = None,
           address: Annotated[str | None, typer.Option(help="free address text instead of LON LAT (the same geocoder as "
                                                             "the HTTP lookup)")] = None,
           crs: Annotated[str | None, typer.Option(help="CRS of LON LAT: EPSG:<code>, gcj02 or bd09 (default EPSG:4326)")] = None,
           level: Annotated[str | None, typer.Option(help="only this school level, e.g. primary")] = None,
           grade: Annotated[str | None, typer.Option(help="only zones serving this grade: K or 1..12")] = None,
           year: Annotated[int | None, typer.Option(help="school year asked about (zones phasing in later do not answer)")] = None,
           database: DbOpt = None) -> None:
    """Which school serves (LON, LAT) or --address; prints the JSON answer (as GET /v1/lookup)."""
    import asyncio

    from service.operations.addresses import build_remote
    from service.operations.lookup import lookup as lookup_op
    from service.schemas import LookupOut
    from service.state import build_snapshot

    settings = Settings()
    with errors():
        snap = build_snapshot(open_repo(database), grid=False)  # one point: the cell grid would cost more than it saves
        remote = build_remote(settings.geocoder) if address is not None else None
        try:
            got = asyncio.run(lookup_op(snap, settings, remote=remote, lon=lon, lat=lat, address=address, crs=crs,
                                        level=level, grade=grade, year=year))
        finally:
            if remote is not None:
                remote.close()
    out = LookupOut.from_answer(got.answer, input=got.at.input, in_crs=got.at.in_crs, missing_networks=got.missing_networks)
    sys.stdout.write(out.model_dump_json(indent=2) + "\n")


@keys_app.command("create")
def keys_create(role: Annotated[Role, typer.Option(help="planner or admin")],
                name: Annotated[str, typer.Option(help="who the key is for")] = "key", database: DbOpt = None) -> None:
    """Create a key; the secret is printed once (stored hashed)."""
    with errors():
        key, secret = open_repo(database).create_key(name=name, role=role, actor=CLI_ACTOR)
    console.print(f"key {key.id} ({key.role.value}, {key.name}) created; keep the secret, it is not shown again:")
    sys.stdout.write(secret + "\n")


@keys_app.command("list")
def keys_list(database: DbOpt = None) -> None:
    """List keys (never their secrets)."""
    for k in open_repo(database).list_keys():
        state = f"revoked {k.revoked_at:%Y-%m-%d}" if k.revoked_at else "active"
        sys.stdout.write(f"{k.id}\t{k.role.value}\t{k.name}\t{state}\n")


@keys_app.command("revoke")
def keys_revoke(key_id: Annotated[int, typer.Argument(help="id of the key (see `catchment keys list`)")], database: DbOpt = None) -> None:
    """Revoke a key at once."""
    with errors():
        open_repo(database).revoke_key(key_id, actor=CLI_ACTOR)
    console.print(f"key {key_id} revoked")


@db_app.command("upgrade")
def db_upgrade(database: DbOpt = None) -> None:
    """Apply pending migrations and store in the database the street networks still registered as
    files (both also done on every start)."""
    from service.networks import import_network_files
    from service.storage import open_repository as _open

    with errors():
        url = database or Settings().database.url
        repo = _open(url)
        imported = import_network_files(repo, folder=network_dir(url))
        console.print(json.dumps({"zone_version": repo.zone_version(), "networks_imported": imported}))


@network_app.command("build")
def network_build(file: Annotated[Path, typer.Argument(help="an OpenStreetMap extract (.osm.pbf)")], mode: Annotated[str, typer.Option(help="walk or drive")] = "walk",
                  name: Annotated[str | None, typer.Option(help="name to register (default: FILE's stem and the mode, "
                                                                "e.g. portland-walk)")] = None,
                  replace: Annotated[bool, typer.Option(help="rebuild a network of this name, or of this file and mode")] = False,
                  database: DbOpt = None) -> None:
    """Turn an .osm.pbf extract into a routable graph and store it in the database (every API host loads it).

    One network per (extract, mode): walk and drive networks of a file live side by side.
    """
    from service.networks import build_and_register, check_mode, default_network_name

    url = database or Settings().database.url
    with errors(), progress_bar(f"{mode} network from {file.name}") as (advance, _):
        check_mode(mode, allow_straight=False)
        info = build_and_register(open_repo(url), file, mode=mode, name=name or default_network_name(file, mode),
                                  actor=CLI_ACTOR, progress=advance, replace=replace)
    console.print(f"network {info['name']} ({mode}): {info['nodes']:,} nodes, {info['edges']:,} edges, "
                  f"{info['size'] / 1e6:.1f} MB stored in the database")


@network_app.command("list")
def network_list(database: DbOpt = None) -> None:
    """Registered networks."""
    repo = open_repo(database)
    stored = {a.name: a for a in repo.assets.list("network")}
    for n in repo.networks():
        where = f"stored ({stored[n['name']].size / 1e6:.1f} MB)" if n["name"] in stored else f"not stored (file {n['path']})"
        sys.stdout.write(f"{n['name']}\t{n['mode']}\t{n['stats'].get('nodes')} nodes\t{where}\n")


@plans_app.command("generate")
def plans_generate(name: Annotated[str, typer.Option(help="name of the new draft plan")],
                   level: Annotated[str, typer.Option(help="school level whose schools get zones, e.g. middle")],
                   year: Annotated[int, typer.Option(help="school year the plan is for")],
                   district: Annotated[str, typer.Option(help="authority the plan belongs to")] = "default",
                   mode: Annotated[str, typer.Option(help="walk or drive")] = "walk", database: DbOpt = None) -> None:
    """A draft plan: zones nearest each school of LEVEL along the streets (network-nearest)."""
    from service.operations.travel import generate_network_plan
    from service.state import SnapshotHolder

    with errors():
        repo = open_repo(database)
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
          profile_http: Annotated[bool, typer.Option(help="py-spy flame graph of a worker under /v1/lookup load")] = False,
          pg_url: Annotated[str | None, typer.Option(help="PostgreSQL server URL without a database name "
                                                          "(default postgresql://postgres@127.0.0.1:5432/)")] = None) -> None:
    """Benchmarks against peers (see bench/README.md); writes bench/results/catchment.json."""
    from service.settings import REPO_ROOT

    if not (REPO_ROOT / "bench" / "suite.py").is_file():
        console.print("[red]error[/red]: bench/ is only in a source checkout of catchment")
        raise typer.Exit(2)
    # bench/ is a development package beside the installed ones, not part of the wheel.
    sys.path.insert(0, str(REPO_ROOT))
    from bench.suite import main as bench_main

    argv = [*(["--data", str(data)] if data else []), *(["--quick"] if quick else []), *(["--profile-http"] if profile_http else []),
            *(["--pg-url", pg_url] if pg_url else [])]
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
    with errors(), progress_bar(f"assigning {file.name}") as (advance, total):
        snap = build_snapshot(open_repo(database))
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
             level: Annotated[str | None, typer.Option(help="school level, e.g. primary (default: every level)")] = None,
             district: Annotated[str | None, typer.Option(help="only this authority's plans, e.g. nsw")] = None,
             year: Annotated[int | None, typer.Option(help="school year (default: the adopted plans in force)")] = None,
             plan: Annotated[int | None, typer.Option(help="plan id: plan maps, or another plan than the adopted one")] = None,
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
    import asyncio

    from service.operations import maps as m
    from service.problem_cache import ProblemCache
    from service.state import SnapshotHolder

    settings = Settings()
    with errors():
        repo = open_repo(database)
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
