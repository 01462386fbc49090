"""The public change notice of a plan: the areas that change school, in English and Chinese.

Compares the zones of the plan being adopted with those of the plan it replaces and returns
each area whose school changes, from which school(s) to which, with its size and a sentence a
parent can read. Geometries are EPSG:4326 (lon, lat).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from shapely.geometry import MultiPolygon, mapping

from geo.models import School, Zone
from geo.planning.coverage import areas_m2, equal_area_transformer, polygonal_parts, union_polygons
from geo.planning.findings import area_text, area_text_zh
from geo.planning.impact import SchoolSet, set_label, zones_in_force

DEFAULT_MIN_AREA_M2 = 100.0


@dataclass(frozen=True, slots=True)
class AreaChange:
    """An area that moves from one school set to another (``()`` = no zone)."""

    from_schools: SchoolSet
    to_schools: SchoolSet
    geometry: MultiPolygon
    area_m2: float
    text: Mapping[str, str]

    def as_feature(self) -> dict[str, Any]:
        """A GeoJSON Feature (EPSG:4326) with from, to, area and the two sentences."""
        return {"type": "Feature", "geometry": mapping(self.geometry),
                "properties": {"from": set_label(self.from_schools), "to": set_label(self.to_schools),
                               "area_m2": round(self.area_m2, 1), "text_en": self.text["en"], "text_zh": self.text["zh"]}}


def _names(codes: SchoolSet, schools: Mapping[str, School], *, zh: bool) -> str:
    if not codes:
        return "没有招生片区" if zh else "no zone"
    names = [(schools[c].name_local or schools[c].name) if zh and c in schools else (schools[c].name if c in schools else c)
             for c in codes]
    return "、".join(names) if zh else " / ".join(names)


def _sentence(f: SchoolSet, t: SchoolSet, area: float, schools: Mapping[str, School], year: int | None) -> dict[str, str]:
    when_en = f" from school year {year}" if year is not None else ""
    when_zh = f"自 {year} 学年起" if year is not None else ""
    src_en, dst_en = _names(f, schools, zh=False), _names(t, schools, zh=False)
    src_zh, dst_zh = _names(f, schools, zh=True), _names(t, schools, zh=True)
    if not f:
        return {"en": f"An area of {area_text(area)} not zoned before is zoned for {dst_en}{when_en}.",
                "zh": f"原未划片的 {area_text_zh(area)} 区域{when_zh}划入 {dst_zh} 招生片区。"}
    if not t:
        return {"en": f"An area of {area_text(area)} zoned for {src_en} is no longer in any zone{when_en}.",
                "zh": f"原属 {src_zh} 招生片区的 {area_text_zh(area)} 区域{when_zh}不再属于任何招生片区。"}
    return {"en": f"An area of {area_text(area)} moves from {src_en} to {dst_en}{when_en}.",
            "zh": f"原属 {src_zh} 招生片区的 {area_text_zh(area)} 区域{when_zh}划入 {dst_zh} 招生片区。"}


def _by_set(zones: Sequence[Zone]) -> dict[SchoolSet, MultiPolygon]:
    groups: dict[SchoolSet, list[shapely.Geometry]] = defaultdict(list)
    for z in zones:
        groups[tuple(dict.fromkeys(z.school_codes))].append(z.geometry)
    return {k: union_polygons(v) for k, v in groups.items()}


def changed_areas(
    old_zones: Sequence[Zone],
    new_zones: Sequence[Zone],
    *,
    schools: Mapping[str, School],
    year: int | None = None,
    min_area_m2: float = DEFAULT_MIN_AREA_M2,
) -> list[AreaChange]:
    """Areas whose school changes between two plans of one level, largest first.

    Parameters
    ----------
    old_zones, new_zones
        The plan being replaced and the plan taking effect (EPSG:4326).
    schools
        Schools by code, for the names in the sentences (codes are used when unknown).
    year
        The school year the new plan takes effect; zones in force that year are compared, and
        the sentences name it.
    min_area_m2
        Pieces smaller than this (edge slivers of redrawn lines) are left out.
    """
    old, new = _by_set(zones_in_force(old_zones, year=year)), _by_set(zones_in_force(new_zones, year=year))
    # A place changes school where the set of school sets covering it changes. Comparing each
    # old group with every different new group would call every overlap inside one plan (infants
    # and primary zones, co-ed and single-sex high zones) a change, even between identical plans;
    # so each set's lost and gained area is found first, and only those are paired.
    empty = MultiPolygon()
    lost: dict[SchoolSet, shapely.Geometry] = {}
    gained: dict[SchoolSet, shapely.Geometry] = {}
    for k in dict.fromkeys([*old, *new]):
        a, b = old.get(k, empty), new.get(k, empty)
        if shapely.to_wkb(a) == shapely.to_wkb(b):
            continue
        if not (d := shapely.difference(a, b)).is_empty:
            lost[k] = d
        if not (d := shapely.difference(b, a)).is_empty:
            gained[k] = d
    pieces: list[tuple[SchoolSet, SchoolSet, shapely.Geometry]] = []
    lost_keys, gained_keys = list(lost), list(gained)
    lost_g = np.array([lost[k] for k in lost_keys], dtype=object)
    gained_g = np.array([gained[k] for k in gained_keys], dtype=object)
    if lost_g.size and gained_g.size:
        gi, li = shapely.STRtree(lost_g).query(gained_g, predicate="intersects")
        for geom, g, lo in zip(shapely.intersection(gained_g[gi], lost_g[li]), gi, li, strict=True):
            pieces.append((lost_keys[lo], gained_keys[g], geom))
    old_g = np.array(list(old.values()), dtype=object)
    new_g = np.array(list(new.values()), dtype=object)
    if gained:
        old_all = union_polygons(list(old_g))
        pieces.extend(((), k, g.difference(old_all)) for k, g in gained.items())
    if lost:
        new_all = union_polygons(list(new_g))
        pieces.extend((k, (), g.difference(new_all)) for k, g in lost.items())
    tr = equal_area_transformer(np.concatenate([old_g, new_g]) if old_g.size or new_g.size else old_g)
    out = []
    for f, t, geom in pieces:
        parts = polygonal_parts(geom)
        if not parts.size:
            continue
        areas = areas_m2(parts, tr)
        parts, areas = parts[areas >= min_area_m2], areas[areas >= min_area_m2]
        if not parts.size:
            continue
        area = float(areas.sum())
        out.append(AreaChange(f, t, MultiPolygon(list(parts)), area, _sentence(f, t, area, schools, year)))
    return sorted(out, key=lambda c: -c.area_m2)


def notice_text(changes: Sequence[AreaChange], *, plan_name: str, year: int | None) -> dict[str, str]:
    """The announcement: a heading and one line per changed area, in English and Chinese."""
    when_en = f", effective school year {year}" if year is not None else ""
    when_zh = f"，自 {year} 学年起生效" if year is not None else ""
    if not changes:
        return {"en": f"Zoning change notice: {plan_name}{when_en}. No area changes school.",
                "zh": f"招生片区调整公告：{plan_name}{when_zh}。没有区域调整就读学校。"}
    en = [f"Zoning change notice: {plan_name}{when_en}. {len(changes)} area(s) change school:"]
    zh = [f"招生片区调整公告：{plan_name}{when_zh}。共 {len(changes)} 处区域调整就读学校："]
    en.extend(f"{i}. {c.text['en']}" for i, c in enumerate(changes, 1))
    zh.extend(f"{i}. {c.text['zh']}" for i, c in enumerate(changes, 1))
    return {"en": "\n".join(en), "zh": "\n".join(zh)}
