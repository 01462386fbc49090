"""Validation of one plan's zones: the checks a planner sees after every edit.

Checks: invalid geometry, overlaps between zones that serve the same grades, gaps inside the
plan's area, slivers (gap, overlap or zone pieces below an area threshold), a school outside its
own zone, zones in several parts, zones naming unknown or closed schools, and grades served
twice or not at all. Every :class:`~geo.planning.findings.Finding` has a severity, a location (EPSG:4326, lon/lat,
ready for GeoJSON) and a message in English and Chinese.

Geometry work stays in degrees (overlay is exact on the shared vertices of a coverage); areas
are measured in a Lambert azimuthal equal-area projection centred on the data, so they are
right at any extent (a UTM zone distorts area away from its meridian).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely
from numpy.typing import NDArray
from pyproj import Transformer
from shapely.geometry import MultiPolygon, Point, Polygon

from geo.errors import InvalidInput
from geo.models import GRADE_ORDER, School, SchoolStatus, Zone
from geo.planning.coverage import (
    NOISE_M2,
    areas_m2,
    clean_polygonal,
    equal_area_transformer,
    polygonal_parts,
    to_metric,
    union_polygons,
)
from geo.planning.findings import Finding, Severity, area_text, area_text_zh, grades_text

DEFAULT_SLIVER_M2 = 100.0
_POINT_IN_REASON = re.compile(r"\[\s*(-?[\d.eE+-]+)\s+(-?[\d.eE+-]+)")


# --------------------------------------------------------------------------- context


def zone_label(zone: Zone, position: int, schools: Mapping[str, School]) -> str:
    """A readable name: the zone's name, else its schools' names, else ``#position``."""
    if zone.name:
        return zone.name
    names = [schools[c].name for c in zone.school_codes if c in schools]
    if names:
        return " / ".join(names)
    return f"#{zone.id if zone.id is not None else position}"


def served_grades(zone: Zone, schools: Mapping[str, School], *, level_grades: Sequence[str] | None,
                  year: int | None) -> frozenset[str] | None:
    """Grades ``zone`` serves in ``year``; None means "every grade" (nothing says otherwise).

    ``zone.grades`` wins; else the grades its schools teach (when every school lists them).
    For a phasing zone and a given year, only grades already started count.
    """
    grades: set[str] | None
    if zone.grades is not None:
        grades = set(zone.grades)
    else:
        known = [schools[c] for c in zone.school_codes if c in schools]
        grades = {g for s in known for g in s.grades} if known and all(s.grades for s in known) else None
    if level_grades is not None:
        grades = set(level_grades) if grades is None else grades & set(level_grades)
    if zone.phasing and year is not None:
        pool = grades if grades is not None else set(GRADE_ORDER)
        grades = {g for g in pool if zone.serves(g, year)}
    return None if grades is None else frozenset(grades)


@dataclass(slots=True)
class _Plan:
    """Everything the checks share: repaired geometries, labels, grades, the area transform."""

    zones: Sequence[Zone]
    schools: Mapping[str, School]
    geoms: NDArray[np.object_]
    usable: NDArray[np.bool_]
    in_force: NDArray[np.bool_]
    grades: list[frozenset[str] | None]
    labels: list[str]
    tr: Transformer
    sliver_m2: float
    out: list[Finding] = field(default_factory=list)

    def ids(self, positions: Sequence[int]) -> tuple[int | None, ...]:
        return tuple(self.zones[p].id for p in positions)

    def add(self, code: str, severity: Severity, en: str, zh: str, *, location: shapely.Geometry | None,
            zones: Sequence[int] = (), schools: Sequence[str] = (), area_m2: float | None = None,
            **detail: Any) -> None:
        self.out.append(Finding(code, severity, {"en": en, "zh": zh}, location, tuple(int(z) for z in zones),
                                self.ids([int(z) for z in zones]), tuple(schools), area_m2, detail))


