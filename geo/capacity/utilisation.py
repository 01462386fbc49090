"""Capacity report: seats against enrolment and demand, classes against the class-size standard.

Per school and level: utilisation by enrolment and by demand from its zone(s), seats short or
spare, classes now and classes needed at the profile's standard class size, the average class
size and its band (normal, 偏大, 大班额, 超大班额), and a school-size breach; then area totals.

Missing figures are reported as flags, never filled in: a school without capacity has no
utilisation, a multi-school zone whose schools' capacities are not all known has its demand
left unsplit (listed in the report).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any

from geo.capacity.forecast import Projection
from geo.errors import InvalidInput
from geo.models import School, SchoolStatus, Zone
from geo.standards import Band, LevelKind, StandardsProfile, level_kind

#: Flag key -> (English, Chinese).
FLAGS: Mapping[str, tuple[str, str]] = {
    "no_capacity": ("no capacity (seats) recorded", "未登记学位数"),
    "no_enrolment": ("no enrolment recorded", "未登记在校生数"),
    "no_classes": ("no class count recorded", "未登记班级数"),
    "no_zone": ("no zone of this plan names the school", "本方案没有划片指向该校"),
    "demand_unsplit": ("a shared zone's demand could not be split by capacity", "多校划片学位需求无法按学位数分摊"),
    "size_breach": ("school size above the profile's limit", "学校规模超过标准上限"),
}


@dataclass(frozen=True, slots=True)
class LevelFigures:
    """A school's figures for one level.

    A school spanning levels (a nine-year school, 九年一贯制) may carry per-level figures in
    ``attributes["by_level"][level]`` (keys ``capacity``, ``enrolment``, ``classes``,
    ``class_sizes`` and resource fields); otherwise the school's own fields apply.
    """

    capacity: float | None
    enrolment: float | None
    classes: int | None
    class_sizes: tuple[int, ...] | None
    attributes: Mapping[str, Any]


def non_negative(v: Any, *, what: str, code: str) -> float | None:
    """``v`` as a float; None when blank; InvalidInput naming the school when not a number >= 0."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return None
    try:
        f = float(v)
    except (TypeError, ValueError) as exc:
        msg = f"school {code}: {what} {v!r} is not a number"
        raise InvalidInput(msg, where=f"school {code}") from exc
    if not math.isfinite(f) or f < 0:
        msg = f"school {code}: {what} {v!r} must be a finite number, not negative"
        raise InvalidInput(msg, where=f"school {code}")
    return f


def level_figures(school: School, level: str) -> LevelFigures:
    """Capacity, enrolment, classes and attributes of ``school`` for ``level`` (see LevelFigures)."""
    by = school.attributes.get("by_level")
    over: Mapping[str, Any] = {}
    if isinstance(by, Mapping):
        kind = level_kind(level)
        found = by.get(level, by.get(str(kind)) if kind else None)
        over = found if isinstance(found, Mapping) else {}
    attrs = {**school.attributes, **over}
    cap = non_negative(over.get("capacity", school.capacity), what="capacity", code=school.code)
    enr = non_negative(over.get("enrolment", school.enrolment), what="enrolment", code=school.code)
    cls = non_negative(over.get("classes", school.classes), what="classes", code=school.code)
    sizes_raw = attrs.get("class_sizes")
    sizes = None
    if isinstance(sizes_raw, Sequence) and not isinstance(sizes_raw, str) and sizes_raw:
        vals = [non_negative(v, what="class size", code=school.code) for v in sizes_raw]
        sizes = tuple(int(v) for v in vals if v is not None)
    return LevelFigures(cap, enr, None if cls is None else int(cls), sizes, attrs)


def classes_needed(pupils: float, class_size: int) -> int:
    """Classes needed to seat ``pupils`` at ``class_size`` per class (rounded up)."""
    if class_size <= 0:
        msg = f"class size {class_size} must be positive"
        raise InvalidInput(msg, where="class_size")
    # Round first so 90.0000001 pupils at 45 is 2 classes, not 3.
    return math.ceil(round(pupils / class_size, 6))


