"""Checks before the district optimiser runs: bad input is InvalidInput, impossible options Infeasible.

The checks are necessary conditions that can be said in one sentence ("school X has no lead
within 8 km"); what only the solver can find (the options together admit no partition) is
reported by :mod:`geo.districts.formation` after it has tried.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from geo.districts.model import DistrictOptions, DistrictSchool, travel_text
from geo.errors import Infeasible, InvalidInput
from geo.standards import StandardsProfile

DEFAULT_MAX_SCHOOLS = 10


@dataclass(frozen=True, slots=True)
class Prepared:
    """Validated arrays, aligned with the schools' order."""

    codes: tuple[str, ...]
    quality: NDArray[np.float64]
    travel: NDArray[np.float64]
    strong: NDArray[np.bool_]
    lead_ok: NDArray[np.bool_]
    #: reach[s, l]: school s may join the district led by l (l may lead, travel within the cap).
    reach: NDArray[np.bool_]
    urban: NDArray[np.bool_] | None
    #: The levels every district must hold (``mix_levels``), and each school's level.
    levels: tuple[str, ...]
    school_levels: tuple[str | None, ...]
    max_schools: int
    min_districts: int


def required_groups(p: Prepared, o: DistrictOptions) -> list[NDArray[np.bool_]]:
    """The groups every district needs a member of: strong, urban and rural, each level (``mix_levels``)."""
    gs: list[NDArray[np.bool_]] = []
    if o.strong_share is not None:
        gs.append(p.strong)
    if p.urban is not None:
        gs.extend((p.urban, ~p.urban))
    gs.extend(np.array([lv == level for lv in p.school_levels], dtype=bool) for level in p.levels)
    return gs


def max_schools_for(options: DistrictOptions, profile: StandardsProfile | None) -> int:
    """The size cap in force: the option, else the profile's number, else 10."""
    if options.max_schools is not None:
        return options.max_schools
    if profile is not None and profile.district_max_schools is not None:
        return profile.district_max_schools
    return DEFAULT_MAX_SCHOOLS


def strong_mask(quality: NDArray[np.float64], codes: Sequence[str], share: float | None) -> NDArray[np.bool_]:
    """The top ``share`` of schools by quality (at least one; ties broken by code)."""
    out = np.zeros(len(codes), dtype=bool)
    if share is None:
        return out
    k = max(1, math.ceil(round(share * len(codes), 9)))
    order = sorted(range(len(codes)), key=lambda i: (-quality[i], codes[i]))
    out[order[:k]] = True
    return out


def _inputs(schools: Sequence[DistrictSchool], travel: ArrayLike, options: DistrictOptions,
            max_schools: int) -> tuple[tuple[str, ...], NDArray[np.float64], NDArray[np.float64]]:
    if not schools:
        msg = "no schools given"
        raise InvalidInput(msg, where="schools")
    codes = tuple(s.code for s in schools)
    seen: set[str] = set()
    for c in codes:
        if c in seen:
            msg = f"school {c} is listed twice"
            raise InvalidInput(msg, where=f"school {c}")
        seen.add(c)
    q = np.array([s.quality for s in schools], dtype=float)
    for s, v in zip(schools, q, strict=True):
        if not math.isfinite(v) or v < 0:
            msg = f"school {s.code}: quality {s.quality!r} must be a finite number, not negative"
            raise InvalidInput(msg, where=f"school {s.code}")
    t = np.asarray(travel, dtype=float)
    if t.shape != (len(codes), len(codes)):
        msg = f"travel must be a {len(codes)} x {len(codes)} matrix in the schools' order, not {t.shape}"
        raise InvalidInput(msg, where="travel")
    if np.isnan(t).any() or (t < 0).any():
        msg = "travel costs must not be negative or missing (use inf for unreachable)"
        raise InvalidInput(msg, where="travel")
    if max_schools < 1 or options.min_schools < 1 or options.min_schools > max_schools:
        msg = f"need 1 <= min_schools ({options.min_schools}) <= max_schools ({max_schools})"
        raise InvalidInput(msg, where="max_schools")
    if options.strong_share is not None and not 0 < options.strong_share <= 1:
        msg = f"strong_share {options.strong_share} must be in (0, 1]"
        raise InvalidInput(msg, where="strong_share")
    if options.max_travel is not None and not options.max_travel > 0:
        msg = f"max_travel {options.max_travel} must be positive"
        raise InvalidInput(msg, where="max_travel")
    return codes, q, t


