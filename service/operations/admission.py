"""A plan's admission data in shared zones (多校划片): import (CSV or JSON), checks, and the odds lookups carry.

The data: priority categories in order (first served first), places per school, applicants per
unit or compound (小区) by category with their preferences (ranked schools, or "any" = 服从调剂).
CSV rows say what they are in a ``kind`` column (``category``, ``places``, ``applicants``); JSON
gives the three lists. All-or-nothing: every row is checked first and the first bad one is an
``InvalidInput`` naming the row and field (HTTP 422), nothing written: an unknown school or
category, a negative or non-whole count, more places than the school's seats, a school that
serves no shared zone of the plan, preferences across two zones.

Each shared zone's odds come from :mod:`geo.admission`: exact when every application names one
school (:func:`geo.admission.odds.exact_odds`), exact by recursion over the draw when the zone
is small enough (:func:`geo.admission.exact.exact_ranked_odds`), else Monte Carlo with its
standard error (:func:`geo.admission.odds.simulate_odds`, PCG64 seed 0, ``MC_RUNS`` draws).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from geo.admission.exact import exact_ranked_odds
from geo.admission.model import ApplicantGroup, Category, SchoolPlaces
from geo.admission.odds import OddsReport, exact_odds, simulate_odds
from geo.errors import InvalidInput
from geo.lookup.odds import OddsKey, SchoolOdds, ZoneOdds, odds_key
from geo.models import School, Zone
from service.storage.base import AdmissionData, ApplicantRow, Repository

#: Monte Carlo draws for zones too large for the exact recursion, and that recursion's state cap.
MC_RUNS = 2000
EXACT_MAX_STATES = 20_000

#: Column names read, lower-cased: ours, then Chinese headers.
COLUMNS: dict[str, tuple[str, ...]] = {
    "kind": ("kind", "type", "类型"), "school": ("school", "school_code", "学校代码", "学校"),
    "places": ("places", "学位", "学位数", "计划数"), "unit": ("unit", "compound", "小区", "单元"),
    "category": ("category", "key", "类别"), "count": ("count", "applicants", "人数", "报名人数"),
    "preferences": ("preferences", "志愿"), "accept_any": ("accept_any", "any", "服从调剂"),
    "zone": ("zone", "片区"), "id": ("id", "applicant_id", "报名号"),
    "label_en": ("label_en", "label"), "label_zh": ("label_zh", "类别名称"),
}
KINDS = {"category": "category", "categories": "category", "类别": "category", "places": "places", "学位": "places",
         "applicants": "applicants", "applicant": "applicants", "报名": "applicants"}
_TRUE, _FALSE = {"1", "true", "yes", "y", "是", "服从"}, {"", "0", "false", "no", "n", "否"}
_SPLIT = re.compile(r"[;|,、\s]+")


@dataclass(frozen=True, slots=True)
class Row:
    """One input row: what it is, where it came from (``row 5`` or ``places[2]``), its values."""

    kind: str
    where: str
    values: Mapping[str, Any]


def _bad(row: Row, field: str, msg: str) -> InvalidInput:
    return InvalidInput(msg, where=f"{row.where}: {field}")


def rows_from_csv(text: str) -> list[Row]:
    """The rows of an admission CSV (row 2 is the first after the header)."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    lower = {str(k).strip().lower(): k for k in reader.fieldnames or ()}
    pick = {f: next((lower[a] for a in aliases if a in lower), None) for f, aliases in COLUMNS.items()}
    if pick["kind"] is None:
        msg = "no kind column (category, places or applicants per row) / 缺少 kind（类型）列"
        raise InvalidInput(msg, where="kind")
    out = []
    for n, raw in enumerate(reader, 2):
        values = {f: (raw.get(c) or "").strip() for f, c in pick.items() if c is not None}
        kind = KINDS.get(str(values.get("kind", "")).strip().lower())
        if kind is None:
            msg = f"kind {values.get('kind')!r} must be category, places or applicants / 类型须为 category、places 或 applicants"
            raise InvalidInput(msg, where=f"row {n}: kind")
        out.append(Row(kind, f"row {n}", values))
    return out


