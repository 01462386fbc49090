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
from dataclasses import dataclass, field

from geo.errors import Unavailable
from geo.gazetteer import Gazetteer
from geo.index import ZoneIndex
from geo.lookup import SchoolBook
from geo.models import Plan
from service.storage.base import Repository
from service.travel import NetworkLoader, Travel

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


def build_snapshot(repo: Repository, loader: NetworkLoader | None = None, previous: Snapshot | None = None) -> Snapshot:
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
    return Snapshot(version, ZoneIndex(entries, version=version), SchoolBook(schools), plans, time.monotonic(), travels,
                    gazetteer, stamp)


class SnapshotHolder:
    def __init__(self, repo: Repository, *, check_every_s: float) -> None:
        self.repo = repo
        self.check_every_s = check_every_s
        self._snap: Snapshot | None = None
        self._checked = 0.0
        self._lock = threading.Lock()
        self._building = False
        self.loader = NetworkLoader()

    def refresh(self) -> Snapshot:
        """Rebuild now, in this thread."""
        snap = build_snapshot(self.repo, self.loader, self._snap)
        with self._lock:
            if self._snap is None or snap.version >= self._snap.version:
                self._snap = snap
            self._checked = time.monotonic()
        return snap

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
                self.refresh()
            except Unavailable:
                log.warning("snapshot rebuild failed: database unavailable")
            finally:
                with self._lock:
                    self._building = False

        threading.Thread(target=run, name="snapshot-rebuild", daemon=True).start()
