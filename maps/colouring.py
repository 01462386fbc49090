"""Graph colouring of zones: neighbouring zones always get different colours.

Two zones are neighbours when they share a stretch of boundary (not just a corner) or overlap.
Zones of the same school form one node, so a school's zone has one colour however many parts
it has. The colouring is DSATUR (most-constrained node first), picking among the allowed
colours the one used least so far, so the palette is spread evenly; it is deterministic.
"""

from __future__ import annotations

import heapq
from collections.abc import Hashable, Sequence

import numpy as np
import shapely

from geo.models import Zone
from maps.geometry import to_metric
from maps.styles import ZONE_PALETTE


def zone_adjacency(zones: Sequence[Zone], *, snap_m: float = 1.0, min_shared_m: float = 10.0) -> list[tuple[int, int]]:
    """Pairs ``(i, j)``, ``i < j``, of zones that touch along an edge or overlap.

    Published zones are often not noded together: a shared boundary may be two lines a few
    centimetres apart. So besides an exact shared boundary (length > 0) or an overlap
    (area > 0), two zones are neighbours when more than ``min_shared_m`` of one's boundary runs
    within ``snap_m`` of the other's; a bare corner contact stays well under that.

    Parameters
    ----------
    zones
        Zones in EPSG:4326; measured in metres after projecting to their UTM zone.
    snap_m
        How far apart two boundary lines may be and still count as one shared edge, metres.
    min_shared_m
        How long the near-coincident stretch must be, metres.
    """
    if len(zones) < 2:
        return []
    geoms = to_metric([z.geometry for z in zones])
    tree = shapely.STRtree(geoms)
    # Bounding-box pairs are nearly free; the DE-9IM matrix below sorts them out.
    left, right = tree.query(geoms)
    keep = left < right
    left, right = left[keep], right[keep]
    if left.size == 0:
        return []
    # One DE-9IM matrix per pair answers both exact tests: interiors meet in an area
    # (overlap) or boundaries meet along a line (shared edge). Much cheaper than intersections.
    matrix = shapely.relate(geoms[left], geoms[right])
    overlap = np.array([m[0] == "2" for m in matrix], dtype=bool)
    shared = np.array([m[4] == "1" for m in matrix], dtype=bool)
    hit = overlap | shared
    rest = np.flatnonzero(~hit)
    rest = rest[shapely.dwithin(geoms[left[rest]], geoms[right[rest]], snap_m)]
    if rest.size:
        edges = shapely.boundary(geoms)
        li, ri = left[rest], right[rest]
        near_zone = np.unique(ri)
        halo = np.empty(len(geoms), dtype=object)
        halo[near_zone] = shapely.buffer(edges[near_zone], snap_m, quad_segs=1)
        hit[rest] = shapely.length(shapely.intersection(edges[li], halo[ri])) > min_shared_m
    return [(int(i), int(j)) for i, j in zip(left[hit], right[hit], strict=True)]


def dsatur(n: int, edges: Sequence[tuple[int, int]], *, spread: int = 0) -> list[int]:
    """Colour nodes ``0..n-1`` so that no edge joins two nodes of one colour.

    DSATUR: repeatedly colour the uncoloured node with the most distinct colours among its
    neighbours (ties: most neighbours, then lowest index). With ``spread = k`` the node gets,
    of the first ``k`` colours its neighbours do not use, the one used least so far (ties:
    lowest), spreading a palette of ``k`` evenly; with ``spread = 0`` it gets the lowest
    allowed colour, which tends to use fewer colours. A new colour opens only when every
    colour in use is taken by a neighbour.
    """
    adj: list[set[int]] = [set() for _ in range(n)]
    for i, j in edges:
        if i != j:
            adj[i].add(j)
            adj[j].add(i)
    colour = [-1] * n
    seen: list[set[int]] = [set() for _ in range(n)]
    used: list[int] = [0] * spread
    # Max-heap on (saturation, degree, -index) with lazy deletion of stale entries.
    heap = [(0, -len(adj[v]), v) for v in range(n)]
    heapq.heapify(heap)
    while heap:
        neg_sat, _, v = heapq.heappop(heap)
        if colour[v] >= 0 or -neg_sat != len(seen[v]):
            continue
        free = [c for c in range(len(used)) if c not in seen[v]]
        if not free:
            used.append(0)
            c = len(used) - 1
        elif spread:
            c = min(free, key=lambda c: (used[c], c))
        else:
            c = free[0]
        colour[v] = c
        used[c] += 1
        for w in adj[v]:
            if colour[w] < 0 and c not in seen[w]:
                seen[w].add(c)
                heapq.heappush(heap, (-len(seen[w]), -len(adj[w]), w))
    return colour


def colour_zones(zones: Sequence[Zone], *, n_colours: int = len(ZONE_PALETTE), snap_m: float = 1.0) -> list[int]:
    """A colour index per zone, so that neighbouring zones of different schools differ.

    Zones with the same set of schools share one colour. Uses at most ``n_colours`` colours
    when the graph allows (the balanced colouring is tried first, then the plain one, which
    needs fewer); if even that needs more, indices past ``n_colours - 1`` are returned and
    the caller must have that many colours.

    Parameters
    ----------
    zones
        Zones of one level in EPSG:4326.
    n_colours
        Size of the palette.
    snap_m
        See :func:`zone_adjacency`.
    """
    keys: dict[Hashable, int] = {}
    node = [keys.setdefault(frozenset(z.school_codes), len(keys)) for z in zones]
    edges = {(min(node[i], node[j]), max(node[i], node[j])) for i, j in zone_adjacency(zones, snap_m=snap_m)}
    edges = {e for e in edges if e[0] != e[1]}
    ordered = sorted(edges)
    colours = dsatur(len(keys), ordered, spread=n_colours)
    if colours and max(colours) >= n_colours:
        colours = dsatur(len(keys), ordered, spread=0)
    return [colours[k] for k in node]


def zone_colours(zones: Sequence[Zone], *, palette: Sequence[str] = ZONE_PALETTE) -> list[str]:
    """A fill colour per zone from ``palette`` (see :func:`colour_zones`)."""
    idx = colour_zones(zones, n_colours=len(palette))
    return [palette[i % len(palette)] for i in idx]