def rows_from_json(body: Mapping[str, Any]) -> list[Row]:
    """The rows of ``{"categories": [...], "places": [...], "applicants": [...]}``."""
    out = []
    for section, kind in (("categories", "category"), ("places", "places"), ("applicants", "applicants")):
        items = body.get(section) or []
        if not isinstance(items, list):
            raise InvalidInput(f"{section} must be a list / {section} 须为列表", where=section)
        for i, item in enumerate(items):
            if not isinstance(item, Mapping):
                raise InvalidInput(f"{section}[{i}] must be an object", where=f"{section}[{i}]")
            out.append(Row(kind, f"{section}[{i}]", item))
    return out


def _whole(row: Row, field: str, *, default: int | None = None) -> int:
    v = row.values.get(field)
    if v is None or v == "":
        if default is not None:
            return default
        raise _bad(row, field, f"{field} is missing / 缺少 {field}")
    if isinstance(v, bool) or (isinstance(v, float) and not v.is_integer()):
        raise _bad(row, field, f"{field} {v!r} must be a whole number / {field} 须为整数")
    try:
        n = int(str(v).strip()) if not isinstance(v, (int, float)) else int(v)
    except ValueError:
        raise _bad(row, field, f"{field} {v!r} must be a whole number / {field} 须为整数") from None
    if n < 0:
        raise _bad(row, field, f"{field} {n} must not be negative / {field} 不能为负数")
    return n


def _flag(row: Row, field: str) -> bool:
    v = row.values.get(field)
    if isinstance(v, bool):
        return v
    text = str(v if v is not None else "").strip().lower()
    if text in _TRUE or text in _FALSE:
        return text in _TRUE
    raise _bad(row, field, f"{field} {v!r} must be 1/0, true/false or 是/否")


def _prefs(row: Row) -> tuple[tuple[str, ...], bool]:
    v = row.values.get("preferences")
    items = [str(x).strip() for x in v] if isinstance(v, list) else [x for x in _SPLIT.split(str(v or "")) if x]
    if [x.lower() for x in items] in (["any"], ["任意"]):
        return (), True
    return tuple(items), False


def _text(row: Row, field: str, *, required: bool = True) -> str:
    v = row.values.get(field)
    text = "" if v is None else str(v).strip()
    if required and not text:
        raise _bad(row, field, f"{field} is missing / 缺少 {field}")
    return text


def shared_zones(zones: Sequence[Zone]) -> dict[str, tuple[str, ...]]:
    """School code -> the key (sorted school codes) of the shared zone it serves; a school in two is left out."""
    out: dict[str, tuple[str, ...]] = {}
    twice: set[str] = set()
    for z in zones:
        if len(set(z.school_codes)) < 2:
            continue
        key = tuple(sorted(set(z.school_codes)))
        for c in key:
            if out.get(c, key) != key:
                twice.add(c)
            out[c] = key
    return {c: k for c, k in out.items() if c not in twice}


