"""Enrolments (who attends where) and the admission discipline report: out-of-zone and migrant shares.

Import (``catchment import enrolments FILE [--level]``, ``POST /v1/imports/enrolments``): CSV rows
of ``id`` (a pupil id or a row id; no names), the home as ``unit`` (a demand unit or compound id)
or ``lon``/``lat`` (EPSG:4326), ``school`` attended, optional ``category`` (``migrant`` =
随迁子女, ``local``) and ``count`` (an aggregated row of that many pupils; default 1); ``level``
per row or for the whole file. All-or-nothing: a bad row is a 422 naming the row and field.

Report (``GET /v1/reports/admission?level=``): the zones of the level's adopted plan decide which
schools serve each home; :func:`geo.admission.shares.admission_shares` gives per school the share
admitted from outside its zone against the profile's limit (``cn``: 10 %) and per area the share
of migrant children in public (or government-bought) places against its minimum (``cn``: 85 %),
with the rows that break them. A school's kind is its ``kind`` attribute (public, purchased,
private; 公办, 政府购买, 民办), public when unset; its area its ``area`` attribute, else the plan's district.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Mapping, Sequence
from typing import Any

import shapely
from shapely.geometry import Point

from geo.admission.shares import EnrolmentRow, SharesReport, admission_shares
from geo.errors import InvalidInput
from geo.models import School, check_slug
from geo.standards import get_profile
from service.operations.context import resolve_plan
from service.settings import Settings
from service.storage.base import EnrolmentRecord, Repository

COLUMNS: dict[str, tuple[str, ...]] = {
    "id": ("id", "pupil_id", "学籍号", "编号"), "unit": ("unit", "compound", "小区", "单元"), "lon": ("lon", "longitude", "经度"),
    "lat": ("lat", "latitude", "纬度"), "school": ("school", "school_code", "学校代码", "就读学校"),
    "category": ("category", "类别"), "count": ("count", "pupils", "人数"), "level": ("level", "学段"),
}
CATEGORIES = {"migrant": "migrant", "随迁子女": "migrant", "随迁": "migrant", "local": "local", "本地": "local",
              "户籍": "local", "": ""}
KINDS = {"public": "public", "公办": "public", "purchased": "purchased", "政府购买": "purchased", "private": "private",
         "民办": "private"}


def _bad(n: int, field: str, msg: str) -> InvalidInput:
    return InvalidInput(msg, where=f"row {n}: {field}")


def _number(n: int, field: str, text: str, lo: float, hi: float) -> float:
    try:
        v = float(text)
    except ValueError:
        raise _bad(n, field, f"{field} {text!r} is not a number / {field} 不是数字") from None
    if not math.isfinite(v) or not lo <= v <= hi:
        raise _bad(n, field, f"{field} {v} is outside {lo}..{hi} / {field} 超出范围")
    return v


def enrolments_from_csv(text: str, *, level: str | None, schools: Mapping[str, School], units: set[str]) -> list[EnrolmentRecord]:
    """Check every row (InvalidInput names the first bad row and field) and return the records."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    lower = {str(k).strip().lower(): k for k in reader.fieldnames or ()}
    pick = {f: next((lower[a] for a in aliases if a in lower), None) for f, aliases in COLUMNS.items()}
    for need in ("id", "school"):
        if pick[need] is None:
            raise InvalidInput(f"no {need} column ({', '.join(COLUMNS[need])}) / 缺少 {need} 列", where=need)
    fixed = check_slug(level, what="level") if level else None
    out: list[EnrolmentRecord] = []
    seen: set[tuple[str, str]] = set()
    for n, raw in enumerate(reader, 2):
        v = {f: (raw.get(c) or "").strip() for f, c in pick.items() if c is not None}
        lv = fixed or v.get("level", "")
        if not lv:
            raise _bad(n, "level", "no level: give --level or a level column / 缺少学段")
        try:
            lv = check_slug(lv, what="level")
        except ValueError as exc:
            raise _bad(n, "level", str(exc)) from None
        pid = v["id"]
        if not pid or (lv, pid) in seen:
            raise _bad(n, "id", f"id {pid!r} is empty or listed twice / 编号为空或重复")
        seen.add((lv, pid))
        if v["school"] not in schools:
            raise _bad(n, "school", f"school {v['school']!r} is not a known school / 未知学校")
        category = CATEGORIES.get(v.get("category", "").lower())
        if category is None:
            raise _bad(n, "category", f"unknown category {v.get('category')!r}; use migrant (随迁子女) or local / 未知类别")
        count_text = v.get("count", "") or "1"
        if not count_text.isdigit() or int(count_text) < 1:
            raise _bad(n, "count", f"count {count_text!r} must be a whole number of at least 1 / 人数须为正整数")
        unit = v.get("unit", "") or None
        lon = _number(n, "lon", v["lon"], -180, 180) if v.get("lon") else None
        lat = _number(n, "lat", v["lat"], -90, 90) if v.get("lat") else None
        if unit is None and (lon is None or lat is None):
            raise _bad(n, "unit", "give the home as unit or as lon and lat / 须给出住址单元或经纬度")
        if unit is not None and lon is None and unit not in units:
            raise _bad(n, "unit", f"unit {unit!r} is in no demand set (import it, or give lon and lat) / 未知住址单元")
        out.append(EnrolmentRecord(n, pid, lv, v["school"], unit, lon, lat, category or None, int(count_text)))
    if not out:
        raise InvalidInput("no enrolment rows to import / 没有可导入的就读记录", where="file")
    return out


