"""One-sentence explanations of a lookup, in English and Chinese, for parents."""

from __future__ import annotations

from geo.models import LevelAnswer, LookupResult, ZoneHit


def _km(m: float) -> str:
    return f"{m / 1000:.1f} km" if m >= 1000 else f"{m:.0f} m"


def _zh_km(m: float) -> str:
    return f"{m / 1000:.1f} 公里" if m >= 1000 else f"{m:.0f} 米"


def _hit(h: ZoneHit) -> tuple[str, str]:
    names = " / ".join(s.school.name for s in h.schools) or ", ".join(h.zone.school_codes)
    names_zh = "、".join(s.school.name_local or s.school.name for s in h.schools) or "、".join(h.zone.school_codes)
    dist = min((s.distance_m for s in h.schools), default=None)
    far_en = f", {_km(dist)} away" if dist is not None else ""
    far_zh = f"，距离约 {_zh_km(dist)}" if dist is not None else ""
    plan = f"plan '{h.plan.name}', school year {h.plan.school_year}"
    plan_zh = f"「{h.plan.name}」方案（{h.plan.school_year} 学年）"
    if len(h.zone.school_codes) > 1:
        en = f"this address is in a shared zone (several schools) served by {names}{far_en} ({plan})"
        zh = f"该地址属于多校划片区域，对应学校：{names_zh}{far_zh}（{plan_zh}）"
    else:
        en = f"this address is in the zone of {names}{far_en} ({plan})"
        zh = f"该地址属于 {names_zh} 的学区{far_zh}（{plan_zh}）"
    return en, zh


def _level(a: LevelAnswer) -> tuple[str, str]:
    if not a.hits:
        if a.nearest:
            n = a.nearest[0]
            en = (f"{a.level}: no zone covers this address; the nearest {a.level} school is {n.school.name} "
                  f"({_km(n.distance_m)}): ask the education office which school will take you")
            zh = (f"{a.level}：该地址不在任何学区内；最近的学校是 {n.school.name_local or n.school.name}"
                  f"（{_zh_km(n.distance_m)}），请向教育主管部门咨询入学安排")
        else:
            en = f"{a.level}: no zone covers this address and no school of this level is known"
            zh = f"{a.level}：该地址不在任何学区内，也没有该学段的学校信息"
        return en, zh
    parts = [_hit(h) for h in a.hits]
    en = f"{a.level}: " + "; ".join(p[0] for p in parts)
    zh = f"{a.level}：" + "；".join(p[1] for p in parts)
    if len(a.hits) > 1 or any(h.on_boundary for h in a.hits):
        en += "; the address lies on a boundary between zones: confirm with the schools or the education office"
        zh += "；该地址位于学区边界上，请向学校或教育主管部门确认"
    elif any(h.near_boundary_m is not None for h in a.hits):
        m = min(h.near_boundary_m for h in a.hits if h.near_boundary_m is not None)
        en += f"; it is {_km(m)} from the zone boundary: check the exact address with the school"
        zh += f"；距离学区边界约 {_zh_km(m)}，请以学校核实的准确门牌为准"
    return en, zh


def explain(result: LookupResult) -> dict[str, str]:
    """Return ``{"en": ..., "zh": ...}``: one sentence per level, joined."""
    if not result.levels:
        return {"en": "No catchment data covers this place.", "zh": "此处没有学区数据。"}
    parts = [_level(a) for a in result.levels]
    return {"en": ". ".join(p[0][0].upper() + p[0][1:] for p in parts) + ".", "zh": "。".join(p[1] for p in parts) + "。"}
