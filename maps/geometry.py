"""Geometry for display: light GeoJSON, a simplification tolerance from the zoom, metric
projection, and the gaps and overlaps of a set of zones.

Everything in and out is EPSG:4326 (lon, lat); areas and lengths are measured after projecting
to the UTM zone of the data.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from numpy.typing import NDArray
from pyproj import Transformer
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

from geo.crs import transform_geoms, utm_crs
from geo.models import Zone
from geo.planning.findings import Finding

#: 5 decimals of a degree is 1.1 m of latitude (less of longitude): finer than a display needs.
DECIMALS = 5
_M_PER_DEG = 111_320.0
_WEB_MERCATOR_EQUATOR_M = 40_075_016.686

Bounds = tuple[float, float, float, float]


# --------------------------------------------------------------------------- metric


def utm_epsg(lon: float, lat: float) -> int:
    """EPSG code of the WGS84 UTM zone holding (lon, lat)."""
    code = utm_crs(lon, lat).to_epsg()
    assert code is not None  # every UTM zone CRS has one
    return int(code)


def to_metric(geoms: Sequence[BaseGeometry] | NDArray[np.object_], *, epsg: int | None = None) -> NDArray[np.object_]:
    """Project EPSG:4326 geometries to metres (the UTM zone of their centre unless ``epsg`` is given)."""
    arr = np.asarray(geoms, dtype=object)
    if arr.size == 0:
        return arr
    if epsg is None:
        x0, y0, x1, y1 = shapely.total_bounds(arr)
        if not np.isfinite(x0):
            return arr  # only empty geometries: nothing to project
        epsg = utm_epsg((x0 + x1) / 2, (y0 + y1) / 2)
    tr = Transformer.from_crs(4326, epsg, always_xy=True)
    return np.asarray(transform_geoms(arr, tr), dtype=object)


def bounds_of(geoms: Sequence[BaseGeometry], *, points: Sequence[tuple[float, float]] = ()) -> Bounds:
    """(min lon, min lat, max lon, max lat) of geometries and extra (lon, lat) points."""
    items = list(geoms) + [shapely.Point(x, y) for x, y in points]
    if not items:
        return (-180.0, -85.0, 180.0, 85.0)
    x0, y0, x1, y1 = shapely.total_bounds(np.asarray(items, dtype=object))
    return (float(x0), float(y0), float(x1), float(y1))


# --------------------------------------------------------------------------- tolerance


def fit_zoom(bounds: Bounds, *, width_px: int = 1200, height_px: int = 800) -> int:
    """The web-map zoom level at which ``bounds`` just fits a ``width_px`` x ``height_px`` view."""
    x0, y0, x1, y1 = bounds
    lon_span = max(x1 - x0, 1e-9)
    # Mercator y of the latitudes, in "degrees" so that both spans share the zoom formula.
    def merc(lat: float) -> float:
        lat = max(min(lat, 85.0), -85.0)
        return math.degrees(math.log(math.tan(math.pi / 4 + math.radians(lat) / 2)))

    lat_span = max(merc(y1) - merc(y0), 1e-9)
    zx = math.log2(width_px * 360.0 / (256.0 * lon_span))
    zy = math.log2(height_px * 360.0 / (256.0 * lat_span))
    return max(0, min(math.floor(min(zx, zy)), 22))


def display_tolerance_deg(bounds: Bounds, *, zoom_in: int = 4, width_px: int = 1200, height_px: int = 800) -> float:
    """Simplification tolerance (degrees) that stays under half a pixel ``zoom_in`` levels past the fit.

    A map opens at the zoom that fits its data; a reader zooms in a few levels. Simplifying to
    half a pixel at that deeper zoom is invisible there and removes most vertices of long,
    finely digitised boundaries. Greater Sydney (fit zoom 9, +4) gets ~8 m; a suburb ~0.5 m.
    """
    z = fit_zoom(bounds, width_px=width_px, height_px=height_px) + zoom_in
    lat = (bounds[1] + bounds[3]) / 2
    metres_per_px = _WEB_MERCATOR_EQUATOR_M * math.cos(math.radians(lat)) / (256.0 * 2**z)
    return 0.5 * metres_per_px / _M_PER_DEG


# --------------------------------------------------------------------------- light GeoJSON


def simplify_coverage(geoms: Sequence[BaseGeometry] | NDArray[np.object_], tolerance_deg: float) -> NDArray[np.object_]:
    """Topology-preserving simplification of polygons that tile an area (shapely ``coverage_simplify``).

    Edges shared by two zones are simplified once, so they stay shared: no slivers or gaps
    appear between neighbours. A zone that the simplification would empty keeps its geometry.
    """
    arr = np.asarray(geoms, dtype=object)
    if arr.size == 0 or tolerance_deg <= 0:
        return arr
    out = np.asarray(shapely.coverage_simplify(arr, tolerance_deg), dtype=object)
    lost = shapely.is_empty(out)
    out[lost] = arr[lost]
    return out


def round_coordinates(geoms: NDArray[np.object_], *, decimals: int = DECIMALS) -> NDArray[np.object_]:
    """Round coordinates to ``decimals`` and drop the repeated points that rounding makes.

    A sliver narrower than the grid collapses to a ring of fewer than 3 points, which GEOS refuses;
    then the geometries are snapped to the grid with ``set_precision`` (collapsed parts are dropped).
    """
    rounded = shapely.transform(geoms, lambda xy: np.round(xy, decimals))
    try:
        return np.asarray(shapely.remove_repeated_points(rounded), dtype=object)
    except shapely.errors.GEOSException:
        return np.asarray(shapely.set_precision(geoms, 10.0**-decimals), dtype=object)


def prepare_for_display(
    geoms: Sequence[BaseGeometry], *, tolerance_deg: float = 0.0, coverage: bool = True, decimals: int = DECIMALS
) -> NDArray[np.object_]:
    """Simplify (as a coverage when every geometry is polygonal and ``coverage``) and round."""
    arr = np.asarray(list(geoms), dtype=object)
    if arr.size == 0:
        return arr
    if tolerance_deg > 0:
        polygonal = np.isin(shapely.get_type_id(arr), (3, 6))
        if coverage and polygonal.all():
            arr = simplify_coverage(arr, tolerance_deg)
        else:
            arr = np.asarray(shapely.simplify(arr, tolerance_deg, preserve_topology=True), dtype=object)
    return round_coordinates(arr, decimals=decimals)


def light_geojson(
    geoms: Sequence[BaseGeometry],
    properties: Sequence[Mapping[str, Any]],
    *,
    tolerance_deg: float = 0.0,
    coverage: bool = True,
    decimals: int = DECIMALS,
) -> dict[str, Any]:
    """A GeoJSON FeatureCollection (EPSG:4326) made light for display or streaming.

    Parameters
    ----------
    geoms
        Geometries in EPSG:4326 (lon, lat). Feature ``i`` gets ``id = i``.
    properties
        One mapping per geometry; values must be JSON-serialisable.
    tolerance_deg
        Simplification tolerance in degrees (see :func:`display_tolerance_deg`); 0 keeps every vertex.
    coverage
        Simplify the polygons together as a coverage, keeping shared edges shared; when False
        (points, lines, or shapes that do not tile) each is simplified on its own.
    decimals
        Decimal places kept; 5 is about 1 m.
    """
    if len(geoms) != len(properties):
        msg = f"{len(geoms)} geometries but {len(properties)} property mappings"
        raise ValueError(msg)
    arr = prepare_for_display(geoms, tolerance_deg=tolerance_deg, coverage=coverage, decimals=decimals)
    texts = shapely.to_geojson(arr) if arr.size else []
    features = [
        {"type": "Feature", "id": i, "geometry": json.loads(str(t)), "properties": dict(p)}
        for i, (t, p) in enumerate(zip(texts, properties, strict=True))
    ]
    return {"type": "FeatureCollection", "features": features}


def _delta(coords: NDArray[np.float64], scale: float) -> list[int]:
    q = np.rint(coords[:, :2] * scale).astype(np.int64)
    return np.diff(q, axis=0, prepend=np.zeros((1, 2), dtype=np.int64)).ravel().tolist()


def _encode_polygon(p: Polygon, scale: float) -> list[list[int]]:
    return [_delta(np.asarray(p.exterior.coords), scale)] + [_delta(np.asarray(r.coords), scale) for r in p.interiors]


def encode_geometry(g: BaseGeometry, *, decimals: int = DECIMALS) -> dict[str, Any]:
    """A geometry as GeoJSON whose coordinates are integer deltas (TopoJSON-style quantisation).

    Each ring or line is a flat list ``[x0, y0, dx1, dy1, ...]`` in units of ``10**-decimals``
    degrees; a point is ``[x, y]``. About a third of the size of plain GeoJSON; the page decodes
    it (``catchmentDecode``) before handing it to Leaflet.
    """
    scale = 10.0**decimals
    kind = g.geom_type
    if isinstance(g, shapely.Point):
        return {"type": kind, "coordinates": _delta(np.asarray(g.coords), scale)}
    if isinstance(g, shapely.LineString):
        return {"type": kind, "coordinates": _delta(np.asarray(g.coords), scale)}
    if isinstance(g, Polygon):
        return {"type": kind, "coordinates": _encode_polygon(g, scale)}
    if isinstance(g, MultiPolygon):
        return {"type": kind, "coordinates": [_encode_polygon(p, scale) for p in g.geoms]}
    if isinstance(g, shapely.MultiLineString):
        return {"type": kind, "coordinates": [_delta(np.asarray(line.coords), scale) for line in g.geoms]}
    msg = f"cannot encode a {kind} for display"
    raise ValueError(msg)


# --------------------------------------------------------------------------- gaps and overlaps


@dataclass(frozen=True, slots=True)
class ProblemAreas:
    """Places inside a set of zones that no zone covers (gaps) or that two zones claim (overlaps)."""

    gaps: tuple[Polygon, ...] = ()
    overlaps: tuple[Polygon, ...] = ()

    @property
    def empty(self) -> bool:
        return not self.gaps and not self.overlaps


def polygon_parts(geoms: Sequence[BaseGeometry] | NDArray[np.object_]) -> list[Polygon]:
    """The non-empty polygons inside ``geoms`` (collections and multi-parts flattened)."""
    parts = shapely.get_parts(np.asarray(geoms, dtype=object))
    nested = parts[np.isin(shapely.get_type_id(parts), (6, 7))]
    if nested.size:
        parts = np.concatenate([parts[~np.isin(shapely.get_type_id(parts), (6, 7))], shapely.get_parts(nested)])
    keep = (shapely.get_type_id(parts) == 3) & ~shapely.is_empty(parts)
    return list(parts[keep])


def _claims_together(a: Zone, b: Zone) -> bool:
    """Two zones that could both answer for the same pupil (so overlapping is a problem)."""
    if set(a.school_codes) == set(b.school_codes):
        return False  # one school's two shapes: a duplicate, not a conflict
    if a.phasing != b.phasing:
        return False  # an old zone and the zone that replaces it from a later year
    # Zones of disjoint grades (an infants K-2 and a primary 3-6 zone) do not compete.
    return a.grades is None or b.grades is None or bool(set(a.grades) & set(b.grades))


def find_problem_areas(zones: Sequence[Zone], *, min_area_m2: float = 100.0) -> ProblemAreas:
    """Gaps (holes in the union of the zones) and overlaps (pairs of zones claiming one place).

    Overlaps count only between zones that could both serve one pupil: different schools,
    a shared grade and the same period (a zone phasing in from a later year does not conflict
    with the zone it replaces). Pieces smaller than ``min_area_m2`` (digitising noise well under
    a house plot) are left out.

    Parameters
    ----------
    zones
        The zones of one level, EPSG:4326.
    min_area_m2
        Smallest piece reported, square metres.
    """
    if not zones:
        return ProblemAreas()
    geoms = np.asarray([z.geometry for z in zones], dtype=object)
    # The union behind the gaps takes about a second for a city; a service redraws the same
    # plan often, so answers are kept for the last few distinct inputs.
    digest = hashlib.blake2b(digest_size=16)
    for wkb in shapely.to_wkb(geoms):
        digest.update(wkb)
    digest.update(repr([(z.school_codes, z.grades, z.phasing) for z in zones]).encode())
    key = (digest.hexdigest(), float(min_area_m2))
    if key in _PROBLEM_CACHE:
        return _PROBLEM_CACHE[key]
    found = _find_problem_areas(zones, geoms, min_area_m2)
    _PROBLEM_CACHE[key] = found
    while len(_PROBLEM_CACHE) > 8:
        _PROBLEM_CACHE.pop(next(iter(_PROBLEM_CACHE)))
    return found


_PROBLEM_CACHE: dict[tuple[str, float], ProblemAreas] = {}


def _find_problem_areas(zones: Sequence[Zone], geoms: NDArray[np.object_], min_area_m2: float) -> ProblemAreas:
    x0, y0, x1, y1 = shapely.total_bounds(geoms)
    epsg = utm_epsg((x0 + x1) / 2, (y0 + y1) / 2)

    union = shapely.union_all(geoms)
    holes = [Polygon(ring) for poly in polygon_parts([union]) for ring in poly.interiors]

    tree = shapely.STRtree(geoms)
    left, right = tree.query(geoms)
    pairs = np.flatnonzero(left < right)
    keep = np.array([k for k in pairs if _claims_together(zones[left[k]], zones[right[k]])], dtype=np.intp)
    pieces: list[Polygon] = []
    if keep.size:
        # Intersect only pairs whose interiors meet in an area: relate is far cheaper than
        # intersection, and most neighbouring pairs only share an edge.
        a, b = geoms[left[keep]], geoms[right[keep]]
        inside = shapely.relate_pattern(a, b, "2********")
        pieces = polygon_parts(shapely.intersection(a[inside], b[inside]))
    if pieces:
        pieces = polygon_parts([shapely.union_all(np.asarray(pieces, dtype=object))])

    def big(polys: list[Polygon]) -> tuple[Polygon, ...]:
        if not polys:
            return ()
        areas = shapely.area(to_metric(polys, epsg=epsg))
        return tuple(p for p, a in zip(polys, areas, strict=True) if a >= min_area_m2)

    return ProblemAreas(gaps=big(holes), overlaps=big(pieces))


def problems_from_findings(findings: Sequence[Finding], *, slivers: bool = True) -> ProblemAreas:
    """Gaps and overlaps of :func:`geo.planning.validate.validate_plan` findings, for the coverage map.

    ``gap`` findings (and gap slivers when ``slivers``) become gaps; ``overlap`` and
    ``grade_twice`` findings (and overlap slivers) become overlaps.
    """
    gaps: list[Polygon] = []
    overlaps: list[Polygon] = []
    for f in findings:
        if f.location is None:
            continue
        kind = f.detail.get("kind") if f.code == "sliver" else None
        if f.code == "gap" or (slivers and kind == "gap"):
            gaps.extend(polygon_parts([f.location]))
        elif f.code in ("overlap", "grade_twice") or (slivers and kind == "overlap"):
            overlaps.extend(polygon_parts([f.location]))
    return ProblemAreas(gaps=tuple(gaps), overlaps=tuple(overlaps))
