"""While PostgreSQL is away (issue 12, item 8): lookups answer from memory in milliseconds,
/readyz says degraded, writes answer 503 at once, and all is well again when it is back.

A real ``catchment serve`` runs on a real PostGIS schema, reached through a TCP relay the test
cuts (``tests/support/tcp_proxy.py``): the service sees connections reset and refused, as when
the server is stopped, while the shared cluster keeps running for every other test.
"""

from __future__ import annotations

import statistics
import time
import uuid
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest

from geo.io.read import apply_where, parse_schools, parse_zones, read_frame
from geo.models import Role
from service.storage import open_repository
from tests.conftest import DATA
from tests.storage.pg import new_schema_url
from tests.support.server import running_service
from tests.support.tcp_proxy import TcpProxy

pytestmark = [pytest.mark.postgis, pytest.mark.slow]
LINDFIELD = (151.1796, -33.7738)  # inside Lindfield EPS's zone (school 2404)
POOL_TIMEOUT_S = 5.0  # the default request wait for a pooled connection


def _via(url: str, port: int) -> str:
    parts = urlsplit(url)
    user = f"{parts.username}@" if parts.username else ""
    return urlunsplit(parts._replace(netloc=f"{user}127.0.0.1:{port}"))


def _load(url: str) -> str:
    repo = open_repository(url)
    try:
        schools, _ = parse_schools(read_frame(DATA / "nsw" / "greater_sydney_schools.geojson"),
                                   mapping={"code": "School_code", "name": "School_name", "levels": "Level_of_schooling"},
                                   level_map={"Primary School": ["primary"], "Infants School": ["primary"]})
        frame = apply_where(read_frame(DATA / "nsw" / "greater_sydney_catchments.geojson"), ["CATCH_TYPE=PRIMARY"])
        zones, _ = parse_zones(frame, mapping={"school_code": "USE_ID", "name": "USE_DESC"})
        repo.import_schools(schools, actor="test")
        repo.import_plan(name="primary", district="nsw", level="primary", school_year=2026, zones=zones, adopt=True, actor="test")
        _, secret = repo.create_key(name="admin", role=Role.ADMIN, actor="test")
        return secret
    finally:
        repo.close()


def _timed(client: httpx.Client, method: str, path: str, **kw: object) -> tuple[float, httpx.Response]:
    t0 = time.perf_counter()
    r = client.request(method, path, **kw)  # type: ignore[arg-type]
    return time.perf_counter() - t0, r


def _lookup(client: httpx.Client) -> tuple[float, str]:
    took, r = _timed(client, "GET", "/v1/lookup", params={"lon": LINDFIELD[0], "lat": LINDFIELD[1], "level": "primary"})
    assert r.status_code == 200, r.text
    return took, r.json()["levels"][0]["zones"][0]["schools"][0]["code"]


def test_lookups_answer_from_memory_and_writes_fail_fast_while_the_database_is_down() -> None:
    with new_schema_url() as url:
        secret = _load(url)
        pg = urlsplit(url)
        with TcpProxy(pg.hostname or "127.0.0.1", pg.port or 5432) as proxy, \
                running_service(_via(url, proxy.port), env={"CATCHMENT_DATABASE_POOL_TIMEOUT_S": str(POOL_TIMEOUT_S),
                                                          "CATCHMENT_MAPS_WARM": "false",
                                                          # the loop below asks thousands of lookups in 3 s
                                                          "CATCHMENT_RATE_LOOKUPS_PER_CLIENT": ""}) as base, \
                httpx.Client(base_url=base, timeout=30) as client:
            auth = {"Authorization": f"Bearer {secret}"}
            up = [_lookup(client)[0] for _ in range(20)]
            proxy.down()
            try:
                # Lookups: from the in-memory snapshot, same answer, milliseconds (they waited ~5 s each).
                down: list[float] = []
                t_end = time.monotonic() + 3.0
                while time.monotonic() < t_end:
                    took, code = _lookup(client)
                    assert code == "2404"
                    down.append(took)
                # Writes: 503 at once, not after the pool's timeout.
                took_w, r = _timed(client, "POST", "/v1/schools", headers=auth,
                                   json={"code": "T-down", "name": "Down School", "lon": 151.0, "lat": -33.8})
                took_r, ready = _timed(client, "GET", "/readyz")
            finally:
                proxy.up()
            print(f"\nlookup latency, database up: median {statistics.median(up) * 1e3:.1f} ms; "
                  f"down: median {statistics.median(down) * 1e3:.1f} ms, max {max(down) * 1e3:.1f} ms over {len(down)} lookups; "
                  f"write while down: {took_w * 1e3:.0f} ms; /readyz while down: {took_r * 1e3:.0f} ms")
            assert r.status_code == 503 and r.headers["content-type"] == "application/problem+json", r.text
            assert "retry-after" in r.headers
            assert ready.status_code == 503 and ready.json().get("state") == "degraded", ready.text
            assert "from the in-memory snapshot" in ready.json()["detail"]
            # Generous bounds that the old behaviour (the version check waiting for the pool: ~5 s) fails.
            assert max(down) < 1.0 and statistics.median(down) < 0.1 and len(down) > 20
            assert took_w < 1.0 and took_r < 2.0

            # Back: writes succeed again within a few seconds, without a restart, and lookups follow them.
            deadline = time.monotonic() + 30
            code = f"T{uuid.uuid4().hex[:6]}"
            while True:
                r = client.post("/v1/schools", headers=auth, json={"code": code, "name": "Back School", "lon": 151.0, "lat": -33.8})
                if r.status_code == 201 or time.monotonic() > deadline:
                    break
                assert r.status_code == 503, r.text
                time.sleep(0.1)
            assert r.status_code == 201, r.text
            assert client.get(f"/v1/schools/{code}").status_code == 200
            assert client.get("/readyz").status_code == 200
            assert _lookup(client)[1] == "2404"
