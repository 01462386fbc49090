"""Which school serves this point: single (cheap, on the event loop) and batch (streamed)."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from datetime import date
from typing import Annotated, Any

import numpy as np
import pandas as pd
from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from geo.capacity.utilisation import utilisation_band
from geo.distance import geodesic_m
from geo.errors import InvalidInput, TooLarge, UnsupportedFile
from geo.lookup.bulk import assign, zone_mask
from geo.lookup.explain import explain
from geo.lookup.resolve import resolve
from geo.models import School, check_slug, normalise_grade
from geo.standards import StandardsProfile, get_profile
from service.deps import SettingsDep, SnapDep
from service.geocoding import RemoteDep, locate
from service.schemas import FeederOut, GeocodeOut, InCrsOut, LookupOut
from service.settings import Settings
from service.state import Snapshot
from service.travel import costs_for_codes

router = APIRouter(prefix="/v1/lookup", tags=["lookup"])
CHUNK = 100_000


def school_year(settings: Settings, year: int | None) -> int:
    """The school year asked about: the one given, else the configured or current calendar year.

    Answers default to the year in force today, so zones that phase in later (and plans adopted
    for a later year) do not answer before their time.
    """
    if year is not None:
        return year
    return settings.lookup.default_year or date.today().year


def clean_filters(level: str | None, grade: str | None) -> tuple[str | None, str | None]:
    try:
        g = normalise_grade(grade) if grade is not None else None
    except ValueError as exc:
        raise InvalidInput(str(exc), where="grade") from exc
    try:
        lv = check_slug(level, what="level") if level is not None else None
    except ValueError as exc:
        raise InvalidInput(str(exc), where="level") from exc
    return lv, g


@router.get("", response_model=LookupOut, summary="Which zones and schools serve an address, or (lon, lat)",
            responses={404: {"description": "the address matches nothing"},
                       409: {"description": "ambiguous address: the body lists the candidates"},
                       503: {"description": "the remote geocoder is down"}})
async def lookup(snap: SnapDep, settings: SettingsDep, remote: RemoteDep,
                 lon: Annotated[float | None, Query(description="longitude (EPSG:4326), or x in crs")] = None,
                 lat: Annotated[float | None, Query(description="latitude (EPSG:4326), or y in crs")] = None,
                 address: Annotated[str | None, Query(description="free address text, instead of lon/lat")] = None,
                 crs: Annotated[str | None, Query(description="crs of lon/lat: EPSG:<code>, gcj02 or bd09 (default EPSG:4326)")] = None,
                 level: str | None = None, grade: str | None = None,
                 year: Annotated[int | None, Query(ge=1900, le=2200)] = None) -> Response:
    lv, g = clean_filters(level, grade)
    extra = {"level": level, "grade": grade, "year": year}
    year = school_year(settings, year)
    # A remote geocoder's call runs in the thread pool inside locate(); all else here is in memory.
    at = await locate(lon=lon, lat=lat, address=address, crs=crs, gazetteer=snap.gazetteer, remote=remote, extra=extra)
    result = resolve(snap.index, snap.schools, at.lon, at.lat, level=lv, grade=g, year=year, plans=snap.plans,
                     near_m=settings.lookup.near_boundary_m, nearest_k=settings.lookup.nearest_k)
    chains = feeder_chains(snap, [sd.school.code for a in result.levels for h in a.hits for sd in h.schools])
    words = explain(result, geocode=at.geocode, feeders={c: [s for s, _ in ch] for c, ch in chains.items()})
    out = LookupOut.from_domain(result, explanation=words, input=at.input,
                                geocode=GeocodeOut.from_domain(at.geocode) if at.geocode else None,
                                in_crs=InCrsOut(**at.in_crs) if at.in_crs else None)
    add_bands(out, snap, get_profile(settings.profile))
    add_travel(out, snap)
    add_feeders(out, chains)
    # Serialised once here: returning the model would make FastAPI validate it a second time.
    return Response(out.model_dump_json(), media_type="application/json")


#: Longest feeder path followed (primary -> middle -> high -> ...); guards against cycles too.
FEEDER_DEPTH = 4


def feeder_chains(snap: Snapshot, codes: list[str]) -> dict[str, list[tuple[School, list[str]]]]:
    """Per zoned school code: the schools its pupils move up to (对口直升), breadth first, each with
    the path of codes from the zoned school to it."""
    by_code = snap.schools.by_code
    out: dict[str, list[tuple[School, list[str]]]] = {}
    for code in dict.fromkeys(codes):
        chain: list[tuple[School, list[str]]] = []
        frontier, seen = [[code]], {code}
        for _ in range(FEEDER_DEPTH):
            nxt = []
            for path in frontier:
                start = by_code.get(path[-1])
                for f in start.feeds_into if start else ():
                    target = by_code.get(f)
                    if target is None or f in seen:
                        continue
                    seen.add(f)
                    chain.append((target, [*path, f]))
                    nxt.append([*path, f])
            frontier = nxt
        if chain:
            out[code] = chain
    return out


def add_feeders(out: LookupOut, chains: dict[str, list[tuple[School, list[str]]]]) -> None:
    """Each zoned school's feeder path, with distances from the point looked up."""
    for lv in out.levels:
        for z in lv.zones:
            for s in z.schools:
                s.feeders = [FeederOut(code=t.code, name=t.name, name_local=t.name_local, levels=list(t.levels), lon=t.lon,
                                       lat=t.lat, distance_m=round(float(geodesic_m(out.lon, out.lat, t.lon, t.lat)), 1),
                                       status=t.status, path=path)
                             for t, path in chains.get(s.code, ())]