def utilisation_band(school: School, *, level: str, profile: StandardsProfile) -> Band | None:
    """Band of enrolment / capacity for a lookup answer; None when either is unknown."""
    fig = level_figures(school, level)
    if not fig.capacity or fig.enrolment is None:
        return None
    return profile.utilisation_bands.classify(fig.enrolment / fig.capacity)


@dataclass(frozen=True, slots=True)
class CapacityRow:
    """One school's line of the capacity report. Seats: positive numbers, one of short/spare is 0."""

    code: str
    name: str
    zones: tuple[str, ...]
    capacity: float | None
    enrolment: float | None
    enrolment_basis: str
    demand: float | None
    utilisation_enrolment: float | None
    utilisation_demand: float | None
    band_enrolment: Band | None
    band_demand: Band | None
    seats_short: float | None
    seats_spare: float | None
    seats_short_demand: float | None
    seats_spare_demand: float | None
    classes: int | None
    class_size_standard: int | None
    classes_needed: int | None
    classes_needed_demand: int | None
    average_class_size: float | None
    class_size_band: Band | None
    large_classes: int | None
    very_large_classes: int | None
    class_count_basis: str | None
    size_pupils: float | None
    size_limit: int | None
    size_breach: bool | None
    flags: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        """Flat plain data (bands as key + labels), for JSON and CSV."""
        out: dict[str, Any] = {}
        for f in fields(self):
            name, v = f.name, getattr(self, f.name)
            if name.startswith(("band_", "class_size_band")):
                out[name] = v.key if v else None
                out[f"{name}_en"] = v.label_en if v else None
                out[f"{name}_zh"] = v.label_zh if v else None
            elif isinstance(v, tuple):
                out[name] = ";".join(v)
            else:
                out[name] = v
        return out


@dataclass(frozen=True, slots=True)
class CapacityTotals:
    schools: int
    capacity: float
    enrolment: float
    demand: float | None
    utilisation_enrolment: float | None
    utilisation_demand: float | None
    seats_short: float
    classes: int
    large_classes: int
    very_large_classes: int
    share_large: float | None
    share_very_large: float | None
    share_large_or_more: float | None
    class_counts_estimated: int
    schools_without_capacity: int
    schools_over_size: int


@dataclass(frozen=True, slots=True)
class CapacityReport:
    profile: str
    level: str
    level_kind: LevelKind | None
    year: int | None
    rows: tuple[CapacityRow, ...]
    totals: CapacityTotals
    missing_schools: tuple[str, ...] = ()
    unsplit_zones: tuple[str, ...] = ()
    notes: tuple[str, ...] = field(default_factory=tuple)


def _zone_label(zone: Zone, pos: int) -> str:
    return zone.name or (str(zone.id) if zone.id is not None else f"#{pos}")


def _split_demand(zones: Sequence[Zone], demand: Sequence[float], figs: Mapping[str, LevelFigures]
                  ) -> tuple[dict[str, float], set[str], list[str], set[str]]:
    """School code -> demand; codes whose demand is unknown; unsplit zone labels; unknown codes."""
    per: dict[str, float] = defaultdict(float)
    unknown_demand: set[str] = set()
    unsplit: list[str] = []
    missing: set[str] = set()
    for pos, (zone, d) in enumerate(zip(zones, demand, strict=True)):
        codes = list(dict.fromkeys(zone.school_codes))
        missing.update(c for c in codes if c not in figs)
        if len(codes) == 1:
            if codes[0] in figs:
                per[codes[0]] += float(d)
            continue
        caps = [figs[c].capacity if c in figs else None for c in codes]
        if any(not c for c in caps):
            # Capacity share is the rule; splitting evenly instead would be a guess.
            unsplit.append(_zone_label(zone, pos))
            unknown_demand.update(c for c in codes if c in figs)
            continue
        total = sum(c for c in caps if c)
        for c, cap in zip(codes, caps, strict=True):
            per[c] += float(d) * float(cap or 0.0) / total
    return dict(per), unknown_demand, unsplit, missing


