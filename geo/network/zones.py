"""Zones by nearest school along the streets, and walk-sheds, from a :class:`SchoolTravel`.

Zones: every node, every vertex of every edge and points every ``spacing_m`` along the edges
take the school nearest to them along the network (one multi-source Dijkstra); the Voronoi
cells of those points (in the network's UTM frame) are dissolved by school and clipped to the
area. Sampling along edges puts the boundary within ``spacing_m`` of where two schools are
equally far along a street, rather than halfway between junctions. Places on streets no school
reaches (islands) give no cell, so their area goes to the nearest reachable street.

Walk-sheds: the stretches of street within a cost of a school, buffered into a polygon.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import shapely
from numpy.typing import NDArray
from shapely.errors import GEOSException
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

from geo.errors import InvalidGeometry, InvalidInput
from geo.models import Zone
from geo.network.graph import LocalFrame
from geo.network.paths import SchoolTravel, entries, exits
from geo.network.snap import snap_index

_INF = np.inf
_EARTH_R = 6_371_008.8


@dataclass(frozen=True, slots=True)
class NetworkZones:
    """Zones by nearest school along the network.

    Attributes
    ----------
    zones
        ``(school_code, MultiPolygon)`` pairs, EPSG:4326, in the travel's school order.
    area
        The area they cover, EPSG:4326.
    schools_without_zone
        Codes of schools nearest to no street (unsnapped, or sharing a spot with another).
    unreachable_nodes
        Network nodes no school reaches (islands, or beyond the limit).
    generators
        Number of Voronoi generator points used.
    """

    zones: tuple[tuple[str, MultiPolygon], ...]
    area: MultiPolygon
    schools_without_zone: tuple[str, ...]
    unreachable_nodes: int
    generators: int

    def to_zones(self, *, plan_id: int | None = None, source: str | None = None) -> list[Zone]:
        """The zones as :class:`~geo.models.Zone` objects (one school each)."""
        return [Zone(school_codes=(code,), geometry=geom, plan_id=plan_id, source=source)
                for code, geom in self.zones]


def _as_multi(g: BaseGeometry) -> MultiPolygon:
    polys = [p for p in shapely.get_parts(g) if isinstance(p, Polygon) and not p.is_empty]
    return MultiPolygon(polys)


def default_area(travel: SchoolTravel, *, buffer_m: float = 100.0, ratio: float = 0.2) -> MultiPolygon:
    """Concave hull of the network's nodes, buffered by ``buffer_m`` metres (EPSG:4326)."""
    net = travel.network
    x, y = net.frame.to_xy(net.node_lon, net.node_lat)
    hull = shapely.buffer(shapely.concave_hull(shapely.multipoints(np.column_stack([x, y])), ratio=ratio), buffer_m)
    return _as_multi(_to_lonlat(net.frame, hull))


def _to_lonlat(frame: LocalFrame, g: BaseGeometry) -> BaseGeometry:
    return shapely.transform(g, lambda xy: np.column_stack(frame.to_lonlat(xy[:, 0], xy[:, 1])))


def _to_xy(frame: LocalFrame, g: BaseGeometry) -> BaseGeometry:
    return shapely.transform(g, lambda xy: np.column_stack(frame.to_xy(xy[:, 0], xy[:, 1])))


