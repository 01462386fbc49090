"""A local HTTP server speaking Nominatim's /search jsonv2 API, with canned answers per test module."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

#: ``answer(q, server) -> (status, body)``: body is JSON data, or bytes sent as they are.
Answer = Callable[[str, "FakeNominatim"], tuple[int, Any]]


class _Handler(BaseHTTPRequestHandler):
    server: FakeNominatim

    def log_message(self, format: str, *args: Any) -> None:  # keep test output clean
        return

    def do_GET(self) -> None:
        url = urlparse(self.path)
        qs = {k: v[0] for k, v in parse_qs(url.query).items()}
        self.server.requests.append((url.path, qs, dict(self.headers)))
        if url.path != "/search" or qs.get("format") != "jsonv2":
            status, body = 400, {"error": "bad request"}
        else:
            status, body = self.server.answer(qs.get("q", "").lower(), self.server)
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        if not isinstance(body, bytes):
            self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class FakeNominatim(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, answer: Answer) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.answer = answer
        self.requests: list[tuple[str, dict[str, str], dict[str, str]]] = []
        self.counts: dict[str, int] = {}

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"


@contextmanager
def fake_nominatim(answer: Answer) -> Iterator[FakeNominatim]:
    srv = FakeNominatim(answer)
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield srv
    finally:
        srv.shutdown()
        srv.server_close()
        thread.join(timeout=5)
