"""Build a :class:`~geo.network.graph.StreetNetwork` from an OpenStreetMap ``.osm.pbf`` extract.

pyosmium reads the ways (with node locations from its cache); which ways a mode may use, in
which direction and at what speed is decided from their tags here; the rest is vectorised
numpy: ways are split at junctions (nodes shared by several ways, and way ends) into edges,
and edge lengths are summed from geodesic segment lengths (pyproj, WGS84).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import osmium
from numpy.typing import NDArray

from geo.distance import geodesic_m
from geo.errors import InvalidInput, UnsupportedFile
from geo.network.graph import StreetNetwork, TravelMode, check_mode

ProgressFn = Callable[[int], object]

#: Ways a pedestrian may use unless tagged otherwise.
WALK_HIGHWAYS = frozenset({
    "footway", "path", "pedestrian", "living_street", "residential", "service", "unclassified", "road",
    "tertiary", "tertiary_link", "secondary", "secondary_link", "primary", "primary_link",
    "track", "steps", "cycleway", "bridleway", "corridor",
})
#: Roads closed to pedestrians unless a tag opens them (foot=yes, or a sidewalk on a trunk road).
WALK_IF_ALLOWED = frozenset({"motorway", "motorway_link", "trunk", "trunk_link"})

#: Free-flow speed (km/h) by highway class when ``maxspeed`` is missing or unreadable.
DRIVE_SPEED_KMH: Mapping[str, float] = {
    "motorway": 100.0, "motorway_link": 60.0, "trunk": 80.0, "trunk_link": 50.0,
    "primary": 60.0, "primary_link": 45.0, "secondary": 50.0, "secondary_link": 40.0,
    "tertiary": 40.0, "tertiary_link": 35.0, "unclassified": 35.0, "road": 35.0,
    "residential": 30.0, "living_street": 10.0, "service": 20.0,
}
# Service roads a car routes over; parking aisles and emergency lanes are not through routes.
_DRIVE_SERVICE_EXCLUDED = frozenset({"parking", "parking_aisle", "emergency_access", "private"})

_YES = frozenset({"yes", "designated", "permissive", "destination", "official", "customers", "delivery"})
_CLOSED = frozenset({"no", "private"})
_ONEWAY_YES = frozenset({"yes", "true", "1"})
_ONEWAY_NO = frozenset({"no", "false", "0"})
_SIDEWALK = frozenset({"both", "left", "right", "yes"})
_MAXSPEED = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(mph|km/h|kmh|kph|knots)?\s*$")
_ZONE = re.compile(r"zone:?(\d+)$")
_IMPLICIT = {"urban": 50.0, "rural": 90.0, "trunk": 100.0, "motorway": 120.0, "living_street": 10.0,
             "walk": 6.0, "pedestrian_zone": 6.0, "bicycle_road": 30.0}


@dataclass(frozen=True, slots=True)
class WayRule:
    """How one way enters the graph: allowed directions and speed (km/h, drive only)."""

    forward: bool
    backward: bool
    speed_kmh: float


def parse_maxspeed(value: str | None) -> float | None:
    """Speed in km/h from an OSM ``maxspeed`` value, or None when it gives no number.

    Reads ``"50"``, ``"30 mph"``, ``"25mph"``, ``"10 knots"``, ``"50;30"`` (the first),
    implicit country values such as ``"DE:urban"`` or ``"FR:zone30"``, and ``"walk"``.
    ``"none"`` (no limit) and ``"signals"`` give None, so the class default applies.
    """
    if not value:
        return None
    text = value.split(";")[0].strip().lower()
    m = _MAXSPEED.match(text)
    if m:
        speed = float(m.group(1))
        unit = m.group(2)
        if unit == "mph":
            speed *= 1.609344
        elif unit == "knots":
            speed *= 1.852
        return speed if speed > 0 else None
    kind = text.split(":", 1)[1] if ":" in text else text
    z = _ZONE.search(kind)
    if z:
        return float(z.group(1))
    return _IMPLICIT.get(kind)


def walk_rule(tags: Mapping[str, str]) -> WayRule | None:
    """The walking rule for a way's tags, or None when pedestrians cannot use it."""
    hw = tags.get("highway", "")
    foot = tags.get("foot", "")
    if foot in _CLOSED:
        return None
    if hw in WALK_IF_ALLOWED:
        opened = foot in _YES or (hw.startswith("trunk") and tags.get("sidewalk", "") in _SIDEWALK)
        if not opened:
            return None
    elif hw not in WALK_HIGHWAYS:
        return None
    if tags.get("access", "") in _CLOSED and foot not in _YES:
        return None
    # Pedestrians may walk both ways along oneway streets.
    return WayRule(True, True, 0.0)