def build_admission(plan_id: int, rows: Sequence[Row], *, schools: Mapping[str, School], zones: Sequence[Zone]) -> AdmissionData:
    """Check every row and return the plan's admission data (InvalidInput names the first bad row and field)."""
    if not rows:
        raise InvalidInput("no admission rows to import / 没有可导入的招生数据", where="file")
    zone_of = shared_zones(zones)
    cats: list[Category] = []
    for row in (r for r in rows if r.kind == "category"):
        key = _text(row, "category")
        if key in {c.key for c in cats}:
            raise _bad(row, "category", f"category {key!r} is listed twice / 类别 {key} 重复")
        cats.append(Category(key, _text(row, "label_en", required=False), _text(row, "label_zh", required=False)))
    if not cats:
        raise InvalidInput("give the priority categories first (kind=category rows, in priority order) / 缺少优先类别",
                           where="categories")
    places: dict[str, SchoolPlaces] = {}
    for row in (r for r in rows if r.kind == "places"):
        code = _text(row, "school")
        if code not in schools:
            raise _bad(row, "school", f"school {code!r} is not a known school / 未知学校 {code}")
        if code not in zone_of:
            raise _bad(row, "school", f"school {code} serves no shared zone (多校划片) of plan {plan_id} / "
                                      f"学校 {code} 不属于本方案的多校划片片区")
        if code in places:
            raise _bad(row, "school", f"school {code} is listed twice / 学校 {code} 重复")
        n, seats = _whole(row, "places"), schools[code].capacity
        if seats is not None and n > seats:
            raise _bad(row, "places", f"school {code}: {n} places offered but only {seats} seats / 学位 {n} 超过学校座位数 {seats}")
        places[code] = SchoolPlaces(code, n, seats)
    apps = [_applicant(row, i, cats=cats, places=places, zone_of=zone_of)
            for i, row in enumerate((r for r in rows if r.kind == "applicants"), 1)]
    seen: set[str] = set()
    for row, a in zip((r for r in rows if r.kind == "applicants"), apps, strict=True):
        if a.applicant_id is not None and a.applicant_id in seen:
            raise _bad(row, "id", f"applicant id {a.applicant_id!r} is listed twice / 报名号 {a.applicant_id} 重复")
        seen.add(a.applicant_id or "")
    return AdmissionData(plan_id, tuple(cats), tuple(places.values()), tuple(apps))


def _applicant(row: Row, n: int, *, cats: Sequence[Category], places: Mapping[str, SchoolPlaces],
               zone_of: Mapping[str, tuple[str, ...]]) -> ApplicantRow:
    category = _text(row, "category")
    if category not in {c.key for c in cats}:
        raise _bad(row, "category", f"unknown category {category!r}; categories are {[c.key for c in cats]} / 未知类别 {category}")
    count = _whole(row, "count", default=1)
    prefs, any_only = _prefs(row)
    accept_any = any_only or _flag(row, "accept_any") or not prefs
    for code in prefs:
        if code not in places:
            raise _bad(row, "preferences", f"school {code} offers no places in this plan's shared zones / 学校 {code} 未提供学位")
    if len(set(prefs)) != len(prefs):
        raise _bad(row, "preferences", f"a school is ranked twice in {list(prefs)} / 志愿学校重复")
    zone = _text(row, "zone", required=False) or None
    keys = {zone_of[c] for c in prefs} | ({zone_of[zone]} if zone is not None and zone in zone_of else set())
    if zone is not None and zone not in places:
        raise _bad(row, "zone", f"zone {zone!r} must be the code of a school offering places in the zone / 片区须写该片区某校代码")
    if len(keys) > 1:
        raise _bad(row, "preferences", "the schools ranked belong to different shared zones / 志愿学校分属不同片区")
    if not keys:
        if len({zone_of[c] for c in places}) != 1:
            raise _bad(row, "zone", "an application for 'any' school needs zone= (a school of its zone) / 服从调剂须写片区")
        zone = next(iter(places))
    ident = _text(row, "id", required=False) or None
    if ident is not None and any(ch in ident for ch in "\t\r\n,"):
        raise _bad(row, "id", "an applicant id has no tabs, line breaks or commas / 报名号不能含制表符、换行或逗号")
    if ident is not None and count != 1:
        raise _bad(row, "count", f"a row with an applicant id is one applicant, not {count} / 含报名号的行只能是 1 人")
    unit = _text(row, "unit", required=False) or (ident or f"row-{n}")
    return ApplicantRow(n, unit, category, count, prefs, accept_any, zone if not prefs else None, ident)


@dataclass(frozen=True, slots=True)
class ZoneInput:
    """One shared zone's part of a plan's admission data, as :mod:`geo.admission` takes it."""

    key: tuple[str, ...]
    places: tuple[SchoolPlaces, ...]
    categories: tuple[Category, ...]
    rows: tuple[ApplicantRow, ...]

    @property
    def groups(self) -> list[ApplicantGroup]:
        return [ApplicantGroup(r.unit, r.category, r.count, r.preferences, r.accept_any) for r in self.rows]


