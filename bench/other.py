"""Import time, index build and memory, and the statewide coverage map.

- import: ``geo.io.read.read_frame`` and ``parse_zones`` of the statewide file, then the whole
  ``catchment import zones`` path (both levels, as the sample does for Sydney) into a fresh
  SQLite database; the last database (plus the statewide schools) serves the HTTP section;
- index: ``ZoneIndex`` build time over the adopted statewide zones, and its resident memory
  measured in a fresh process (RSS after the zones are loaded, then after the index is built
  and every polygon's prepared structure has been used once);
- map: ``maps.coverage.coverage_map`` for both levels with the schools, rendered to HTML.
"""

from __future__ import annotations

import ctypes
import gc
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import shapely

from bench.common import ROOT, DataFiles, Results, rss_bytes, timed_runs
from bench.context import Context
from geo.index.zones import ZoneIndex
from geo.io.read import parse_zones, read_frame
from geo.models import School, Zone
from service.operations.imports import ImportOptions, import_schools_file, import_zones_file
from service.sample import NSW_HIGH, NSW_LEVEL_MAP, NSW_PRIMARY, NSW_SCHOOL_MAP
from service.storage import open_repository

ZONE_MAP = ("school_code=USE_ID", "name=USE_DESC")


def import_statewide(files: DataFiles, results: Results, *, runs: int, workdir: Path) -> Path:
    """Time read, parse and full import; return the SQLite file of the last import run."""
    med, times, frame = timed_runs(lambda: read_frame(files.zones), runs, warmup=0)
    results.figure("import.read", med, "s", runs=times, note=f"geo.io.read.read_frame, {files.zones.stat().st_size / 1e6:.0f} MB")
    med, times, parsed = timed_runs(lambda: parse_zones(frame, mapping=dict(m.split("=") for m in ZONE_MAP)), runs, warmup=0)
    results.figure("import.parse", med, "s", runs=times, note=f"parse_zones: {len(parsed[0])} zones, {len(parsed[1].repaired)} repaired")
    db = workdir / "statewide.db"
    schools_s: list[float] = []
    extra = _missing_schools(parsed[0], files)
    results.meta["schools_added_for_unmatched_zones"] = [s.code for s in extra]

    def full(run: int) -> float:
        path = workdir / f"import_{run}.db"
        path.unlink(missing_ok=True)
        repo = open_repository(f"sqlite:///{path}")
        t = time.perf_counter()
        # Zones name their schools by code, and the import checks every code: schools first.
        import_schools_file(repo, files.schools, opts=ImportOptions(mapping=NSW_SCHOOL_MAP, level_map=NSW_LEVEL_MAP), actor="bench")
        repo.import_schools(extra, actor="bench")
        schools_s.append(time.perf_counter() - t)
        t = time.perf_counter()
        for level, where in (("primary", NSW_PRIMARY), ("high", NSW_HIGH)):
            import_zones_file(repo, files.zones, plan_name=f"NSW {level} statewide", district="nsw", level=level, year=2026,
                              adopt=True, opts=ImportOptions(mapping=ZONE_MAP, where=(where,)), actor="bench")
        took = time.perf_counter() - t
        repo.close()
        return took

    times = [full(i) for i in range(runs)]
    results.figure("import.sqlite", statistics.median(times), "s", runs=times,
                   note="catchment import zones, both levels: read + parse + repair + SQLite write")
    results.figure("import.schools", statistics.median(schools_s), "s", runs=schools_s, note=files.schools.name)
    (workdir / f"import_{runs - 1}.db").replace(db)
    for i in range(runs - 1):
        (workdir / f"import_{i}.db").unlink(missing_ok=True)
    return db


