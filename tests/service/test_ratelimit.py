"""Rate limits over real HTTP (httpx's ASGI transport, one client address per transport):
failed authentications per client and per key prefix, public lookups per client."""

from __future__ import annotations

import time

import anyio
import httpx

from service.main import create_app
from service.settings import RateLimitSettings, Settings
from tests.conftest import bearer, settings_for

BAD = "ck_notarealkeyatall0000000000000000000000000"
EDIT = {"name": "a copy"}


def rated(db_url: str, **rate: str) -> Settings:
    settings = settings_for(db_url)
    settings.rate = RateLimitSettings(**rate)
    return settings


def run(settings: Settings, steps: list[tuple[str, str, str, dict[str, str] | None]]) -> list[httpx.Response]:
    """Send ``(client address, method, path, headers)`` in order against one app; return the answers."""
    app = create_app(settings)

    async def main() -> list[httpx.Response]:
        out = []
        async with app.router.lifespan_context(app):
            for client, method, path, headers in steps:
                transport = httpx.ASGITransport(app=app, client=(client, 40000))
                async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
                    out.append(await c.request(method, path, headers=headers, json=EDIT if method == "POST" else None))
        return out

    return anyio.run(main)


def _refused(r: httpx.Response) -> dict[str, object]:
    assert r.status_code == 429, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    retry = int(r.headers["retry-after"])
    assert 1 <= retry <= 60
    body = r.json()
    assert body["retry_after_s"] == retry and "请" in body["detail"]
    return body


def test_failed_authentications_are_limited_per_client(db_url: str, keys: dict[str, str]) -> None:
    rate = rated(db_url, auth_failures_per_client="5/minute", auth_failures_per_key="")
    steps = [("10.0.0.1", "POST", "/v1/plans/1/copy", bearer(BAD))] * 8
    steps += [("10.0.0.1", "POST", "/v1/plans/1/copy", bearer(keys["planner"])),   # the limited client, a good key
              ("10.0.0.2", "POST", "/v1/plans/1/copy", bearer(BAD)),              # another client
              ("10.0.0.1", "GET", "/v1/schools?limit=1", None)]                   # a public read without a key
    started = time.perf_counter()
    got = run(rate, steps)
    elapsed = time.perf_counter() - started
    assert [r.status_code for r in got[:5]] == [401] * 5
    for r in got[5:9]:
        assert "failed authentications" in str(_refused(r)["detail"])
    assert got[9].status_code == 401
    assert got[10].status_code == 200
    assert elapsed < 60


def test_failed_authentications_are_limited_per_key_prefix(db_url: str) -> None:
    rate = rated(db_url, auth_failures_per_client="", auth_failures_per_key="3/minute")
    other = "ck_someotherprefix000000000000000000000000000"
    steps = [(f"10.0.1.{i}", "POST", "/v1/plans/1/copy", bearer(BAD[:-1] + str(i % 10))) for i in range(4)]
    steps.append(("10.0.1.9", "POST", "/v1/plans/1/copy", bearer(other)))
    got = run(rate, steps)
    assert [r.status_code for r in got[:3]] == [401] * 3
    _refused(got[3])
    assert got[4].status_code == 401


def test_public_lookups_are_limited_per_client(db_url: str) -> None:
    rate = rated(db_url, lookups_per_client="4/minute")
    lookup = "/v1/lookup?lon=-77.3&lat=38.85"
    steps = [("10.0.2.1", "GET", lookup, None)] * 4 + [("10.0.2.1", "GET", lookup, None),
                                                         ("10.0.2.1", "GET", "/v1/lookup/batch", None),
                                                         ("10.0.2.2", "GET", lookup, None),
                                                         ("10.0.2.1", "GET", "/v1/schools?limit=1", None)]
    got = run(rate, steps)
    assert all(r.status_code == 200 for r in got[:4])
    assert "too many lookups" in str(_refused(got[4])["detail"])
    _refused(got[5])
    assert got[6].status_code == 200
    assert got[7].status_code == 200


def test_limits_off_when_disabled(db_url: str) -> None:
    rate = rated(db_url, enabled="false", lookups_per_client="1/minute")
    got = run(rate, [("10.0.3.1", "GET", "/v1/lookup?lon=-77.3&lat=38.85", None)] * 3)
    assert [r.status_code for r in got] == [200] * 3
