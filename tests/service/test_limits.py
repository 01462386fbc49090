"""Bounded input over real HTTP (httpx's ASGI transport streams the body chunk by chunk):
body limits enforced while the body streams in, zip archives unpacked within bounds, the
batch point cap, and no server paths in problem details or /v1/networks."""

from __future__ import annotations

import io
import json
import tempfile
import zipfile
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest

from geo.errors import TooLarge
from geo.io.archive import ZipLimits
from geo.io.read import read_frame
from service.main import create_app
from service.settings import LimitSettings, Settings
from tests.conftest import DATA, bearer, settings_for

MIB = 1 << 20
CHUNK = 64 * 1024


class Source:
    """A request body produced chunk by chunk, counting how much the server pulled."""

    def __init__(self, total: int, *, head: bytes = b"", tail: bytes = b"") -> None:
        self.total, self.head, self.tail, self.sent = total, head, tail, 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield self.head
        self.sent += len(self.head)
        while self.sent < self.total:
            chunk = b" " * min(CHUNK, self.total - self.sent)
            self.sent += len(chunk)
            yield chunk
        yield self.tail


def call(settings: Settings, fn: Callable[[httpx.AsyncClient], Awaitable[Any]]) -> Any:
    """Run ``fn`` against the app (lifespan started) over httpx's ASGI transport."""
    app = create_app(settings)

    async def main() -> Any:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://test", timeout=120) as c:
                return await fn(c)

    return anyio.run(main)


def limited(db_url: str, **limits: int) -> Settings:
    settings = settings_for(db_url)
    settings.limits = LimitSettings(**limits)
    return settings


def _too_large(r: httpx.Response, limit: int) -> dict[str, Any]:
    assert r.status_code == 413, r.text[:500]
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert body["limit_bytes"] == limit
    assert f"{limit} bytes" in body["detail"] and "上限" in body["detail"]
    return body


def test_chunked_batch_body_is_refused_at_the_limit_not_read_to_the_end(db_url: str) -> None:
    src = Source(200 * MIB, head=b'{"points": [')

    async def go(c: httpx.AsyncClient) -> httpx.Response:
        # No Content-Length: the body is sent chunked, so only counting can stop it.
        return await c.post("/v1/lookup/batch", content=src, headers={"content-type": "application/json"})

    r = call(limited(db_url, batch_bytes=MIB), go)
    body = _too_large(r, MIB)
    assert "1 MiB" in body["detail"]
    # Read up to the limit and one chunk past it, of the 200 MiB on offer.
    assert src.sent <= MIB + 2 * CHUNK


def test_declared_length_over_the_limit_is_refused_before_reading(db_url: str) -> None:
    src = Source(50 * MIB, head=b'{"points": [')

    async def go(c: httpx.AsyncClient) -> httpx.Response:
        return await c.post("/v1/lookup/batch", content=src,
                            headers={"content-type": "application/json", "content-length": str(50 * MIB + 12)})

    r = call(limited(db_url, batch_bytes=MIB), go)
    _too_large(r, MIB)
    assert src.sent <= CHUNK + 12


def test_every_other_body_has_the_default_limit(db_url: str, keys: dict[str, str]) -> None:
    src = Source(4 * MIB, head=b'{"name": "')

    async def go(c: httpx.AsyncClient) -> httpx.Response:
        return await c.post("/v1/plans/1/copy", content=src, headers={"content-type": "application/json"} | bearer(keys["planner"]))

    r = call(limited(db_url, body_bytes=256 * 1024), go)
    assert "256 KiB" in _too_large(r, 256 * 1024)["detail"]
    assert src.sent <= 256 * 1024 + 2 * CHUNK


def test_upload_over_the_limit_is_413_while_it_streams(db_url: str, keys: dict[str, str]) -> None:
    boundary = "catchmentboundary"
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"zones.geojson\"\r\n"
            "Content-Type: application/geo+json\r\n\r\n").encode()
    src = Source(30 * MIB, head=head, tail=f"\r\n--{boundary}--\r\n".encode())

    async def go(c: httpx.AsyncClient) -> httpx.Response:
        return await c.post("/v1/imports/schools", content=src,
                            headers={"content-type": f"multipart/form-data; boundary={boundary}"} | bearer(keys["admin"]))

    r = call(limited(db_url, upload_bytes=2 * MIB), go)
    _too_large(r, 2 * MIB)
    assert src.sent <= 2 * MIB + 2 * CHUNK


def test_bodies_within_the_limits_still_work(db_url: str) -> None:
    points = {"points": [{"id": i, "lon": -77.3 + i * 1e-3, "lat": 38.85} for i in range(50)]}

    async def go(c: httpx.AsyncClient) -> httpx.Response:
        return await c.post("/v1/lookup/batch", json=points)

    r = call(limited(db_url, batch_bytes=64 * 1024), go)
    assert r.status_code == 200 and len(r.json()["rows"]) == 50


