"""Admission discipline from enrolment rows: out-of-zone shares per school, migrant children's public share.

* Out of zone (跨片区入学): a pupil attends a school outside its zone when the school is not among
  the schools whose zone covers the pupil's home unit. Per school the share is out-of-zone
  pupils over all its pupils, against the profile's ``out_of_zone_share_max`` (10 % for ``cn``);
  ``excess`` is how many out-of-zone places must go to bring the share to the limit.
* Migrant children (随迁子女): per area, the share of them in public schools or in places the
  government buys in private schools, against ``migrant_public_share_min`` (85 % for ``cn``,
  教督〔2017〕6号). The rows that break a limit are listed (ids only).

Rows whose unit no zone covers are not guessed: they are listed as ``unzoned`` and left out of
the shares. A profile without the numbers (``generic``) reports the shares with no verdict.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from geo.errors import InvalidInput
from geo.standards import StandardsProfile

MIGRANT = "migrant"


class SchoolKind(StrEnum):
    PUBLIC = "public"
    #: A private school whose places for these pupils the government buys (政府购买服务).
    PURCHASED = "purchased"
    PRIVATE = "private"


@dataclass(frozen=True, slots=True)
class EnrolmentRow:
    """One pupil: id, home unit (block, compound 小区), school attended, optional category."""

    id: str
    unit: str
    school: str
    category: str | None = None


@dataclass(frozen=True, slots=True)
class SchoolShare:
    school: str
    pupils: int
    out_of_zone: int
    share: float
    limit: float | None
    breach: bool | None
    excess: int
    rows: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class AreaShare:
    area: str
    migrants: int
    in_public: int
    share: float | None
    limit: float | None
    breach: bool | None
    rows: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class SharesReport:
    profile: str
    schools: tuple[SchoolShare, ...]
    areas: tuple[AreaShare, ...]
    unzoned: tuple[str, ...]
    text: Mapping[str, str]


def _index(rows: Sequence[EnrolmentRow], kinds: Mapping[str, SchoolKind | str]) -> None:
    seen: set[str] = set()
    for i, r in enumerate(rows, 1):
        where = f"enrolment row {i}"
        if not r.id or r.id in seen:
            msg = f"pupil id {r.id!r} is empty or listed twice"
            raise InvalidInput(msg, where=where)
        seen.add(r.id)
        if r.school not in kinds:
            msg = f"school {r.school!r} is not a known school"
            raise InvalidInput(msg, where=where)
    for code, kind in kinds.items():
        try:
            SchoolKind(kind)
        except ValueError as exc:
            msg = f"school {code}: kind {kind!r} must be one of {[k.value for k in SchoolKind]}"
            raise InvalidInput(msg, where=f"school {code}") from exc


def admission_shares(rows: Sequence[EnrolmentRow], *, zones: Mapping[str, Sequence[str]],
                     kinds: Mapping[str, SchoolKind | str], areas: Mapping[str, str] | None = None,
                     profile: StandardsProfile, migrant: str = MIGRANT) -> SharesReport:
    """Out-of-zone share per school and migrant children's public share per area.

    Parameters
    ----------
    rows
        Enrolment rows (ids only).
    zones
        Unit id -> the schools whose zone covers it (several for a shared zone, 多校划片).
    kinds
        School code -> public, purchased or private; every school in the rows must be here.
        Schools that no zone names (private ones, usually) are left out of the out-of-zone shares.
    areas
        School code -> area (county, district) for the migrant share; one area "all" when omitted.
    profile
        Gives the limits; the report carries its key.
    migrant
        The category value that marks a migrant child (随迁子女).
    """
    _index(rows, kinds)
    limit_out, limit_mig = profile.out_of_zone_share_max, profile.migrant_public_share_min
    per_school: dict[str, list[str]] = defaultdict(list)
    outside: dict[str, list[str]] = defaultdict(list)
    unzoned: list[str] = []
    zoned = {c for codes in zones.values() for c in codes}
    for r in rows:
        if r.school not in zoned:  # a school no zone names (private, special) has no "outside"
            continue
        covering = zones.get(r.unit)
        if not covering:
            unzoned.append(r.id)
            continue
        per_school[r.school].append(r.id)
        if r.school not in covering:
            outside[r.school].append(r.id)
    schools = []
    for code in sorted(per_school):
        n, out = len(per_school[code]), outside.get(code, [])
        share = len(out) / n
        allowed = math.floor(round(limit_out * n, 9)) if limit_out is not None else len(out)
        breach = None if limit_out is None else share > limit_out
        schools.append(SchoolShare(code, n, len(out), share, limit_out, breach, max(0, len(out) - allowed),
                                   tuple(out) if breach else ()))
    mig: dict[str, list[EnrolmentRow]] = defaultdict(list)
    for r in rows:
        if r.category == migrant:
            mig[areas.get(r.school, "all") if areas is not None else "all"].append(r)
    area_rows = []
    for area in sorted(mig):
        group = mig[area]
        public = [r for r in group if SchoolKind(kinds[r.school]) is not SchoolKind.PRIVATE]
        share = len(public) / len(group)
        breach = None if limit_mig is None else share < limit_mig
        private = tuple(r.id for r in group if SchoolKind(kinds[r.school]) is SchoolKind.PRIVATE)
        area_rows.append(AreaShare(area, len(group), len(public), share, limit_mig, breach, private if breach else ()))
    return SharesReport(profile.key, tuple(schools), tuple(area_rows), tuple(unzoned), _text(schools, area_rows, profile))


def _text(schools: Sequence[SchoolShare], areas: Sequence[AreaShare], profile: StandardsProfile) -> dict[str, str]:
    over = [s for s in schools if s.breach]
    low = [a for a in areas if a.breach]
    en = [f"{len(schools)} schools checked for out-of-zone admission"]
    zh = [f"核查 {len(schools)} 所学校的跨片区入学情况"]
    if profile.out_of_zone_share_max is None:
        en.append(f"profile {profile.key} sets no limit")
        zh.append(f"标准 {profile.key} 未设上限")
    else:
        lim = profile.out_of_zone_share_max
        en.append(f"{len(over)} above {lim:.0%}" + (": " + ", ".join(f"{s.school} {s.share:.1%} ({s.excess} over)"
                                                                    for s in over) if over else ""))
        zh.append(f"{len(over)} 所超过 {lim:.0%}" + ("：" + "、".join(f"{s.school} {s.share:.1%}（超出 {s.excess} 人）"
                                                                for s in over) if over else ""))
    if areas:
        if profile.migrant_public_share_min is None:
            en.append("migrant children's public share reported without a limit")
            zh.append("随迁子女在公办学校就读比例仅作统计")
        else:
            lim = profile.migrant_public_share_min
            en.append(f"migrant children in public or purchased places below {lim:.0%} in {len(low)} of {len(areas)} area(s)")
            zh.append(f"随迁子女在公办学校和政府购买学位就读比例低于 {lim:.0%} 的区域 {len(low)} 个（共 {len(areas)} 个）")
    return {"en": "; ".join(en) + f" (profile {profile.key}).", "zh": "；".join(zh) + f"（标准：{profile.key}）。"}