def _leads(codes: tuple[str, ...], strong: NDArray[np.bool_], options: DistrictOptions) -> NDArray[np.bool_]:
    if options.lead_codes is not None:
        unknown = sorted(set(options.lead_codes) - set(codes))
        if unknown:
            msg = f"lead school(s) {', '.join(unknown)} are not among the schools given"
            raise InvalidInput(msg, where="lead_codes")
        return np.array([c in set(options.lead_codes) for c in codes], dtype=bool)
    if options.lead_from_strong and options.strong_share is not None:
        return strong.copy()
    return np.ones(len(codes), dtype=bool)


def _need(n: int, per: int) -> int:
    return -(-n // per)


def prepare(schools: Sequence[DistrictSchool], travel: ArrayLike, options: DistrictOptions,
            profile: StandardsProfile | None) -> Prepared:
    """Validate the input and the options; the arrays the model is built from.

    Raises
    ------
    InvalidInput
        Malformed input (duplicate codes, negative quality, a matrix of the wrong shape).
    Infeasible
        Options that no partition can meet, with the reason in English and Chinese.
    """
    cap = max_schools_for(options, profile)
    codes, q, t = _inputs(schools, travel, options, cap)
    n = len(codes)
    strong = strong_mask(q, codes, options.strong_share)
    lead_ok = _leads(codes, strong, options)
    within = np.isfinite(t) if options.max_travel is None else t <= options.max_travel
    reach = within & lead_ok[None, :]
    np.fill_diagonal(reach, lead_ok)
    need = max(_need(n, cap), options.districts or 0)
    n_leads = int(lead_ok.sum())
    if n_leads < need:
        en = (f"{n} schools at most {cap} per district need at least {need} districts, "
              f"but only {n_leads} school(s) may lead one")
        zh = f"{n} 所学校、每个学区至多 {cap} 所，至少需要 {need} 个学区，但只有 {n_leads} 所学校可作学区长学校"
        raise Infeasible(en, message_zh=zh, where="lead_codes" if options.lead_codes else "strong_share")
    if options.districts is not None and options.districts * cap < n:
        en = f"{options.districts} districts of at most {cap} schools hold at most {options.districts * cap} of the {n} schools"
        zh = f"{options.districts} 个学区、每个至多 {cap} 所，最多容纳 {options.districts * cap} 所，少于现有的 {n} 所学校"
        raise Infeasible(en, message_zh=zh, where="districts")
    if options.districts is not None and options.districts * options.min_schools > n:
        en = f"{options.districts} districts of at least {options.min_schools} schools need more than the {n} schools given"
        zh = f"{options.districts} 个学区、每个至少 {options.min_schools} 所学校，超过现有的 {n} 所学校"
        raise Infeasible(en, message_zh=zh, where="districts")
    stranded = [i for i in range(n) if not reach[i].any()]
    if stranded:
        _stranded(stranded, codes, t, lead_ok, n, cap, options)
    big_enough = reach.sum(axis=0) >= options.min_schools  # leads that enough schools can reach
    alone = [i for i in range(n) if not (reach[i] & big_enough).any()]
    if alone:
        en_t, zh_t = travel_text(options.max_travel, options.travel_unit) if options.max_travel else ("reach", "可达范围")
        codes_txt = ", ".join(codes[i] for i in alone[:5]) + (f" and {len(alone) - 5} more" if len(alone) > 5 else "")
        en = (f"school(s) {codes_txt} can reach no lead that {options.min_schools - 1} other school(s) can also reach "
              f"within {en_t}: no district of at least {options.min_schools} schools can hold them")
        zh = (f"学校 {'、'.join(codes[i] for i in alone[:5])} 在 {zh_t} 内没有可与其他 {options.min_schools - 1} 所学校"
              f"共同归属的学区长学校，无法组成至少 {options.min_schools} 所学校的学区")
        raise Infeasible(en, message_zh=zh, where=f"school {codes[alone[0]]}")
    urban = _mix(schools, options, need)
    levels = tuple(sorted({s.level for s in schools if s.level is not None})) if options.mix_levels else ()
    if options.mix_levels and any(s.level is None for s in schools):
        bad = next(s.code for s in schools if s.level is None)
        msg = f"school {bad} has no level; mix_levels needs every school's level"
        raise InvalidInput(msg, where=f"school {bad}")
    for level in levels:
        have = sum(1 for s in schools if s.level == level)
        if have < need:
            en = f"every one of at least {need} districts needs a {level} school, but there are only {have}"
            zh = f"至少 {need} 个学区各需一所{level}学校，但只有 {have} 所"
            raise Infeasible(en, message_zh=zh, where="mix_levels")
    if options.strong_share is not None and int(strong.sum()) < need:
        en = f"every one of at least {need} districts needs a strong school, but the top share counts only {int(strong.sum())}"
        zh = f"至少 {need} 个学区各需一所优质学校，但按比例只有 {int(strong.sum())} 所优质学校"
        raise Infeasible(en, message_zh=zh, where="strong_share")
    return Prepared(codes, q, t, strong, lead_ok, reach, urban, levels, tuple(s.level for s in schools), cap, need)


def _stranded(stranded: list[int], codes: tuple[str, ...], t: NDArray[np.float64], lead_ok: NDArray[np.bool_],
              n: int, cap: int, options: DistrictOptions) -> None:
    limit_en, limit_zh = travel_text(options.max_travel, options.travel_unit) if options.max_travel else ("reach", "可达范围")
    parts_en, parts_zh = [], []
    for i in stranded[:5]:
        d = np.where(lead_ok, t[i], np.inf)
        d[i] = np.inf
        near = int(np.argmin(d))
        if math.isfinite(float(d[near])):
            en_d, zh_d = travel_text(float(d[near]), options.travel_unit)
            parts_en.append(f"{codes[i]} (nearest possible lead {codes[near]} at {en_d})")
            parts_zh.append(f"{codes[i]}（最近的可作学区长学校 {codes[near]}，{zh_d}）")
        else:
            parts_en.append(f"{codes[i]} (no possible lead reachable)")
            parts_zh.append(f"{codes[i]}（无可达的学区长学校）")
    more_en = f" and {len(stranded) - 5} more" if len(stranded) > 5 else ""
    more_zh = f"等 {len(stranded)} 所" if len(stranded) > 5 else ""
    en = (f"{n} schools and at most {cap} per district, but the travel cap leaves school(s) "
          f"{'; '.join(parts_en)}{more_en} with no lead within {limit_en}")
    zh = (f"共 {n} 所学校、每个学区至多 {cap} 所，但在 {limit_zh} 的距离上限内，学校 "
          f"{'；'.join(parts_zh)}{more_zh}没有可归属的学区长学校")
    raise Infeasible(en, message_zh=zh, where=f"school {codes[stranded[0]]}")


def _mix(schools: Sequence[DistrictSchool], options: DistrictOptions, need: int) -> NDArray[np.bool_] | None:
    if not options.mix_urban_rural:
        return None
    unknown = [s.code for s in schools if s.urban is None]
    if unknown:
        msg = f"school {unknown[0]} is not marked urban or rural; mix_urban_rural needs every school's flag"
        raise InvalidInput(msg, where=f"school {unknown[0]}")
    urban = np.array([bool(s.urban) for s in schools], dtype=bool)
    for kind_en, kind_zh, count in (("an urban", "城区", int(urban.sum())), ("a rural", "农村", int((~urban).sum()))):
        if count < need:
            en = f"every one of at least {need} districts needs {kind_en} school, but there are only {count}"
            zh = f"至少 {need} 个学区各需一所{kind_zh}学校，但只有 {count} 所"
            raise Infeasible(en, message_zh=zh, where="mix_urban_rural")
    return urban
