"""``catchment serve --server granian``: the same app behind granian, lookups, limits and headers included."""

from __future__ import annotations

import importlib.util
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from service import serving

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_granian_command_line() -> None:
    argv = serving.granian_argv(host="127.0.0.1", port=8123, workers=2)
    assert argv[1:4] == ["-m", "granian", "--interface"] and argv[4] == "asgi"
    assert argv[-1] == "service.main:app" and "--workers" in argv and argv[argv.index("--workers") + 1] == "2"


def test_an_unknown_server_is_refused() -> None:
    out = subprocess.run([sys.executable, "-c", "from service.cli import app; app()", "serve", "--server", "gunicorn"],
                         cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
    assert out.returncode != 0 and "uvicorn, granian" in out.stdout + out.stderr


@pytest.mark.skipif(importlib.util.find_spec("granian") is None, reason="granian is an optional extra")
def test_granian_serves_the_lean_lookup(sample_db: Path, tmp_path: Path) -> None:
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "CATCHMENT_RATE_LOOKUPS_PER_CLIENT": "2/minute"}
    cmd = [sys.executable, "-c", "from service.cli import app; app()", "serve", "--server", "granian", "--port", str(port),
           "--no-sample", "--database", f"sqlite:///{sample_db}"]
    log = (tmp_path / "granian.log").open("w")
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.3)
        else:
            pytest.fail((tmp_path / "granian.log").read_text())
        r = httpx.get(f"{base}/v1/lookup", params={"lon": 151.1796, "lat": -33.7738, "level": "primary"})
        assert r.status_code == 200, r.text
        assert r.headers["server"] == "granian" and r.headers["x-content-type-options"] == "nosniff"
        school = r.json()["levels"][0]["zones"][0]["schools"][0]
        assert school["name"] == "Lindfield East Public School" and 100 < school["distance_m"] < 3000
        assert httpx.get(f"{base}/v1/lookup", params={"lon": "x", "lat": 1}).json()["where"] == "query.lon"
        # The third lookup of this client within the minute is over the limit.
        refused = httpx.get(f"{base}/v1/lookup", params={"lon": 151.1796, "lat": -33.7738})
        assert refused.status_code == 429 and int(refused.headers["retry-after"]) >= 1
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
        log.close()
