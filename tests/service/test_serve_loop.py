"""``catchment serve --loop``: uvicorn on the standard asyncio loop by default, uvloop on request."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from service import serving

ROOT = Path(__file__).resolve().parents[2]


def test_workers_run_on_asyncio_unless_told() -> None:
    argv = serving.uvicorn_argv(host="127.0.0.1", port=8123, workers=2)
    assert argv[argv.index("--loop") + 1] == "asyncio"
    argv = serving.uvicorn_argv(host="127.0.0.1", port=8123, workers=2, loop="uvloop")
    assert argv[argv.index("--loop") + 1] == "uvloop"


def test_an_unknown_loop_is_refused() -> None:
    out = subprocess.run([sys.executable, "-c", "from service.cli import app; app()", "serve", "--loop", "tokio"],
                         cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
    assert out.returncode != 0 and "asyncio, uvloop" in out.stdout + out.stderr


def test_the_access_log_is_off_unless_asked() -> None:
    assert serving.uvicorn_argv(host="127.0.0.1", port=8123, workers=2)[-1] == "--no-access-log"
    assert serving.uvicorn_argv(host="127.0.0.1", port=8123, workers=2, access_log=True)[-1] == "--access-log"
