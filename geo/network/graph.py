"""Street networks: a routable graph built from OpenStreetMap, stored compactly.

A :class:`StreetNetwork` is the compressed graph of one travel mode. Graph nodes are street
junctions and dead ends; each edge is one stretch of street between two of them and keeps its
full geometry, so points can be snapped onto the street itself rather than onto the nearest
junction. Every coordinate is EPSG:4326 in (lon, lat) order; lengths are geodesic metres
(pyproj, WGS84); edge weights are metres when walking and seconds when driving.

Modules built on this one: ``geo.network.build`` (parse an ``.osm.pbf``), ``geo.network.snap``
(points onto edges), ``geo.network.paths`` (shortest paths to schools, cached),
``geo.network.cache`` (results cache), ``geo.network.zones`` (zones by nearest school along
the streets, walk-sheds) and ``geo.io.osm_schools`` (schools from the same extract).
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Literal, TypeVar

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray
from pyproj import CRS, Transformer
from scipy.sparse.csgraph import connected_components

from geo.crs import utm_crs
from geo.errors import InvalidInput, UnsupportedFile

TravelMode = Literal["walk", "drive"]
MODES: tuple[TravelMode, ...] = ("walk", "drive")
FORMAT_VERSION = 1

# scipy's csgraph treats a stored zero as an edge, but sparse arithmetic may drop it; a
# nanometre floor keeps zero-length edges (two OSM nodes on one spot) in the graph.
_MIN_WEIGHT = 1e-9

T = TypeVar("T")

_ARRAYS = ("node_lon", "node_lat", "node_osm_id", "edge_u", "edge_v", "edge_length_m", "edge_weight",
           "edge_forward", "edge_backward", "edge_way_id", "geom_offsets", "geom_lon", "geom_lat")


def check_mode(mode: str) -> TravelMode:
    """Return ``mode`` if it is a travel mode we route, else raise InvalidInput."""
    if mode == "walk":
        return "walk"
    if mode == "drive":
        return "drive"
    msg = f"unknown travel mode {mode!r}; use 'walk' or 'drive' / 未知出行方式，请用 walk 或 drive"
    raise InvalidInput(msg, where="mode")


@dataclass(frozen=True, slots=True)
class LocalFrame:
    """A metric projection around a network, for planar work (snapping, Voronoi cells).

    ``to_xy`` and ``to_lonlat`` convert arrays; both always take and return (lon, lat) / (x, y)
    order.
    """

    crs: CRS
    forward: Transformer
    inverse: Transformer

    def to_xy(self, lon: NDArray[np.float64], lat: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        x, y = self.forward.transform(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))
        return np.asarray(x, dtype=float), np.asarray(y, dtype=float)

    def to_lonlat(self, x: NDArray[np.float64], y: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        lon, lat = self.inverse.transform(np.asarray(x, dtype=float), np.asarray(y, dtype=float))
        return np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)

    @classmethod
    def around(cls, lon: float, lat: float) -> LocalFrame:
        crs = utm_crs(lon, lat)
        return cls(crs, Transformer.from_crs(4326, crs, always_xy=True), Transformer.from_crs(crs, 4326, always_xy=True))


@dataclass(frozen=True, eq=False)
class StreetNetwork:
    """A compressed street graph for one travel mode.

    Attributes
    ----------
    mode
        ``"walk"`` (weights are metres) or ``"drive"`` (weights are seconds).
    node_lon, node_lat
        Junction coordinates, EPSG:4326 degrees, one per graph node.
    node_osm_id
        The OSM node id of each graph node.
    edge_u, edge_v
        End nodes of each edge; the geometry runs from ``u`` to ``v``.
    edge_length_m
        Geodesic length of each edge's geometry, metres.
    edge_weight
        Cost of travelling the whole edge in an allowed direction: metres (walk) or seconds (drive).
    edge_forward, edge_backward
        Whether the edge may be travelled u -> v and v -> u (oneway streets allow one of them).
    edge_way_id
        The OSM way the edge comes from.
    geom_offsets, geom_lon, geom_lat
        Edge geometries, CSR-style: the vertices of edge ``e`` are
        ``geom_lon[geom_offsets[e]:geom_offsets[e + 1]]`` (likewise lat), both ends included.
    source
        Where the network came from (a file name), for provenance.
    """

    mode: TravelMode
    node_lon: NDArray[np.float64]
    node_lat: NDArray[np.float64]
    node_osm_id: NDArray[np.int64]
    edge_u: NDArray[np.int32]
    edge_v: NDArray[np.int32]
    edge_length_m: NDArray[np.float64]
    edge_weight: NDArray[np.float64]
    edge_forward: NDArray[np.bool_]
    edge_backward: NDArray[np.bool_]
    edge_way_id: NDArray[np.int64]
    geom_offsets: NDArray[np.int64]
    geom_lon: NDArray[np.float64]
    geom_lat: NDArray[np.float64]
    source: str = ""
    _derived: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def n_nodes(self) -> int:
        return int(self.node_lon.size)

    @property
    def n_edges(self) -> int:
        return int(self.edge_u.size)

    @property
    def unit(self) -> str:
        """Unit of edge weights and of every cost computed on this network: ``"m"`` or ``"s"``."""
        return "m" if self.mode == "walk" else "s"

    def __repr__(self) -> str:
        return f"StreetNetwork(mode={self.mode!r}, nodes={self.n_nodes}, edges={self.n_edges}, source={self.source!r})"

    @cached_property
    def key(self) -> str:
        """Content hash: equal for equal networks, different after any rebuild that changes them."""
        h = hashlib.sha256(self.mode.encode())
        for name in _ARRAYS:
            h.update(np.ascontiguousarray(getattr(self, name)).tobytes())
        return h.hexdigest()[:20]

    @cached_property
    def graph(self) -> sp.csr_matrix:
        """Directed N x N CSR matrix of edge weights (the cheapest of parallel edges)."""
        return directed_graph(self.n_nodes, self.edge_u, self.edge_v, self.edge_weight,
                              self.edge_forward, self.edge_backward)

    @cached_property
    def frame(self) -> LocalFrame:
        """The UTM frame around the network's centre, for planar computations."""
        if self.n_nodes == 0:
            return LocalFrame.around(0.0, 0.0)
        return LocalFrame.around(float(np.median(self.node_lon)), float(np.median(self.node_lat)))

    def components(self) -> NDArray[np.int32]:
        """Label of the (weakly) connected component of each node; the largest component is 0."""
        _, labels = connected_components(self.graph, directed=True, connection="weak")
        counts = np.bincount(labels)
        rank = np.empty_like(counts)
        rank[np.argsort(-counts, kind="stable")] = np.arange(counts.size)
        return rank[labels].astype(np.int32)

    def edge_coords(self, edge: int) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """(lon, lat) arrays of the vertices of ``edge``, from its ``u`` end to its ``v`` end."""
        a, b = int(self.geom_offsets[edge]), int(self.geom_offsets[edge + 1])
        return self.geom_lon[a:b], self.geom_lat[a:b]

    def derived(self, name: str, build: Callable[[], T]) -> T:
        """A structure computed once from this (immutable) network, e.g. a snapping index."""
        if name not in self._derived:
            self._derived[name] = build()
        value: T = self._derived[name]
        return value

    def save(self, path: str | Path) -> Path:
        """Write the network to ``path`` (a compressed ``.npz``) and return the path written."""
        p = Path(path)
        if p.suffix != ".npz":
            p = p.with_name(p.name + ".npz")
        p.write_bytes(self.to_bytes())
        return p

    def to_bytes(self) -> bytes:
        """The network as the bytes of a compressed ``.npz`` (zlib), as :meth:`save` writes them."""
        meta = {"format": FORMAT_VERSION, "mode": self.mode, "source": self.source, "key": self.key}
        arrays = {name: getattr(self, name) for name in _ARRAYS}
        buf = io.BytesIO()
        np.savez_compressed(buf, meta=np.array(json.dumps(meta)), **arrays)
        return buf.getvalue()

    @classmethod
    def load(cls, path: str | Path) -> StreetNetwork:
        """Read a network written by :meth:`save`.

        Raises
        ------
        UnsupportedFile
            When the file is not a saved network of a format version we read.
        """
        return cls._read(Path(path), str(path))

    @classmethod
    def from_bytes(cls, data: bytes, *, name: str = "network") -> StreetNetwork:
        """Read a network from the bytes :meth:`to_bytes` gave (``name`` is for error messages)."""
        return cls._read(io.BytesIO(data), name)

    @classmethod
    def _read(cls, source: Path | io.BytesIO, label: str) -> StreetNetwork:
        try:
            with np.load(source, allow_pickle=False) as z:
                meta = json.loads(str(z["meta"]))
                arrays = {name: z[name] for name in _ARRAYS}
        except (OSError, KeyError, ValueError, zipfile.BadZipFile) as exc:
            msg = f"{label} is not a saved street network / 不是已保存的路网文件: {exc}"
            raise UnsupportedFile(msg, where=label) from exc
        if meta.get("format") != FORMAT_VERSION:
            msg = f"{label}: network format {meta.get('format')!r}, expected {FORMAT_VERSION}; rebuild it"
            raise UnsupportedFile(msg, where=label)
        return cls(mode=check_mode(meta["mode"]), source=str(meta.get("source", "")), **arrays)