def _position_cost(travel: SchoolTravel, cost: NDArray[np.float64], school: NDArray[np.int64],
                   edge: NDArray[np.int64], frac: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """Cost and school of positions on edges, from per-node costs and the schools' own edges."""
    ends = exits if travel.direction == "to_school" else entries
    a, ca, b, cb = ends(travel.network, edge, frac)
    via_a, via_b = cost[a] + ca, cost[b] + cb
    best = np.minimum(via_a, via_b)
    who = np.where(via_a <= via_b, school[a], school[b])
    s = travel.schools
    net = travel.network
    for i in np.flatnonzero(~s.too_far):
        on = np.flatnonzero(edge == s.edge[i])
        if on.size == 0:
            continue
        start, end = (frac[on], s.fraction[i]) if travel.direction == "to_school" else (s.fraction[i], frac[on])
        e = int(s.edge[i])
        ok = np.where(end >= start, net.edge_forward[e], net.edge_backward[e])
        c = np.where(ok, np.abs(end - start) * net.edge_weight[e], _INF) + travel.snap_cost(s)[i]
        better = c < best[on]
        best[on[better]], who[on[better]] = c[better], i
    return best, who


def _samples(travel: SchoolTravel, spacing_m: float) -> tuple[NDArray[np.float64], NDArray[np.float64],
                                                               NDArray[np.int64], NDArray[np.float64]]:
    """Interior vertices and evenly spaced points of every edge: (x, y, edge, fraction)."""
    net = travel.network
    ix = snap_index(net)
    seg_len_xy = np.hypot(ix.x1 - ix.x0, ix.y1 - ix.y0)
    k = np.floor(seg_len_xy / spacing_m).astype(np.int64)
    # Every segment contributes its start vertex (unless it is the edge's u node) and k inner points.
    n_per = k + 1
    seg = np.repeat(np.arange(k.size), n_per)
    j = np.arange(int(n_per.sum())) - np.repeat(np.cumsum(n_per) - n_per, n_per)
    t = j / (k[seg] + 1)
    keep = ~((j == 0) & (ix.start_m[seg] == 0.0))
    seg, t = seg[keep], t[keep]
    x = ix.x0[seg] + t * (ix.x1[seg] - ix.x0[seg])
    y = ix.y0[seg] + t * (ix.y1[seg] - ix.y0[seg])
    edge = ix.edge[seg]
    length = net.edge_length_m[edge]
    frac = np.where(length > 0, (ix.start_m[seg] + t * ix.length_m[seg]) / np.where(length > 0, length, 1.0), 0.0)
    return x, y, edge, np.clip(frac, 0.0, 1.0)


def _voronoi(x: NDArray[np.float64], y: NDArray[np.float64], cost: NDArray[np.float64], school: NDArray[np.int64],
             area_xy: BaseGeometry, *, grid_m: float) -> tuple[NDArray[np.float64], NDArray[np.int64], NDArray[np.object_]]:
    """Voronoi cells (in input order) of the points merged on a ``grid_m`` grid, cheapest kept."""
    grid = np.column_stack([np.round(x / grid_m), np.round(y / grid_m)])
    order = np.lexsort((cost, grid[:, 1], grid[:, 0]))
    g = grid[order]
    first = np.ones(order.size, dtype=bool)
    first[1:] = (g[1:] != g[:-1]).any(axis=1)
    pts = g[first] * grid_m
    owner = school[order[first]]
    env = shapely.buffer(shapely.envelope(shapely.union(area_xy, shapely.multipoints(pts))), 1000.0)
    cells = shapely.get_parts(shapely.voronoi_polygons(shapely.multipoints(pts), extend_to=env, ordered=True))
    return pts, owner, cells


def nearest_school_zones(travel: SchoolTravel, *, area: Polygon | MultiPolygon | None = None,
                         spacing_m: float = 30.0, limit: float = _INF) -> NetworkZones:
    """Zones whose every point is served by the school nearest along the network.

    Parameters
    ----------
    travel
        The network and the schools (walk or drive; cost direction as configured).
    area
        Area to cover, EPSG:4326; defaults to :func:`default_area`.
    spacing_m
        Spacing of generator points along edges; smaller is more precise and slower.
    limit
        Streets farther than this (network unit) from every school are left out, their area
        going to the nearest street that is within reach.

    Returns
    -------
    NetworkZones
        A clean coverage of ``area``: no gaps, no overlaps.

    Raises
    ------
    InvalidInput
        When no school can be routed or no street is within reach of one.
    InvalidGeometry
        When ``area`` is not a valid polygon.
    """
    if spacing_m <= 0:
        msg = f"spacing_m must be positive, got {spacing_m}"
        raise InvalidInput(msg, where="spacing_m")
    net, frame = travel.network, travel.network.frame
    area_ll = default_area(travel) if area is None else area
    if not isinstance(area_ll, Polygon | MultiPolygon) or area_ll.is_empty or not area_ll.is_valid:
        msg = "area must be a valid, non-empty (Multi)Polygon in EPSG:4326 / 区域必须是有效的面"
        raise InvalidGeometry(msg, where="area")
    near = travel.node_nearest(limit=limit)
    x_s, y_s, e_s, f_s = _samples(travel, spacing_m)
    c_s, w_s = _position_cost(travel, near.cost, near.school, e_s, f_s)
    nx, ny = frame.to_xy(net.node_lon, net.node_lat)
    x = np.concatenate([nx, x_s])
    y = np.concatenate([ny, y_s])
    cost = np.concatenate([near.cost, c_s])
    school = np.concatenate([near.school, w_s])
    ok = np.isfinite(cost) & (cost <= limit) & (school >= 0)
    if not ok.any():
        msg = "no street is within reach of any school / 没有学校可达的道路"
        raise InvalidInput(msg, where="schools")
    x, y, cost, school = x[ok], y[ok], cost[ok], school[ok]
    area_xy = _to_xy(frame, area_ll)
    try:
        pts, owner, cells = _voronoi(x, y, cost, school, area_xy, grid_m=0.1)
    except GEOSException:  # near-duplicate points GEOS cannot order; merge more
        pts, owner, cells = _voronoi(x, y, cost, school, area_xy, grid_m=1.0)
    zones: list[tuple[str, MultiPolygon]] = []
    missing: list[str] = []
    for i, code in enumerate(travel.codes):
        mine = cells[owner == i]
        if mine.size == 0:
            missing.append(code)
            continue
        # Clip in lon/lat: the area's edges are straight there, not in the UTM frame.
        geom = _as_multi(shapely.intersection(_to_lonlat(frame, shapely.coverage_union_all(mine)), area_ll))
        if geom.is_empty:
            missing.append(code)
            continue
        zones.append((code, geom))
    unreachable = int((~(np.isfinite(near.cost) & (near.cost <= limit))).sum())
    return NetworkZones(tuple(zones), _as_multi(area_ll), tuple(missing), unreachable, int(pts.shape[0]))


def reach_polygon(travel: SchoolTravel, school: int, *, within: float, buffer_m: float = 40.0) -> MultiPolygon:
    """Walk-shed (or drive-shed): streets within ``within`` of a school, buffered by ``buffer_m``.

    Parameters
    ----------
    travel
        The network and schools.
    school
        Index of the school in ``travel``.
    within
        Cost limit in the network's unit (metres walking, seconds driving).
    buffer_m
        Half-width in metres of the band drawn around each reached street.

    Returns
    -------
    MultiPolygon
        EPSG:4326; empty when the school is not routed.
    """
    if not 0 <= school < travel.n_schools:
        msg = f"school index {school} out of range 0..{travel.n_schools - 1}"
        raise InvalidInput(msg, where="school")
    net, frame = travel.network, travel.network.frame
    if travel.schools.too_far[school]:
        return MultiPolygon()
    cost = travel.school_costs(school, limit=within)
    ix = snap_index(net)
    e = ix.edge
    w = np.where(net.edge_weight[e] > 0, net.edge_weight[e], 1.0)
    # Reached share of each edge from its u end ([0, hu]) and from its v end ([1 - hv, 1]).
    to = travel.direction == "to_school"
    u_ok = net.edge_backward[e] if to else net.edge_forward[e]
    v_ok = net.edge_forward[e] if to else net.edge_backward[e]
    hu = np.where(u_ok, (within - cost[net.edge_u[e]]) / w, -1.0)
    hv = np.where(v_ok, (within - cost[net.edge_v[e]]) / w, -1.0)
    length = np.where(net.edge_length_m[e] > 0, net.edge_length_m[e], 1.0)
    f0, f1 = ix.start_m / length, (ix.start_m + ix.length_m) / length
    intervals = [(np.zeros_like(hu), hu), (1.0 - hv, np.ones_like(hv))]
    # The school's own edge, travelled straight from (or to) the school.
    s = travel.schools
    left = (within - travel.snap_cost(s)[school]) / max(float(net.edge_weight[s.edge[school]]), 1e-9)
    fs = float(s.fraction[school])
    back_ok = bool(net.edge_backward[s.edge[school]] if not to else net.edge_forward[s.edge[school]])
    fwd_ok = bool(net.edge_forward[s.edge[school]] if not to else net.edge_backward[s.edge[school]])
    own = e == s.edge[school]
    lo_own = np.where(own, fs - (left if back_ok else 0.0), 2.0)
    hi_own = np.where(own, fs + (left if fwd_ok else 0.0), -1.0)
    if left >= 0:
        intervals.append((lo_own, hi_own))
    pieces = []
    span = np.where(f1 > f0, f1 - f0, 1.0)
    for lo, hi in intervals:
        a, b = np.maximum(lo, f0), np.minimum(hi, f1)
        on = b >= a
        ta, tb = (a[on] - f0[on]) / span[on], (b[on] - f0[on]) / span[on]
        x0, y0, dx, dy = ix.x0[on], ix.y0[on], ix.x1[on] - ix.x0[on], ix.y1[on] - ix.y0[on]
        pieces.append(np.stack([np.column_stack([x0 + ta * dx, y0 + ta * dy]),
                                np.column_stack([x0 + tb * dx, y0 + tb * dy])], axis=1))
    if left >= 0:  # the snap leg itself
        px, py = frame.to_xy(s.lon[school: school + 1], s.lat[school: school + 1])
        qx, qy = frame.to_xy(s.snap_lon[school: school + 1], s.snap_lat[school: school + 1])
        pieces.append(np.array([[[px[0], py[0]], [qx[0], qy[0]]]]))
    coords = np.concatenate(pieces) if pieces else np.empty((0, 2, 2))
    if coords.shape[0] == 0:
        return MultiPolygon()
    return _as_multi(_to_lonlat(frame, _band(coords, buffer_m)))


def _band(coords: NDArray[np.float64], buffer_m: float) -> BaseGeometry:
    """Union of ``buffer_m`` bands around straight pieces (n x 2 x 2 planar coordinates)."""
    lines = shapely.line_merge(shapely.union_all(shapely.linestrings(coords)))
    return shapely.union_all(shapely.buffer(shapely.get_parts(lines), buffer_m, quad_segs=4))


def coverage_gaps_overlaps(zones: Sequence[tuple[str, MultiPolygon]], area: Polygon | MultiPolygon) -> tuple[bool, float, float]:
    """(shapely ``coverage_is_valid``, gap area m2, overlap area m2) of zones against ``area``.

    Geometries are EPSG:4326 with edges straight in lon/lat. Areas are planar in lon/lat scaled
    to square metres at the area's latitude: a geodesic measure would count the bulge of each
    geodesic against the straight edge of a long sliver as area.
    """
    geoms = np.array([g for _, g in zones], dtype=object)
    valid = bool(shapely.coverage_is_valid(geoms))
    union = shapely.union_all(geoms)
    lat = math.radians(area.centroid.y)
    m2_per_deg2 = (math.pi / 180.0 * _EARTH_R) ** 2 * math.cos(lat)
    gap = float(shapely.area(shapely.difference(area, union))) * m2_per_deg2
    overlap = (float(shapely.area(geoms).sum()) - float(shapely.area(union))) * m2_per_deg2
    return valid, gap, max(overlap, 0.0)