def _zone_point(geom: shapely.Geometry) -> shapely.Geometry | None:
    return None if geom is None or geom.is_empty else shapely.point_on_surface(geom)


# --------------------------------------------------------------------------- checks


def _check_geometry(ctx: _Plan) -> None:
    raw = np.array([z.geometry for z in ctx.zones], dtype=object)
    valid = shapely.is_valid(raw)
    for i, g in enumerate(raw):
        label = ctx.labels[i]
        if g is None or g.is_empty or g.geom_type not in {"Polygon", "MultiPolygon"}:
            kind = "empty" if g is None or g.is_empty else g.geom_type
            ctx.add("invalid_geometry", Severity.ERROR, f"zone {label} has no polygon ({kind})",
                    f"招生片区 {label} 没有多边形（{kind}）", location=None, zones=[i], reason=kind)
            ctx.usable[i] = False
            continue
        x0, y0, x1, y1 = g.bounds
        if not (np.isfinite([x0, y0, x1, y1]).all() and -180 <= x0 <= x1 <= 180 and -90 <= y0 <= y1 <= 90):
            ctx.add("invalid_geometry", Severity.ERROR,
                    f"zone {label} has coordinates outside lon/lat range (zones must be EPSG:4326, lon then lat)",
                    f"招生片区 {label} 的坐标超出经纬度范围（须为 EPSG:4326，先经度后纬度）",
                    location=None, zones=[i], reason="outside lon/lat range")
            ctx.usable[i] = False
            continue
        if valid[i]:
            continue
        reason = str(shapely.is_valid_reason(g))
        m = _POINT_IN_REASON.search(reason)
        where = Point(float(m[1]), float(m[2])) if m else _zone_point(g)
        fixed = clean_polygonal(g)
        ctx.geoms[i] = fixed
        ctx.usable[i] = not fixed.is_empty
        ctx.add("invalid_geometry", Severity.ERROR, f"zone {label} is not a valid polygon: {reason}",
                f"招生片区 {label} 的多边形无效：{reason}", location=where, zones=[i], reason=reason,
                repaired=not fixed.is_empty)


def _check_schools(ctx: _Plan) -> None:
    homes: dict[str, list[int]] = defaultdict(list)
    for i, z in enumerate(ctx.zones):
        label = ctx.labels[i]
        for code in z.school_codes:
            school = ctx.schools.get(code)
            if school is None:
                ctx.add("unknown_school", Severity.ERROR, f"zone {label} names school code {code}, which is not known",
                        f"招生片区 {label} 指向未知的学校代码 {code}", location=_zone_point(ctx.geoms[i]),
                        zones=[i], schools=[code])
            elif school.status is SchoolStatus.CLOSED:
                ctx.add("closed_school", Severity.ERROR, f"zone {label} names {school.name} ({code}), which is closed",
                        f"招生片区 {label} 指向已关闭的学校 {school.name}（{code}）", location=Point(school.lon, school.lat),
                        zones=[i], schools=[code])
            elif ctx.usable[i] and ctx.in_force[i]:
                homes[code].append(i)
    for code, positions in homes.items():
        school = ctx.schools[code]
        pos = np.array(positions)
        if shapely.intersects_xy(ctx.geoms[pos], school.lon, school.lat).any():
            continue
        pt = Point(school.lon, school.lat)
        dist = float(shapely.distance(to_metric(pt, ctx.tr), to_metric(union_polygons(ctx.geoms[pos]), ctx.tr)))
        ctx.add("school_outside_zone", Severity.WARNING,
                f"{school.name} ({code}) lies {dist:.0f} m outside its own zone",
                f"{school.name}（{code}）位于本校招生片区之外约 {dist:.0f} 米", location=pt, zones=positions,
                schools=[code], distance_m=round(dist, 1))


