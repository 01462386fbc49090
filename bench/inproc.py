"""In-process peers: one point at a time, and a million points at once.

Single point (median latency of one call, over several passes):
- ours: ``ZoneIndex.query`` (cell grid, exact fallback), and the whole ``geo.lookup.resolve.resolve``
  (zones, schools, distances, boundary distance) that ``GET /v1/lookup`` runs;
- shapely done plainly: ``STRtree.query(Point)`` then ``contains_xy`` on prepared polygons;
- ``geopandas.sjoin`` of a one-row GeoDataFrame (``predicate="within"``).

Bulk (wall time for all points):
- ours: ``ZoneIndex.query_bulk(lons, lats)``: arrays in, (point, zone) pairs out;
- ``geopandas.sjoin`` with ``predicate="within"`` and ``"intersects"`` (the points'
  GeoDataFrame is built before the clock starts, which favours the peer);
- SedonaDB (``sedonadb`` from PyPI), ``ST_Intersects(ST_Point(lon, lat), zone)`` on an
  in-memory table, when it installs and runs.
Every peer's answer is compared with the exact predicate point by point.
"""

from __future__ import annotations

import importlib.metadata
import time
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from bench.common import median_of_runs, timed_runs
from bench.context import Context, exact_pairs, mismatched_points
from geo.lookup.resolve import resolve