def add_travel(out: LookupOut, snap: Snapshot) -> None:
    """Street distance (walk_m) and driving time (drive_s) to each school, where a network covers the point."""
    for t in snap.travels:
        if not t.covers(out.lon, out.lat):
            continue
        costs, snap_m, too_far = costs_for_codes(t, out.lon, out.lat)
        out.networks[t.mode] = {"network": t.name, "snap_m": round(snap_m, 1), "too_far": too_far}
        field = "walk_m" if t.mode == "walk" else "drive_s"
        for lv in out.levels:
            for s in [s for z in lv.zones for s in z.schools] + lv.nearest_schools:
                cost = costs.get(s.code)
                if cost is not None and not too_far:
                    setattr(s, field, round(cost, 1))

def add_bands(out: LookupOut, snap: Snapshot, profile: StandardsProfile) -> None:
    """Each answering school's utilisation band (enrolment / capacity) under the active profile."""
    for lv in out.levels:
        for z in lv.zones:
            for s in z.schools:
                school = snap.schools.by_code.get(s.code)
                band = utilisation_band(school, level=lv.level, profile=profile) if school else None
                s.utilisation_band = band.as_dict() if band else None


# --------------------------------------------------------------------------- batch


def _points_from_json(raw: bytes) -> pd.DataFrame:
    try:
        doc = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        msg = f"body is not valid JSON: {exc}"
        raise InvalidInput(msg, where="body") from exc
    pts = doc.get("points") if isinstance(doc, dict) else None
    if not isinstance(pts, list):
        raise InvalidInput('expected {"points": [{"id": ..., "lon": ..., "lat": ...}, ...]}', where="points")
    try:
        frame = pd.DataFrame.from_records(pts, columns=["id", "lon", "lat"])
    except (TypeError, ValueError) as exc:
        msg = f"points must be objects with id, lon, lat: {exc}"
        raise InvalidInput(msg, where="points") from exc
    return frame


