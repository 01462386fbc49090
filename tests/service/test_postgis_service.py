"""The service on PostGIS with two real uvicorn workers: consistency across workers, and
surviving a database restart.

``catchment serve --workers 2`` runs against a fresh schema holding the real Greater Sydney
primary catchments. Each request goes over its own TCP connection; the worker that answered
is found from the kernel's socket table (/proc), so the tests know both workers were asked.
"""

from __future__ import annotations

import dataclasses
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from geo.index.zones import ZoneIndex
from geo.io.read import apply_where, parse_schools, parse_zones, read_frame
from geo.models import Role
from service.storage import open_repository
from tests.storage.pg import cluster, cluster_control_problem, new_schema_url, skip_or_fail

ROOT = Path(__file__).resolve().parents[2]
NSW = ROOT / "data" / "boundaries" / "nsw"
pytestmark = [pytest.mark.postgis, pytest.mark.slow]


@dataclass
class Server:
    port: int
    proc: subprocess.Popen[bytes]
    log: Path
    admin_key: str
    draft_id: int  # a draft primary plan: the same zones, one renamed
    point: tuple[float, float]  # EPSG:4326 (lon, lat) inside the renamed zone only
    old_name: str
    new_name: str


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _socket_inodes(server_port: int, *, client_port: int | None) -> set[str]:
    """Inodes of server-side sockets on ``server_port``: the listener (client_port None) or one connection."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            f = line.split()
            local, remote, state = int(f[1].rsplit(":", 1)[1], 16), int(f[2].rsplit(":", 1)[1], 16), f[3]
            if local == server_port and (remote == client_port if client_port is not None else state == "0A"):
                found.add(f[9])
    return found


def _holders(pids: set[int], inodes: set[str]) -> set[int]:
    links = {f"socket:[{i}]" for i in inodes}
    out = set()
    for pid in pids:
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            continue
        for fd in fds:
            try:
                if os.readlink(f"/proc/{pid}/fd/{fd}") in links:
                    out.add(pid)
            except OSError:
                continue
    return out


def worker_pids(server: Server) -> set[int]:
    """The uvicorn workers: children of the server process that hold its listening socket."""
    children = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == server.proc.pid:
                children.add(int(entry))
    return _holders(children, _socket_inodes(server.port, client_port=None))


def answering_pid(conn: http.client.HTTPConnection, server: Server) -> int:
    """Which worker holds the server side of this (accepted, still open) connection."""
    assert conn.sock is not None
    inodes = _socket_inodes(conn.sock.getpeername()[1], client_port=conn.sock.getsockname()[1])
    holders = _holders(worker_pids(server), inodes)
    assert len(holders) == 1, f"connection {inodes} held by workers {holders}"
    return holders.pop()


def call(server: Server, method: str, path: str, *, body: Any = None, key: str | None = None,
         timeout: float = 30.0, headers: dict[str, str] | None = None) -> tuple[int, int, dict[str, str], Any]:
    """One request on a fresh connection: (worker pid, status, headers, parsed JSON body)."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=timeout)
    try:
        headers = ({"Authorization": f"Bearer {key}"} if key else {}) | (headers or {})
        payload = None if body is None else json.dumps(body)
        if payload is not None:
            headers["Content-Type"] = "application/json"
        conn.request(method, path, body=payload, headers=headers)
        resp = conn.getresponse()
        raw = resp.read()
        pid = answering_pid(conn, server)
        return pid, resp.status, {k.lower(): v for k, v in resp.getheaders()}, json.loads(raw) if raw else None
    finally:
        conn.close()


