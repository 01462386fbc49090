"""What the browser tests of the pages share: a running service on a private sample, a tab that
records console errors and off-site requests, axe-core, and an app served in a thread."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from geo.models import Role
from service.storage import open_repository
from tests.maps.test_browser import DOCS_IMG, WRITE_DOCS
from tests.support.browser import chromium
from tests.support.server import free_port, running_service

AXE = Path(__file__).resolve().parent / "vendor" / "axe.min.js"
OFFLINE = {"CATCHMENT_TILES": "none"}
HOSTILE = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>'
IDLE_FIND = "() => window.catchmentFind && window.catchmentFind.ready && window.catchmentFind.state.pending === 0"
IDLE_PLAN = "() => window.catchmentPlan && window.catchmentPlan.ready && window.catchmentPlan.state.pending === 0"


@pytest.fixture(scope="module")
def service(sample_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str]]]:
    """A running service on a private copy of the sample, with a planner and an admin key."""
    target = tmp_path_factory.mktemp("pages") / "catchment.db"
    src, dst = sqlite3.connect(sample_db), sqlite3.connect(target)
    src.backup(dst)
    src.close()
    dst.close()
    url = f"sqlite:///{target}"
    repo = open_repository(url)
    keys = {"planner": repo.create_key(name="planner", role=Role.PLANNER, actor="test")[1],
            "admin": repo.create_key(name="admin", role=Role.ADMIN, actor="test")[1]}
    repo.close()
    with running_service(url, env=OFFLINE) as base:
        yield base, keys


@pytest.fixture(scope="module")
def api(service: tuple[str, dict[str, str]]) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=service[0], timeout=120) as client:
        yield client


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as b:
        yield b


class Tab:
    """One page with what its console said; requests to other hosts are failures (the page must work offline)."""

    def __init__(self, browser: Any, base: str, *, locale: str = "en-GB", width: int = 1280, height: int = 860) -> None:
        self.context = browser.new_context(locale=locale, viewport={"width": width, "height": height},
                                           extra_http_headers={"Accept-Language": locale})
        self.page = self.context.new_page()
        self.base = base
        self.problems: list[str] = []
        self.page.on("console", lambda m: self.problems.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.problems.append(f"page error: {e}"))
        self.page.on("request", lambda r: None if r.url.startswith((base, "data:", "blob:" + base)) else self.problems.append(f"off-site: {r.url}"))

    def open(self, path: str, idle: str = IDLE_FIND) -> None:
        self.page.goto(self.base + path)
        self.idle(idle)

    def idle(self, idle: str = IDLE_FIND) -> None:
        self.page.wait_for_function(idle, timeout=60_000)

    def text(self, selector: str) -> str:
        return str(self.page.inner_text(selector))

    def shot(self, name: str, tmp: Path) -> None:
        self.page.wait_for_timeout(200)
        self.page.screenshot(path=str(tmp / f"{name}.png"))
        if WRITE_DOCS:
            DOCS_IMG.mkdir(parents=True, exist_ok=True)
            self.page.screenshot(path=str(DOCS_IMG / f"{name}.png"))

    def close(self, *, expected: tuple[str, ...] = ()) -> None:
        left = [p for p in self.problems if not any(e in p for e in expected)]
        self.context.close()
        assert left == [], left


def axe(tab: Tab) -> list[dict[str, Any]]:
    """Serious and critical axe-core violations of the page as it is now (WCAG 2.1 A and AA rules)."""
    # Served as a same-origin file, so the pages' own Content-Security-Policy (script-src 'self')
    # lets it run, as it would any of the service's scripts; an inline copy would be refused.
    tab.page.route("**/__tests__/axe.min.js", lambda route: route.fulfill(path=str(AXE), content_type="text/javascript"))
    tab.page.add_script_tag(url="/__tests__/axe.min.js")
    got = tab.page.evaluate("() => axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21aa']}})")
    return [{"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:3]}
            for v in got["violations"] if v["impact"] in ("serious", "critical")]


@contextmanager
def served(app: Any) -> Iterator[str]:
    """``app`` under uvicorn in a thread on a free port (for settings the environment cannot express)."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while not server.started:
            assert time.monotonic() < deadline and thread.is_alive(), "the server did not start"
            time.sleep(0.05)
        yield base
    finally:
        server.should_exit = True
        thread.join(timeout=10)
