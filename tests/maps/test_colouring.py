"""Graph colouring of real zones: neighbours never share a colour."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from pyproj import Transformer

from geo.models import Zone
from maps.colouring import colour_zones, dsatur, zone_adjacency, zone_colours
from maps.styles import ZONE_PALETTE
from tests.maps import data


def _metric(zones: tuple[Zone, ...], epsg: int) -> np.ndarray:
    tr = Transformer.from_crs(4326, epsg, always_xy=True)
    return np.array([shapely.transform(z.geometry, lambda xy: np.column_stack(tr.transform(xy[:, 0], xy[:, 1])))
                     for z in zones], dtype=object)


def _touching_pairs(zones: tuple[Zone, ...], epsg: int) -> list[tuple[int, int]]:
    """Pairs that share a boundary stretch (length > 0) or overlap, by plain shapely overlay."""
    g = _metric(zones, epsg)
    i, j = shapely.STRtree(g).query(g, predicate="intersects")
    keep = i < j
    i, j = i[keep], j[keep]
    shared = shapely.length(shapely.intersection(shapely.boundary(g[i]), shapely.boundary(g[j])))
    overlap = shapely.area(shapely.intersection(g[i], g[j]))
    hit = (shared > 0) | (overlap > 0)
    return list(zip(i[hit].tolist(), j[hit].tolist(), strict=True))


CASES = {
    "sydney primary": (lambda: data.nsw_levels()["primary"], 32756),
    "sydney high": (lambda: data.nsw_levels()["high"], 32756),
    "fairfax elementary": (data.fairfax_es, 32618),
}


@pytest.mark.parametrize("case", list(CASES))
def test_neighbouring_zones_get_different_colours(case: str) -> None:
    load, epsg = CASES[case]
    zones = tuple(load())
    colours = colour_zones(zones)
    pairs = _touching_pairs(zones, epsg)
    assert len(pairs) > len(zones)  # a real tiling: more borders than zones
    clashes = [(zones[a].name, zones[b].name) for a, b in pairs
               if set(zones[a].school_codes) != set(zones[b].school_codes) and colours[a] == colours[b]]
    assert clashes == []
    assert max(colours) < len(ZONE_PALETTE)
    # The palette is spread: every colour is used, none by more than twice its share.
    counts = np.bincount(colours, minlength=len(ZONE_PALETTE))
    assert counts.min() > 0 and counts.max() <= 2 * len(zones) / len(ZONE_PALETTE)


def test_colouring_is_deterministic_and_one_colour_per_school() -> None:
    zones = data.nsw_levels()["primary"]
    assert colour_zones(zones) == colour_zones(zones)
    fills = zone_colours(zones)
    by_school: dict[tuple[str, ...], set[str]] = {}
    for z, f in zip(zones, fills, strict=True):
        by_school.setdefault(tuple(sorted(z.school_codes)), set()).add(f)
    assert any(sum(1 for z in zones if z.school_codes == k) > 1 for k in by_school)  # the data has split schools
    assert all(len(v) == 1 for v in by_school.values())


def test_adjacency_counts_near_coincident_edges_but_not_corners() -> None:
    zones = data.fairfax_es()
    exact = set(_touching_pairs(zones, 32618))
    found = set(zone_adjacency(zones))
    assert exact <= found
    # Corner-only contacts (boundaries meet in points) are not neighbours.
    g = _metric(zones, 32618)
    i, j = shapely.STRtree(g).query(g, predicate="touches")
    corners = {(a, b) for a, b in zip(i.tolist(), j.tolist(), strict=True)
               if a < b and shapely.length(shapely.intersection(g[a].boundary, g[b].boundary)) == 0}
    assert corners and not corners & found


def test_dsatur_colours_an_odd_wheel_with_four_colours() -> None:
    # A hub joined to a 5-cycle needs 4 colours.
    rim = [(i, (i + 1) % 5) for i in range(5)]
    edges = rim + [(5, i) for i in range(5)]
    colours = dsatur(6, edges)
    assert all(colours[a] != colours[b] for a, b in edges)
    assert max(colours) + 1 == 4
    spread = dsatur(6, edges, spread=8)
    assert all(spread[a] != spread[b] for a, b in edges)
    assert len(set(spread)) == 6  # with eight colours at hand every node gets its own
