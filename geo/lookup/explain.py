"""One-sentence explanations of a lookup, in English and Chinese, for parents."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from geo.address.geocode import GeocodeResult, Precision
from geo.levels import level_name
from geo.models import GRADE_ORDER, LevelAnswer, LookupResult, School, SchoolDistance, ZoneHit


def _km(m: float) -> str:
    return f"{m / 1000:.1f} km" if m >= 1000 else f"{m:.0f} m"


def _zh_km(m: float) -> str:
    return f"{m / 1000:.1f} 公里" if m >= 1000 else f"{m:.0f} 米"


def distance_text(m: float, *, zh: bool = False) -> str:
    """A distance as the explanation says it: "350 m", "1.2 km" (or "350 米", "1.2 公里")."""
    return _zh_km(m) if zh else _km(m)


def _grade_ranges(grades: Sequence[str]) -> str:
    """["7", "8", "10"] -> "7-8, 10" (runs of consecutive grades)."""
    pos = sorted(GRADE_ORDER.index(g) for g in grades)
    runs: list[list[int]] = []
    for p in pos:
        if runs and p == runs[-1][-1] + 1:
            runs[-1].append(p)
        else:
            runs.append([p])
    return ", ".join(GRADE_ORDER[r[0]] if len(r) == 1 else f"{GRADE_ORDER[r[0]]}-{GRADE_ORDER[r[-1]]}" for r in runs)


def _phasing(starts: Mapping[str, int]) -> tuple[str, str]:
    """{"7": 2027, "8": 2027, "9": 2028} -> "grades 7-8 from 2027, 9 from 2028" (and in Chinese)."""
    years = sorted(set(starts.values()))
    parts = [(_grade_ranges([g for g, y in starts.items() if y == year]), year) for year in years]
    en = ", ".join(f"{g} from {y}" for g, y in parts)
    zh = "，".join(f"{g} 年级自 {y} 学年起" for g, y in parts)
    return f"grade{'s' if len(starts) > 1 else ''} {en}", zh


def _distances(sd: SchoolDistance, *, zh: bool, walk_m: Mapping[str, float] | None = None) -> str:
    """"1.2 km" straight, or "1.2 km in a straight line, 1.6 km on foot" when the walk is known."""
    walk = (walk_m or {}).get(sd.school.code)
    if zh:
        return _zh_km(sd.distance_m) if walk is None else f"直线 {_zh_km(sd.distance_m)}，步行 {_zh_km(walk)}"
    return _km(sd.distance_m) if walk is None else f"{_km(sd.distance_m)} in a straight line, {_km(walk)} on foot"


def _hit(h: ZoneHit, *, many: bool = False, walk_m: Mapping[str, float] | None = None) -> tuple[str, str]:
    names = " / ".join(s.school.name for s in h.schools) or ", ".join(h.zone.school_codes)
    names_zh = "、".join(s.school.name_local or s.school.name for s in h.schools) or "、".join(h.zone.school_codes)
    near = min(h.schools, key=lambda s: s.distance_m, default=None)
    far_en = f", {_distances(near, zh=False, walk_m=walk_m)} away" if near is not None else ""
    far_zh = f"，距离约 {_distances(near, zh=True, walk_m=walk_m)}" if near is not None else ""
    plan = f"plan '{h.plan.name}', school year {h.plan.school_year}"
    plan_zh = f"「{h.plan.name}」方案（{h.plan.school_year} 学年）"
    if h.zone.phasing:
        # A zone that phases in: say from when, grade by grade, so "2026" in the plan name does not mislead.
        en_p, zh_p = _phasing(h.zone.grade_start_years)
        plan, plan_zh = f"{plan}; new zone: {en_p}", f"{plan_zh}；新招生片区：{zh_p}"
    if many and h.zone.grades is not None:
        g = _grade_ranges(h.zone.grades)
        plan, plan_zh = f"{plan}; grade{'s' if len(h.zone.grades) > 1 else ''} {g}", f"{plan_zh}；{g} 年级"
    if len(h.zone.school_codes) > 1:
        en = f"this address is in a shared zone (several schools) served by {names}{far_en} ({plan})"
        zh = f"该地址属于多校划片区域，对应学校：{names_zh}{far_zh}（{plan_zh}）"
    else:
        en = f"this address is in the zone of {names}{far_en} ({plan})"
        zh = f"该地址属于 {names_zh} 的招生片区{far_zh}（{plan_zh}）"
    return en, zh


def _level(a: LevelAnswer, walk_m: Mapping[str, float] | None = None) -> tuple[str, str]:
    # English keeps the deployment's own level name ("elementary"); Chinese says 小学/初中/高中.
    zh_level = level_name(a.level, "zh")
    if not a.hits:
        if a.nearest:
            n = a.nearest[0]
            en = (f"{a.level}: no zone covers this address; the nearest {a.level} school is {n.school.name} "
                  f"({_distances(n, zh=False, walk_m=walk_m)}): ask the education office which school will take you")
            zh = (f"{zh_level}：该地址不在任何招生片区内；最近的学校是 {n.school.name_local or n.school.name}"
                  f"（{_distances(n, zh=True, walk_m=walk_m)}），请向教育主管部门咨询入学安排")
        elif a.nearest_within_m is not None:
            en = (f"{a.level}: no zone covers this address and no {a.level} school is within "
                  f"{_km(a.nearest_within_m)}: ask the education office")
            zh = f"{zh_level}：该地址不在任何招生片区内，{_zh_km(a.nearest_within_m)}范围内也没有该学段的学校，请向教育主管部门咨询"
        else:
            en = f"{a.level}: no zone covers this address and no school of this level is known"
            zh = f"{zh_level}：该地址不在任何招生片区内，也没有该学段的学校信息"
        return en, zh
    parts = [_hit(h, many=len(a.hits) > 1, walk_m=walk_m) for h in a.hits]
    en = f"{a.level}: " + "; ".join(p[0] for p in parts)
    zh = f"{zh_level}：" + "；".join(p[1] for p in parts)
    if any(h.on_boundary for h in a.hits):
        en += "; the address lies on a boundary between zones: confirm with the schools or the education office"
        zh += "；该地址位于招生片区边界上，请向学校或教育主管部门确认"
    elif len(a.hits) > 1:
        # Overlapping zones (not a boundary: the flags say so): name the grades each serves when known.
        en += "; several zones cover this address: ask the schools which one takes your child"
        zh += "；该地址同时属于多个招生片区：请向学校确认孩子应就读哪一所"
    elif any(h.near_boundary_m is not None for h in a.hits):
        m = min(h.near_boundary_m for h in a.hits if h.near_boundary_m is not None)
        en += f"; it is {_km(m)} from the zone boundary: check the exact address with the school"
        zh += f"；距离招生片区边界约 {_zh_km(m)}，请以学校核实的准确门牌为准"
    return en, zh


_PRECISION = {
    Precision.EXACT: ("exact match", "精确匹配"),
    Precision.INTERPOLATED: ("house number interpolated", "门牌号插值定位"),
    Precision.STREET: ("street only", "仅匹配到街道"),
    Precision.LOCALITY: ("suburb or locality only", "仅匹配到地区"),
}


def _address(g: GeocodeResult) -> tuple[str, str]:
    """Which address the text matched, how precisely, and what to do when only roughly."""
    en_p, zh_p = _PRECISION[g.precision]
    en = f"Address matched: {g.address} ({en_p}, score {g.score:.2f}, {g.geocoder})."
    zh = f"匹配地址：{g.address}（{zh_p}，匹配度 {g.score:.2f}，{g.geocoder}）。"
    if g.explanation.get("en"):
        en += " " + g.explanation["en"].rstrip(".") + "."
        zh += g.explanation.get("zh", "").rstrip("。") + "。"
    if g.precision in (Precision.STREET, Precision.LOCALITY):
        en += " The point is approximate, so the zone may differ for the exact house: give the full address with its house number."
        zh += "该位置为近似定位，实际门牌所属招生片区可能不同：请提供含门牌号的完整地址。"
    return en, zh


def _feeders(result: LookupResult, feeders: Mapping[str, Sequence[School]]) -> tuple[str, str] | None:
    """Feeder paths (对口直升) of the zoned schools, e.g. "A moves up to B, then C"."""
    en_parts: list[str] = []
    zh_parts: list[str] = []
    seen: set[str] = set()
    for a in result.levels:
        for h in a.hits:
            for sd in h.schools:
                chain = feeders.get(sd.school.code) or ()
                if not chain or sd.school.code in seen:
                    continue
                seen.add(sd.school.code)
                en_parts.append(f"pupils of {sd.school.name} move up to " + ", then ".join(s.name for s in chain))
                zh_parts.append(" → ".join(s.name_local or s.name for s in (sd.school, *chain)))
    if not en_parts:
        return None
    return "Feeder path: " + "; ".join(en_parts) + ".", "对口直升：" + "；".join(zh_parts) + "。"


def explain(result: LookupResult, *, geocode: GeocodeResult | None = None,
            feeders: Mapping[str, Sequence[School]] | None = None,
            walk_m: Mapping[str, float] | None = None) -> dict[str, str]:
    """Return ``{"en": ..., "zh": ...}``: one sentence per level, joined.

    Parameters
    ----------
    result
        The lookup answer.
    geocode
        When the point came from address text: the match, said first with its precision (and
        what to do when it is only the street or the locality).
    feeders
        Zoned school code -> the schools its pupils move up to, in order (对口直升); said last.
    walk_m
        School code -> walking distance along the streets (m), when a walk network covers the
        point: said next to the straight-line distance.
    """
    if not result.levels:
        en, zh = ("No catchment data covers this place, and no school is near enough to suggest.",
                  "此处没有招生片区数据，附近也没有可推荐的学校。")
    else:
        parts = [_level(a, walk_m) for a in result.levels]
        en = ". ".join(p[0][0].upper() + p[0][1:] for p in parts) + "."
        zh = "。".join(p[1] for p in parts) + "。"
    if geocode is not None:
        a_en, a_zh = _address(geocode)
        en, zh = f"{a_en} {en}", a_zh + zh
    feed = _feeders(result, feeders) if feeders else None
    if feed is not None:
        en, zh = f"{en} {feed[0]}", zh + feed[1]
    return {"en": en, "zh": zh}
