"""PostGIS peers, through psycopg against a scratch database ``catchment_bench``.

- single point: ``ST_Covers(zone, point)`` with a GiST index on the zones, one prepared
  query per point (what a service that asks the database per request does);
- bulk: the points COPYed into a temporary table (with a GiST index), then one set-based
  join. The join is written zone-outer (``LATERAL ... OFFSET 0``): the planner's own choice
  here, point-outer, re-reads (detoasts) a large polygon per point and took about 70 s for
  a million points, ten times longer.
Skipped, with the reason printed, when the server is unreachable or PostGIS is missing.
"""

from __future__ import annotations

import io
import time
from typing import Any

import numpy as np
import psycopg
import shapely

from bench.common import median_of_runs, timed_runs
from bench.context import Context, mismatched_points

DB = "catchment_bench"
SINGLE = "SELECT id FROM bench_zones WHERE ST_Covers(geom, ST_SetSRID(ST_MakePoint(%s, %s), 4326)) ORDER BY id"
JOIN = ("CREATE TEMP TABLE bench_pairs AS SELECT p.id AS pid, z.id AS zid FROM bench_zones z "
        "CROSS JOIN LATERAL (SELECT p.id FROM bench_points p WHERE ST_Covers(z.geom, p.geom) OFFSET 0) p")


def postgis(ctx: Context) -> None:
    res, opt = ctx.results, ctx.options
    base = opt.pg_url.rstrip("/")
    try:
        with psycopg.connect(f"{base}/postgres", autocommit=True, connect_timeout=3) as admin:
            if admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DB,)).fetchone() is None:
                admin.execute(f'CREATE DATABASE "{DB}"')
        conn = psycopg.connect(f"{base}/{DB}", autocommit=True, connect_timeout=3)
        conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    except psycopg.Error as exc:
        reason = f"PostGIS unreachable at {base}: {str(exc).strip().splitlines()[0]}"
        for key in ("single.postgis", "bulk.postgis"):
            res.skip(key, reason)
        return
    with conn:
        version = conn.execute("SELECT postgis_lib_version()").fetchone()
        res.meta["postgis"] = version[0] if version else None
        server = conn.execute("SHOW server_version").fetchone()
        res.meta["postgresql"] = server[0] if server else None
        t = time.perf_counter()
        _load_zones(conn, ctx.geoms)
        res.figure("postgis.load_zones", time.perf_counter() - t, "s", note="COPY zones + GiST index + ANALYZE")
        _single(ctx, conn)
        _bulk(ctx, conn)


Conn = psycopg.Connection[Any]


def _load_zones(c: Conn, geoms: np.ndarray) -> None:
    c.execute("DROP TABLE IF EXISTS bench_zones")
    c.execute("CREATE TABLE bench_zones (id int PRIMARY KEY, geom geometry(MultiPolygon, 4326) NOT NULL)")
    with c.cursor().copy("COPY bench_zones (id, geom) FROM STDIN") as copy:
        for i, wkb in enumerate(shapely.to_wkb(geoms, hex=True).tolist()):
            copy.write_row((i, wkb))
    c.execute("CREATE INDEX ON bench_zones USING gist (geom)")
    c.execute("ANALYZE bench_zones")


def _single(ctx: Context, conn: Conn) -> None:
    res, opt = ctx.results, ctx.options
    k = 1_000 if opt.quick else 3_000
    xs, ys = ctx.xs[:k].tolist(), ctx.ys[:k].tolist()

    def one(lon: float, lat: float) -> list[tuple[int]]:
        return conn.execute(SINGLE, (lon, lat), prepare=True).fetchall()

    med, runs = median_of_runs(one, xs, ys, opt.slow_runs)
    res.figure("single.postgis", med, "s", runs=runs, note=f"ST_Covers + GiST, one prepared query per point, {k} points")


def _bulk(ctx: Context, c: Conn) -> None:
    res, opt = ctx.results, ctx.options
    t = time.perf_counter()
    c.execute("DROP TABLE IF EXISTS bench_xy, bench_points")
    c.execute("CREATE TEMP TABLE bench_xy (id int, lon float8, lat float8)")
    buf = io.StringIO()
    np.savetxt(buf, np.column_stack([np.arange(ctx.xs.size), ctx.xs, ctx.ys]), fmt=["%d", "%.17g", "%.17g"], delimiter="\t")
    with c.cursor().copy("COPY bench_xy FROM STDIN") as copy:
        copy.write(buf.getvalue())
    c.execute("CREATE TEMP TABLE bench_points AS SELECT id, ST_SetSRID(ST_MakePoint(lon, lat), 4326) AS geom FROM bench_xy")
    c.execute("CREATE INDEX ON bench_points USING gist (geom)")
    c.execute("ANALYZE bench_points")
    res.figure("postgis.load_points", time.perf_counter() - t, "s", note="COPY points, make geometries, GiST index (not in the join figure)")

    def join() -> None:
        c.execute("DROP TABLE IF EXISTS bench_pairs")
        c.execute(JOIN)

    med, runs, _ = timed_runs(join, opt.slow_runs, warmup=0)
    res.figure("bulk.postgis", med, "s", runs=runs, note="set-based ST_Covers join into a temp table, zone-outer")
    out = io.BytesIO()
    with c.cursor().copy("COPY bench_pairs TO STDOUT") as copy:
        for block in copy:
            out.write(block)
    got = np.loadtxt(io.BytesIO(out.getvalue()), dtype=np.int64, ndmin=2) if out.tell() else np.zeros((0, 2), np.int64)
    res.figure("bulk.postgis.mismatches", mismatched_points((got[:, 0], got[:, 1]), ctx.reference, len(ctx.geoms)), "points")