def _check_parts(ctx: _Plan) -> None:
    pos = np.flatnonzero(ctx.usable)
    if not pos.size:
        return
    parts, idx = shapely.get_parts(ctx.geoms[pos], return_index=True)
    areas = areas_m2(parts, ctx.tr)
    for k in np.unique(idx):
        i = int(pos[k])
        mine = np.flatnonzero(idx == k)
        a = areas[mine]
        label = ctx.labels[i]
        if a.sum() < ctx.sliver_m2:
            ctx.add("sliver", Severity.WARNING, f"zone {label} covers only {area_text(a.sum())}",
                    f"招生片区 {label} 面积仅 {area_text_zh(a.sum())}", location=ctx.geoms[i], zones=[i],
                    area_m2=float(a.sum()), kind="zone")
            continue
        if mine.size < 2:
            continue
        main = mine[np.argmax(a)]
        small = [m for m in mine if m != main and areas[m] < ctx.sliver_m2]
        detached = [m for m in mine if m != main and areas[m] >= ctx.sliver_m2]
        if small:
            area = float(areas[small].sum())
            ctx.add("sliver", Severity.WARNING, f"zone {label} has {len(small)} tiny detached piece(s), {area_text(area)} in all",
                    f"招生片区 {label} 有 {len(small)} 块细碎的分离部分，共 {area_text_zh(area)}",
                    location=MultiPolygon(list(parts[small])), zones=[i], area_m2=area, kind="part")
        if detached:
            area = float(areas[detached].sum())
            ctx.add("not_contiguous", Severity.WARNING,
                    f"zone {label} is in {len(detached) + 1} separate parts ({area_text(area)} away from the main part)",
                    f"招生片区 {label} 由 {len(detached) + 1} 块不相连的部分组成（主体之外 {area_text_zh(area)}）",
                    location=MultiPolygon(list(parts[detached])), zones=[i], area_m2=area,
                    parts=len(detached) + 1, part_areas_m2=[round(float(areas[m]), 1) for m in detached])


def _shared(a: frozenset[str] | None, b: frozenset[str] | None) -> frozenset[str] | None:
    """Grades both serve; None = every grade. An empty set means they never compete."""
    if a is None:
        return b
    if b is None:
        return a
    return a & b


def _check_overlaps(ctx: _Plan) -> None:
    # Zones that phase in are drawn on top of the zone they replace: not an overlap.
    pos = np.flatnonzero(ctx.usable & np.array([not z.phasing for z in ctx.zones], dtype=bool))
    if pos.size < 2:
        return
    sub = ctx.geoms[pos]
    if bool(shapely.coverage_is_valid(sub)):
        return
    # Only zones with an edge that is not matched by a neighbour can overlap anything.
    flagged = ~shapely.is_empty(shapely.coverage_invalid_edges(sub))
    i, j = shapely.STRtree(sub).query(sub, predicate="intersects")
    keep = (i < j) & (flagged[i] | flagged[j])
    a, b = pos[i[keep]], pos[j[keep]]
    shared = [_shared(ctx.grades[x], ctx.grades[y]) for x, y in zip(a, b, strict=True)]
    live = np.array([s is None or bool(s) for s in shared], dtype=bool)
    a, b = a[live], b[live]
    shared = [s for s, ok in zip(shared, live, strict=True) if ok]
    if not a.size:
        return
    inter = shapely.intersection(ctx.geoms[a], ctx.geoms[b])
    for k, geom in enumerate(inter):
        pieces = polygonal_parts(geom)
        if not pieces.size:
            continue
        areas = areas_m2(pieces, ctx.tr)
        pieces = pieces[areas >= NOISE_M2]
        area = float(areas[areas >= NOISE_M2].sum())
        if not pieces.size:
            continue
        x, y = int(a[k]), int(b[k])
        la, lb = ctx.labels[x], ctx.labels[y]
        loc = MultiPolygon(list(pieces))
        codes = tuple(dict.fromkeys(ctx.zones[x].school_codes + ctx.zones[y].school_codes))
        if area < ctx.sliver_m2:
            ctx.add("sliver", Severity.WARNING, f"zones {la} and {lb} overlap in a sliver of {area_text(area)}",
                    f"招生片区 {la} 与 {lb} 有 {area_text_zh(area)} 的细碎重叠", location=loc, zones=[x, y],
                    schools=codes, area_m2=area, kind="overlap")
        elif ctx.grades[x] == ctx.grades[y]:
            ctx.add("overlap", Severity.ERROR, f"zones {la} and {lb} overlap over {area_text(area)}",
                    f"招生片区 {la} 与 {lb} 重叠 {area_text_zh(area)}", location=loc, zones=[x, y],
                    schools=codes, area_m2=area)
        else:
            g = shared[k]
            text = grades_text(g) if g is not None else "all"
            ctx.add("grade_twice", Severity.ERROR,
                    f"grades {text} are served by both {la} and {lb} over {area_text(area)}",
                    f"{area_text_zh(area)} 范围内 {text} 年级同时由 {la} 与 {lb} 招收", location=loc,
                    zones=[x, y], schools=codes, area_m2=area, grades=sorted(g or (), key=GRADE_ORDER.index))


