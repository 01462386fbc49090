"""Street networks in the service: stored in the database, loaded by every worker of every host.

A network is built from an OpenStreetMap extract (``catchment network build``) and stored as a
compact ``.npz`` (compressed numpy arrays) in the repository's assets with its registry row, so
every API host has it (see :mod:`service.storage.assets`). Each worker's snapshot holds a
:class:`geo.network.paths.SchoolTravel` per mode over the schools inside the network; a worker
fetches a network's bytes once per content hash, at start and when the stored one changes.

Networks registered as files by older versions are imported into the repository once, by the
first start that finds the file (:func:`import_network_files`).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from geo.errors import Conflict, InvalidInput, NotFound, UnsupportedFile
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


def build_and_register(repo: Repository, pbf: Path, *, mode: str, name: str, actor: str,
                       progress: Callable[[int], None] | None = None, replace: bool = False) -> dict[str, Any]:
    """Build the routable graph of ``pbf`` and store it in the repository under ``name``.

    The registry holds one network per name and one per (extract, mode): with ``replace`` false
    an existing one is an error (:func:`check_replace`), checked before the build starts.
    """
    source = check_replace(repo, pbf, mode=mode, name=name, replace=replace)
    net = build_network(pbf, mode=mode, progress=progress)  # type: ignore[arg-type]
    stats = {"nodes": net.n_nodes, "edges": net.n_edges, "key": net.key, "unit": net.unit,
             "bbox": [float(net.node_lon.min()), float(net.node_lat.min()), float(net.node_lon.max()), float(net.node_lat.max())]}
    asset = repo.assets.put_network(name, net.to_bytes(), mode=mode, source=source, stats=stats, actor=actor)
    return {"name": name, "mode": mode, "size": asset.size, "sha256": asset.sha256, **stats}


def _old_file(path: str, folder: Path | None) -> Path | None:
    """The file of a network registered by path: where it was registered, else in ``folder``
    under its name (the same volume mounted elsewhere)."""
    if not path:
        return None
    for candidate in (Path(path), *((folder / Path(path).name,) if folder is not None else ())):
        if candidate.is_file():
            return candidate
    return None


def import_network_files(repo: Repository, *, folder: Path | None = None, actor: str = "migration") -> list[str]:
    """Store in the repository the networks registered as files that it does not hold yet.

    Run at every start (idempotent): the first host that finds a registered file (at its
    registered path, or in ``folder``, the old network folder) imports it, and every other host
    then loads it from the database. The file is left where it is. Returns the names imported.
    """
    stored = {a.name for a in repo.assets.list("network")}
    done = []
    for rec in repo.networks():
        path = _old_file(rec["path"], folder)
        if rec["name"] in stored or path is None:
            continue
        data = path.read_bytes()
        try:
            StreetNetwork.from_bytes(data, name=rec["name"])
        except UnsupportedFile as exc:
            log.error("street network %r: its file cannot be read (%s); not imported", rec["name"], exc.message)
            continue
        repo.assets.put("network", rec["name"], data, codec="npz", actor=actor)
        log.info("street network %r imported into the database from its file (%d bytes)", rec["name"], len(data))
        done.append(rec["name"])
    return done


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
    """Loads networks once per worker (keyed by name and content hash) and shares one travel cache."""

    def __init__(self) -> None:
        self._loaded: dict[tuple[str, str], StreetNetwork] = {}
        self._lock = threading.Lock()
        self.cache = TravelCache()

    def network(self, repo: Repository, name: str, sha256: str) -> StreetNetwork:
        """The stored network ``name`` of content ``sha256``: its bytes are fetched once."""
        with self._lock:
            got = self._loaded.get((name, sha256))
            if got is None:
                got = StreetNetwork.from_bytes(repo.assets.get("network", name), name=name)
                self._loaded[(name, sha256)] = got
            return got

    def _forget_except(self, keep: set[tuple[str, str]]) -> None:
        with self._lock:
            self._loaded = {k: v for k, v in self._loaded.items() if k in keep}

    def missing(self, repo: Repository) -> list[MissingNetwork]:
        """Registered networks whose bytes are not stored (registered as a file no host has yet imported)."""
        stored = {a.name for a in repo.assets.list("network")}
        out = []
        for rec in repo.networks():
            if rec["name"] not in stored:
                bbox = rec["stats"].get("bbox") or [-180.0, -90.0, 180.0, 90.0]
                out.append(MissingNetwork(rec["name"], rec["mode"], rec["path"], tuple(float(v) for v in bbox)))  # type: ignore[arg-type]
        for m in out:
            log.warning("street network %r (%s) is registered but not stored (its old file %s is not on this host either): "
                        "lookups there carry no %s", m.name, m.mode, m.path or "-", "walk_m" if m.mode == "walk" else "drive_s")
        return out

    def travels(self, repo: Repository, schools: Sequence[School]) -> list[Travel]:
        stored = {a.name: a.sha256 for a in repo.assets.list("network")}
        out = []
        keep: set[tuple[str, str]] = set()
        for rec in repo.networks():
            sha = stored.get(rec["name"])
            if sha is None:
                continue
            keep.add((rec["name"], sha))
            net = self.network(repo, rec["name"], sha)
            x0, y0, x1, y1 = rec["stats"]["bbox"]
            inside = [s for s in schools if x0 <= s.lon <= x1 and y0 <= s.lat <= y1]
            if not inside:
                continue
            travel = SchoolTravel.from_schools(net, inside, cache=self.cache)
            out.append(Travel(rec["name"], rec["mode"], (x0, y0, x1, y1), travel))
        self._forget_except(keep)  # a replaced or removed network leaves this worker's memory
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
