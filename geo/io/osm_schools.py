"""Schools from an OpenStreetMap extract (``amenity=school`` nodes, ways and multipolygons).

Areas (closed ways, multipolygon relations) are assembled by pyosmium and placed at a
representative point inside them (``point_on_surface``), so a school on an L-shaped site still
gets a point on its grounds. Extracts clip objects at their edge and some drop building
nodes: an area that cannot be assembled is placed inside the hull of the nodes that remain
and marked ``attributes["location"] = "approximate"``. Codes name the OSM object:
``osm-n<id>``, ``osm-w<id>``, ``osm-r<id>``. Coordinates are EPSG:4326 (lon, lat).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import osmium
import shapely
from shapely.geometry.base import BaseGeometry

from geo.errors import UnsupportedFile
from geo.models import School

#: OSM tags copied into ``School.attributes`` when present.
KEPT_TAGS = ("amenity", "isced:level", "school", "school:level", "operator", "operator:type", "website", "wikidata", "ref", "grades",
             "capacity", "religion", "addr:country")

_Relations = Mapping[str, tuple[dict[str, str], bool, list[int]]]


@dataclass(frozen=True, slots=True)
class _Feature:
    code: str
    tags: dict[str, str]
    geom: BaseGeometry
    amenity: bool
    approximate: bool = False


def _approximate(coords: list[tuple[float, float]]) -> BaseGeometry:
    """A stand-in shape for an area known only by some of its nodes."""
    return shapely.convex_hull(shapely.MultiPoint(coords))


def _address(tags: Mapping[str, str]) -> str | None:
    if tags.get("addr:full"):
        return tags["addr:full"]
    street = " ".join(p for p in (tags.get("addr:housenumber"), tags.get("addr:street")) if p)
    parts = [p for p in (street, tags.get("addr:city"), tags.get("addr:postcode")) if p]
    return ", ".join(parts) or None


def _school(f: _Feature) -> School:
    tags = f.tags
    local = tags.get("name")
    english = tags.get("name:en")
    name = english or local or f"School {f.code}"
    point = shapely.point_on_surface(f.geom)
    attrs: dict[str, str] = {"source": "OpenStreetMap", "osm": f.code.removeprefix("osm-")}
    attrs.update({k: tags[k] for k in KEPT_TAGS if k in tags})
    if f.approximate:
        attrs["location"] = "approximate"
    capacity = tags.get("capacity", "")
    return School(code=f.code, name=name, name_local=local if english and local and local != english else None,
                  lon=float(point.x), lat=float(point.y), address=_address(tags),
                  capacity=int(capacity) if capacity.isdigit() else None, attributes=attrs)


def _relation_fallback(path: Path, pending: _Relations) -> list[_Feature]:
    """Second pass: outer ways of relations that could not be assembled, as approximate shapes."""
    wanted_ways = {w for _, _, ways in pending.values() for w in ways}
    coords: dict[int, list[tuple[float, float]]] = {}
    fp = (osmium.FileProcessor(str(path), osmium.osm.NODE | osmium.osm.WAY).with_locations()
          .with_filter(osmium.filter.EntityFilter(osmium.osm.WAY)).with_filter(osmium.filter.IdFilter(wanted_ways)))
    for way in fp:
        if not isinstance(way, osmium.osm.Way):
            continue
        coords[way.id] = [(n.lon, n.lat) for n in way.nodes if n.location.valid()]
    out = []
    for code, (tags, amenity, ways) in pending.items():
        pts = [c for w in ways for c in coords.get(w, [])]
        if pts:
            out.append(_Feature(code, tags, _approximate(pts), amenity, approximate=True))
    return out


def read_osm_schools(pbf_path: str | Path, *, include_buildings: bool = False,
                     name_pattern: str | None = None) -> list[School]:
    """Read the schools of an OSM extract.

    Parameters
    ----------
    pbf_path
        An ``.osm.pbf`` (or other pyosmium-readable) file.
    include_buildings
        Also take ``building=school`` features that lie outside every ``amenity=school`` site.
    name_pattern
        Also take buildings and amenities whose ``name`` matches this regular expression
        (case-insensitive) outside every ``amenity=school`` site: for extracts where schools
        are mapped only as named buildings (e.g. ``r"\\b(school|elementary|academy)\\b"``).

    Returns
    -------
    list[School]
        Sorted by code. ``name`` is the English name when tagged, with the local name in
        ``name_local``; ``address`` comes from ``addr:*``; ``attributes`` keeps the OSM id,
        the tags in :data:`KEPT_TAGS` and ``location="approximate"`` where the area was clipped.
        A node or building lying on an ``amenity=school`` site is the same school and dropped.

    Raises
    ------
    UnsupportedFile
        When the file cannot be read as OSM data.
    """
    pattern = re.compile(name_pattern, re.IGNORECASE) if name_pattern else None
    wkb = osmium.geom.WKBFactory()

    def wanted(tags: Mapping[str, str]) -> tuple[bool, bool]:
        """(is a candidate, is an amenity=school)."""
        if tags.get("amenity") == "school":
            return True, True
        if include_buildings and tags.get("building") == "school":
            return True, False
        named = pattern is not None and ("building" in tags or "amenity" in tags) and bool(pattern.search(tags.get("name", "")))
        return named, False

    features: list[_Feature] = []
    assembled: set[str] = set()
    partial: list[_Feature] = []
    relations: dict[str, tuple[dict[str, str], bool, list[int]]] = {}
    path = Path(pbf_path)
    try:
        fp = (osmium.FileProcessor(str(path)).with_areas(osmium.filter.KeyFilter("amenity", "building"))
              .with_filter(osmium.filter.KeyFilter("amenity", "building")))
        for obj in fp:
            tags = dict(obj.tags)
            keep, amenity = wanted(tags)
            if not keep:
                continue
            if isinstance(obj, osmium.osm.Node):
                features.append(_Feature(f"osm-n{obj.id}", tags, shapely.Point(obj.location.lon, obj.location.lat), amenity))
            elif isinstance(obj, osmium.osm.Area):
                code = f"osm-{'w' if obj.from_way() else 'r'}{obj.orig_id()}"
                assembled.add(code)
                features.append(_Feature(code, tags, shapely.from_wkb(wkb.create_multipolygon(obj)), amenity))
            elif isinstance(obj, osmium.osm.Way):
                # Closed ways also come back as Areas; keep the nodes in case assembly fails.
                coords = [(n.lon, n.lat) for n in obj.nodes if n.location.valid()]
                if coords:
                    partial.append(_Feature(f"osm-w{obj.id}", tags, _approximate(coords), amenity, approximate=True))
            elif isinstance(obj, osmium.osm.Relation) and tags.get("type") == "multipolygon":
                outer = [m.ref for m in obj.members if m.type == "w" and m.role != "inner"]
                relations[f"osm-r{obj.id}"] = (tags, amenity, outer)
        pending = {c: r for c, r in relations.items() if c not in assembled}
        if pending:
            partial.extend(_relation_fallback(path, pending))
    except RuntimeError as exc:  # pyosmium reports unreadable files as RuntimeError
        msg = f"cannot read {path.name} as OpenStreetMap data / 无法读取 OSM 文件: {exc}"
        raise UnsupportedFile(msg, where=str(path)) from exc
    features.extend(f for f in partial if f.code not in assembled)
    sites = [f.geom for f in features if f.amenity and not f.approximate and f.geom.geom_type == "MultiPolygon"]
    site_union = shapely.union_all(sites) if sites else None
    out = []
    for f in features:
        is_site = f.amenity and f.geom.geom_type in ("MultiPolygon", "Polygon")
        # A school mapped twice (a node or a building on its amenity=school site) is one school.
        if not is_site and site_union is not None and bool(shapely.covers(site_union, shapely.point_on_surface(f.geom))):
            continue
        out.append(_school(f))
    return sorted(out, key=lambda s: s.code)
