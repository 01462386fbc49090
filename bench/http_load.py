"""HTTP: ``GET /v1/lookup`` against ``GET /healthz`` of the same app, 1 and 2 workers.

The service runs as ``catchment serve --workers N`` on 127.0.0.1 over a SQLite database
holding the statewide zones and schools. Load comes from ``wrk`` (Debian package ``wrk``)
with a bounded number of connections for a bounded time; the lookup requests cycle through
1,000 of the benchmark's points that lie inside some catchment (as a parent's address does). Without wrk, a bounded httpx client stands in (slower, so
its figures are marked). Each figure is the median of several wrk runs.
"""

from __future__ import annotations

import asyncio
import importlib.util
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from bench.common import RESULTS_DIR, ROOT
from bench.context import Context

UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """``catchment serve`` in its own process group, stopped by that group's id only."""

    def __init__(self, db: Path, workers: int, log: Path, server: str = "uvicorn") -> None:
        self.port = _free_port()
        self.workers = workers
        self.server = server
        self.log = log
        # The lookup limit stays on (its cost is part of every lookup) but far above what one wrk client sends.
        env = {**os.environ, "PYTHONPATH": str(ROOT), "CATCHMENT_DATABASE_URL": f"sqlite:///{db}",
               "CATCHMENT_RATE_LOOKUPS_PER_CLIENT": "100000000/minute"}
        cmd = [sys.executable, "-c", "from service.cli import app; app()", "serve", "--host", "127.0.0.1",
               "--port", str(self.port), "--workers", str(workers), "--no-sample", "--database", f"sqlite:///{db}",
               "--server", server]
        self._out = log.open("w", encoding="utf-8")
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=self._out, stderr=subprocess.STDOUT, start_new_session=True)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def wait_ready(self, timeout_s: float = 180.0) -> None:
        """Until every worker logged its startup (each builds the index before it accepts)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited early; see {self.log}")
            if self.server == "uvicorn":
                if self.log.read_text(encoding="utf-8", errors="replace").count("Application startup complete") >= self.workers:
                    return
            elif self._ready():
                # granian logs no per-worker startup line: readiness, then time for the other workers' index.
                time.sleep(5.0 * (self.workers - 1))
                return
            time.sleep(0.25)
        raise RuntimeError(f"server not ready after {timeout_s:.0f} s; see {self.log}")

    def _ready(self) -> bool:
        try:
            return httpx.get(self.base + "/readyz", timeout=2.0).status_code == 200
        except httpx.HTTPError:
            return False

    def worker_pids(self) -> list[int]:
        out = subprocess.run(["pgrep", "-g", str(self.proc.pid)], capture_output=True, text=True, check=False).stdout
        return [int(p) for p in out.split() if int(p) != self.proc.pid] or [self.proc.pid]

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        self._out.close()


def _lua(paths: list[str], path: Path) -> Path:
    body = ",\n".join(f'"{p}"' for p in paths)
    path.write_text(f"local paths = {{\n{body}\n}}\nlocal i = 0\nrequest = function()\n"
                    "  i = i % #paths + 1\n  return wrk.format(\"GET\", paths[i])\nend\n", encoding="utf-8")
    return path


def _seconds(text: str) -> float:
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if not m:
        raise ValueError(text)
    return float(m.group(1)) * UNITS[m.group(2)]


def wrk(url: str, *, seconds: float, connections: int, script: Path | None) -> dict[str, float]:
    cmd = ["wrk", "-t1", f"-c{connections}", f"-d{seconds:g}s", "--timeout", "5s", "--latency"]
    if script is not None:
        cmd += ["-s", str(script)]
    out = subprocess.run([*cmd, url], capture_output=True, text=True, check=True, timeout=seconds + 60).stdout
    lat = dict(re.findall(r"^\s+(50|99)%\s+(\S+)\s*$", out, flags=re.MULTILINE))
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    return {"rps": float(rps.group(1)) if rps else 0.0, "p50": _seconds(lat["50"]), "p99": _seconds(lat["99"]),
            "non_2xx": float(bad.group(1)) if bad else 0.0,
            "socket_errors": float(sum(int(g) for g in errors.groups())) if errors else 0.0}


async def _httpx_load(urls: list[str], seconds: float, connections: int) -> dict[str, float]:
    lat: list[float] = []
    bad = 0
    stop = time.monotonic() + seconds
    limits = httpx.Limits(max_connections=connections)
    async with httpx.AsyncClient(limits=limits, timeout=5.0) as client:
        async def user(k: int) -> None:
            nonlocal bad
            i = k
            while time.monotonic() < stop:
                t = time.perf_counter()
                r = await client.get(urls[i % len(urls)])
                lat.append(time.perf_counter() - t)
                bad += r.status_code != 200
                i += connections
        start = time.monotonic()
        await asyncio.gather(*(user(k) for k in range(connections)))
        took = time.monotonic() - start
    lat.sort()
    return {"rps": len(lat) / took, "p50": lat[len(lat) // 2], "p99": lat[int(len(lat) * 0.99)], "non_2xx": float(bad),
            "socket_errors": 0.0}


def http(ctx: Context) -> None:
    res, opt = ctx.results, ctx.options
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    have_wrk = shutil.which("wrk") is not None
    if not have_wrk:
        res.meta["http_client"] = "httpx (wrk not installed: apt-get install -y wrk)"
    # A parent's address lies in some catchment: cycle through 1,000 bench points that do.
    index = ctx.snap.index
    inside = [(x, y) for x, y in zip(ctx.xs[:5000].tolist(), ctx.ys[:5000].tolist(), strict=True) if index.query(x, y)][:1000]
    paths = [f"/v1/lookup?lon={x!r}&lat={y!r}" for x, y in inside]
    script = _lua(paths, RESULTS_DIR / "lookup_paths.lua")
    # /healthz goes through the same kind of script: wrk shares the two CPUs with the server, and
    # a script's per-request cost in wrk must not count against one side only.
    health = _lua(["/healthz"], RESULTS_DIR / "healthz_paths.lua")
    runs = 1 if opt.quick else 3
    servers = ["uvicorn"] + (["granian"] if importlib.util.find_spec("granian") is not None else [])
    res.meta["http_servers"] = servers
    res.meta["load_average_at_http"] = os.getloadavg()
    for srv in servers:
        prefix = "http" if srv == "uvicorn" else f"http.{srv}"
        for workers in (1, 2):
            server = Server(ctx.db_path, workers, RESULTS_DIR / f"serve_{srv}_{workers}w.log", server=srv)
            try:
                server.wait_ready()
                # healthz and lookup alternate run by run, so both see the same machine load.
                loads = (("healthz", ["/healthz"], health), ("lookup", paths, script))
                for _name, some, lua in loads:
                    _load(server.base + some[0], lua, server, some, opt, have_wrk, warm=True)
                figures: dict[str, list[dict[str, float]]] = {name: [] for name, _, _ in loads}
                for _ in range(runs):
                    for name, some, lua in loads:
                        figures[name].append(_load(server.base + some[0], lua, server, some, opt, have_wrk))
                for name, got in figures.items():
                    for key in ("rps", "p50", "p99"):
                        vals = [f[key] for f in got]
                        unit = "req/s" if key == "rps" else "s"
                        res.figure(f"{prefix}.{name}.{workers}w.{key}", statistics.median(vals), unit, runs=vals)
                    res.figure(f"{prefix}.{name}.{workers}w.errors", sum(f["non_2xx"] + f["socket_errors"] for f in got), "requests")
                # The latency target: p99 with 64 connections.
                c64 = _load(server.base + paths[0], script, server, paths, opt, have_wrk, connections=64)
                res.figure(f"{prefix}.lookup.{workers}w.c64.p99", c64["p99"], "s", note="64 connections")
                res.figure(f"{prefix}.lookup.{workers}w.c64.rps", c64["rps"], "req/s", note="64 connections")
                if opt.profile_http and workers == 1 and srv == "uvicorn":
                    _profile(server, script, opt)
            finally:
                server.stop()


def _load(url: str, lua: Path | None, server: Server, paths: list[str], opt: Any, have_wrk: bool,
          warm: bool = False, connections: int | None = None) -> dict[str, float]:
    seconds = 1.0 if warm else opt.http_seconds
    conns = connections or opt.http_connections
    if have_wrk:
        return wrk(url, seconds=seconds, connections=conns, script=lua)
    urls = [server.base + p for p in paths] if lua is not None else [url]
    return asyncio.run(_httpx_load(urls, seconds, conns))


def _profile(server: Server, script: Path, opt: Any) -> None:
    """py-spy flame graph of one worker while wrk loads /v1/lookup (``--profile-http``)."""
    spy = shutil.which("py-spy")
    if spy is None or shutil.which("wrk") is None:
        return
    pid = server.worker_pids()[0]
    out = RESULTS_DIR / "http_lookup_profile.svg"
    prof = subprocess.Popen([spy, "record", "--pid", str(pid), "--duration", str(int(opt.http_seconds) + 2), "--rate", "500",
                             "--output", str(out), "--nonblocking"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wrk(server.base + "/v1/lookup", seconds=opt.http_seconds + 1, connections=opt.http_connections, script=script)
    prof.wait(timeout=60)