def _unit_points(repo: Repository) -> dict[str, Point]:
    out: dict[str, Point] = {}
    for s in repo.demand_sets():
        for u in repo.demand_units(s["name"]):
            out.setdefault(u.id, u.geometry if isinstance(u.geometry, Point) else u.geometry.representative_point())
    return out


def import_enrolments(repo: Repository, text: str, *, level: str | None, actor: str) -> dict[str, Any]:
    """Check, then replace the enrolments of the levels in the file (one transaction)."""
    schools = {s.code: s for s in repo.list_schools()}
    rows = enrolments_from_csv(text, level=level, schools=schools, units=set(_unit_points(repo)))
    levels = sorted({r.level for r in rows})
    n = repo.admission.replace_enrolments(levels, rows, actor=actor)
    return {"rows": n, "pupils": sum(r.count for r in rows), "levels": levels,
            "migrant": sum(r.count for r in rows if r.category == "migrant")}


def _kind(s: School) -> str:
    return KINDS.get(str(s.attributes.get("kind", "public")).strip().lower(), "public")


def admission_report(repo: Repository, settings: Settings, *, level: str, plan: int | None = None, district: str | None = None,
                     year: int | None = None, profile: str | None = None) -> tuple[SharesReport, dict[str, Any]]:
    """The shares of the level's enrolments against the profile (``profile=`` or the configured one)."""
    chosen = resolve_plan(repo, plan_id=plan, level=level, year=year, district=district)
    prof = get_profile(profile or settings.profile)
    records = repo.admission.enrolments(chosen.level)
    if not records:
        msg = f"no enrolments for level {chosen.level!r}: `catchment import enrolments FILE --level {chosen.level}` / 尚无就读数据"
        raise InvalidInput(msg, where="level")
    zones = repo.zones(chosen.id)
    tree = shapely.STRtree([z.geometry for z in zones])
    points = _unit_points(repo) if any(r.lon is None for r in records) else {}
    homes: dict[str, list[str]] = {}
    rows: list[EnrolmentRow] = []
    for r in records:
        pt = Point(r.lon, r.lat) if r.lon is not None and r.lat is not None else points.get(r.unit or "")
        home = f"row {r.row}"
        homes[home] = [] if pt is None else sorted({c for i in tree.query(pt, predicate="intersects")
                                                    for c in zones[int(i)].school_codes})
        ids = [r.pupil_id] if r.count == 1 else [f"{r.pupil_id}#{k}" for k in range(1, r.count + 1)]
        rows.extend(EnrolmentRow(i, home, r.school, r.category) for i in ids)
    schools = {s.code: s for s in repo.list_schools()}
    kinds = {c: _kind(s) for c, s in schools.items()}
    areas = {c: str(s.attributes.get("area") or chosen.district) for c, s in schools.items()}
    report = admission_shares(rows, zones=homes, kinds=kinds, areas=areas, profile=prof)
    return report, report_dict(report, plan_id=chosen.id, level=chosen.level)


def _ids(ids: Sequence[str]) -> list[str]:
    """Pupil ids of an aggregated row (``P7#3``) back to the row's id, once each."""
    return list(dict.fromkeys(i.split("#", 1)[0] for i in ids))


def report_dict(r: SharesReport, *, plan_id: int, level: str) -> dict[str, Any]:
    return {"profile": r.profile, "plan_id": plan_id, "level": level, "text": dict(r.text),
            "schools": [{"school": s.school, "pupils": s.pupils, "out_of_zone": s.out_of_zone, "share": round(s.share, 6),
                         "limit": s.limit, "breach": s.breach, "excess": s.excess, "rows": _ids(s.rows)} for s in r.schools],
            "areas": [{"area": a.area, "migrants": a.migrants, "in_public": a.in_public,
                       "share": None if a.share is None else round(a.share, 6), "limit": a.limit, "breach": a.breach,
                       "rows": _ids(a.rows)} for a in r.areas],
            "unzoned": _ids(r.unzoned)}


def report_csv_rows(body: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One row per school and per area, for ``format=csv``."""
    out = [{"kind": "school", "name": s["school"], "count": s["pupils"], "flagged": s["out_of_zone"], "share": s["share"],
            "limit": s["limit"], "breach": s["breach"], "excess": s["excess"], "rows": ";".join(s["rows"]),
            "profile": body["profile"]} for s in body["schools"]]
    out += [{"kind": "area", "name": a["area"], "count": a["migrants"], "flagged": a["in_public"], "share": a["share"],
             "limit": a["limit"], "breach": a["breach"], "excess": "", "rows": ";".join(a["rows"]), "profile": body["profile"]}
            for a in body["areas"]]
    return out
