"""Snap points onto the nearest street edge of a :class:`~geo.network.graph.StreetNetwork`.

Points go onto the nearest *edge* (any point along a street, not only a junction). The search
runs in the network's UTM frame over a shapely STRtree of every straight segment of every
edge; the projection onto the segment is vectorised numpy, and the reported snap distance is
geodesic. Points farther than ``max_snap_m`` from every street are flagged ``too_far`` and
keep their nearest edge for reporting, but routing treats them as unreachable.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray

from geo.distance import geodesic_m
from geo.errors import InvalidInput
from geo.network.graph import StreetNetwork

#: Default limit (metres) beyond which a point is not snapped but flagged.
DEFAULT_MAX_SNAP_M = 250.0


@dataclass(frozen=True, slots=True)
class SnapIndex:
    """Segments of every edge in the network's UTM frame, behind an STRtree."""

    tree: shapely.STRtree
    x0: NDArray[np.float64]
    y0: NDArray[np.float64]
    x1: NDArray[np.float64]
    y1: NDArray[np.float64]
    edge: NDArray[np.int64]
    start_m: NDArray[np.float64]  # geodesic distance from the edge's u end to the segment start
    length_m: NDArray[np.float64]  # geodesic length of the segment


@dataclass(frozen=True, slots=True)
class SnappedPoints:
    """Points snapped onto edges; arrays have one entry per input point.

    Attributes
    ----------
    lon, lat
        The input points, EPSG:4326.
    edge
        The nearest edge.
    offset_m
        Geodesic distance along that edge from its ``u`` end to the snapped position.
    fraction
        ``offset_m`` as a share of the edge length (0 at ``u``, 1 at ``v``).
    snap_m
        Geodesic distance from the point to the snapped position, metres.
    snap_lon, snap_lat
        The snapped position, EPSG:4326.
    too_far
        True where ``snap_m`` exceeds the limit: such points are reported, not routed.
    max_snap_m
        The limit used.
    network_key
        :attr:`StreetNetwork.key` of the network snapped onto (edges index that network).
    """

    lon: NDArray[np.float64]
    lat: NDArray[np.float64]
    edge: NDArray[np.int64]
    offset_m: NDArray[np.float64]
    fraction: NDArray[np.float64]
    snap_m: NDArray[np.float64]
    snap_lon: NDArray[np.float64]
    snap_lat: NDArray[np.float64]
    too_far: NDArray[np.bool_]
    max_snap_m: float
    network_key: str

    def __len__(self) -> int:
        return int(self.edge.size)


def snap_index(network: StreetNetwork) -> SnapIndex:
    """The network's segment index, built once and kept with the network."""
    return network.derived("snap_index", lambda: _build_index(network))


def _build_index(network: StreetNetwork) -> SnapIndex:
    off = network.geom_offsets
    nv = np.diff(off)
    # Vertex i starts a segment unless it is the last vertex of its edge.
    starts = np.ones(network.geom_lon.size, dtype=bool)
    starts[off[1:] - 1] = False
    i0 = np.flatnonzero(starts)
    i1 = i0 + 1
    edge = np.repeat(np.arange(network.n_edges, dtype=np.int64), nv - 1)
    x, y = network.frame.to_xy(network.geom_lon, network.geom_lat)
    length = geodesic_m(network.geom_lon[i0], network.geom_lat[i0], network.geom_lon[i1], network.geom_lat[i1])
    cum = np.cumsum(length)
    # Distance along the edge = running total minus the total before the edge's first segment.
    first_seg = np.concatenate([[0], np.cumsum(nv - 1)[:-1]])
    before = np.where(first_seg > 0, cum[np.maximum(first_seg - 1, 0)], 0.0)
    start_m = cum - length - np.repeat(before, nv - 1)
    coords = np.stack([np.column_stack([x[i0], y[i0]]), np.column_stack([x[i1], y[i1]])], axis=1)
    tree = shapely.STRtree(shapely.linestrings(coords))
    return SnapIndex(tree, x[i0], y[i0], x[i1], y[i1], edge, start_m, length)


def snap_points(network: StreetNetwork, lons: ArrayLike, lats: ArrayLike, *,
                max_snap_m: float = DEFAULT_MAX_SNAP_M) -> SnappedPoints:
    """Snap points to the nearest edge of ``network``.

    Parameters
    ----------
    network
        The street network.
    lons, lats
        EPSG:4326 degrees, one entry per point (scalars are accepted).
    max_snap_m
        Points farther than this from every street are flagged ``too_far``.

    Returns
    -------
    SnappedPoints

    Raises
    ------
    InvalidInput
        On non-finite or out-of-range coordinates, or an empty network.
    """
    lon = np.atleast_1d(np.asarray(lons, dtype=float))
    lat = np.atleast_1d(np.asarray(lats, dtype=float))
    if lon.shape != lat.shape or lon.ndim != 1:
        msg = f"lons and lats must be 1-D arrays of one length, got {lon.shape} and {lat.shape}"
        raise InvalidInput(msg, where="lon,lat")
    bad = ~(np.isfinite(lon) & np.isfinite(lat) & (np.abs(lon) <= 180) & (np.abs(lat) <= 90))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        msg = f"point {i} ({lon[i]}, {lat[i]}) is not a valid EPSG:4326 lon/lat / 坐标无效"
        raise InvalidInput(msg, where=f"point {i}")
    if network.n_edges == 0:
        msg = "the street network has no edges / 路网为空"
        raise InvalidInput(msg, where="network")
    ix = snap_index(network)
    px, py = network.frame.to_xy(lon, lat)
    pairs = ix.tree.query_nearest(shapely.points(px, py), all_matches=False)
    seg = np.empty(lon.size, dtype=np.int64)
    seg[pairs[0]] = pairs[1]
    ax, ay = ix.x0[seg], ix.y0[seg]
    dx, dy = ix.x1[seg] - ax, ix.y1[seg] - ay
    d2 = dx * dx + dy * dy
    with np.errstate(invalid="ignore", divide="ignore"):
        t = np.where(d2 > 0, ((px - ax) * dx + (py - ay) * dy) / d2, 0.0)
    t = np.clip(t, 0.0, 1.0)
    slon, slat = network.frame.to_lonlat(ax + t * dx, ay + t * dy)
    snap_m = geodesic_m(lon, lat, slon, slat)
    edge = ix.edge[seg]
    offset = ix.start_m[seg] + t * ix.length_m[seg]
    length = network.edge_length_m[edge]
    fraction = np.where(length > 0, np.clip(offset / np.where(length > 0, length, 1.0), 0.0, 1.0), 0.0)
    return SnappedPoints(lon=lon, lat=lat, edge=edge, offset_m=np.minimum(offset, length), fraction=fraction,
                         snap_m=snap_m, snap_lon=slon, snap_lat=slat, too_far=snap_m > max_snap_m,
                         max_snap_m=float(max_snap_m), network_key=network.key)
