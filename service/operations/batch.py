"""Many points at once: parse the body (JSON or CSV), validate, and stream the rows (JSON or CSV).

The points go through the same index as a single lookup, vectorised a chunk at a time
(:func:`geo.lookup.bulk.assign`); the answer streams, so memory stays flat.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from geo.errors import InvalidInput, TooLarge, UnsupportedFile
from geo.lookup.bulk import assign, zone_mask
from geo.lookup.odds import ZoneOdds, odds_key
from geo.lookup.table import ZoneColumns, assignment_columns
from service.operations.lookup import clean_filters, school_year
from service.settings import Settings
from service.state import Snapshot

CHUNK = 100_000


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
               f"split them into calls of at most {limit}, or run them as a batch job (POST /v1/jobs/assign, any size) / "
               f"一次最多查询 {limit} 个点：请分批提交，或用批量任务 POST /v1/jobs/assign")
        raise TooLarge(msg, where="points")
    lons = pd.to_numeric(frame["lon"], errors="coerce").to_numpy(dtype=float)
    lats = pd.to_numeric(frame["lat"], errors="coerce").to_numpy(dtype=float)
    bad = np.flatnonzero(~(np.isfinite(lons) & np.isfinite(lats)))
    if bad.size:
        i = int(bad[0])
        msg = f"points[{i}] lon/lat are missing or not numbers"
        raise InvalidInput(msg, where=f"points[{i}]")
    return lons, lats


Slot = tuple[list[int], list[str], list[dict[str, Any]]]


def entry_odds(snap: Snapshot) -> dict[int, ZoneOdds]:
    """Index entry -> the admission odds of its shared zone (多校划片), where its plan has admission data."""
    if not snap.odds:
        return {}
    out = {}
    for i, e in enumerate(snap.index.entries):
        if len(e.zone.school_codes) > 1 and e.plan.id is not None:
            z = snap.odds.get(odds_key(e.plan.id, e.zone.school_codes))
            if z is not None:
                out[i] = z
    return out


def odds_json(z: ZoneOdds) -> dict[str, Any]:
    """A shared zone's odds in a batch row: each category's chance at its first choice."""
    return {"schools": list(z.schools), "method": z.method, "runs": z.runs,
            "odds": [{"school": o.school, "category": o.category, "probability": round(o.probability, 6),
                      "stderr": None if o.stderr is None else round(o.stderr, 6)} for o in z.odds]}


def odds_cell(z: ZoneOdds) -> str:
    """The same in one CSV cell: ``school/category=probability`` joined by ``;``."""
    return ";".join(f"{o.school}/{o.category}={round(o.probability, 4):g}" for o in z.odds)


def _rows(snap: Snapshot, lons: np.ndarray, lats: np.ndarray, mask: np.ndarray) -> Iterator[tuple[int, dict[str, Slot]]]:
    """Per chunk: yield (point position, {level: (zone ids, school codes, odds of shared zones)})."""
    entries = snap.index.entries
    zone_ids = np.array([e.zone.id if e.zone.id is not None else -1 for e in entries])
    odds = {i: odds_json(z) for i, z in entry_odds(snap).items()}
    for start in range(0, len(lons), CHUNK):
        stop = min(start + CHUNK, len(lons))
        ans = assign(snap.index, lons[start:stop], lats[start:stop], mask=mask)
        per: dict[int, dict[str, Slot]] = {}
        for p, z in zip(ans.point.tolist(), ans.zone.tolist(), strict=True):
            e = entries[z]
            slot = per.setdefault(p, {}).setdefault(e.plan.level, ([], [], []))
            slot[0].append(int(zone_ids[z]))
            slot[1].extend(e.zone.school_codes)
            if z in odds:
                slot[2].append(odds[z])
        for p in range(stop - start):
            yield start + p, per.get(p, {})


def _id(v: Any) -> Any:
    return v.item() if isinstance(v, np.generic) else v


def _csv(snap: Snapshot, ids: np.ndarray, lons: np.ndarray, lats: np.ndarray, mask: np.ndarray,
         levels: list[str]) -> Iterator[str]:
    """CSV rows built a chunk at a time with pandas (no per-point Python); the same cells as the batch job's."""
    cols = ZoneColumns(snap.index)
    # Levels with shared zones that have admission data get an <level>_odds column, keyed by zone id.
    odds: dict[str, dict[str, str]] = {}
    for i, z in entry_odds(snap).items():
        odds.setdefault(str(cols.level[i]), {})[str(cols.ids[i])] = odds_cell(z)
    head = ["id", "lon", "lat"] + [f"{lv}_{k}" for lv in levels for k in ("schools", "zones", "odds")
                                   if k != "odds" or lv in odds]
    yield ",".join(head) + "\n"
    for start in range(0, len(lons), CHUNK):
        stop = min(start + CHUNK, len(lons))
        got = assignment_columns(snap.index, lons[start:stop], lats[start:stop], mask=mask, levels=levels, cols=cols)
        table = pd.DataFrame({"id": ids[start:stop], "lon": lons[start:stop], "lat": lats[start:stop]})
        for lv in levels:
            table[f"{lv}_schools"] = got[f"{lv}_schools"]
            table[f"{lv}_zones"] = got[f"{lv}_zones"]
            if lv in odds:
                by_zone = odds[lv]
                table[f"{lv}_odds"] = [";".join(by_zone[z] for z in str(zs).split(";") if z in by_zone)
                                       for zs in got[f"{lv}_zones"]]
        yield table.to_csv(index=False, header=False, lineterminator="\n")


