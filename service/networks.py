"""Street networks in the service: files next to the database, loaded once per worker.

A network is built from an OpenStreetMap extract (``catchment network build``), saved as a
compact ``.npz`` in the network folder and registered in the database; each worker's snapshot
holds a :class:`geo.network.paths.SchoolTravel` per mode over the schools inside the network.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from geo.errors import Conflict, InvalidInput, NotFound
from geo.models import School
from geo.network.build import build_network
from geo.network.cache import TravelCache
from geo.network.graph import StreetNetwork
from geo.network.paths import SchoolTravel
from service.storage.base import Repository

log = logging.getLogger("catchment")


def default_network_name(pbf: Path, mode: str) -> str:
    """``portland.osm.pbf`` walked -> ``portland-walk``: one name per (extract, mode), so a drive
    network never replaces the walk one built from the same file."""
    return f"{Path(pbf).name.split('.')[0]}-{mode}"


def _same_source(a: str | None, b: Path) -> bool:
    return a is not None and Path(a).resolve() == b.resolve()


def check_replace(repo: Repository, pbf: Path, *, mode: str, name: str, replace: bool) -> str:
    """Refuse to replace a network silently: one with this ``name``, or one built from the same
    extract for the same ``mode``, is replaced only when ``replace`` is set.

    Returns the source text to register: the stored one of the network replaced (so storage
    matches it even when it was recorded as another spelling of the path), else the resolved path.
    """
    existing = repo.networks()
    same = next((r["source"] for r in existing if r["mode"] == mode and _same_source(r["source"], pbf)), None)
    if replace:
        return str(same or Path(pbf).resolve())
    for rec in existing:
        if rec["name"] == name or (rec["mode"] == mode and _same_source(rec["source"], pbf)):
            msg = (f"network {rec['name']!r} ({rec['mode']}, from {Path(rec['source'] or '?').name}, built {rec['built_at']}) "
                   f"already exists; pass --replace to rebuild it, or --name for another network "
                   f"(网络已存在，使用 --replace 重建)")
            raise Conflict(msg, where="name")
    return str(Path(pbf).resolve())


def build_and_register(repo: Repository, pbf: Path, *, mode: str, name: str, folder: Path, actor: str,
                       progress: Callable[[int], None] | None = None, replace: bool = False) -> dict[str, Any]:
    """Build the routable graph of ``pbf``, save it in ``folder`` and register it under ``name``.

    The registry holds one network per name and one per (extract, mode): with ``replace`` false
    an existing one is an error (:func:`check_replace`), checked before the build starts.
    """
    source = check_replace(repo, pbf, mode=mode, name=name, replace=replace)
    net = build_network(pbf, mode=mode, progress=progress)  # type: ignore[arg-type]
    folder.mkdir(parents=True, exist_ok=True)
    stem = name if name.endswith(f"-{mode}") else f"{name}-{mode}"
    path = net.save(folder / f"{stem}.npz").resolve()
    stats = {"nodes": net.n_nodes, "edges": net.n_edges, "key": net.key, "unit": net.unit,
             "bbox": [float(net.node_lon.min()), float(net.node_lat.min()), float(net.node_lon.max()), float(net.node_lat.max())]}
    repo.register_network(name, mode=mode, path=str(path), source=source, stats=stats, actor=actor)
    return {"name": name, "mode": mode, "path": str(path), **stats}


@dataclass(frozen=True)
class Travel:
    """One registered network with the schools inside it."""

    name: str
    mode: str
    bbox: tuple[float, float, float, float]
    travel: SchoolTravel

    def covers(self, lon: float, lat: float) -> bool:
        x0, y0, x1, y1 = self.bbox
        return x0 <= lon <= x1 and y0 <= lat <= y1

    def index_of(self) -> dict[str, int]:
        return {c: i for i, c in enumerate(self.travel.codes)}


@dataclass(frozen=True, slots=True)
class MissingNetwork:
    """A registered network whose file cannot be found; lookups in its bbox say so."""

    name: str
    mode: str
    path: str
    bbox: tuple[float, float, float, float]

    def covers(self, lon: float, lat: float) -> bool:
        x0, y0, x1, y1 = self.bbox
        return x0 <= lon <= x1 and y0 <= lat <= y1


class NetworkLoader:
    """Loads network files once per worker (keyed by path and key) and shares one travel cache."""

    def __init__(self) -> None:
        self._loaded: dict[tuple[str, str], StreetNetwork] = {}
        self._lock = threading.Lock()
        self.cache = TravelCache()

    def network(self, path: str, key: str) -> StreetNetwork:
        with self._lock:
            got = self._loaded.get((path, key))
            if got is None:
                got = StreetNetwork.load(path)
                self._loaded[(path, key)] = got
            return got

    def missing(self, repo: Repository) -> list[MissingNetwork]:
        """Registered networks whose file is gone (a container recreated without its volume, say)."""
        out = []
        for rec in repo.networks():
            if not Path(rec["path"]).exists():
                bbox = rec["stats"].get("bbox") or [-180.0, -90.0, 180.0, 90.0]
                out.append(MissingNetwork(rec["name"], rec["mode"], rec["path"], tuple(float(v) for v in bbox)))  # type: ignore[arg-type]
        for m in out:
            log.warning("street network %r (%s) is registered but its file %s is missing: lookups there carry no %s",
                        m.name, m.mode, m.path, "walk_m" if m.mode == "walk" else "drive_s")
        return out

    def travels(self, repo: Repository, schools: Sequence[School]) -> list[Travel]:
        out = []
        for rec in repo.networks():
            stats = rec["stats"]
            if not Path(rec["path"]).exists():
                continue
            net = self.network(rec["path"], str(stats.get("key")))
            x0, y0, x1, y1 = stats["bbox"]
            inside = [s for s in schools if x0 <= s.lon <= x1 and y0 <= s.lat <= y1]
            if not inside:
                continue
            travel = SchoolTravel.from_schools(net, inside, cache=self.cache)
            out.append(Travel(rec["name"], rec["mode"], (x0, y0, x1, y1), travel))
        return out


def pick_travel(travels: Sequence[Travel], mode: str, *, lon: float | None = None, lat: float | None = None,
                codes: Sequence[str] = ()) -> Travel:
    """The network of ``mode`` that holds the place (or the schools); clear errors otherwise."""
    for t in travels:
        if t.mode != mode:
            continue
        if lon is not None and lat is not None and not t.covers(lon, lat):
            continue
        if codes and not set(codes) & set(t.travel.codes):
            continue
        return t
    msg = f"no {mode} network covers this area: build one with `catchment network build FILE.osm.pbf --mode {mode}`"
    raise NotFound(msg, where="mode")


def costs_for_codes(t: Travel, lon: float, lat: float) -> tuple[dict[str, float | None], float, bool]:
    """Travel cost from (lon, lat) to each school of the network, snap distance, too-far flag."""
    costs, snapped = t.travel.from_place(lon, lat)
    out = {c: (float(v) if np.isfinite(v) else None) for c, v in zip(t.travel.codes, costs, strict=True)}
    return out, float(snapped.snap_m[0]), bool(snapped.too_far[0])


def check_mode(mode: str, *, allow_straight: bool) -> str:
    allowed = ("straight", "walk", "drive") if allow_straight else ("walk", "drive")
    if mode not in allowed:
        msg = f"mode {mode!r} must be one of {', '.join(allowed)}"
        raise InvalidInput(msg, where="mode")
    return mode