def zone_name_at(server: Server) -> tuple[int, str | None]:
    lon, lat = server.point
    pid, status, _, body = call(server, "GET", f"/v1/lookup?lon={lon!r}&lat={lat!r}&level=primary")
    assert status == 200, body
    zones = next(lv for lv in body["levels"] if lv["level"] == "primary")["zones"]
    assert len(zones) == 1, zones
    return pid, zones[0]["zone_name"]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with new_schema_url() as url:
        repo = open_repository(url)
        schools, _ = parse_schools(read_frame(NSW / "greater_sydney_schools.geojson"),
                                   mapping={"code": "School_code", "name": "School_name", "levels": "Level_of_schooling"},
                                   level_map={"Primary School": ["primary"], "Infants School": ["primary"],
                                              "Secondary School": ["high"], "Central/Community School": ["primary", "high"]})
        frame = apply_where(read_frame(NSW / "greater_sydney_catchments.geojson"), ["CATCH_TYPE=PRIMARY,INFANTS,CENTRAL_PRIMARY"])
        zones, _ = parse_zones(frame, mapping={"school_code": "USE_ID", "name": "USE_DESC"})
        repo.import_schools(schools, actor="test")
        adopted = repo.import_plan(name="primary 2026", district="nsw", level="primary", school_year=2026, zones=zones,
                                   adopt=True, actor="test")
        # A point inside exactly one zone, and a draft where only that zone's name differs.
        index = ZoneIndex([(adopted, z) for z in zones])
        pos, point = next((i, p) for i, z in enumerate(zones)
                          if len(index.query(*(p := (z.geometry.representative_point().x, z.geometry.representative_point().y)))) == 1)
        new_name = f"{zones[pos].name} (rev {uuid.uuid4().hex[:6]})"
        revised = [dataclasses.replace(z, name=new_name) if i == pos else z for i, z in enumerate(zones)]
        draft = repo.import_plan(name="primary 2026 rev", district="nsw", level="primary", school_year=2026,
                                 zones=revised, adopt=False, actor="test")
        _, admin_key = repo.create_key(name="test admin", role=Role.ADMIN, actor="test")
        repo.close()

        port = free_port()
        log = tmp_path_factory.mktemp("serve") / "serve.log"
        env = os.environ | {"CATCHMENT_DATABASE_URL": url, "PYTHONPATH": str(ROOT)}
        cmd = [sys.executable, "-c", "from service.cli import app; app()", "serve", "--workers", "2", "--port", str(port),
               "--no-sample"]
        with log.open("wb") as out:
            proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
        srv = Server(port, proc, log, admin_key, draft.id, point, str(zones[pos].name), new_name)
        try:
            wait_ready(srv, workers=2)
            yield srv
        finally:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)