def _points_from_csv(raw: bytes) -> pd.DataFrame:
    try:
        frame = pd.read_csv(io.BytesIO(raw), dtype={"id": str}, encoding="utf-8-sig")
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        msg = f"upload is not a readable UTF-8 CSV: {exc}"
        raise UnsupportedFile(msg, where="file") from exc
    cols = {c.lower().strip(): c for c in frame.columns}
    if "lon" not in cols or "lat" not in cols:
        raise InvalidInput("CSV needs lon and lat columns (and optionally id)", where="columns")
    ids = frame[cols["id"]] if "id" in cols else pd.Series(np.arange(len(frame)))
    return pd.DataFrame({"id": ids, "lon": frame[cols["lon"]], "lat": frame[cols["lat"]]})


def _coords(frame: pd.DataFrame, limit: int) -> tuple[np.ndarray, np.ndarray]:
    if len(frame) > limit:
        msg = (f"{len(frame)} points is more than the {limit} allowed in one call (CATCHMENT_LOOKUP_BATCH_MAX_POINTS); "
               f"split the points into calls of at most {limit} / 一次最多查询 {limit} 个点，请分批提交")
        raise TooLarge(msg, where="points")
    lons = pd.to_numeric(frame["lon"], errors="coerce").to_numpy(dtype=float)
    lats = pd.to_numeric(frame["lat"], errors="coerce").to_numpy(dtype=float)
    bad = np.flatnonzero(~(np.isfinite(lons) & np.isfinite(lats)))
    if bad.size:
        i = int(bad[0])
        msg = f"points[{i}] lon/lat are missing or not numbers"
        raise InvalidInput(msg, where=f"points[{i}]")
    return lons, lats


def _rows(snap: Snapshot, lons: np.ndarray, lats: np.ndarray, mask: np.ndarray) -> Iterator[tuple[int, dict[str, tuple[list[int], list[str]]]]]:
    """Per chunk: yield (point position, {level: (zone ids, school codes)})."""
    entries = snap.index.entries
    zone_ids = np.array([e.zone.id if e.zone.id is not None else -1 for e in entries])
    for start in range(0, len(lons), CHUNK):
        stop = min(start + CHUNK, len(lons))
        ans = assign(snap.index, lons[start:stop], lats[start:stop], mask=mask)
        per: dict[int, dict[str, tuple[list[int], list[str]]]] = {}
        for p, z in zip(ans.point.tolist(), ans.zone.tolist(), strict=True):
            e = entries[z]
            slot = per.setdefault(p, {}).setdefault(e.plan.level, ([], []))
            slot[0].append(int(zone_ids[z]))
            slot[1].extend(e.zone.school_codes)
        for p in range(stop - start):
            yield start + p, per.get(p, {})


@router.post("/batch", summary="Look up many points (JSON body, or a CSV upload); streamed JSON or CSV")
async def batch(request: Request, snap: SnapDep, settings: SettingsDep,
                format: Annotated[str | None, Query(pattern="^(json|csv)$")] = None,
                level: str | None = None, grade: str | None = None,
                year: Annotated[int | None, Query(ge=1900, le=2200)] = None) -> StreamingResponse:
    lv, g = clean_filters(level, grade)
    ctype = request.headers.get("content-type", "")
    if ctype.startswith("multipart/form-data"):
        async with request.form() as form:
            upload = form.get("file")
            if upload is None or isinstance(upload, str):
                raise InvalidInput("multipart upload needs a 'file' field with the CSV", where="file")
            raw = await upload.read()
        frame = await run_in_threadpool(_points_from_csv, raw)
    else:
        raw = await request.body()
        frame = await run_in_threadpool(_points_from_csv if ctype.startswith("text/csv") else _points_from_json, raw)
    lons, lats = _coords(frame, settings.lookup.batch_max_points)
    ids = frame["id"].to_numpy()
    mask = zone_mask(snap.index, plans=snap.plans, level=lv, grade=g, year=school_year(settings, year))
    levels = [lv] if lv else sorted({p.level for p in snap.plans})
    want_csv = format == "csv" or (format is None and "text/csv" in request.headers.get("accept", ""))
    # Validate coordinates before streaming starts, so errors are still problem+json.
    bad = np.flatnonzero(~((np.abs(lons) <= 180) & (np.abs(lats) <= 90)))
    if bad.size:
        i = int(bad[0])
        msg = f"points[{i}] lon/lat {lons[i]}, {lats[i]} outside EPSG:4326 range (lon -180..180, lat -90..90)"
        raise InvalidInput(msg, where=f"points[{i}]")
    if want_csv:
        return StreamingResponse(_csv(snap, ids, lons, lats, mask, levels), media_type="text/csv")
    return StreamingResponse(_json(snap, ids, lons, lats, mask, levels), media_type="application/json")


