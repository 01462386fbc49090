"""The fast lookup path (``service/fast_lookup.py``): a plain point lookup is answered ahead of
the middleware stack with the same bytes and headers; everything else goes through the stack."""

from __future__ import annotations

import anyio
import httpx

from service.main import create_app
from service.operations.lookup import lookup_json
from tests.conftest import settings_for

POINT = "/v1/lookup?lon=151.1796&lat=-33.7738"


def run(db_url: str, steps: list[tuple[str, str, dict[str, str] | None]], *, cors: bool = False
        ) -> tuple[list[httpx.Response], list[int], bytes]:
    """Send ``(method, path, headers)`` in order; the answers, the fast path's count after each, and
    the bytes :func:`lookup_json` gives for ``POINT`` in the same app."""
    settings = settings_for(db_url)
    if cors:
        settings.http.cors_origins = ["https://school.example"]
    app = create_app(settings)

    async def main() -> tuple[list[httpx.Response], list[int], bytes]:
        out, served = [], []
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app, client=("10.9.0.1", 40000))
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
                for method, path, headers in steps:
                    out.append(await c.request(method, path, headers=headers))
                    served.append(app.state.fast_lookup["served"])
            s = app.state
            direct = await lookup_json(s.holder.current(), s.settings, s.answer_cache, remote=None, lon=151.1796,
                                       lat=-33.7738, address=None, crs=None, level=None, grade=None, year=None)
        return out, served, direct

    return anyio.run(main)


def test_a_point_lookup_is_served_fast_with_the_same_answer_and_headers(db_url: str) -> None:
    got, served, direct = run(db_url, [("GET", POINT, None), ("GET", "/v1/schools?limit=1", None)])
    fast, other = got
    assert served == [1, 1]
    assert fast.status_code == 200 and fast.content == direct
    assert fast.headers["content-type"] == "application/json"
    assert int(fast.headers["content-length"]) == len(direct)
    names = {s["name"] for lv in fast.json()["levels"] for z in lv["zones"] for s in z["schools"]}
    assert "Killara High School" in names and any(n.startswith("Lindfield East") for n in names), names
    for h in ("content-security-policy", "x-content-type-options", "referrer-policy"):
        assert fast.headers[h] == other.headers[h], h  # the stack's security headers on an API answer


def test_everything_else_goes_through_the_stack(db_url: str) -> None:
    steps: list[tuple[str, str, dict[str, str] | None]] = [
        ("GET", "/v1/lookup?lon=200&lat=-33.7", None),                  # refused by the parser: the stack's 422
        ("GET", "/v1/lookup?address=350%20Great%20North%20Rd,%20Abbotsford", None),  # an address
        ("HEAD", POINT, None),                                           # not GET
        ("GET", POINT, {"Authorization": "Bearer ck_x"}),                # a key: the auth checks run
        ("GET", POINT, None),                                            # and a plain one again
    ]
    got, served, _ = run(db_url, steps)
    assert served == [0, 0, 0, 0, 1]
    bad = got[0]
    assert bad.status_code == 422 and bad.headers["content-type"].startswith("application/problem+json")
    assert "lon" in bad.text
    assert got[1].status_code == 200 and got[2].status_code == 200
    assert got[3].status_code == 200 and got[4].status_code == 200


def test_a_cross_origin_lookup_gets_the_cors_headers_from_the_stack(db_url: str) -> None:
    origin = {"Origin": "https://school.example"}
    got, served, _ = run(db_url, [("GET", POINT, origin), ("GET", POINT, None)], cors=True)
    assert served == [0, 1]
    assert got[0].headers["access-control-allow-origin"] == "https://school.example"
    assert "access-control-allow-origin" not in got[1].headers