def single_point(ctx: Context) -> None:
    res, opt = ctx.results, ctx.options
    index, snap = ctx.snap.index, ctx.snap
    n = opt.single_points
    xs, ys = ctx.xs[:n].tolist(), ctx.ys[:n].tolist()
    med, runs = median_of_runs(index.query, xs, ys, opt.runs)
    res.figure("single.ours", med, "s", runs=runs, note=f"ZoneIndex.query, {n} points, per-call median")
    answered = np.diff(index.grid.answers.cand_ptr)[index.grid.lookup_many(ctx.xs[:n], ctx.ys[:n])] == 0 if index.grid else None
    if answered is not None:
        res.figure("single.ours.from_cells", float(answered.mean()), "share", note="points answered from cells alone")
    # The same points in Greater Sydney (dense zones, many edges): where the exact test runs most.
    rng = np.random.default_rng(7)
    sx, sy = rng.uniform(150.6, 151.35, n).tolist(), rng.uniform(-34.1, -33.55, n).tolist()
    med_s, runs_s = median_of_runs(index.query, sx, sy, opt.runs)
    res.figure("single.ours.sydney", med_s, "s", runs=runs_s, note="ZoneIndex.query on points in Greater Sydney")

    m = max(n // 4, 500)
    plans = snap.plans
    med, runs = median_of_runs(lambda x, y: resolve(index, snap.schools, x, y, plans=plans), xs[:m], ys[:m], opt.runs)
    res.figure("single.resolve", med, "s", runs=runs, note=f"geo.lookup.resolve.resolve (full answer), {m} points")
    covered = [i for i in range(n) if index.query(xs[i], ys[i])][:m]
    cx, cy = [xs[i] for i in covered], [ys[i] for i in covered]
    med, runs = median_of_runs(lambda x, y: resolve(index, snap.schools, x, y, plans=plans), cx, cy, opt.runs)
    res.figure("single.resolve.covered", med, "s", runs=runs, note=f"the same on {len(cx)} points inside some zone")

    geoms = shapely.from_wkb(shapely.to_wkb(ctx.geoms))
    shapely.prepare(geoms)
    tree = shapely.STRtree(geoms)

    def plain(lon: float, lat: float) -> list[int]:
        cand = tree.query(shapely.Point(lon, lat))
        return sorted(cand[shapely.contains_xy(geoms[cand], lon, lat)].tolist())

    med, runs = median_of_runs(plain, xs[:m], ys[:m], opt.runs)
    res.figure("single.strtree", med, "s", runs=runs, note="STRtree.query(Point) + contains_xy, prepared")

    zones = ctx.zones_frame()
    zones.sindex  # noqa: B018 - build the spatial index before the clock starts

    def sjoin_one(lon: float, lat: float) -> Any:
        return gpd.sjoin(gpd.GeoDataFrame(geometry=[shapely.Point(lon, lat)], crs=4326), zones, predicate="within")

    k = 100 if opt.quick else 300
    med, runs = median_of_runs(sjoin_one, xs[:k], ys[:k], opt.slow_runs)
    res.figure("single.sjoin", med, "s", runs=runs, note=f"geopandas.sjoin on a one-row frame, {k} points")


def bulk(ctx: Context) -> None:
    res, opt = ctx.results, ctx.options
    index, xs, ys, nz = ctx.snap.index, ctx.xs, ctx.ys, len(ctx.geoms)
    med, runs, ours = timed_runs(lambda: index.query_bulk(xs, ys), opt.runs)
    res.figure("bulk.ours", med, "s", runs=runs, note=f"ZoneIndex.query_bulk, {xs.size:,} points")
    res.figure("bulk.ours.mismatches", mismatched_points(ours, ctx.reference, nz), "points",
               note="points whose zones differ from the exact predicate")
    med_ref, runs_ref, _ = timed_runs(lambda: exact_pairs(ctx.geoms, xs, ys), 1, warmup=0)
    res.figure("bulk.exact_plain", med_ref, "s", runs=runs_ref, note="STRtree + prepared intersects_xy, the reference")

    zones = ctx.zones_frame()
    t = time.perf_counter()
    points = gpd.GeoDataFrame(geometry=gpd.points_from_xy(xs, ys), crs=4326)
    res.figure("bulk.points_from_xy", time.perf_counter() - t, "s", note="building the peers' point frame (not timed in their figures)")
    for predicate in ("within", "intersects"):
        med, runs, joined = timed_runs(lambda p=predicate: gpd.sjoin(points, zones, predicate=p), opt.slow_runs, warmup=0)
        pairs = (joined.index.to_numpy(), joined["pos"].to_numpy())
        res.figure(f"bulk.sjoin_{predicate}", med, "s", runs=runs, note=f"geopandas.sjoin(predicate={predicate!r})")
        res.figure(f"bulk.sjoin_{predicate}.mismatches", mismatched_points(pairs, ctx.reference, nz), "points")
    _sedona(ctx)


def _sedona(ctx: Context) -> None:
    res, opt = ctx.results, ctx.options
    try:
        import sedonadb
        from sedonadb._lib import SedonaError
    except ImportError as exc:
        res.skip("bulk.sedonadb", f"sedonadb not importable: {exc} (pip install 'sedonadb[geopandas]')")
        return
    try:
        version = importlib.metadata.version("sedonadb")
        con = sedonadb.connect()
        con.create_data_frame(ctx.zones_frame()).to_memtable().to_view("zones", overwrite=True)
        xy = pd.DataFrame({"pid": np.arange(ctx.xs.size), "x": ctx.xs, "y": ctx.ys})
        con.create_data_frame(xy).to_memtable().to_view("pts", overwrite=True)
        # Its fastest form here (ST_Covers on prebuilt points and ST_Within were slower).
        sql = ("SELECT p.pid, z.pos FROM pts p JOIN zones z "
               "ON ST_Intersects(ST_SetSRID(ST_Point(p.x, p.y), 4326), z.geometry)")
        med, runs, table = timed_runs(lambda: con.sql(sql).to_arrow_table(), opt.slow_runs)
    except (SedonaError, ImportError, OSError, RuntimeError, ValueError) as exc:
        res.skip("bulk.sedonadb", f"sedonadb failed: {type(exc).__name__}: {exc}")
        return
    pairs = (table.column("pid").to_numpy(), table.column("pos").to_numpy())
    res.figure("bulk.sedonadb", med, "s", runs=runs, note=f"SedonaDB {version}, ST_Intersects(ST_Point(x, y), zone)")
    res.figure("bulk.sedonadb.mismatches", mismatched_points(pairs, ctx.reference, len(ctx.geoms)), "points")


def edge_exactness(ctx: Context) -> None:
    """Every vertex of every zone and every edge midpoint: ours against the exact predicate."""
    rings = shapely.get_rings(shapely.get_parts(ctx.geoms))
    xy, ring = shapely.get_coordinates(rings, return_index=True)
    same = ring[:-1] == ring[1:]
    pts = np.concatenate([xy, ((xy[:-1] + xy[1:]) / 2)[same]])
    ours = ctx.snap.index.query_bulk(pts[:, 0], pts[:, 1])
    ref = exact_pairs(ctx.geoms, pts[:, 0], pts[:, 1])
    ctx.results.figure("exact.edge_points", float(pts.shape[0]), "points", note="vertices and edge midpoints checked")
    ctx.results.figure("exact.edge_mismatches", mismatched_points(ours, ref, len(ctx.geoms)), "points")
    multi = np.bincount(ref[0], minlength=pts.shape[0])
    ctx.results.figure("exact.edge_points_in_2plus_zones", float((multi >= 2).mean()), "share")
