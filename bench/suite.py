"""The catchment benchmark: ``make bench``, ``catchment bench`` or ``python -m bench``.

Runs every section on the statewide NSW catchments, prints the figures, the ratios against
peers and the targets as rich tables, and writes ``bench/results/catchment.json``. See
``bench/README.md`` for what each figure means.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

import shapely
from rich.console import Console
from rich.table import Table

from bench.common import DATA_DIR, RESULTS_DIR, SEED, Results, draw_points, ensure_data, environment
from bench.context import Context, Options, exact_pairs
from service.state import build_snapshot
from service.storage import open_repository

SECTIONS = ("import", "index", "single", "bulk", "postgis", "exact", "memory", "http", "map", "assign", "optimise",
            "addresses")


def _sections() -> dict[str, Callable[[Context], None]]:
    from bench.bench_addresses import address_quality
    from bench.bench_assign import assign_section
    from bench.bench_optimise import section as optimise
    from bench.http_load import http
    from bench.inproc import bulk, edge_exactness, single_point
    from bench.other import coverage_map, index_build, memory
    from bench.pg import postgis

    return {"index": index_build, "single": single_point, "bulk": bulk, "postgis": postgis, "exact": edge_exactness,
            "memory": memory, "http": http, "map": coverage_map, "assign": assign_section, "optimise": optimise,
            "addresses": address_quality}


def run(opt: Options, *, console: Console | None = None, out: Path | None = None) -> Results:
    """Run the sections ``opt`` asks for; print tables; write JSON; return the results."""
    from bench.other import import_statewide

    console = console or Console()
    started = time.perf_counter()
    res = Results(meta=environment())
    files = ensure_data(opt.data)
    work = DATA_DIR / "work"
    work.mkdir(parents=True, exist_ok=True)
    db = work / "statewide.db"
    res.meta.update({"zones_file": str(files.zones), "points": opt.points, "seed": SEED, "runs": opt.runs,
                     "slow_runs": opt.slow_runs, "quick": opt.quick})
    if opt.wants("import") or not db.is_file():
        with console.status("import: statewide file into SQLite"):
            db = import_statewide(files, res, runs=opt.slow_runs, workdir=work)
    snap = build_snapshot(open_repository(f"sqlite:///{db}"))
    res.meta["zones"] = len(snap.index)
    xs, ys = draw_points(tuple(float(v) for v in shapely.total_bounds(snap.index.geoms)), opt.points)
    ctx = Context(opt, files, res, db, snap, xs, ys)
    with console.status("reference answers (exact predicate on every point)"):
        ctx.reference = exact_pairs(snap.index.geoms, xs, ys)
    for name, fn in _sections().items():
        if opt.wants(name):
            with console.status(f"{name} ..."):
                t = time.perf_counter()
                fn(ctx)
                res.meta.setdefault("section_seconds", {})[name] = round(time.perf_counter() - t, 1)
    res.meta["total_seconds"] = round(time.perf_counter() - started, 1)
    judge(res)
    print_tables(res, console)
    # Only a full run replaces catchment.json (the numbers the README quotes).
    partial = opt.quick or opt.only or opt.skip
    path = out or RESULTS_DIR / ("catchment-partial.json" if partial else "catchment.json")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(res.as_dict(), indent=2), encoding="utf-8")
    console.print(f"written {path}")
    return res


def judge(res: Results) -> None:
    """Ratios against peers and the targets of issue 8."""
    for peer, label in (("single.strtree", "STRtree + contains_xy"), ("single.postgis", "PostGIS ST_Covers per point"),
                        ("single.sjoin", "geopandas.sjoin, one-row frame")):
        res.ratio("single point", "single.ours", peer, label)
    for peer, label in (("bulk.sjoin_within", "geopandas.sjoin within"), ("bulk.sjoin_intersects", "geopandas.sjoin intersects"),
                        ("bulk.postgis", "PostGIS set-based join"), ("bulk.sedonadb", "SedonaDB")):
        res.ratio("bulk", "bulk.ours", peer, label)
    f = {k: v["value"] for k, v in res.figures.items()}
    for prefix in ("http", "http.granian"):
        for w in (1, 2):
            a, b = f.get(f"{prefix}.lookup.{w}w.rps"), f.get(f"{prefix}.healthz.{w}w.rps")
            if a and b:
                res.figures[f"{prefix}.lookup_share.{w}w"] = {"value": a / b, "unit": "share", "runs": [],
                                                             "note": "lookup rps / healthz rps, same run"}

    def ratio(peer: str) -> float | None:
        return next((r["ratio"] for r in res.ratios if r["peer"] == peer and r["ours"] == "bulk.ours"), None)

    def target(name: str, goal: str, value: float | None, fmt: Callable[[float], str], ok: Callable[[float], bool]) -> None:
        res.target(name, goal, fmt(value) if value is not None else "not measured", ok(value) if value is not None else None)

    target("Bulk vs geopandas.sjoin(within)", ">= 3x", ratio("bulk.sjoin_within"), lambda v: f"{v:.1f}x", lambda v: v >= 3)
    target("Bulk vs SedonaDB", ">= 2x", ratio("bulk.sedonadb"), lambda v: f"{v:.1f}x", lambda v: v >= 2)
    target("Single lookup in-process (ZoneIndex.query)", "< 10 µs median", f.get("single.ours"), _us, lambda v: v < 10e-6)
    target("Full resolve in-process (geo.lookup.resolve.resolve), points in a zone", "< 10 µs median", f.get("single.resolve.covered"),
           _us, lambda v: v < 10e-6)
    target("Full resolve in-process, all bench points (half lie in no zone)", "< 10 µs median", f.get("single.resolve"),
           _us, lambda v: v < 10e-6)
    for prefix, srv in (("http", "uvicorn"), ("http.granian", "granian")):
        for w in (1, 2):
            share = res.figures.get(f"{prefix}.lookup_share.{w}w", {}).get("value")
            if share is None and srv != "uvicorn":
                continue
            target(f"/v1/lookup vs /healthz throughput, {srv}, {w} worker{'s' if w > 1 else ''}", ">= 80%", share,
                   lambda v: f"{v:.0%}", lambda v: v >= 0.8)
            target(f"/v1/lookup p99 at 64 connections, {srv}, {w} worker{'s' if w > 1 else ''}", "< 50 ms",
                   f.get(f"{prefix}.lookup.{w}w.c64.p99"), _us, lambda v: v < 0.05)
    mism = [f[k] for k in f if k.endswith("mismatches") and k.startswith(("bulk.ours", "exact."))]
    target("Answers identical to the exact predicate", "0 mismatches", float(sum(mism)) if mism else None,
           lambda v: f"{v:.0f} mismatches", lambda v: v == 0)
    target("Index resident memory (statewide)", "< 500 MB", f.get("index.rss"), lambda v: f"{v / 1e6:.0f} MB", lambda v: v < 500e6)
    target("Index build (statewide, 2,172 zones)", "< 10 s", f.get("index.build"), lambda v: f"{v:.1f} s", lambda v: v < 10)
    batch = {r["peer"]: r["ratio"] for r in res.ratios if r["ours"] == "assign.ours"}
    target("Batch job end to end vs dask-geopandas sjoin (same cluster)", "> 1x", batch.get("assign.dask_geopandas"),
           lambda v: f"{v:.1f}x", lambda v: v > 1)
    target("Batch job end to end vs geopandas.sjoin (one process)", "> 1x", batch.get("assign.geopandas"),
           lambda v: f"{v:.1f}x", lambda v: v > 1)
    for key, what, goal, share in (("exact_5m", "exact text", ">= 99.5% within 5 m", 0.995),
                                   ("perturbed_25m", "perturbed text", ">= 95% within 25 m", 0.95),
                                   ("held_out_150m", "held-out numbers interpolated", ">= 85% within 150 m", 0.85)):
        target(f"Helsinki addresses, {what}", goal, f.get(f"addresses.helsinki_{key}"),
               lambda v: f"{v:.1%}", lambda v, share=share: v >= share)
    target("make bench wall time", "< 10 min", res.meta.get("total_seconds"), lambda v: f"{v / 60:.1f} min", lambda v: v < 600)


def _us(v: float) -> str:
    return f"{v * 1e6:.1f} µs" if v < 1e-3 else f"{v * 1e3:.1f} ms" if v < 1 else f"{v:.2f} s"


def fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    if unit == "s":
        return _us(value)
    if unit == "bytes":
        return f"{value / 1e6:.1f} MB"
    if unit == "share":
        return f"{value:.1%}"
    if unit == "req/s":
        return f"{value:,.0f} req/s"
    return f"{value:,.0f} {unit}"


def print_tables(res: Results, console: Console) -> None:
    figures = Table(title="Figures (median of runs)", show_lines=False)
    for col in ("figure", "value", "runs", "what"):
        figures.add_column(col, overflow="fold")
    for key, fig in res.figures.items():
        figures.add_row(key, fmt(fig["value"], fig["unit"]), str(len(fig["runs"])) if fig["runs"] else "", fig["note"])
    for key, why in res.skipped.items():
        figures.add_row(key, "skipped", "", why)
    console.print(figures)
    ratios = Table(title="Against peers, same run (peer time / our time: > 1 means ours is faster)")
    for col in ("group", "peer", "ours", "peer time", "ratio"):
        ratios.add_column(col)
    for r in res.ratios:
        ours, peer = res.figures.get(r["ours"], {}).get("value"), res.figures.get(r["peer"], {}).get("value")
        shown = f"{r['ratio']:.1f}x" if r["ratio"] else (f"skipped: {r['skipped']}" if r["skipped"] else "-")
        ratios.add_row(r["group"], r["label"], fmt(ours, "s"), fmt(peer, "s"), shown)
    console.print(ratios)
    targets = Table(title="Targets (issue 8)")
    for col in ("target", "goal", "today", "met"):
        targets.add_column(col)
    for t in res.targets:
        met = {True: "[green]yes[/green]", False: "[red]no[/red]", None: "-"}[t["met"]]
        targets.add_row(t["target"], t["goal"], t["today"], met)
    console.print(targets)


def options_from_args(argv: Sequence[str] | None = None) -> Options:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    p.add_argument("--data", type=Path, help="statewide catchments GeoJSON (default: bench/data/, copied from ../shared)")
    p.add_argument("--points", type=int, default=Options.points)
    p.add_argument("--runs", type=int, default=Options.runs, help="runs per fast figure (median reported)")
    p.add_argument("--slow-runs", type=int, default=Options.slow_runs, help="runs per slow figure")
    p.add_argument("--quick", action="store_true", help="200k points, fewer runs: a smoke test, not for the README")
    p.add_argument("--only", action="append", choices=SECTIONS, default=[], help="run only these sections (repeatable)")
    p.add_argument("--skip", action="append", choices=SECTIONS, default=[], help="skip these sections (repeatable)")
    p.add_argument("--pg-url", default=Options.pg_url, help="PostgreSQL server URL without a database name")
    p.add_argument("--http-seconds", type=float, default=Options.http_seconds)
    p.add_argument("--profile-http", action="store_true", help="py-spy flame graph of one worker under /v1/lookup load")
    a = p.parse_args(argv)
    opt = Options(data=a.data, points=a.points, runs=a.runs, slow_runs=a.slow_runs, quick=a.quick, only=tuple(a.only),
                  skip=tuple(a.skip), pg_url=a.pg_url, http_seconds=a.http_seconds, profile_http=a.profile_http)
    return quick(opt) if a.quick else opt


def quick(opt: Options) -> Options:
    return replace(opt, points=min(opt.points, 200_000), runs=min(opt.runs, 3), slow_runs=1, single_points=5_000,
                   http_seconds=min(opt.http_seconds, 2.0))


def main(argv: Sequence[str] | None = None) -> int:
    res = run(options_from_args(argv))
    return 0 if all(t["met"] is not False for t in res.targets if "mismatch" in t["today"]) else 1