def drive_rule(tags: Mapping[str, str]) -> WayRule | None:
    """The driving rule (directions, speed) for a way's tags, or None when cars cannot use it."""
    hw = tags.get("highway", "")
    if hw not in DRIVE_SPEED_KMH or tags.get("area") == "yes":
        return None
    if hw == "service" and tags.get("service", "") in _DRIVE_SERVICE_EXCLUDED:
        return None
    car = tags.get("motorcar") or tags.get("motor_vehicle") or tags.get("vehicle") or ""
    if car in _CLOSED:
        return None
    if tags.get("access", "") in _CLOSED and car not in _YES:
        return None
    oneway = tags.get("oneway", "").lower()
    if oneway in ("reversible", "alternating"):
        return None  # direction changes with time of day: not routable as a static graph
    forward, backward = True, True
    if oneway in _ONEWAY_YES:
        backward = False
    elif oneway in ("-1", "reverse"):
        forward = False
    elif oneway not in _ONEWAY_NO and (hw == "motorway" or tags.get("junction", "") in ("roundabout", "circular")):
        backward = False  # implied oneway
    speed = parse_maxspeed(tags.get("maxspeed")) or DRIVE_SPEED_KMH[hw]
    return WayRule(forward, backward, min(max(speed, 5.0), 140.0))


def build_network(pbf_path: str | Path, *, mode: TravelMode, progress: ProgressFn | None = None) -> StreetNetwork:
    """Parse an OpenStreetMap extract into the street network of one travel mode.

    Parameters
    ----------
    pbf_path
        An ``.osm.pbf`` (or any format pyosmium reads) file.
    mode
        ``"walk"``: footways, paths, steps, pedestrian areas, living streets and roads, both
        directions, weights in metres; motorways and trunk roads only where foot access is
        tagged; ``foot=no`` and ``access=private`` excluded.
        ``"drive"``: car roads with their ``oneway`` (``-1``, roundabouts and motorways
        included), speed from ``maxspeed`` (km/h, mph) or the class default in
        :data:`DRIVE_SPEED_KMH`; weights are free-flow seconds.
    progress
        Optional callable advanced with the number of ways read (in steps of 1000), then by
        one for each later stage; suitable for a progress bar with an unknown total.

    Returns
    -------
    StreetNetwork

    Raises
    ------
    UnsupportedFile
        When the file cannot be read as OSM data.
    InvalidInput
        When the extract holds no street usable in ``mode``.
    """
    mode = check_mode(mode)
    rule_for = walk_rule if mode == "walk" else drive_rule
    path = Path(pbf_path)
    way_ids: list[int] = []
    rules: list[WayRule] = []
    refs: list[NDArray[np.int64]] = []
    lons: list[NDArray[np.float64]] = []
    lats: list[NDArray[np.float64]] = []
    seen = 0
    try:
        fp = (osmium.FileProcessor(str(path), osmium.osm.NODE | osmium.osm.WAY).with_locations()
              .with_filter(osmium.filter.EntityFilter(osmium.osm.WAY))
              .with_filter(osmium.filter.KeyFilter("highway")))
        for way in fp:
            if not isinstance(way, osmium.osm.Way):
                continue
            seen += 1
            if progress is not None and seen % 1000 == 0:
                progress(1000)
            rule = rule_for(dict(way.tags))
            if rule is None:
                continue
            for r, x, y in _valid_runs(way.nodes):
                way_ids.append(way.id)
                rules.append(rule)
                refs.append(r)
                lons.append(x)
                lats.append(y)
    except RuntimeError as exc:  # pyosmium reports unreadable files as RuntimeError
        msg = f"cannot read {path.name} as OpenStreetMap data / 无法读取 OSM 文件: {exc}"
        raise UnsupportedFile(msg, where=str(path)) from exc
    if progress is not None:
        progress(seen % 1000)
    if not refs:
        msg = f"{path.name} has no street usable for {mode} / 文件中没有可用于 {mode} 的道路"
        raise InvalidInput(msg, where=str(path))
    net = _compress(mode, way_ids, rules, refs, lons, lats, source=path.name)
    if progress is not None:
        progress(1)
    return net


