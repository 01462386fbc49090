"""The in-memory snapshot of what lookups need, kept in step with the database.

The database is the source of truth. Each worker keeps a snapshot (zone index over the adopted
plans, schools by code). A background thread (the watcher) reads the stored zone version every
``version_check_s`` seconds, with a short timeout; a change rebuilds the snapshot there while the
old one keeps answering. No request ever waits for the database to learn whether the snapshot
is current: lookups answer from memory in microseconds even while the database is down. The
watcher backs off while the database is away, and :attr:`SnapshotHolder.database` tells writes
to answer 503 at once instead of waiting for a pooled connection that will not come. The worker
that made a write refreshes at once (read your writes).

A plan whose zones cannot be indexed (see :func:`geo.index.zones.build_index`) is left out of
the snapshot, logged, and listed in ``Snapshot.skipped``; every other plan answers.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from geo.address.gazetteer import Gazetteer
from geo.address.rules import RuleBook
from geo.errors import CatchmentError, Unavailable
from geo.index.zones import ZoneIndex, build_index
from geo.lookup.odds import OddsKey, ZoneOdds
from geo.lookup.resolve import SchoolBook
from geo.models import Plan, Zone
from service.networks import MissingNetwork, NetworkLoader, Travel
from service.operations.admission import plan_odds
from service.storage.base import AdmissionData, DistrictStatus, Repository, StoredDistrict

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
    #: Adopted plans left out because their zones cannot be indexed: plan id -> (name, reason).
    skipped: dict[int, tuple[str, str]] = field(default_factory=dict)
    missing_networks: tuple[MissingNetwork, ...] = ()
    #: The address rules (招生范围 lists) of the adopted plans.
    rules: RuleBook = field(default_factory=lambda: RuleBook(()))
    #: Admission odds of the adopted plans' shared zones (多校划片), and the data they came from.
    odds: dict[OddsKey, ZoneOdds] = field(default_factory=dict)
    admission: dict[int, tuple[AdmissionData, dict[OddsKey, ZoneOdds]]] = field(default_factory=dict)
    #: The 学区 (school districts) in force, for lookups and maps.
    districts: tuple[StoredDistrict, ...] = ()


def with_grid(snap: Snapshot) -> Snapshot:
    """The same snapshot with the gridded (fast) zone index."""
    if snap.index.grid is not None or not len(snap.index):
        return snap
    entries = [(e.plan, e.zone) for e in snap.index.entries]
    try:
        return replace(snap, index=ZoneIndex(entries, version=snap.version))
    except (OverflowError, ValueError, MemoryError) as exc:
        # build_snapshot checked these plans plan by plan; keep the (exact) STRtree index.
        log.error("cell grid for zone version %s failed (%s); answering through the STRtree index", snap.version, exc)
        return snap


def build_snapshot(repo: Repository, loader: NetworkLoader | None = None, previous: Snapshot | None = None, *,
                   grid: bool = True) -> Snapshot:
    version = repo.zone_version()
    entries = repo.adopted_zones()
    schools = repo.list_schools()
    names = {p.id: p.name for p, _ in entries}
    index, reasons = build_index(entries, version=version, grid=grid)
    skipped = {pid: (names[pid], why) for pid, why in reasons.items()}
    for pid, (name, why) in skipped.items():
        log.error("adopted plan %s (%s) is not served: %s", pid, name, why)
    plans = tuple({e.plan.id: e.plan for e in index.entries}.values())
    travels = tuple(loader.travels(repo, schools)) if loader is not None else ()
    missing = tuple(loader.missing(repo)) if loader is not None else ()
    # The gazetteer is rebuilt only when the address points changed (a large one takes seconds),
    # not on every zone or school edit.
    stamp = repo.address_stamp()
    if previous is not None and previous.address_stamp == stamp:
        gazetteer = previous.gazetteer
    else:
        gazetteer = Gazetteer(repo.addresses())
    rules = RuleBook(repo.rules.list([p.id for p in plans]))
    admission = admission_odds(repo, index, previous)
    odds = {k: z for _, got in admission.values() for k, z in got.items()}
    districts = tuple(repo.districts.list(status=DistrictStatus.EFFECTIVE))
    return Snapshot(version, index, SchoolBook(schools), plans, time.monotonic(), travels, gazetteer, stamp, skipped, missing,
                    rules, odds, admission, districts)


def admission_odds(repo: Repository, index: ZoneIndex,
                   previous: Snapshot | None) -> dict[int, tuple[AdmissionData, dict[OddsKey, ZoneOdds]]]:
    """Per adopted plan with admission data: the data and its zones' odds (kept from the previous
    snapshot when neither the data nor the zones changed: a Monte Carlo run takes a moment)."""
    zones: dict[int, list[Zone]] = {}
    for e in index.entries:
        zones.setdefault(e.plan.id, []).append(e.zone)
    out = {}
    for pid, data in repo.admission.plans(list(zones)).items():
        old = previous.admission.get(pid) if previous is not None else None
        same_zones = previous is not None and ([(e.zone.id, e.zone.school_codes) for e in previous.index.entries
                                                 if e.plan.id == pid] == [(z.id, z.school_codes) for z in zones[pid]])
        if old is not None and old[0] == data and same_zones:
            out[pid] = old
            continue
        try:
            out[pid] = (data, plan_odds(data, zones[pid]))
        except CatchmentError as exc:  # the zones changed under the data: lookups answer without odds
            log.error("admission odds of plan %s left out: %s", pid, exc)
            out[pid] = (data, {})
    return out


@dataclass(frozen=True, slots=True)
class DatabaseState:
    """What the watcher last learnt of the database: up, or down since when and why."""

    up: bool = True
    since: float = field(default_factory=time.monotonic)
    reason: str = ""
    checked_at: float = 0.0


class SnapshotHolder:
    """The worker's snapshot and its watcher.

    Parameters
    ----------
    repo
        The repository the snapshot is built from.
    check_every_s
        How often the watcher reads the zone version (at least every 50 ms).
    probe_timeout_s
        How long one version check may wait for the database.
    max_backoff_s
        The longest pause between checks while the database is down (doubling from ``check_every_s``).
    """

    def __init__(self, repo: Repository, *, check_every_s: float, probe_timeout_s: float = 0.5,
                 max_backoff_s: float = 1.0) -> None:
        self.repo = repo
        self.check_every_s = max(check_every_s, 0.05)
        self.probe_timeout_s = probe_timeout_s
        self.max_backoff_s = max(max_backoff_s, self.check_every_s)
        self._snap: Snapshot | None = None
        self._lock = threading.Lock()
        self.loader = NetworkLoader()
        self.database = DatabaseState()
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._threads: list[threading.Thread] = []
        self._checking = threading.Lock()  # one check (and rebuild) at a time: watcher or /readyz
        self._building = threading.RLock()  # one snapshot build at a time (refresh re-enters it)

    def refresh(self, *, quick: bool = False) -> Snapshot:
        """Rebuild now, in this thread.

        ``quick`` swaps in an index without its cell grid at once (same answers, STRtree speed)
        and builds the grid in a background thread, so a write is visible within a fraction of a
        second even for a large area.
        """
        with self._building:
            snap = build_snapshot(self.repo, self.loader, self._snap, grid=not quick)
            self._swap(snap)
        if quick and snap.index.grid is None and len(snap.index):
            self._spawn(lambda: self._swap(with_grid(snap)), "snapshot-grid")
        return snap

    def refresh_after_write(self) -> Snapshot:
        return self._catch_up(self.repo.zone_version())

    def _catch_up(self, stored: int) -> Snapshot:
        """Rebuild unless a snapshot of version ``stored`` (or newer) is in already: the writer's
        own refresh and its watcher must not both rebuild (and grid) the same version."""
        with self._building:
            snap = self._snap
            if snap is not None and snap.version >= stored:
                return snap
            # New address points first: the gazetteer alone is quick to swap in, so an import
            # is answered before the zone index and schools have been read again.
            self._refresh_gazetteer()
            return self.refresh(quick=True)

    def _refresh_gazetteer(self) -> None:
        snap = self._snap
        stamp = self.repo.address_stamp()
        if snap is None or snap.address_stamp == stamp:
            return
        gazetteer = Gazetteer(self.repo.addresses())
        with self._lock:
            if self._snap is not None and self._snap.address_stamp != stamp:
                self._snap = replace(self._snap, gazetteer=gazetteer, address_stamp=stamp)

    def _swap(self, snap: Snapshot) -> None:
        with self._lock:
            current = self._snap
            newer = current is None or snap.version > current.version
            upgrade = current is not None and snap.version == current.version and snap.index.grid is not None
            if newer or upgrade:
                self._snap = snap

    def _spawn(self, target: Callable[[], None], name: str) -> None:
        thread = threading.Thread(target=target, name=name, daemon=True)
        with self._lock:
            self._threads = [t for t in self._threads if t.is_alive()] + [thread]
        thread.start()

    def current(self) -> Snapshot:
        """The snapshot to answer with: never waits for the database (the watcher keeps it current)."""
        snap = self._snap
        if snap is None:
            return self.refresh()
        return snap

    # ---- the watcher ----------------------------------------------------------------
    def start(self) -> None:
        """Start the watcher thread (the service does, after the first snapshot)."""
        self._spawn(self._watch, "snapshot-watch")

    def check_soon(self) -> None:
        """Ask the watcher to look now (a write was refused while the database seemed down)."""
        self._wake.set()

    def check_now(self) -> None:
        """One version check: note the database's state, rebuild when the version moved."""
        with self._checking:
            self._check()

    def _check(self) -> None:
        now = time.monotonic()
        try:
            stored = self.repo.zone_version(timeout_s=self.probe_timeout_s)
        except Unavailable as exc:
            if self.database.up:
                log.warning("database unavailable (%s); serving snapshot %s from memory",
                            exc.message, self._snap.version if self._snap else None)
                self.database = DatabaseState(up=False, since=now, reason=exc.message, checked_at=now)
            else:
                self.database = replace(self.database, reason=exc.message, checked_at=now)
            return
        if not self.database.up:
            log.warning("database back after %.1f s", now - self.database.since)
            self.database = DatabaseState(up=True, since=now, checked_at=now)
        else:
            self.database = replace(self.database, checked_at=now)
        snap = self._snap
        if snap is None or stored != snap.version:
            try:
                self._catch_up(stored)
            except CatchmentError as exc:
                # Unavailable mostly (the database left mid-rebuild): keep the old snapshot, retry next check.
                log.warning("snapshot rebuild failed (%s); still serving snapshot %s", exc.message, snap.version if snap else None)

    def _watch(self) -> None:
        pause = self.check_every_s
        while not self._stop.is_set():
            self.check_now()
            pause = self.check_every_s if self.database.up else min(pause * 2, self.max_backoff_s)
            self._wake.wait(pause)
            self._wake.clear()

    def close(self) -> None:
        """Stop the watcher and wait for background readers, before the repository closes."""
        self._stop.set()
        self._wake.set()
        with self._lock:
            threads = list(self._threads)
        for thread in threads:
            thread.join(timeout=60)
