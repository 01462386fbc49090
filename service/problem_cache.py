"""Answers computed once per plan version: the gaps and overlaps of each plan for the coverage
maps, and the public change notices.

Finding gaps means a union of every zone (about a second for Greater Sydney); a notice overlays
two plans. Either answer only changes when a plan does, so it is kept per (plan id, plan
version) and the gaps are warmed at start-up.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Collection, Hashable
from typing import Any

from geo.errors import CatchmentError
from geo.models import Plan, PlanStatus
from maps.geometry import ProblemAreas, find_problem_areas
from service.storage.base import Repository


class ProblemCache:
    def __init__(self, *, size: int = 32) -> None:
        self.size = size
        self._items: OrderedDict[tuple[int, int], ProblemAreas] = OrderedDict()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def get(self, repo: Repository, plan: Plan) -> ProblemAreas:
        key = (plan.id, plan.version)
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        found = find_problem_areas(repo.zones(plan.id))
        with self._lock:
            self._items[key] = found
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return found

    def warm(self, repo: Repository, *, skip: Collection[int] = ()) -> threading.Thread:
        """Compute the adopted plans' problem areas in a background thread (``skip``: plans the
        lookup index left out because their zones are not EPSG:4326)."""

        def run() -> None:
            for plan in repo.list_plans(status=PlanStatus.ADOPTED):
                if self._stop.is_set():
                    return
                if plan.id in skip:
                    continue
                try:
                    self.get(repo, plan)
                except CatchmentError:
                    continue

        self._thread = threading.Thread(target=run, name="map-problems", daemon=True)
        self._thread.start()
        return self._thread

    def close(self) -> None:
        """Stop warming and wait for it, so the repository is never closed under a running query."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=60)


class VersionedCache:
    """A small LRU of answers keyed by the (plan id, version) pairs they were computed from."""

    def __init__(self, *, size: int = 32) -> None:
        self.size = size
        self._items: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable, compute: Callable[[], Any]) -> Any:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        value = compute()
        with self._lock:
            self._items[key] = value
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return value
