"""Batch assignment on Dask: every point of a large file to its zones and schools, as a job.

The input (GeoParquet, CSV with lon/lat, or any vector file of points) is read as dask
partitions (``dask_geopandas`` for geometries; CSV stays plain lon/lat columns, no point objects),
each partition is sorted along a Z-order curve on its worker and answered by the same vectorised
lookup as the batch endpoint (:func:`geo.lookup.table.assignment_columns`). ``shuffle=True`` also
sorts the whole input across partitions first (``spatial_shuffle``, Hilbert), so each partition
covers a compact area: worth it for spatially partitioned output, a cost for plain assignment. The zones are sent to every worker once
(``Client.scatter(..., broadcast=True)``); each worker builds its index once per zone version.
Each partition writes its own part file, so progress is "partitions done" and nothing funnels
through the service; the CSV parts are joined at the end, GeoParquet stays a dataset folder.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dask.dataframe as dd
import dask_geopandas
import geopandas as gpd
import numpy as np
import pandas as pd
from distributed import Client, as_completed

from geo.errors import InvalidInput, NotFound, UnsupportedFile
from geo.index.zones import ZoneIndex
from geo.lookup.bulk import zone_mask
from geo.lookup.table import ZoneColumns, assignment_columns, spatial_order
from geo.models import Plan, Zone
from service.operations.jobs import JobCancelled, JobContext, JobFn
from service.operations.lookup import clean_filters, school_year
from service.settings import Settings
from service.state import Snapshot

INPUTS = (".parquet", ".geoparquet", ".csv", ".gpkg", ".geojson", ".shp", ".zip")
OUTPUTS = ("parquet", "csv")


@dataclass(frozen=True)
class ZonePayload:
    """What a worker needs to answer: the zones (with their plans) in force, once per version."""

    version: int
    entries: tuple[tuple[Plan, Zone], ...]
    levels: tuple[str, ...]
    filters: tuple[str | None, str | None, int]  # level, grade, year


@dataclass(frozen=True)
class AssignResult:
    out: Path
    format: str
    rows: int
    partitions: int
    seconds: float
    levels: tuple[str, ...]
    plans: tuple[dict[str, Any], ...] = field(default_factory=tuple)

    def as_dict(self) -> dict[str, Any]:
        return {"out": self.out.name, "format": self.format, "rows": self.rows, "partitions": self.partitions,
                "seconds": round(self.seconds, 2), "levels": list(self.levels), "plans": list(self.plans)}


# --------------------------------------------------------------------------- on the workers

#: Per worker process: the index of the last zone version seen (built once, reused by every partition).
_WORKER_INDEX: dict[str, Any] = {}


def _worker_index(payload: ZonePayload) -> tuple[ZoneIndex, np.ndarray, ZoneColumns]:
    got = _WORKER_INDEX.get("version")
    if got != payload.version:
        index = ZoneIndex(list(payload.entries), version=payload.version)
        level, grade, year = payload.filters
        plans = list({p.id: p for p, _ in payload.entries}.values())
        mask = zone_mask(index, plans=plans, level=level, grade=grade, year=year)
        _WORKER_INDEX.update(version=payload.version, index=index, mask=mask, cols=ZoneColumns(index))
    return _WORKER_INDEX["index"], _WORKER_INDEX["mask"], _WORKER_INDEX["cols"]


def assign_partition(part: pd.DataFrame, payload: ZonePayload, out_dir: str, number: int, fmt: str) -> int:
    """Answer one partition and write it as ``part-<number>``; returns its row count."""
    index, mask, cols = _worker_index(payload)
    geom = part.geometry if isinstance(part, gpd.GeoDataFrame) else None
    lons = geom.x.to_numpy() if geom is not None else pd.to_numeric(part["lon"], errors="coerce").to_numpy(dtype=float)
    lats = geom.y.to_numpy() if geom is not None else pd.to_numeric(part["lat"], errors="coerce").to_numpy(dtype=float)
    order = spatial_order(lons, lats)
    lons, lats = lons[order], lats[order]
    table = pd.DataFrame({"id": part["id"].to_numpy()[order], "lon": lons, "lat": lats})
    for name, values in assignment_columns(index, lons, lats, mask=mask, levels=payload.levels, cols=cols).items():
        table[name] = values
    path = Path(out_dir) / f"part-{number:05d}.{fmt}"
    if fmt == "csv":
        table.to_csv(path, index=False)
    else:
        gpd.GeoDataFrame(table, geometry=gpd.points_from_xy(lons, lats), crs=4326).to_parquet(path, index=False)
    return len(table)


# --------------------------------------------------------------------------- in the service


def read_points(path: Path, *, partitions: int) -> dd.DataFrame:
    """The points of ``path`` as dask partitions in EPSG:4326 with an ``id`` column.

    CSV (and Parquet without geometry) stays plain ``lon``/``lat`` columns; GeoParquet and vector
    files come as a dask-geopandas frame of points.
    """
    suffix = path.suffix.lower()
    if suffix not in INPUTS:
        msg = f"{path.name}: batch input must be GeoParquet, CSV (id, lon, lat) or a vector file of points ({', '.join(INPUTS)})"
        raise UnsupportedFile(msg, where="file")
    frame: dd.DataFrame
    if suffix == ".csv":
        frame = dd.read_csv(path, dtype={"id": str}, blocksize="64MB")
        frame = _lon_lat(frame, path)
    elif suffix in (".parquet", ".geoparquet"):
        try:
            frame = dask_geopandas.read_parquet(path)
        except (ValueError, TypeError):
            frame = _lon_lat(dd.read_parquet(path), path)  # Parquet without geometry metadata
    else:
        frame = dask_geopandas.read_file(path, npartitions=max(partitions, 1))
    if isinstance(frame, dask_geopandas.GeoDataFrame) and frame.crs is not None and frame.crs.to_epsg() != 4326:
        frame = frame.to_crs(4326)
    if "id" not in frame.columns:
        frame = _with_row_ids(frame)
    return frame


def _lon_lat(frame: dd.DataFrame, path: Path) -> dd.DataFrame:
    cols = {c.lower().strip(): c for c in frame.columns}
    if "lon" not in cols or "lat" not in cols:
        raise InvalidInput(f"{path.name}: needs lon and lat columns (EPSG:4326), and optionally id", where="columns")
    rename = {cols["lon"]: "lon", cols["lat"]: "lat", **({cols["id"]: "id"} if "id" in cols else {})}
    return frame.rename(columns=rename)


def _with_row_ids(gdf: dd.DataFrame) -> dd.DataFrame:
    """Row numbers as ids (0-based, file order) when the input has no id column."""
    lengths = gdf.map_partitions(len).compute().tolist()
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(int).tolist()

    def add(part: pd.DataFrame, partition_info: dict[str, Any] | None = None) -> pd.DataFrame:
        start = starts[partition_info["number"]] if partition_info else 0
        return part.assign(id=np.arange(start, start + len(part)).astype(str))

    return gdf.map_partitions(add, meta=gdf._meta.assign(id=pd.Series(dtype=str)))


def payload_for(snap: Snapshot, settings: Settings, *, level: str | None, grade: str | None, year: int | None) -> ZonePayload:
    lv, g = clean_filters(level, grade)
    entries = tuple((e.plan, e.zone) for e in snap.index.entries)
    levels = (lv,) if lv else tuple(sorted({p.level for p in snap.plans}))
    return ZonePayload(snap.version, entries, levels, (lv, g, school_year(settings, year)))


def run_assign(snap: Snapshot, settings: Settings, client: Client, source: Path, out: Path, *, fmt: str = "parquet",
               level: str | None = None, grade: str | None = None, year: int | None = None, partitions: int = 0,
               shuffle: bool = False, progress: Callable[[int, int], None] | None = None, cancelled: Callable[[], bool] | None = None) -> AssignResult:
    """Assign every point of ``source`` and write ``out`` (a GeoParquet folder or one CSV file).

    Parameters
    ----------
    snap, settings
        The worker's snapshot (zones in force) and the settings (the default school year).
    client
        A ``dask.distributed`` client: a LocalCluster's or an existing scheduler's.
    source, out
        Input file and output path (``fmt`` ``"parquet"``: a folder of parts; ``"csv"``: one file).
    level, grade, year
        As for ``/v1/lookup/batch``.
    partitions
        Target partition count (0: as read, CSV 64 MB blocks; with ``shuffle``, at least two per worker).
    shuffle
        Sort the whole input spatially across partitions first (see the module docstring).
    progress
        Called with (partitions done, partitions) as partitions finish.
    cancelled
        Polled between partitions; True cancels the futures still running and raises InterruptedError.
    """
    if fmt not in OUTPUTS:
        raise InvalidInput(f"output format {fmt!r} must be parquet or csv", where="format")
    t0 = time.perf_counter()
    payload = payload_for(snap, settings, level=level, grade=grade, year=year)
    gdf = read_points(source, partitions=partitions or 1)
    if shuffle:
        n_workers = max(len(client.scheduler_info().get("workers", {})), 1)
        if not isinstance(gdf, dask_geopandas.GeoDataFrame):
            gdf = dask_geopandas.from_dask_dataframe(gdf, geometry=dask_geopandas.points_from_xy(gdf, "lon", "lat", crs=4326))
        gdf = gdf.spatial_shuffle(by="hilbert", npartitions=partitions or max(gdf.npartitions, 2 * n_workers))
    elif partitions and partitions != gdf.npartitions:
        gdf = gdf.repartition(npartitions=partitions)
    parts_dir = out.with_name(out.name + ".parts") if fmt == "csv" else out
    shutil.rmtree(parts_dir, ignore_errors=True)
    parts_dir.mkdir(parents=True)
    [shared] = client.scatter([payload], broadcast=True)
    pieces = client.compute(gdf.to_delayed())
    futures = [client.submit(assign_partition, p, shared, str(parts_dir), i, fmt, pure=False) for i, p in enumerate(pieces)]
    rows = 0
    for done, fut in enumerate(as_completed(futures), start=1):
        rows += int(fut.result())
        if progress is not None:
            progress(done, len(futures))
        if cancelled is not None and cancelled():
            client.cancel(futures + pieces)
            raise InterruptedError("batch assignment cancelled")
    if fmt == "csv":
        _join_csv(sorted(parts_dir.glob("part-*.csv")), out)
        shutil.rmtree(parts_dir, ignore_errors=True)
    plans = tuple({"id": p.id, "version": p.version, "level": p.level, "school_year": p.school_year}
                  for p in {p.id: p for p, _ in payload.entries}.values())
    return AssignResult(out, fmt, rows, len(futures), time.perf_counter() - t0, payload.levels, plans)


def _join_csv(parts: Sequence[Path], out: Path) -> None:
    """Concatenate part files into one CSV, keeping the first header."""
    with out.open("wb") as dst:
        for i, part in enumerate(parts):
            with part.open("rb") as src:
                header = src.readline()
                if i == 0:
                    dst.write(header)
                shutil.copyfileobj(src, dst, length=1 << 20)


# --------------------------------------------------------------------------- as a job


def assign_job(snap: Snapshot, settings: Settings, client: Client, source: Path, *, fmt: str, level: str | None,
               grade: str | None, year: int | None, partitions: int, shuffle: bool) -> JobFn:
    """The job function for :class:`service.operations.jobs.JobRunner`: progress is partitions done.

    The result goes to ``<jobs dir>/<job id>/``; an uploaded ``source`` is moved there first.
    """

    def run(ctx: JobContext) -> dict[str, Any]:
        job_dir = settings.jobs.dir / str(ctx.job.id)
        job_dir.mkdir(parents=True, exist_ok=True)
        out = job_dir / ("result.csv" if fmt == "csv" else "result.parquet")
        ctx.report(force=True, fraction=0.0, partitions_done=0, stage="reading / 读取")

        def progress(done: int, total: int) -> None:
            ctx.report(force=done == total, fraction=done / total, partitions_done=done, partitions=total,
                       stage="assigning / 分配中")

        try:
            got = run_assign(snap, settings, client, source, out, fmt=fmt, level=level, grade=grade, year=year,
                             partitions=partitions, shuffle=shuffle, progress=progress, cancelled=lambda: ctx.cancelled)
        except InterruptedError as exc:
            raise JobCancelled(str(exc)) from exc
        return got.as_dict() | {"href": f"/v1/jobs/{ctx.job.id}/result"}

    return run


def result_file(job_dir: Path) -> Path:
    """The downloadable result of an assignment job: the CSV, or the GeoParquet folder zipped once."""
    csv = job_dir / "result.csv"
    if csv.is_file():
        return csv
    folder = job_dir / "result.parquet"
    if not folder.is_dir():
        raise NotFound("this job has no result file (yet) / 该任务尚无结果文件", where="job_id")
    zipped = job_dir / "result.parquet.zip"
    if not zipped.is_file():
        # Written under another name and renamed, so a download never sees half an archive.
        made = Path(shutil.make_archive(str(job_dir / "result-building"), "zip", root_dir=folder))
        made.rename(zipped)
    return zipped


def server_input(settings: Settings, name: str) -> Path:
    """A file of the configured input folder, by name; nothing outside it is read."""
    root = settings.jobs.input_dir
    if root is None:
        msg = "server-side input is off: set CATCHMENT_JOBS_INPUT_DIR, or upload the file / 未开启服务器端文件"
        raise InvalidInput(msg, where="path")
    base = root.resolve()
    target = (base / name).resolve()
    if base not in target.parents or not target.is_file():
        msg = f"no file {name!r} in the input folder / 输入目录中没有该文件"
        raise NotFound(msg, where="path")
    return target


async def save_upload(request: Any, settings: Settings) -> Path:
    """Stream a multipart ``file`` upload to the jobs folder, stopping at ``max_upload_mb``."""
    from uuid import uuid4

    limit = settings.jobs.max_upload_mb * 1024 * 1024
    async with request.form(max_part_size=limit) as form:
        upload = form.get("file")
        if upload is None or isinstance(upload, str):
            raise InvalidInput("upload the points as a multipart 'file' field (or give path=) / 请上传文件", where="file")
        suffix = Path(upload.filename or "").suffix.lower()
        if suffix not in INPUTS:
            msg = f"{Path(upload.filename or '').name[:100]}: batch input must be one of {', '.join(INPUTS)}"
            raise UnsupportedFile(msg, where="file")
        folder = settings.jobs.dir / "uploads"
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / f"{uuid4().hex}{suffix}"
        with target.open("wb") as out:
            while chunk := await upload.read(1 << 20):
                out.write(chunk)
    return target