def _id(v: Any) -> Any:
    return v.item() if isinstance(v, np.generic) else v


def _csv(snap: Snapshot, ids: np.ndarray, lons: np.ndarray, lats: np.ndarray, mask: np.ndarray,
         levels: list[str]) -> Iterator[str]:
    """CSV rows built a chunk at a time with pandas (no per-point Python)."""
    head = ["id", "lon", "lat"] + [f"{lv}_{k}" for lv in levels for k in ("schools", "zones")]
    yield ",".join(head) + "\n"
    entries = snap.index.entries
    zone_level = np.array([e.plan.level for e in entries], dtype=object)
    zone_codes = np.array([";".join(e.zone.school_codes) for e in entries], dtype=object)
    zone_ids = np.array([str(e.zone.id) for e in entries], dtype=object)
    for start in range(0, len(lons), CHUNK):
        stop = min(start + CHUNK, len(lons))
        ans = assign(snap.index, lons[start:stop], lats[start:stop], mask=mask)
        table = pd.DataFrame({"id": ids[start:stop], "lon": lons[start:stop], "lat": lats[start:stop]})
        for lv in levels:
            sel = zone_level[ans.zone] == lv
            schools, zones = _level_cells(ans.point[sel], ans.zone[sel], stop - start, zone_codes, zone_ids)
            table[f"{lv}_schools"] = schools
            table[f"{lv}_zones"] = zones
        yield table.to_csv(index=False, header=False, lineterminator="\n")


def _level_cells(point: np.ndarray, zone: np.ndarray, n: int, zone_codes: np.ndarray,
                 zone_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """School codes and zone ids per point for one level; pairs come sorted by point.

    Most points have one zone per level and are filled in one vectorised step; only points on
    an edge or in overlapping zones (a few per thousand) are joined one by one.
    """
    schools = np.full(n, "", dtype=object)
    zones = np.full(n, "", dtype=object)
    uniq, first, counts = np.unique(point, return_index=True, return_counts=True)
    one = counts == 1
    schools[uniq[one]] = zone_codes[zone[first[one]]]
    zones[uniq[one]] = zone_ids[zone[first[one]]]
    for u, f, c in zip(uniq[~one].tolist(), first[~one].tolist(), counts[~one].tolist(), strict=True):
        zz = zone[f:f + c]
        schools[u] = ";".join(dict.fromkeys(";".join(zone_codes[zz]).split(";")))
        zones[u] = ";".join(zone_ids[zz])
    return schools, zones


def _csv_cell(text: str) -> str:
    return '"' + text.replace('"', '""') + '"' if any(c in text for c in ',"\n') else text


def _json(snap: Snapshot, ids: np.ndarray, lons: np.ndarray, lats: np.ndarray, mask: np.ndarray,
          levels: list[str]) -> Iterator[str]:
    yield '{"levels":' + json.dumps(levels) + ',"rows":['
    parts: list[str] = []
    for p, answer in _rows(snap, lons, lats, mask):
        row = {"id": _id(ids[p]), "lon": float(lons[p]), "lat": float(lats[p]),
               "levels": {lv: {"zones": z, "schools": list(dict.fromkeys(c))} for lv, (z, c) in answer.items()}}
        parts.append(json.dumps(row, separators=(",", ":")))
        if len(parts) == 20_000:
            yield ("," if p >= 20_000 else "") + ",".join(parts)
            parts = []
    if parts:
        yield ("," if len(lons) > len(parts) else "") + ",".join(parts)
    yield "]}"