def _check_gaps(ctx: _Plan, area: shapely.Geometry | None, union: MultiPolygon) -> None:
    if area is None:
        holes = [Polygon(r) for p in union.geoms for r in p.interiors]
        if not holes:
            return
        region: shapely.Geometry = shapely.union_all(np.array(holes, dtype=object))
    else:
        region = clean_polygonal(area)
    pieces = polygonal_parts(shapely.difference(region, union))
    if not pieces.size:
        return
    areas = areas_m2(pieces, ctx.tr)
    pieces, areas = pieces[areas >= NOISE_M2], areas[areas >= NOISE_M2]
    live = np.flatnonzero(ctx.usable & ctx.in_force)
    # The zones around a gap: a hair of buffer turns "shares an edge" into "intersects".
    gi, zi = shapely.STRtree(ctx.geoms[live]).query(shapely.buffer(pieces, 1e-9), predicate="intersects")
    for k, (piece, a) in enumerate(zip(pieces, areas, strict=True)):
        touching = live[zi[gi == k]]
        if a < ctx.sliver_m2:
            ctx.add("sliver", Severity.WARNING, f"a sliver of {area_text(a)} is in no zone",
                    f"有 {area_text_zh(a)} 的细碎空隙不属于任何招生片区", location=piece, zones=touching, area_m2=float(a), kind="gap")
        else:
            ctx.add("gap", Severity.ERROR, f"{area_text(a)} inside the plan's area is in no zone",
                    f"规划范围内有 {area_text_zh(a)} 不属于任何招生片区", location=piece, zones=touching, area_m2=float(a))


def _check_grades(ctx: _Plan, level_grades: Sequence[str] | None) -> None:
    pos = np.flatnonzero(ctx.usable & ctx.in_force)
    sets = {int(p): ctx.grades[p] for p in pos}
    known = [s for s in sets.values() if s is not None]
    target = list(level_grades) if level_grades is not None else sorted({g for s in known for g in s}, key=GRADE_ORDER.index)
    if not target:
        return
    nowhere = [g for g in target if not any(s is None or g in s for s in sets.values())]
    if nowhere:
        text = grades_text(nowhere)
        ctx.add("grade_missing", Severity.ERROR, f"no zone of this plan serves grade(s) {text}",
                f"本方案没有任何招生片区招收 {text} 年级", location=None, grades=nowhere)
    if not known:
        return  # every zone serves every grade: nothing can be missing in places
    groups: dict[tuple[int, ...], list[str]] = defaultdict(list)
    for g in target:
        if g in nowhere:
            continue
        lacking = tuple(p for p, s in sets.items() if s is not None and g not in s)
        if lacking:
            groups[lacking].append(g)
    if not groups:
        return
    tree = shapely.STRtree(ctx.geoms[pos])
    for lacking, grades in groups.items():
        without = union_polygons(ctx.geoms[list(lacking)])
        near = pos[tree.query(without, predicate="intersects")]
        serving = [int(p) for p in near if int(p) not in lacking]
        missing = shapely.difference(without, union_polygons(ctx.geoms[serving])) if serving else without
        pieces = polygonal_parts(missing)
        if not pieces.size:
            continue
        areas = areas_m2(pieces, ctx.tr)
        pieces, areas = pieces[areas >= ctx.sliver_m2], areas[areas >= ctx.sliver_m2]
        if not pieces.size:
            continue
        loc = MultiPolygon(list(pieces))
        zones = [p for p in lacking if shapely.intersects(ctx.geoms[p], loc)]
        area = float(areas.sum())
        text = grades_text(grades)
        ctx.add("grade_missing", Severity.ERROR, f"no zone serves grade(s) {text} over {area_text(area)}",
                f"{area_text_zh(area)} 范围内没有招生片区招收 {text} 年级", location=loc, zones=zones, area_m2=area,
                schools=tuple(dict.fromkeys(c for p in zones for c in ctx.zones[p].school_codes)), grades=grades)


