"""A real Dask cluster for tests: ``dask scheduler`` and two ``dask worker`` processes on loopback."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from distributed import Client

from tests.support.server import free_port

ROOT = Path(__file__).resolve().parents[2]


@contextmanager
def dask_cluster(*, workers: int = 2) -> Iterator[str]:
    """Start a scheduler and ``workers`` single-threaded workers as separate processes; yield its address."""
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    dask = str(Path(sys.executable).with_name("dask"))
    env = {**os.environ, "PYTHONPATH": str(ROOT), "DASK_DISTRIBUTED__WORKER__DAEMON": "False"}
    logs = tempfile.TemporaryFile()  # noqa: SIM115 (closed below, after the processes)
    procs = [subprocess.Popen([dask, "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
                              cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=logs)]
    try:
        for _ in range(workers):
            procs.append(subprocess.Popen([dask, "worker", address, "--nthreads", "1", "--nworkers", "1", "--no-dashboard",
                                           "--host", "127.0.0.1", "--memory-limit", "2GB"],
                                          cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=logs))
        deadline = time.monotonic() + 90
        with Client(address, timeout=60) as client:
            while len(client.scheduler_info()["workers"]) < workers:
                if time.monotonic() > deadline or any(p.poll() is not None for p in procs):
                    logs.seek(0)
                    raise RuntimeError(f"dask cluster did not start: {logs.read().decode(errors='replace')[-2000:]}")
                time.sleep(0.2)
        yield address
    finally:
        for p in reversed(procs):
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        logs.close()
