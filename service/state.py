"""The in-memory snapshot of what lookups need, kept in step with the database.

The database is the source of truth. Each worker keeps a snapshot (zone index over the adopted
plans, schools by code) and compares the stored zone version stamp at most every
``version_check_s`` seconds; a change rebuilds the snapshot in a background thread while the
old one keeps answering. The worker that made a write refreshes at once (read your writes).
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field, replace

from geo.address.gazetteer import Gazetteer
from geo.address.rules import RuleBook
from geo.errors import Unavailable
from geo.index.zones import ZoneIndex
from geo.lookup.resolve import SchoolBook
from geo.models import Plan
from service.networks import NetworkLoader, Travel
from service.storage.base import Repository

log = logging.getLogger("catchment")


@dataclass(frozen=True, slots=True)
class Snapshot:
    version: int
    index: ZoneIndex
    schools: SchoolBook
    plans: tuple[Plan, ...]
    built_at: float
    travels: tuple[Travel, ...] = ()
    gazetteer: Gazetteer = field(default_factory=lambda: Gazetteer(()))
    address_stamp: tuple[int, int] = (0, 0)
    #: The address rules (招生范围 lists) of the adopted plans.
    rules: RuleBook = field(default_factory=lambda: RuleBook(()))


def with_grid(snap: Snapshot) -> Snapshot:
    """The same snapshot with the gridded (fast) zone index."""
    if snap.index.grid is not None or not len(snap.index):
        return snap
    entries = [(e.plan, e.zone) for e in snap.index.entries]
    return replace(snap, index=ZoneIndex(entries, version=snap.version))


def build_snapshot(repo: Repository, loader: NetworkLoader | None = None, previous: Snapshot | None = None, *,
                   grid: bool = True) -> Snapshot:
    version = repo.zone_version()
    entries = repo.adopted_zones()
    schools = repo.list_schools()
    plans = tuple({p.id: p for p, _ in entries}.values())
    travels = tuple(loader.travels(repo, schools)) if loader is not None else ()
    # The gazetteer is rebuilt only when the address points changed (a large one takes seconds),
    # not on every zone or school edit.
    stamp = repo.address_stamp()
    if previous is not None and previous.address_stamp == stamp:
        gazetteer = previous.gazetteer
    else:
        gazetteer = Gazetteer(repo.addresses())
    rules = RuleBook(repo.rules.list([p.id for p in plans]))
    return Snapshot(version, ZoneIndex(entries, version=version, grid=grid), SchoolBook(schools), plans, time.monotonic(), travels,
                    gazetteer, stamp, rules)


class SnapshotHolder:
    def __init__(self, repo: Repository, *, check_every_s: float) -> None:
        self.repo = repo
        self.check_every_s = check_every_s
        self._snap: Snapshot | None = None
        self._checked = 0.0
        self._lock = threading.Lock()
        self._building = False
        self.loader = NetworkLoader()
        self._thread: threading.Thread | None = None

    def refresh(self, *, quick: bool = False) -> Snapshot:
        """Rebuild now, in this thread.

        ``quick`` swaps in an index without its cell grid at once (same answers, STRtree speed)
        and builds the grid in a background thread, so a write is visible within a fraction of a
        second even for a large area.
        """
        snap = build_snapshot(self.repo, self.loader, self._snap, grid=not quick)
        self._swap(snap)
        if quick and snap.index.grid is None and len(snap.index):
            threading.Thread(target=lambda: self._swap(with_grid(snap)), name="snapshot-grid", daemon=True).start()
        return snap

    def refresh_after_write(self) -> Snapshot:
        return self.refresh(quick=True)

    def _swap(self, snap: Snapshot) -> None:
        with self._lock:
            current = self._snap
            newer = current is None or snap.version > current.version
            upgrade = current is not None and snap.version == current.version and snap.index.grid is not None
            if newer or upgrade:
                self._snap = snap
            self._checked = time.monotonic()

    def current(self) -> Snapshot:
        """The snapshot to answer with; starts a rebuild when the stored version moved."""
        snap = self._snap
        if snap is None:
            return self.refresh()
        now = time.monotonic()
        if now - self._checked >= self.check_every_s:
            self._checked = now
            try:
                stored = self.repo.zone_version()
            except Unavailable:
                # The database is away: keep answering from memory, the last known truth.
                log.warning("zone version check failed; serving snapshot %s", snap.version)
                return snap
            if stored != snap.version:
                self._rebuild_in_background()
        return snap

    def _rebuild_in_background(self) -> None:
        with self._lock:
            if self._building:
                return
            self._building = True

        def run() -> None:
            try:
                self.refresh(quick=True)
            except Unavailable:
                log.warning("snapshot rebuild failed: database unavailable")
            finally:
                with self._lock:
                    self._building = False

        self._thread = threading.Thread(target=run, name="snapshot-rebuild", daemon=True)
        self._thread.start()

    def close(self) -> None:
        """Wait for a rebuild under way (it reads the repository), before the repository closes."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout=60)