def directed_graph(n: int, u: NDArray[np.int32], v: NDArray[np.int32], weight: NDArray[np.float64],
                   forward: NDArray[np.bool_], backward: NDArray[np.bool_], *,
                   extra: tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64]] | None = None,
                   size: int | None = None) -> sp.csr_matrix:
    """CSR matrix of the allowed directions of edges, keeping the cheapest of parallel edges.

    ``extra`` adds (rows, cols, weights) arcs, e.g. from virtual source nodes; ``size`` is the
    matrix size when it is larger than ``n``. Self-loops are dropped: they never shorten a path.
    """
    rows = np.concatenate([u[forward], v[backward]]).astype(np.int64)
    cols = np.concatenate([v[forward], u[backward]]).astype(np.int64)
    w = np.concatenate([weight[forward], weight[backward]])
    if extra is not None:
        rows, cols, w = np.concatenate([rows, extra[0]]), np.concatenate([cols, extra[1]]), np.concatenate([w, extra[2]])
    keep = rows != cols
    rows, cols, w = rows[keep], cols[keep], np.maximum(w[keep], _MIN_WEIGHT)
    # coo -> csr would *sum* parallel edges; keep the cheapest instead.
    order = np.lexsort((w, cols, rows))
    rows, cols, w = rows[order], cols[order], w[order]
    first = np.ones(rows.size, dtype=bool)
    first[1:] = (rows[1:] != rows[:-1]) | (cols[1:] != cols[:-1])
    m = size if size is not None else n
    return sp.csr_matrix((w[first], (rows[first], cols[first])), shape=(m, m))