def _valid_runs(nodes: osmium.osm.WayNodeList) -> list[tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.float64]]]:
    """Runs of a way's nodes that have locations (an extract clips ways at its edge)."""
    ids = np.fromiter((n.ref for n in nodes), dtype=np.int64, count=len(nodes))
    ok = np.fromiter((n.location.valid() for n in nodes), dtype=bool, count=len(nodes))
    lon = np.fromiter((n.location.lon if n.location.valid() else np.nan for n in nodes), dtype=np.float64, count=len(nodes))
    lat = np.fromiter((n.location.lat if n.location.valid() else np.nan for n in nodes), dtype=np.float64, count=len(nodes))
    # Repeated consecutive refs (a mapping error) would make zero-length self-loops.
    keep = np.ones(ids.size, dtype=bool)
    keep[1:] = ids[1:] != ids[:-1]
    ids, ok, lon, lat = ids[keep], ok[keep], lon[keep], lat[keep]
    if ok.all():
        return [(ids, lon, lat)] if ids.size >= 2 else []
    runs = []
    bounds = np.flatnonzero(np.diff(np.concatenate([[0], ok.astype(np.int8), [0]])))
    for a, b in zip(bounds[::2], bounds[1::2], strict=True):
        if b - a >= 2:
            runs.append((ids[a:b], lon[a:b], lat[a:b]))
    return runs


def _compress(mode: TravelMode, way_ids: list[int], rules: list[WayRule], refs: list[NDArray[np.int64]],
              lons: list[NDArray[np.float64]], lats: list[NDArray[np.float64]], *, source: str) -> StreetNetwork:
    """Split way pieces at junctions into edges and number the junctions as graph nodes."""
    sizes = np.array([r.size for r in refs], dtype=np.int64)
    piece = np.repeat(np.arange(sizes.size), sizes)
    all_ref = np.concatenate(refs)
    lon = np.concatenate(lons)
    lat = np.concatenate(lats)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    ends = starts + sizes - 1

    uniq, inv, counts = np.unique(all_ref, return_inverse=True, return_counts=True)
    # A junction is a node used twice or more (by two ways, or twice by one) or a way end.
    is_junction_node = counts >= 2
    is_junction_node[inv[starts]] = True
    is_junction_node[inv[ends]] = True
    jmask = is_junction_node[inv]
    node_of_uniq = np.full(uniq.size, -1, dtype=np.int64)
    node_of_uniq[is_junction_node] = np.arange(int(is_junction_node.sum()))
    first_pos = np.zeros(uniq.size, dtype=np.int64)
    first_pos[inv[::-1]] = np.arange(all_ref.size)[::-1]

    # Geodesic length of each segment i -> i+1 (those crossing into the next piece are unused).
    seg = geodesic_m(lon[:-1], lat[:-1], lon[1:], lat[1:])
    cum = np.concatenate([[0.0], np.cumsum(seg)])

    jpos = np.flatnonzero(jmask)
    a, b = jpos[:-1], jpos[1:]
    same = piece[a] == piece[b]
    a, b = a[same], b[same]
    edge_piece = piece[a]
    length = cum[b] - cum[a]

    nverts = b - a + 1
    geom_offsets = np.concatenate([[0], np.cumsum(nverts)]).astype(np.int64)
    idx = np.repeat(a - geom_offsets[:-1], nverts) + np.arange(int(geom_offsets[-1]))

    fwd_piece = np.array([r.forward for r in rules], dtype=bool)
    bwd_piece = np.array([r.backward for r in rules], dtype=bool)
    if mode == "walk":
        weight = length.copy()
    else:
        speed = np.array([r.speed_kmh for r in rules], dtype=np.float64)
        weight = length / (speed[edge_piece] / 3.6)
    jn = node_of_uniq[is_junction_node]
    uniq_junction = np.flatnonzero(is_junction_node)
    node_pos = first_pos[uniq_junction]
    order = np.argsort(jn)
    return StreetNetwork(
        mode=mode,
        node_lon=lon[node_pos[order]],
        node_lat=lat[node_pos[order]],
        node_osm_id=uniq[uniq_junction[order]],
        edge_u=node_of_uniq[inv[a]].astype(np.int32),
        edge_v=node_of_uniq[inv[b]].astype(np.int32),
        edge_length_m=length,
        edge_weight=weight,
        edge_forward=fwd_piece[edge_piece],
        edge_backward=bwd_piece[edge_piece],
        edge_way_id=np.asarray(way_ids, dtype=np.int64)[edge_piece],
        geom_offsets=geom_offsets,
        geom_lon=lon[idx],
        geom_lat=lat[idx],
        source=source,
    )