def _csv_cell(text: str) -> str:
    return '"' + text.replace('"', '""') + '"' if any(c in text for c in ',"\n') else text


def _json(snap: Snapshot, ids: np.ndarray, lons: np.ndarray, lats: np.ndarray, mask: np.ndarray,
          levels: list[str]) -> Iterator[str]:
    yield '{"levels":' + json.dumps(levels) + ',"rows":['
    parts: list[str] = []
    for p, answer in _rows(snap, lons, lats, mask):
        row = {"id": _id(ids[p]), "lon": float(lons[p]), "lat": float(lats[p]),
               "levels": {lv: {"zones": z, "schools": list(dict.fromkeys(c))} | ({"odds": o} if o else {})
                          for lv, (z, c, o) in answer.items()}}
        parts.append(json.dumps(row, separators=(",", ":")))
        if len(parts) == 20_000:
            yield ("," if p >= 20_000 else "") + ",".join(parts)
            parts = []
    if parts:
        yield ("," if len(lons) > len(parts) else "") + ",".join(parts)
    yield "]}"


@dataclass(frozen=True)
class BatchAnswer:
    """A validated batch: the rows to stream and their media type."""

    rows: Iterator[str]
    media_type: str


def points_from(raw: bytes, *, csv: bool) -> pd.DataFrame:
    """The points of a request body: a CSV (``id,lon,lat``) or ``{"points": [...]}`` JSON."""
    return _points_from_csv(raw) if csv else _points_from_json(raw)


def batch(snap: Snapshot, settings: Settings, frame: pd.DataFrame, *, level: str | None, grade: str | None,
          year: int | None, want_csv: bool) -> BatchAnswer:
    """Validate every point before anything streams (errors stay problem+json), then stream the rows."""
    lv, g = clean_filters(level, grade)
    lons, lats = _coords(frame, settings.lookup.batch_max_points)
    ids = frame["id"].to_numpy()
    mask = zone_mask(snap.index, plans=snap.plans, level=lv, grade=g, year=school_year(settings, year))
    levels = [lv] if lv else sorted({p.level for p in snap.plans})
    bad = np.flatnonzero(~((np.abs(lons) <= 180) & (np.abs(lats) <= 90)))
    if bad.size:
        i = int(bad[0])
        msg = f"points[{i}] lon/lat {lons[i]}, {lats[i]} outside EPSG:4326 range (lon -180..180, lat -90..90)"
        raise InvalidInput(msg, where=f"points[{i}]")
    if want_csv:
        return BatchAnswer(_csv(snap, ids, lons, lats, mask, levels), "text/csv")
    return BatchAnswer(_json(snap, ids, lons, lats, mask, levels), "application/json")