def validate_plan(
    zones: Sequence[Zone],
    *,
    schools: Mapping[str, School],
    area: Polygon | MultiPolygon | None = None,
    sliver_m2: float = DEFAULT_SLIVER_M2,
    level_grades: Sequence[str] | None = None,
    year: int | None = None,
) -> list[Finding]:
    """Check one plan's zones (one level) and return every finding, errors first.

    Parameters
    ----------
    zones
        The plan's zones, geometries in EPSG:4326 (lon, lat).
    schools
        Schools by code; codes a zone names that are missing here are reported.
    area
        The plan's area (EPSG:4326); places inside it that no zone covers are gaps. None uses
        the union of the zones: only its holes can be gaps.
    sliver_m2
        Gaps, overlaps and zone pieces smaller than this are reported as slivers (warning)
        rather than as gaps, overlaps or separate parts. Default 100 m², less than a house lot.
    level_grades
        The grades the level must cover (e.g. ``["K", "1", ..., "6"]``). Without it, the grades
        the zones serve are the target and a grade no zone serves cannot be detected.
    year
        School year: phasing zones (``grade_start_years``) count only for grades started by then.

    Returns
    -------
    list[Finding]
        Codes: ``invalid_geometry``, ``overlap``, ``grade_twice``, ``gap``, ``sliver``
        (``detail["kind"]`` is gap, overlap, part or zone), ``school_outside_zone``,
        ``not_contiguous``, ``unknown_school``, ``closed_school``, ``grade_missing``.
    """
    if not np.isfinite(sliver_m2) or sliver_m2 < 0:
        msg = f"sliver_m2 must be a non-negative number of square metres, not {sliver_m2}"
        raise InvalidInput(msg, where="sliver_m2")
    geoms = np.array([clean_polygonal(None) if z.geometry is None else z.geometry for z in zones], dtype=object)
    ctx = _Plan(
        zones=zones,
        schools=schools,
        geoms=geoms,
        usable=np.ones(len(zones), dtype=bool),
        in_force=np.array([z.serves(None, year) for z in zones], dtype=bool),
        grades=[served_grades(z, schools, level_grades=level_grades, year=year) for z in zones],
        labels=[zone_label(z, i, schools) for i, z in enumerate(zones)],
        tr=equal_area_transformer(geoms),
        sliver_m2=float(sliver_m2),
    )
    _check_geometry(ctx)
    _check_schools(ctx)
    _check_parts(ctx)
    _check_overlaps(ctx)
    union = union_polygons(ctx.geoms[ctx.usable & ctx.in_force])
    _check_gaps(ctx, area, union)
    _check_grades(ctx, level_grades)
    return sorted(ctx.out, key=lambda f: (f.severity.rank, f.code, f.zones))