def test_batch_point_cap_says_how_to_send_more(db_url: str) -> None:
    settings = settings_for(db_url, batch_max_points=10)
    points = {"points": [{"id": i, "lon": -77.3, "lat": 38.85} for i in range(11)]}

    async def go(c: httpx.AsyncClient) -> httpx.Response:
        return await c.post("/v1/lookup/batch", json=points)

    r = call(settings, go)
    assert r.status_code == 413, r.text
    detail = r.json()["detail"]
    assert "11 points" in detail and "at most 10" in detail and "分批" in detail
    assert r.json()["where"] == "points"


# --------------------------------------------------------------------------- zip archives


def _bomb(path: Path, *, size: int) -> Path:
    """A small archive whose one member unpacks to ``size`` bytes of zeros."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf, zf.open("zones.shp", "w") as out:
        block = bytes(MIB)
        for _ in range(size // MIB):
            out.write(block)
    return path


def test_zip_bomb_is_refused_before_unpacking(tmp_path: Path) -> None:
    bomb = _bomb(tmp_path / "zones.zip", size=64 * MIB)
    assert bomb.stat().st_size < MIB // 8
    with pytest.raises(TooLarge, match="unpacks to 64 MiB, more than the 16 MiB"):
        read_frame(bomb, zip_limits=ZipLimits(max_bytes=16 * MIB))


def test_zip_with_too_many_members_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "many.zip"
    with zipfile.ZipFile(path, "w") as zf:
        for i in range(30):
            zf.writestr(f"part{i}.txt", "x")
    with pytest.raises(TooLarge, match="holds 30 files; at most 20"):
        read_frame(path, zip_limits=ZipLimits(max_members=20))


def test_zip_limits_apply_to_uploads(db_url: str, keys: dict[str, str], tmp_path: Path) -> None:
    bomb = _bomb(tmp_path / "zones.zip", size=32 * MIB).read_bytes()

    async def go(c: httpx.AsyncClient) -> httpx.Response:
        return await c.post("/v1/imports/zones", files={"file": ("zones.zip", bomb, "application/zip")},
                            data={"plan": "bomb", "level": "elementary", "year": "2026"}, headers=bearer(keys["planner"]))

    r = call(limited(db_url, zip_bytes=8 * MIB), go)
    assert r.status_code == 413, r.text
    assert "zones.zip unpacks to 32 MiB, more than the 8 MiB allowed" in r.json()["detail"]


def test_zipped_shapefile_with_a_folder_still_reads(tmp_path: Path) -> None:
    import geopandas as gpd

    frame = gpd.read_file(DATA / "nsw" / "greater_sydney_schools.geojson").head(5)[["School_code", "geometry"]].rename(columns={"School_code": "code"})
    shp = tmp_path / "shp"
    shp.mkdir()
    frame.to_file(shp / "schools.shp")
    path = tmp_path / "schools.zip"
    with zipfile.ZipFile(path, "w") as zf:
        for f in shp.iterdir():
            zf.write(f, f"inner/{f.name}")
    assert len(read_frame(path)) == 5


# --------------------------------------------------------------------------- server paths


def _no_server_paths(text: str) -> None:
    for folder in (tempfile.gettempdir(), "/tmp/", "/var/", "/work/", "/root/"):
        assert folder not in text, text


def test_problem_details_name_files_as_the_user_sent_them(db_url: str, keys: dict[str, str]) -> None:
    broken = io.BytesIO()
    with zipfile.ZipFile(broken, "w") as zf:
        zf.writestr("x.shp", b"not a shapefile at all" * 10)
        zf.writestr("x.shx", b"nor an index")
    uploads = {"x.zip": broken.getvalue(), "zones.geojson": b'{"type": "FeatureCollection", "features": [',
               "zones.gpkg": b"SQLite format 3\x00 but not really"}

    async def go(c: httpx.AsyncClient) -> list[httpx.Response]:
        return [await c.post("/v1/imports/zones", files={"file": (name, data)},
                             data={"plan": "broken", "level": "elementary", "year": "2026"}, headers=bearer(keys["planner"]))
                for name, data in uploads.items()]

    for (name, _), r in zip(uploads.items(), call(settings_for(db_url), go), strict=True):
        assert r.status_code == 415, r.text
        detail = r.json()["detail"]
        assert detail.startswith(name), detail
        _no_server_paths(json.dumps(r.json()))


def test_networks_list_shows_no_server_paths(db_url: str) -> None:
    async def go(c: httpx.AsyncClient) -> httpx.Response:
        return await c.get("/v1/networks")

    r = call(settings_for(db_url), go)
    nets = r.json()
    assert nets, "the sample registers street networks"
    assert all("path" not in n and n["name"] and n["mode"] for n in nets)
    _no_server_paths(json.dumps(nets))
