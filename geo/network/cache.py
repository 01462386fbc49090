"""Cache of travel results, keyed by content hashes of the network, the schools and the request."""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

import numpy as np

T = TypeVar("T")


def hash_arrays(*parts: object) -> str:
    """Short sha256 of arrays (dtype and bytes) and of the repr of anything else."""
    h = hashlib.sha256()
    for p in parts:
        if isinstance(p, np.ndarray):
            h.update(str(p.dtype).encode())
            h.update(np.ascontiguousarray(p).tobytes())
        else:
            h.update(repr(p).encode())
        h.update(b"|")
    return h.hexdigest()[:20]


class TravelCache:
    """A bounded LRU of computed travel results keyed by network, schools and request.

    Keys start with ``(network_key, schools_key, ...)`` where both are content hashes, so a
    changed network or school set never reads a stale entry; :meth:`invalidate` frees the
    entries of a network or school set explicitly (e.g. when a plan or network is replaced).
    Safe to share between request threads: two threads missing one key may both compute it.
    """

    def __init__(self, *, max_entries: int = 64) -> None:
        self.max_entries = max_entries
        self._data: OrderedDict[tuple[Hashable, ...], Any] = OrderedDict()
        self.hits = 0
        self.misses = 0
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._data)

    def get_or_compute(self, key: tuple[Hashable, ...], compute: Callable[[], T]) -> T:
        """The cached value for ``key``, computing and storing it on a miss."""
        with self._lock:
            if key in self._data:
                self.hits += 1
                self._data.move_to_end(key)
                hit: T = self._data[key]
                return hit
            self.misses += 1
        value = compute()  # outside the lock: a long search must not block other lookups
        with self._lock:
            self._data[key] = value
            while len(self._data) > self.max_entries:
                self._data.popitem(last=False)
        return value

    def invalidate(self, *, network_key: str | None = None, schools_key: str | None = None) -> int:
        """Drop the entries of a network and/or school set; return how many were dropped."""
        with self._lock:
            doomed = [k for k in self._data
                      if (network_key is not None and k[0] == network_key) or (schools_key is not None and k[1] == schools_key)]
            for k in doomed:
                del self._data[k]
        return len(doomed)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()