def _missing_schools(zones: list[Zone], files: DataFiles) -> list[School]:
    """Schools that some catchments name but the schools file lacks (16 statewide).

    The import checks every zone's school codes, so the bench adds these as schools named
    after their catchment, placed at a point inside it, rather than drop the catchments.
    """
    known = set(read_frame(files.schools)["School_code"].astype(str))
    out: dict[str, School] = {}
    for z in zones:
        for code in z.school_codes:
            if code not in known and code not in out:
                p = shapely.point_on_surface(z.geometry)
                kind = str(z.attributes.get("CATCH_TYPE", ""))
                out[code] = School(code=code, name=f"{z.name or code} (catchment only)", lon=p.x, lat=p.y,
                                   levels=("high",) if "HIGH" in kind else ("primary",))
    return list(out.values())


def index_build(ctx: Context) -> None:
    entries = open_repository(f"sqlite:///{ctx.db_path}").adopted_zones()
    med, times, index = timed_runs(lambda: ZoneIndex(entries), ctx.options.slow_runs, warmup=0)
    ctx.results.figure("index.build", med, "s", runs=times, note=f"ZoneIndex over {len(index)} zones")
    if index.grid is not None:
        ctx.results.figure("index.grid_bytes", float(index.nbytes), "bytes", note=f"cells per level {index.grid.cell_counts()}, "
                           f"{len(index.grid.answers.rows)} distinct answers")


def memory(ctx: Context) -> None:
    """Resident memory of the index, in a fresh interpreter (``python -m bench.other DB``)."""
    out = subprocess.run([sys.executable, "-m", "bench.other", str(ctx.db_path)], cwd=ROOT, capture_output=True, text=True,
                         check=True, timeout=600)
    got = json.loads(out.stdout.strip().splitlines()[-1])
    ctx.results.figure("index.rss", float(got["index"]), "bytes", note="RSS after build and use, minus RSS with the zones loaded")
    ctx.results.figure("index.rss_before_trim", float(got["peak_delta"]), "bytes",
                       note="the same before malloc_trim: includes the build's freed scratch the allocator kept")
    ctx.results.figure("index.rss_process", float(got["total"]), "bytes", note="the whole process: Python, libraries, zones, index")


def coverage_map(ctx: Context) -> None:
    res = ctx.results
    try:
        from maps.coverage import coverage_map as render
    except ImportError as exc:
        res.skip("map.render", f"not available yet: {exc}")
        return
    repo = open_repository(f"sqlite:///{ctx.db_path}")
    levels: dict[str, list] = {}
    for plan, zone in repo.adopted_zones():
        levels.setdefault(plan.level, []).append(zone)
    schools = repo.list_schools()
    repo.close()

    def run() -> int:
        return len(render(levels, schools, tiles="none").get_root().render().encode("utf-8"))

    t = time.perf_counter()
    size = run()
    first = time.perf_counter() - t
    runs = 1 if first > 60 or ctx.options.quick else 3
    med, times, size = timed_runs(run, runs - 1, warmup=0) if runs > 1 else (first, [first], size)
    if runs > 1:
        times.append(first)
        med = float(np.median(times))
    res.figure("map.render", med, "s", runs=times, note="coverage_map(primary + high, schools, tiles='none') -> HTML")
    res.figure("map.html_bytes", float(size), "bytes")


def _measure(db: str) -> dict[str, int]:
    entries = open_repository(f"sqlite:///{db}").adopted_zones()
    base = rss_bytes()
    index = ZoneIndex(entries)
    rng = np.random.default_rng(1)
    x0, y0, x1, y1 = shapely.total_bounds(index.geoms)
    index.query_bulk(rng.uniform(x0, x1, 300_000), rng.uniform(y0, y1, 300_000))
    # Use every polygon's prepared structure once: GEOS builds it on first use.
    inner = shapely.point_on_surface(index.geoms)
    shapely.intersects_xy(index.geoms, shapely.get_x(inner), shapely.get_y(inner))
    peak = rss_bytes()
    # Hand the build's freed scratch memory back to the OS, so RSS shows what the index keeps.
    gc.collect()
    ctypes.CDLL("libc.so.6").malloc_trim(0)
    return {"index": rss_bytes() - base, "total": rss_bytes(), "peak_delta": peak - base}


if __name__ == "__main__":
    print(json.dumps(_measure(sys.argv[1])))
