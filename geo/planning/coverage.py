"""Polygon coverages: cleaning, union and area measurement, shared by validation, edits and impact.

Inputs and outputs are EPSG:4326 (lon, lat). Areas are measured in a Lambert azimuthal
equal-area projection centred on the data, right at any extent (a UTM zone distorts area away
from its central meridian, and a district can straddle two zones).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import shapely
from numpy.typing import NDArray
from pyproj import Transformer
from shapely.geometry import MultiPolygon, Polygon

from geo.crs import metric_transformer, transform_geoms

#: Pieces smaller than this (m²) are floating-point residue of overlay, below any survey.
NOISE_M2 = 0.01


def equal_area_transformer(geoms: Sequence[shapely.Geometry] | NDArray[np.object_]) -> Transformer:
    """EPSG:4326 -> Lambert azimuthal equal-area centred on the geometries' bounds (metres)."""
    return metric_transformer(geoms, kind="equal_area")


def to_metric(geoms: Any, transformer: Transformer) -> Any:
    """Project geometries (scalar or array, EPSG:4326) with ``transformer``."""
    return transform_geoms(geoms, transformer)


def areas_m2(geoms: Any, transformer: Transformer) -> NDArray[np.float64]:
    """Areas in m² of EPSG:4326 geometries (an array, or one geometry -> 1-element array)."""
    arr = np.atleast_1d(np.asarray(geoms, dtype=object))
    if arr.size == 0:
        return np.zeros(0)
    return np.asarray(shapely.area(to_metric(arr, transformer)), dtype=float)


def polygonal_parts(geom: shapely.Geometry) -> NDArray[np.object_]:
    """Polygons in ``geom`` (recursing into collections)."""
    parts = shapely.get_parts(geom)
    out: list[shapely.Geometry] = []
    for p in parts:
        if isinstance(p, Polygon):
            if not p.is_empty:
                out.append(p)
        elif p.geom_type in {"MultiPolygon", "GeometryCollection"}:
            out.extend(polygonal_parts(p))
    return np.array(out, dtype=object)


def clean_polygonal(geom: shapely.Geometry | None) -> MultiPolygon:
    """A valid MultiPolygon from any geometry: make_valid (structure method), polygon parts kept."""
    if geom is None or geom.is_empty:
        return MultiPolygon()
    if geom.is_valid and isinstance(geom, MultiPolygon):
        return geom
    if geom.is_valid and isinstance(geom, Polygon):
        return MultiPolygon([geom])
    if not geom.is_valid:
        geom = shapely.make_valid(geom, method="structure", keep_collapsed=False)
    parts = polygonal_parts(geom)
    if not parts.size:
        return MultiPolygon()
    if parts.size == 1:
        return MultiPolygon([parts[0]])
    # Parts of a collection may touch or overlap; dissolve them into disjoint polygons.
    return MultiPolygon(list(polygonal_parts(shapely.union_all(parts))))


def union_polygons(geoms: Sequence[shapely.Geometry] | NDArray[np.object_]) -> MultiPolygon:
    """Union of valid polygonal geometries as a MultiPolygon.

    A valid coverage (edge-matched, no overlaps) is dissolved with ``coverage_union_all``,
    several times faster than a full overlay; anything else goes through ``union_all``.
    """
    arr = np.asarray([g for g in geoms if g is not None and not g.is_empty], dtype=object)
    if arr.size == 0:
        return MultiPolygon()
    if arr.size == 1:
        return clean_polygonal(arr[0])
    merged = shapely.coverage_union_all(arr) if bool(shapely.coverage_is_valid(arr)) else shapely.union_all(arr)
    return clean_polygonal(merged)
