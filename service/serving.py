"""Start uvicorn for ``catchment serve``: one process, or a supervisor with worker processes.

Workers are spawned processes, and a spawned process first re-imports the parent's ``__main__``.
Run from the ``catchment`` script that is ``service.cli`` with geopandas and the rest (over 6 s
on a busy machine), while uvicorn's supervisor pings each new worker and kills one that does
not answer within ``timeout_worker_healthcheck`` (5 s by default): that was the "Child process
died" at start-up. With workers, the command therefore replaces itself with ``python -m
uvicorn`` (a light ``__main__``), and the health-check allows a slow first import.

uvicorn runs on the standard library's asyncio event loop by default, not uvloop: measured on
this 2-core machine (3 Dec, wrk, 64 connections, one worker, statewide index), uvloop left a
tail of starved connections (``/v1/lookup`` p99 208-870 ms, ``/healthz`` 200-440 ms, max over
a second) where asyncio answered p99 34-66 ms and ``/healthz`` 34-40 ms at the same or higher
throughput. ``--loop uvloop`` keeps the other choice.

uvicorn's access log is off unless asked for (``--access-log``), as granian's is: a line per
request was a fifth of a lookup's time in the server (py-spy, same day); a proxy in front logs
each request anyway (the compose file's nginx does).
"""

from __future__ import annotations

import os
import sys

#: Seconds a worker may take to answer the supervisor's ping (importing the app and building the
#: zone index at start-up can take several seconds when two workers share a busy machine).
WORKER_HEALTHCHECK_S = 30


#: Event loops uvicorn may run on; the first is the default (see the module docstring).
LOOPS = ("asyncio", "uvloop")


def uvicorn_argv(*, host: str, port: int, workers: int, loop: str = LOOPS[0], access_log: bool = False) -> list[str]:
    """The ``python -m uvicorn`` command line that serves the app with ``workers`` processes."""
    return [sys.executable, "-m", "uvicorn", "service.main:app", "--host", host, "--port", str(port),
            "--workers", str(workers), "--timeout-worker-healthcheck", str(WORKER_HEALTHCHECK_S), "--log-level", "info",
            "--loop", loop, "--access-log" if access_log else "--no-access-log"]


#: The servers ``catchment serve --server`` runs: uvicorn (the default) or granian (the
#: ``granian`` extra: ``pip install 'catchment[granian]'``), a Rust HTTP server for ASGI apps.
SERVERS = ("uvicorn", "granian")


def granian_argv(*, host: str, port: int, workers: int) -> list[str]:
    """The ``python -m granian`` command line that serves the app (ASGI, with its lifespan)."""
    return [sys.executable, "-m", "granian", "--interface", "asgi", "--host", host, "--port", str(port),
            "--workers", str(workers), "--log-level", "info", "service.main:app"]


def run(*, host: str, port: int, workers: int, server: str = "uvicorn", loop: str = LOOPS[0], access_log: bool = False) -> None:
    """Serve in this process (uvicorn, one worker), or exec the uvicorn supervisor or granian."""
    if server == "granian":
        import importlib.util

        if importlib.util.find_spec("granian") is None:
            raise SystemExit("granian is not installed: pip install 'catchment[granian]' (or granian>=1.6)")
        _exec(granian_argv(host=host, port=port, workers=workers))
    if workers > 1:
        # The environment (database URL, sample loading off) is inherited by the new program.
        _exec(uvicorn_argv(host=host, port=port, workers=workers, loop=loop, access_log=access_log))
    import uvicorn

    uvicorn.run("service.main:app", host=host, port=port, workers=1, log_level="info", loop=loop,
                access_log=access_log)


def _exec(argv: list[str]) -> None:
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(argv[0], argv)
