"""The Dask cluster batch jobs run on: an existing scheduler, or a LocalCluster of worker processes.

``CATCHMENT_DASK_SCHEDULER=tcp://host:8786`` sends jobs to a running cluster (its workers need
catchment installed, the same version); otherwise the first job starts a LocalCluster of
``CATCHMENT_DASK_WORKERS`` processes, one thread each, which lives as long as the service.
"""

from __future__ import annotations

import threading

from distributed import Client, LocalCluster

from service.settings import DaskSettings


class DaskClients:
    """One client per service process, made on first use; closed with the service."""

    def __init__(self, settings: DaskSettings) -> None:
        self.settings = settings
        self._client: Client | None = None
        self._cluster: LocalCluster | None = None
        self._lock = threading.Lock()

    def client(self) -> Client:
        with self._lock:
            if self._client is None:
                s = self.settings
                if s.scheduler:
                    self._client = Client(s.scheduler, timeout=s.connect_timeout_s)
                else:
                    self._cluster = LocalCluster(n_workers=s.workers, threads_per_worker=1, processes=True,
                                                 dashboard_address=None, memory_limit=s.memory_limit)
                    self._client = Client(self._cluster)
            return self._client

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                self._client.close()
            if self._cluster is not None:
                self._cluster.close()
            self._client = self._cluster = None