def _size(school: School, figs: LevelFigures, profile: StandardsProfile, level: str) -> tuple[float | None, int | None]:
    kinds = {level_kind(lv) for lv in school.levels} - {None}
    compulsory = kinds & {LevelKind.PRIMARY, LevelKind.JUNIOR}
    if len(compulsory) == 2:
        # Nine-year / twelve-year school: the limit counts its compulsory pupils only.
        by = school.attributes.get("by_level")
        pupils = None if school.enrolment is None else float(school.enrolment)
        if isinstance(by, Mapping):
            parts = [p for lv in school.levels if level_kind(lv) in compulsory and (p := level_figures(school, lv).enrolment) is not None]
            pupils = sum(parts) if parts else pupils
        return pupils, profile.combined_school_size_max
    return figs.enrolment, profile.for_level(level).school_size_max


def _row(school: School, figs: LevelFigures, zones: tuple[str, ...], demand: float | None, demand_unknown: bool,
         projection: Projection | None, profile: StandardsProfile, level: str) -> CapacityRow:
    std = profile.for_level(level)
    bands = profile.utilisation_bands
    flags: list[str] = []
    cap = figs.capacity if figs.capacity else None
    enrol = projection.total if projection is not None else figs.enrolment
    basis = str(projection.method) if projection is not None else "reported"
    if cap is None:
        flags.append("no_capacity")
    if enrol is None:
        flags.append("no_enrolment")
    if figs.classes is None and figs.class_sizes is None:
        flags.append("no_classes")
    if not zones:
        flags.append("no_zone")
    if demand_unknown:
        flags.append("demand_unsplit")
    u_e = enrol / cap if cap is not None and enrol is not None else None
    u_d = demand / cap if cap is not None and demand is not None else None
    classes = len(figs.class_sizes) if figs.class_sizes is not None and figs.classes is None else figs.classes
    avg = enrol / classes if enrol is not None and classes else None
    band = std.class_size_bands.classify(avg) if avg is not None and std.class_size_bands else None
    large = very = None
    count_basis = None
    if std.class_size_bands is not None and figs.class_sizes is not None:
        keys = [std.class_size_bands.classify(float(s)).key for s in figs.class_sizes]
        large, very, count_basis = keys.count("large"), keys.count("very_large"), "per_class"
    elif band is not None and classes:
        # Only the average is known: all the school's classes are counted in its average's band.
        large = classes if band.key == "large" else 0
        very = classes if band.key == "very_large" else 0
        count_basis = "average"
    size_pupils, size_limit = _size(school, figs, profile, level)
    breach = size_pupils > size_limit if size_pupils is not None and size_limit is not None else None
    if breach:
        flags.append("size_breach")
    return CapacityRow(
        code=school.code, name=school.name, zones=zones, capacity=cap, enrolment=enrol, enrolment_basis=basis,
        demand=demand, utilisation_enrolment=u_e, utilisation_demand=u_d,
        band_enrolment=bands.classify(u_e) if u_e is not None else None,
        band_demand=bands.classify(u_d) if u_d is not None else None,
        seats_short=max(0.0, enrol - cap) if enrol is not None and cap is not None else None,
        seats_spare=max(0.0, cap - enrol) if enrol is not None and cap is not None else None,
        seats_short_demand=max(0.0, demand - cap) if demand is not None and cap is not None else None,
        seats_spare_demand=max(0.0, cap - demand) if demand is not None and cap is not None else None,
        classes=classes, class_size_standard=std.class_size,
        classes_needed=classes_needed(enrol, std.class_size) if enrol is not None and std.class_size else None,
        classes_needed_demand=classes_needed(demand, std.class_size) if demand is not None and std.class_size else None,
        average_class_size=avg, class_size_band=band, large_classes=large, very_large_classes=very,
        class_count_basis=count_basis, size_pupils=size_pupils, size_limit=size_limit, size_breach=breach,
        flags=tuple(flags),
    )


def serves_level(school: School, level: str) -> bool:
    """True when ``school`` lists ``level``, or a level of the same kind (``"es"`` ~ ``"primary"``)."""
    kind = level_kind(level)
    return level in school.levels or (kind is not None and any(level_kind(lv) is kind for lv in school.levels))


