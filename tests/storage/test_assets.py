"""The assets table on both backends: bytes round trip, replace, networks with their registry row, constraints,
and the file-registered networks of older versions imported once."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np
import pytest

from geo.errors import CatchmentError, InvalidInput, NotFound
from geo.network.graph import StreetNetwork
from service.networks import import_network_files
from service.storage.base import Repository

STATS = {"nodes": 3, "edges": 2, "key": "k", "bbox": [0.0, 0.0, 1.0, 1.0]}


def test_put_get_list_replace_delete(repo: Repository) -> None:
    data = os.urandom(300_000) + bytes(range(256))  # binary, every byte value, larger than a page
    version = repo.zone_version()
    a = repo.assets.put("network", "n1", data, codec="npz", actor="ann")
    assert (a.kind, a.name, a.codec, a.size, a.sha256) == ("network", "n1", "npz", len(data), hashlib.sha256(data).hexdigest())
    assert a.stored_at is not None
    assert repo.assets.get("network", "n1") == data
    assert repo.zone_version() == version + 1  # every worker's watcher reloads
    assert repo.assets.list() == [a] and repo.assets.list("network") == [a]
    stamp = repo.assets.stamp()
    b = repo.assets.put("network", "n1", b"second", codec="npz", actor="ann")
    assert repo.assets.get("network", "n1") == b"second" and b.size == 6 and repo.assets.stamp() != stamp
    assert len(repo.assets.list()) == 1
    assert [e.action for e in repo.audit_events(target="network:n1")] == ["asset.put", "asset.put"]
    assert repo.assets.delete("network", "n1", actor="ann") is True
    assert repo.assets.delete("network", "n1", actor="ann") is False
    with pytest.raises(NotFound):
        repo.assets.get("network", "n1")
    assert repo.assets.list() == [] and repo.assets.stamp() == ()


def test_bad_kind_or_name_writes_nothing(repo: Repository) -> None:
    for kind, name in (("movie", "x"), ("network", ""), ("network", "x" * 201)):
        with pytest.raises(InvalidInput):
            repo.assets.put(kind, name, b"1", codec="npz", actor="t")
    with pytest.raises(CatchmentError), repo._tx() as cur:  # type: ignore[attr-defined]
        cur.execute(repo._sql("INSERT INTO assets (kind, name, codec, sha256, size, data, stored_at) "  # type: ignore[attr-defined]
                              "VALUES ('network', 'n', 'npz', ?, 5, ?, '2026-01-01T00:00:00+00:00')"), ("0" * 64, b"abc"))
    assert repo.assets.list() == []


def _net(mode: str = "walk") -> StreetNetwork:
    f, i4, i8 = np.float64, np.int32, np.int64
    return StreetNetwork(mode=mode, source="t", node_lon=np.array([0.0, 0.5, 1.0]), node_lat=np.array([0.0, 0.5, 1.0]),  # type: ignore[arg-type]
                         node_osm_id=np.array([1, 2, 3], dtype=i8), edge_u=np.array([0, 1], dtype=i4),
                         edge_v=np.array([1, 2], dtype=i4), edge_length_m=np.array([70.0, 70.0], dtype=f),
                         edge_weight=np.array([70.0, 70.0], dtype=f), edge_forward=np.ones(2, dtype=bool),
                         edge_backward=np.ones(2, dtype=bool), edge_way_id=np.array([9, 9], dtype=i8),
                         geom_offsets=np.array([0, 2, 4], dtype=i8), geom_lon=np.array([0.0, 0.5, 0.5, 1.0]),
                         geom_lat=np.array([0.0, 0.5, 0.5, 1.0]))


def test_put_network_registers_and_stores_in_one_step(repo: Repository) -> None:
    walk = _net().to_bytes()
    repo.assets.put_network("city", walk, mode="walk", source="/data/city.osm.pbf", stats=STATS, actor="ann")
    repo.assets.put_network("city-drive", _net("drive").to_bytes(), mode="drive", source="/data/city.osm.pbf", stats=STATS,
                            actor="ann")
    assert {n["name"]: (n["mode"], n["path"]) for n in repo.networks()} == {"city": ("walk", ""), "city-drive": ("drive", "")}
    assert StreetNetwork.from_bytes(repo.assets.get("network", "city")).n_nodes == 3
    # The walk network of the same extract, under another name, replaces "city" and its bytes (not the drive one).
    repo.assets.put_network("city-walk", walk, mode="walk", source="/data/city.osm.pbf", stats=STATS, actor="ann")
    assert {n["name"] for n in repo.networks()} == {"city-walk", "city-drive"}
    assert {a.name for a in repo.assets.list("network")} == {"city-walk", "city-drive"}
    event = repo.audit_events(target="network:city-walk")[0]
    assert event.before == {"replaced": ["city"]} and event.after["stored"] is True


def test_a_file_registered_network_is_imported_once(repo: Repository, tmp_path: Path) -> None:
    net = _net()
    path = net.save(tmp_path / "old-walk.npz")
    repo.register_network("old", mode="walk", path=str(path), source=None, stats=STATS, actor="t")
    repo.register_network("gone", mode="drive", path=str(tmp_path / "gone.npz"), source=None, stats=STATS, actor="t")
    assert import_network_files(repo) == ["old"]
    assert repo.assets.get("network", "old") == path.read_bytes()
    assert import_network_files(repo) == []  # once
    assert path.exists()  # the old file is left alone
    # A registered path from another mount point: found in the old folder by its name.
    moved = tmp_path / "elsewhere"
    moved.mkdir()
    net.save(moved / "gone.npz")
    assert import_network_files(repo, folder=moved) == ["gone"]
    assert {a.name for a in repo.assets.list("network")} == {"old", "gone"}


def test_a_file_that_is_no_network_is_not_imported(repo: Repository, tmp_path: Path) -> None:
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not a zip")
    repo.register_network("bad", mode="walk", path=str(bad), source=None, stats=STATS, actor="t")
    assert import_network_files(repo) == [] and repo.assets.list() == []