def wait_ready(srv: Server, *, workers: int, timeout_s: float = 90.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if srv.proc.poll() is not None:
            pytest.fail(f"catchment serve exited with {srv.proc.returncode}:\n{srv.log.read_text()[-3000:]}")
        try:
            _, status, _, _ = call(srv, "GET", "/readyz", timeout=5)
            if status == 200 and len(worker_pids(srv)) >= workers:
                return
        except (OSError, http.client.HTTPException):
            pass
        time.sleep(0.2)
    pytest.fail(f"catchment serve did not become ready in {timeout_s} s:\n{srv.log.read_text()[-3000:]}")


def test_a_write_through_one_worker_reaches_every_worker_within_a_second(server: Server) -> None:
    seen: dict[int, str | None] = {}
    deadline = time.monotonic() + 30
    while len(seen) < 2 and time.monotonic() < deadline:
        pid, name = zone_name_at(server)
        seen[pid] = name
    assert len(seen) == 2, "uvicorn never spread connections over both workers"
    assert set(seen.values()) == {server.old_name}

    etag = call(server, "GET", f"/v1/plans/{server.draft_id}")[2]["etag"]
    writer, status, _, body = call(server, "POST", f"/v1/plans/{server.draft_id}/adopt", key=server.admin_key,
                                   headers={"If-Match": etag})
    t0 = time.monotonic()
    assert status == 200 and body["status"] == "adopted", body

    answers: list[tuple[float, int, str | None]] = []
    while (elapsed := time.monotonic() - t0) < 1.8:
        pid, name = zone_name_at(server)
        answers.append((elapsed, pid, name))
    late = [(t, pid, name) for t, pid, name in answers if t > 1.0]
    assert {pid for _, pid, _ in late} == set(seen), "both workers must answer after the first second"
    stale = [(round(t, 3), pid) for t, pid, name in late if name != server.new_name]
    assert not stale, f"workers still answered the old zone more than 1 s after the write: {stale[:10]}"
    # The worker that made the write answers with it at once (read your writes).
    assert all(name == server.new_name for _, pid, name in answers if pid == writer)


def test_database_restart_answers_503_then_recovers(server: Server) -> None:
    problem = cluster_control_problem()
    if problem is not None:
        skip_or_fail(problem)
    _, status, _, _ = call(server, "GET", "/v1/schools?limit=1")
    assert status == 200
    cluster("stop")
    try:
        _, status, headers, body = call(server, "GET", "/v1/schools?limit=1")
        assert status == 503 and headers["content-type"].startswith("application/problem+json"), body
        assert body["status"] == 503 and body["detail"] and "retry-after" in headers
        _, status, headers, body = call(server, "GET", "/readyz")
        assert status == 503 and headers["content-type"].startswith("application/problem+json"), body
        # Lookups keep answering from the in-memory index while the database is away.
        assert zone_name_at(server)[1] in {server.old_name, server.new_name}
    finally:
        cluster("start")

    # Recovery without restarting the service: every worker answers from the database again.
    recovered: set[int] = set()
    deadline = time.monotonic() + 60
    while recovered != worker_pids(server) and time.monotonic() < deadline:
        pid, status, _, _ = call(server, "GET", "/v1/schools?limit=1")
        if status == 200:
            recovered.add(pid)
        else:
            time.sleep(0.2)
    assert recovered == worker_pids(server) and len(recovered) == 2, f"workers that recovered: {recovered}"
    # Writes are refused at once while a worker's watcher knows the database is down; /readyz
    # makes each worker look again, so wait until both say ready before writing.
    ready: set[int] = set()
    while ready != worker_pids(server) and time.monotonic() < deadline:
        pid, status, _, _ = call(server, "GET", "/readyz")
        if status == 200:
            ready.add(pid)
    school = {"code": f"T{uuid.uuid4().hex[:8]}", "name": "Restart Test School", "lon": 151.0, "lat": -33.8}
    _, status, _, body = call(server, "POST", "/v1/schools", body=school, key=server.admin_key)
    assert status == 201, body
    _, status, _, body = call(server, "GET", "/readyz")
    assert status == 200, body


def test_two_workers_started_by_the_catchment_script_never_die(tmp_path: Path) -> None:
    """`catchment serve --workers 2` from the installed script (as the README and compose run it):
    no worker is killed as unresponsive at start-up. Spawned workers re-import the parent's
    __main__; from the script that was the whole CLI, slower than uvicorn's 5 s ping timeout on
    a busy machine, so the supervisor killed them ("Child process [...] died")."""
    script = Path(sys.executable).parent / "catchment"
    if not script.exists():
        pytest.skip(f"no installed catchment script next to {sys.executable}")
    with new_schema_url() as url:
        port = free_port()
        log = tmp_path / "serve.log"
        env = os.environ | {"CATCHMENT_DATABASE_URL": url}
        with log.open("wb") as out:
            proc = subprocess.Popen([str(script), "serve", "--workers", "2", "--port", str(port), "--no-sample"],
                                    cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
        srv = Server(port, proc, log, "", 0, (0.0, 0.0), "", "")
        try:
            wait_ready(srv, workers=2)
            first = worker_pids(srv)
            time.sleep(6)  # longer than uvicorn's default health-check timeout
            assert worker_pids(srv) == first
            text = log.read_text()
            assert "died" not in text and "was not ready" not in text, text[-3000:]
        finally:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
