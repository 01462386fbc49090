"""Batch assignment end to end (read, assign, write) on a LocalCluster, against geopandas and dask-geopandas.

Ten million points (one million with ``--quick``) uniform over the statewide NSW catchments, as
Parquet with lon/lat columns. Each contender reads the file, finds every point's zones and writes
Parquet: ours through :func:`service.operations.assign.run_assign` (2 worker processes), geopandas'
``sjoin`` in this process, and dask-geopandas' ``sjoin`` on the same cluster. Peers join on the
index's zones (same geometries), so they do the same work. One run each (they are long); the
figure is points per second.
"""

from __future__ import annotations

import logging
import shutil
import time

import dask_geopandas
import geopandas as gpd
import numpy as np
import pandas as pd
from distributed import Client, LocalCluster

from bench.common import DATA_DIR, draw_points
from bench.context import Context
from service.operations.assign import run_assign
from service.settings import Settings

FULL = 10_000_000
QUICK = 1_000_000


def assign_section(ctx: Context) -> None:
    res = ctx.results
    n = QUICK if ctx.options.quick else FULL
    work = DATA_DIR / "work" / "assign"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    bounds = tuple(float(v) for v in gpd.GeoSeries(ctx.geoms).total_bounds)
    xs, ys = draw_points(bounds, n, seed=11)  # type: ignore[arg-type]
    src = work / "points.parquet"
    pd.DataFrame({"id": np.arange(n).astype(str), "lon": xs, "lat": ys}).to_parquet(src, index=False, row_group_size=500_000)
    del xs, ys
    zones = ctx.zones_frame()
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                      silence_logs=logging.ERROR) as cluster, Client(cluster) as client:
        t = time.perf_counter()
        got = run_assign(ctx.snap, Settings(), client, src, work / "ours.parquet", fmt="parquet", partitions=8)
        ours = time.perf_counter() - t
        res.figure("assign.ours", ours, "s", note=f"read + assign + write {got.rows:,} points, 2 Dask workers")
        res.figure("assign.ours.pps", got.rows / ours, "points/s", note="ours, end to end")

        t = time.perf_counter()
        frame = dd_points(src)
        joined = dask_geopandas.sjoin(frame, dask_geopandas.from_geopandas(zones, npartitions=1), predicate="within")
        joined.to_parquet(work / "dask_geopandas.parquet")
        peer = time.perf_counter() - t
        res.figure("assign.dask_geopandas", peer, "s", note="dask_geopandas.sjoin(within) on the same cluster, read + write")
    res.figure("assign.dask_geopandas.pps", n / peer, "points/s", note="dask-geopandas, end to end")

    t = time.perf_counter()
    table = pd.read_parquet(src)
    pts = gpd.GeoDataFrame(table, geometry=gpd.points_from_xy(table["lon"], table["lat"]), crs=4326)
    gpd.sjoin(pts, zones, predicate="within", how="left").to_parquet(work / "geopandas.parquet")
    single = time.perf_counter() - t
    res.figure("assign.geopandas", single, "s", note="geopandas.sjoin(within, how=left) in one process, read + write")
    res.figure("assign.geopandas.pps", n / single, "points/s", note="geopandas, end to end")
    res.ratio("batch job", "assign.ours", "assign.geopandas", "geopandas.sjoin, one process")
    res.ratio("batch job", "assign.ours", "assign.dask_geopandas", "dask-geopandas sjoin, same cluster")
    shutil.rmtree(work, ignore_errors=True)


def dd_points(src: object) -> dask_geopandas.GeoDataFrame:
    import dask.dataframe as dd

    frame = dd.read_parquet(src)
    return dask_geopandas.from_dask_dataframe(frame, geometry=dask_geopandas.points_from_xy(frame, "lon", "lat", crs=4326))