def zone_inputs(data: AdmissionData, zones: Sequence[Zone]) -> list[ZoneInput]:
    """The data split by shared zone (rows of schools that no longer serve one are left out)."""
    zone_of = shared_zones(zones)
    keys = sorted({zone_of[p.school] for p in data.places if p.school in zone_of})
    out = []
    for key in keys:
        places = tuple(p for p in data.places if zone_of.get(p.school) == key)
        rows = tuple(r for r in data.applicants if zone_of.get(r.preferences[0] if r.preferences else r.zone or "") == key)
        out.append(ZoneInput(key, places, data.categories, rows))
    return out


def _report(z: ZoneInput) -> OddsReport:
    groups = z.groups
    if all(len(g.preferences) == 1 and not g.accept_any for g in groups):
        return exact_odds(z.places, z.categories, groups)
    try:
        return exact_ranked_odds(z.places, z.categories, groups, max_states=EXACT_MAX_STATES)
    except InvalidInput:
        return simulate_odds(z.places, z.categories, groups, runs=MC_RUNS, seed=0)


def zone_odds(plan_id: int, z: ZoneInput) -> ZoneOdds:
    """The odds of one shared zone in the form lookups carry."""
    report = _report(z)
    labels = {c.key: c for c in z.categories}
    rows = tuple(SchoolOdds(o.category, labels[o.category].label_en, labels[o.category].label_zh, o.school, o.applicants,
                            o.probability, o.stderr) for o in report.categories)
    return ZoneOdds(plan_id, z.key, report.method, report.runs, {p.school: p.places for p in z.places},
                    sum(r.count for r in z.rows), rows)


def plan_odds(data: AdmissionData, zones: Sequence[Zone]) -> dict[OddsKey, ZoneOdds]:
    """Every shared zone's odds for one plan, keyed as :func:`geo.lookup.answer.answer` takes them."""
    return {odds_key(data.plan_id, z.key): zone_odds(data.plan_id, z) for z in zone_inputs(data, zones) if z.rows}


def import_admission(repo: Repository, plan_id: int, rows: Sequence[Row], *, actor: str) -> AdmissionData:
    """Check every row against the plan's zones and the schools, then replace the plan's data (one transaction)."""
    plan = repo.get_plan(plan_id)
    zones = repo.zones(plan.id)
    codes = {c for z in zones for c in z.school_codes} | {str(r.values.get("school") or "") for r in rows}
    schools = {s.code: s for s in repo.list_schools() if s.code in codes}
    data = build_admission(plan.id, rows, schools=schools, zones=zones)
    return repo.admission.replace(data, actor=actor)


def admission_dict(data: AdmissionData, zones: Sequence[Zone]) -> dict[str, Any]:
    """The plan's admission data and each shared zone's odds, JSON-ready."""
    odds = plan_odds(data, zones)
    return {"plan_id": data.plan_id,
            "categories": [{"key": c.key, "label_en": c.label_en, "label_zh": c.label_zh} for c in data.categories],
            "places": [{"school": p.school, "places": p.places} for p in data.places],
            "applicants": [{"row": a.row, "unit": a.unit, "category": a.category, "count": a.count,
                            "preferences": list(a.preferences), "accept_any": a.accept_any, "zone": a.zone, "id": a.applicant_id}
                           for a in data.applicants],
            "zones": [odds_dict(z) for z in odds.values()]}


def odds_dict(z: ZoneOdds) -> dict[str, Any]:
    return {"schools": list(z.schools), "method": z.method, "runs": z.runs, "places": dict(z.places), "applicants": z.applicants,
            "odds": [{"category": o.category, "label_en": o.label_en, "label_zh": o.label_zh, "school": o.school,
                      "applicants": o.applicants, "probability": round(o.probability, 6),
                      "stderr": None if o.stderr is None else round(o.stderr, 6)} for o in z.odds]}