def capacity_report(
    schools: Sequence[School],
    zones: Sequence[Zone],
    *,
    level: str,
    profile: StandardsProfile,
    zone_demand: Sequence[float] | None = None,
    projections: Mapping[str, Projection] | None = None,
    year: int | None = None,
) -> CapacityReport:
    """Capacity report for one level: a row per school, then area totals.

    Parameters
    ----------
    schools
        Schools of the area; those named by ``zones`` and open or planned schools of ``level``
        (by name or by kind, see :func:`geo.standards.level_kind`) get a row.
    zones
        The zones of the plan being reported (one level, one school year).
    level
        The deployment's level name (``"primary"``, ``"es"``, ...).
    profile
        Standards profile; the report carries its key.
    zone_demand
        Demand (children) per zone, aligned with ``zones`` (see :func:`geo.planning.demand.zone_demand`).
        A zone served by several schools is split among them by capacity share.
    projections
        Projected enrolment by school code for a later ``year`` (:func:`geo.capacity.forecast.project_enrolment`);
        rows say which method made their enrolment.
    year
        The school year reported, carried into the report.
    """
    if zone_demand is not None and len(zone_demand) != len(zones):
        msg = f"zone_demand has {len(zone_demand)} values for {len(zones)} zones"
        raise InvalidInput(msg, where="zone_demand")
    if zone_demand is not None and any(not math.isfinite(d) or d < 0 for d in zone_demand):
        msg = "zone demand must be finite and not negative"
        raise InvalidInput(msg, where="zone_demand")
    named = {c for z in zones for c in z.school_codes}
    chosen = [s for s in schools if s.code in named or (s.status is not SchoolStatus.CLOSED and serves_level(s, level))]
    figs = {s.code: level_figures(s, level) for s in chosen}
    zone_names: dict[str, list[str]] = defaultdict(list)
    for pos, z in enumerate(zones):
        for c in dict.fromkeys(z.school_codes):
            zone_names[c].append(_zone_label(z, pos))
    if zone_demand is not None:
        per, unknown, unsplit, missing = _split_demand(zones, zone_demand, figs)
    else:
        per, unknown, unsplit = {}, set(), []
        missing = named - set(figs)
    projections = projections or {}
    rows = []
    for s in chosen:
        d = None if zone_demand is None or s.code in unknown else per.get(s.code, 0.0)
        rows.append(_row(s, figs[s.code], tuple(zone_names.get(s.code, ())), d, s.code in unknown,
                         projections.get(s.code), profile, level))
    notes = [f"standards profile {profile.key}"]
    if zone_demand is not None:
        notes.append("zones served by several schools split their demand by capacity share")
    return CapacityReport(
        profile=profile.key, level=level, level_kind=level_kind(level), year=year, rows=tuple(rows),
        totals=_totals(rows, None if zone_demand is None else float(sum(zone_demand))),
        missing_schools=tuple(sorted(missing)), unsplit_zones=tuple(unsplit), notes=tuple(notes),
    )


def _totals(rows: Sequence[CapacityRow], demand: float | None) -> CapacityTotals:
    both = [r for r in rows if r.capacity is not None and r.enrolment is not None]
    with_d = [r for r in rows if r.capacity is not None and r.demand is not None]
    counted = [r for r in rows if r.class_count_basis is not None and r.classes]
    classes = sum(r.classes or 0 for r in counted)
    large = sum(r.large_classes or 0 for r in counted)
    very = sum(r.very_large_classes or 0 for r in counted)
    cap_e = sum(r.capacity or 0.0 for r in both)
    cap_d = sum(r.capacity or 0.0 for r in with_d)
    return CapacityTotals(
        schools=len(rows),
        capacity=sum(r.capacity or 0.0 for r in rows),
        enrolment=sum(r.enrolment or 0.0 for r in rows),
        demand=demand,
        utilisation_enrolment=sum(r.enrolment or 0.0 for r in both) / cap_e if cap_e else None,
        utilisation_demand=sum(r.demand or 0.0 for r in with_d) / cap_d if cap_d else None,
        seats_short=sum(r.seats_short or 0.0 for r in rows),
        classes=sum(r.classes or 0 for r in rows),
        large_classes=large,
        very_large_classes=very,
        share_large=large / classes if classes else None,
        share_very_large=very / classes if classes else None,
        share_large_or_more=(large + very) / classes if classes else None,
        class_counts_estimated=sum(1 for r in counted if r.class_count_basis == "average"),
        schools_without_capacity=sum(1 for r in rows if "no_capacity" in r.flags),
        schools_over_size=sum(1 for r in rows if r.size_breach),
    )
