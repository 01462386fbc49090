"""Pure edits of a draft plan's zones: each takes a zone list and returns a new one.

Zones are referred to by ``Zone.id``. A zone an edit creates has ``id=None`` (storage assigns
one); an edited zone keeps its id. Geometries are EPSG:4326 (lon, lat) MultiPolygons.

Overlay on polygons that share vertices (a coverage) gives pieces that share those same
vertices, so an edit of a clean coverage stays a clean coverage; every result still goes through
``make_valid`` and drops residue below :data:`geo.planning.coverage.NOISE_M2`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence

import numpy as np
import shapely
from pyproj import Transformer
from shapely.geometry import MultiPolygon, Point
from shapely.ops import split

from geo.crs import lon_lat_problem
from geo.errors import InvalidGeometry, InvalidInput, NotFound
from geo.io.read import repair_polygonal
from geo.models import School, SchoolStatus, Zone
from geo.planning.coverage import NOISE_M2, areas_m2, clean_polygonal, equal_area_transformer, polygonal_parts, union_polygons
from geo.planning.demand import DemandUnit


def zone_position(zones: Sequence[Zone], zone_id: int) -> int:
    """Position of the zone with ``Zone.id == zone_id``; NotFound when none has it."""
    for i, z in enumerate(zones):
        if z.id == zone_id:
            return i
    msg = f"no zone {zone_id} in this plan"
    raise NotFound(msg, where="zone_id")


def as_zone_geometry(geometry: shapely.Geometry | None, *, where: str = "geometry") -> MultiPolygon:
    """Check and repair a polygon a planner sent: polygonal, EPSG:4326 lon/lat, not empty.

    Raises
    ------
    InvalidGeometry
        Not a (Multi)Polygon, coordinates outside lon/lat range, or nothing left after repair.
    """
    try:
        mp, _ = repair_polygonal(geometry)
    except InvalidGeometry as exc:
        raise InvalidGeometry(exc.message, where=where) from exc
    if (problem := lon_lat_problem(*mp.bounds)) is not None:
        msg = f"coordinates {mp.bounds} are outside lon/lat range: send EPSG:4326 in (lon, lat) order; {problem}"
        raise InvalidGeometry(msg, where=where)
    return mp


def _clean(geom: shapely.Geometry, tr: Transformer | None = None) -> MultiPolygon:
    """Valid polygon parts of an overlay result, without residue slivers."""
    parts = polygonal_parts(clean_polygonal(geom))
    if not parts.size:
        return MultiPolygon()
    keep = areas_m2(parts, equal_area_transformer(parts) if tr is None else tr) >= NOISE_M2
    return MultiPolygon(list(parts[keep]))


def _take(zones: list[Zone], geometry: MultiPolygon, *, skip: set[int]) -> None:
    """Cut ``geometry`` out of every non-phasing zone it overlaps (positions in ``skip`` kept)."""
    for i, z in enumerate(zones):
        if i in skip or z.phasing or not z.geometry.intersects(geometry):
            continue
        rest = _clean(z.geometry.difference(geometry))
        if rest.is_empty:
            label = z.name or z.id
            msg = f"the new shape covers all of zone {label}; merge the zones instead"
            raise InvalidInput(msg, where="geometry")
        zones[i] = dataclasses.replace(z, geometry=rest)


def settle(before: Sequence[Zone], after: Sequence[Zone]) -> list[Zone]:
    """Make the zones an edit changed edge-match their neighbours again (``shapely.coverage_clean``).

    Overlay adds vertices on one side of a shared edge only (where a cut line or a unit's edge
    crosses it), so neighbours no longer match vertex for vertex. When the changed zones and
    their neighbours formed a clean coverage before the edit, they are cleaned together so they
    form one after it; a plan that had overlaps there keeps them for validation to report.
    """
    out = list(after)
    changed = {i for i, z in enumerate(out) if (i >= len(before) or z is not before[i])
               and not z.phasing and not z.geometry.is_empty}
    if not changed:
        return out
    live = np.array([i for i, z in enumerate(out) if not z.phasing and not z.geometry.is_empty], dtype=np.intp)
    geoms = np.array([out[i].geometry for i in live], dtype=object)
    probe = np.array([out[i].geometry for i in sorted(changed)], dtype=object)
    near = set(live[np.unique(shapely.STRtree(geoms).query(probe, predicate="intersects")[1])].tolist()) | changed
    group = sorted(near)
    old = np.array([before[i].geometry for i in group if i < len(before) and not before[i].geometry.is_empty], dtype=object)
    if len(group) < 2 or not bool(shapely.coverage_is_valid(old)):
        return out
    cleaned = shapely.coverage_clean(np.array([out[i].geometry for i in group], dtype=object))
    for i, geom in zip(group, cleaned, strict=True):
        if i in changed or not geom.equals_exact(out[i].geometry, 0.0):
            out[i] = dataclasses.replace(out[i], geometry=clean_polygonal(geom))
    return out


def replace_zone_geometry(zones: Sequence[Zone], *, zone_id: int, geometry: shapely.Geometry,
                          take_from_neighbours: bool = False) -> list[Zone]:
    """Give zone ``zone_id`` a new shape.

    Parameters
    ----------
    zones
        The draft's zones.
    zone_id
        The zone to reshape.
    geometry
        The new (Multi)Polygon, EPSG:4326; repaired with make_valid when invalid.
    take_from_neighbours
        Cut the new shape out of the other zones it overlaps, so the edit moves a boundary
        instead of creating an overlap. Area the zone gives up stays a gap until another zone
        takes it (validation reports it).
    """
    pos = zone_position(zones, zone_id)
    new = as_zone_geometry(geometry)
    out = list(zones)
    out[pos] = dataclasses.replace(out[pos], geometry=new)
    if take_from_neighbours:
        _take(out, new, skip={pos})
        return settle(zones, out)
    return out


def _target_zone(zones: Sequence[Zone], code: str, near: shapely.Geometry) -> int | None:
    """The zone that receives units for school ``code``: its own zone, nearest to the units."""
    named = [i for i, z in enumerate(zones) if code in z.school_codes and not z.phasing]
    if not named:
        return None
    own = [i for i in named if zones[i].school_codes == (code,)] or named
    return min(own, key=lambda i: float(zones[i].geometry.distance(near)))


def move_units(zones: Sequence[Zone], *, units: Sequence[DemandUnit], to_school: Mapping[str, str]) -> list[Zone]:
    """Move demand units to other schools; the zone shapes follow the unit polygons.

    Each moved unit's polygon is cut out of the zones it lies in and added to the zone of its new
    school (that school's single-school zone nearest to it; a new zone when the school has none,
    e.g. a planned school). Phasing zones are left alone.

    Parameters
    ----------
    zones
        The draft's zones.
    units
        Demand units; every id in ``to_school`` must be among them. Only polygon units can
        reshape zones (address points cannot).
    to_school
        Unit id -> code of the school it moves to.

    Notes
    -----
    Only the moved units' area changes hands: zones keep land outside any unit (roads, parks),
    and published zones rarely follow unit edges vertex for vertex (Fairfax's zones share only
    about 10 % of their vertices with the census blocks they were dissolved from), so rebuilding
    whole zones from units would open gaps against the zones left alone.
    """
    by_id = {u.id: u for u in units}
    missing = [uid for uid in to_school if uid not in by_id]
    if missing:
        msg = f"unknown demand unit(s): {', '.join(missing[:5])}"
        raise NotFound(msg, where="units")
    moving = [by_id[uid] for uid in to_school]
    points = [u.id for u in moving if u.geometry.geom_type == "Point"]
    if points:
        msg = f"unit(s) {', '.join(points[:5])} are points: only polygon units can reshape zones"
        raise InvalidInput(msg, where="units")
    out = list(zones)
    live = [i for i, z in enumerate(out) if not z.phasing]
    tr = equal_area_transformer(np.array([z.geometry for z in out], dtype=object))
    by_target: dict[str, list[DemandUnit]] = {}
    for u in moving:
        by_target.setdefault(to_school[u.id], []).append(u)
    for code, group in by_target.items():
        piece = union_polygons([u.geometry for u in group])
        # Cut first: the pieces leave every zone they lie in, the target's own zone included.
        for i in live:
            if out[i].geometry.intersects(piece):
                out[i] = dataclasses.replace(out[i], geometry=_clean(out[i].geometry.difference(piece), tr))
        target = _target_zone(out, code, piece)
        if target is None:
            out.append(Zone(school_codes=(code,), geometry=piece))
            live.append(len(out) - 1)
        else:
            out[target] = dataclasses.replace(out[target], geometry=_clean(out[target].geometry.union(piece), tr))
    return [z for z in settle(zones, out) if not z.geometry.is_empty or z.phasing]


def split_zone(zones: Sequence[Zone], *, zone_id: int, by: shapely.Geometry,
               school_codes: Sequence[str] | None = None, schools: Mapping[str, School] | None = None) -> list[Zone]:
    """Split zone ``zone_id`` by a line or a polygon; the new pieces become new zones.

    With a polygon, the zone's part inside it becomes one new zone. With a line, every part of
    the zone the line cuts falls into pieces: the piece holding the zone's first school (else
    the largest) stays, and each other piece becomes a new zone.

    Parameters
    ----------
    by
        (Multi)LineString or (Multi)Polygon, EPSG:4326.
    school_codes
        Schools of the new zone(s); default the original zone's schools.
    schools
        Schools by code, to find the piece holding the zone's school.
    """
    pos = zone_position(zones, zone_id)
    zone = zones[pos]
    codes = tuple(school_codes) if school_codes is not None else zone.school_codes
    if not codes:
        msg = "a new zone needs at least one school code"
        raise InvalidInput(msg, where="school_codes")
    if by is None or by.is_empty:
        msg = "split needs a line or a polygon"
        raise InvalidInput(msg, where="by")
    if by.geom_type in {"Polygon", "MultiPolygon"}:
        cutter = as_zone_geometry(by, where="by")
        kept, new = _clean(zone.geometry.difference(cutter)), [_clean(zone.geometry.intersection(cutter))]
    elif by.geom_type in {"LineString", "MultiLineString"}:
        known = [schools[c] for c in zone.school_codes if schools and c in schools]
        kept, new = _split_by_line(zone, by, Point(known[0].lon, known[0].lat) if known else None)
    else:
        msg = f"split by a {by.geom_type}: use a LineString or a Polygon"
        raise InvalidInput(msg, where="by")
    new = [g for g in new if not g.is_empty]
    if kept.is_empty or not new:
        msg = f"the {by.geom_type} does not divide zone {zone.name or zone_id} into two parts"
        raise InvalidInput(msg, where="by")
    out = list(zones)
    out[pos] = dataclasses.replace(zone, geometry=kept)
    out.extend(dataclasses.replace(zone, geometry=g, school_codes=codes, id=None, name=None, source=None) for g in new)
    return settle(zones, out)


def _split_by_line(zone: Zone, line: shapely.Geometry, home: Point | None) -> tuple[MultiPolygon, list[MultiPolygon]]:
    kept: list[shapely.Geometry] = []
    new: list[MultiPolygon] = []
    tr = equal_area_transformer([zone.geometry])
    for part in zone.geometry.geoms:
        pieces = polygonal_parts(split(part, line))
        pieces = pieces[areas_m2(pieces, tr) >= NOISE_M2] if pieces.size else pieces
        if pieces.size <= 1:
            kept.append(part)
            continue
        holds = [k for k, p in enumerate(pieces) if home is not None and p.covers(home)]
        keep = holds[0] if holds else int(np.argmax(areas_m2(pieces, tr)))
        kept.append(pieces[keep])
        new.extend(MultiPolygon([p]) for k, p in enumerate(pieces) if k != keep)
    return MultiPolygon(kept), new


def merge_zones(zones: Sequence[Zone], *, zone_ids: Sequence[int], school_codes: Sequence[str] | None = None,
                name: str | None = None) -> list[Zone]:
    """Merge zones into one, kept at the first one's place with its id.

    Parameters
    ----------
    zone_ids
        Two or more zones serving the same grades (and phasing alike).
    school_codes
        Schools of the merged zone; default every school of the merged zones, in order
        (several schools make a shared zone, 多校划片).
    name
        Name of the merged zone; default the first zone's.
    """
    ids = list(dict.fromkeys(zone_ids))
    if len(ids) < 2:
        msg = "merge needs two or more different zones"
        raise InvalidInput(msg, where="zone_ids")
    positions = [zone_position(zones, i) for i in ids]
    group = [zones[p] for p in positions]
    if len({z.grades for z in group}) > 1 or len({tuple(sorted(z.grade_start_years.items())) for z in group}) > 1:
        msg = "zones serving different grades (or phasing in differently) cannot be merged"
        raise InvalidInput(msg, where="zone_ids")
    codes = tuple(school_codes) if school_codes is not None else tuple(dict.fromkeys(c for z in group for c in z.school_codes))
    if not codes:
        msg = "the merged zone needs at least one school code"
        raise InvalidInput(msg, where="school_codes")
    merged = dataclasses.replace(group[0], geometry=union_polygons([z.geometry for z in group]), school_codes=codes,
                                 name=name if name is not None else group[0].name)
    drop = set(positions[1:])
    return [merged if i == positions[0] else z for i, z in enumerate(zones) if i not in drop]


def add_planned_school(zones: Sequence[Zone], *, school: School, geometry: shapely.Geometry,
                       take_from_neighbours: bool = True, grades: Sequence[str] | None = None) -> tuple[School, list[Zone]]:
    """Add a planned school with an initial zone.

    Parameters
    ----------
    school
        The new school; returned with status ``planned`` (a closed school is refused).
    geometry
        Its initial zone, EPSG:4326.
    take_from_neighbours
        Cut the zone out of the zones it overlaps (default), so the draft stays free of overlaps.
    grades
        Grades the zone serves; default every grade of the school.

    Returns
    -------
    (School, list[Zone])
        The school to store, and the zones with the new one appended (``id=None``).
    """
    if school.status is SchoolStatus.CLOSED:
        msg = f"school {school.code} is closed; a planned school must be new"
        raise InvalidInput(msg, where="status")
    if any(school.code in z.school_codes for z in zones):
        msg = f"school {school.code} already has a zone in this plan"
        raise InvalidInput(msg, where="code")
    new = as_zone_geometry(geometry)
    out = list(zones)
    if take_from_neighbours:
        _take(out, new, skip=set())
    out.append(Zone(school_codes=(school.code,), geometry=new, name=school.name,
                    grades=tuple(grades) if grades is not None else None))
    return dataclasses.replace(school, status=SchoolStatus.PLANNED), settle(zones, out) if take_from_neighbours else out
