"""Several API hosts over one PostGIS (issue 17, part 3): two ``catchment serve`` processes with separate
working directories (so separate ``var/`` folders, as on two machines) share one PostGIS schema. They
answer a travel lookup and an address lookup alike, and a write through one (a street network built,
addresses imported, a plan adopted) is answered by the other within a second.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import pytest
from shapely.geometry import MultiPolygon, box

from geo.models import Role, School, Zone
from service.networks import build_and_register
from service.storage import open_repository
from tests.conftest import DATA
from tests.storage.pg import new_schema_url
from tests.support.server import running_service

pytestmark = [pytest.mark.postgis, pytest.mark.slow]
PBF = DATA.parent / "osm" / "portland.osm.pbf"
WEST = (-122.755, 45.505)  # inside the Portland extract and the walk network
ENV = {"CATCHMENT_MAPS_WARM": "false", "CATCHMENT_LOOKUP_VERSION_CHECK_S": "0.2"}


def _load(url: str, tmp: Path) -> tuple[str, int]:
    """Schools, an adopted primary plan, a draft middle plan, address points, the walk network."""
    repo = open_repository(url)
    try:
        repo.import_schools([School(code="P1", name="West Primary", levels=("primary",), lon=-122.76, lat=45.50),
                             School(code="M1", name="West Middle", levels=("middle",), lon=-122.75, lat=45.51)], actor="t")
        area = MultiPolygon([box(-122.80, 45.45, -122.70, 45.55)])
        repo.import_plan(name="primary", district="pdx", level="primary", school_year=2026,
                         zones=[Zone(school_codes=("P1",), geometry=area)], adopt=True, actor="t")
        draft = repo.import_plan(name="middle", district="pdx", level="middle", school_year=2026,
                                 zones=[Zone(school_codes=("M1",), geometry=area)], adopt=False, actor="t")
        csv = tmp / "first.csv"
        pd.DataFrame({"id": ["a1"], "number": ["12"], "street": ["Test Street"], "locality": ["Portland"],
                      "lon": [WEST[0]], "lat": [WEST[1]]}).to_csv(csv, index=False)
        from service.operations.addresses import import_addresses_file

        import_addresses_file(repo, csv, dataset="first", actor="t")
        build_and_register(repo, PBF, mode="walk", name="portland", actor="t")
        _, secret = repo.create_key(name="planner", role=Role.PLANNER, actor="t")
        return secret, draft.id
    finally:
        repo.close()


def _cli(cwd: Path, url: str, *args: str) -> None:
    """A ``catchment`` command run on host ``cwd`` (its own working directory)."""
    out = subprocess.run([sys.executable, "-m", "service.cli", *args, "--database", url], cwd=cwd, capture_output=True,
                         text=True, timeout=300, env=os.environ.copy(), check=False)
    assert out.returncode == 0, out.stdout + out.stderr


def _answered(check: Callable[[], bool], *, within_s: float = 5.0) -> float:
    """Seconds until ``check()`` holds (polled every 20 ms); fails after ``within_s``."""
    t0 = time.monotonic()
    while not check():
        assert time.monotonic() - t0 < within_s, "not answered"
        time.sleep(0.02)
    return time.monotonic() - t0


def _walk(body: dict[str, Any]) -> list[tuple[str, float | None]]:
    return [(s["code"], s["walk_m"]) for lv in body["levels"] for z in lv["zones"] for s in z["schools"]]


def test_two_hosts_over_one_postgis_share_networks_addresses_and_writes(tmp_path: Path) -> None:
    host_a, host_b = tmp_path / "a", tmp_path / "b"
    host_a.mkdir()
    host_b.mkdir()
    with new_schema_url() as url:
        secret, draft = _load(url, tmp_path)
        with running_service(url, env=ENV, cwd=host_a) as base_a, running_service(url, env=ENV, cwd=host_b) as base_b, \
                httpx.Client(base_url=base_a, timeout=30) as a, httpx.Client(base_url=base_b, timeout=30) as b:
            # The same network and gazetteer on both: same travel answer, same address answer.
            travel = [c.get("/v1/lookup", params={"lon": WEST[0], "lat": WEST[1]}).json() for c in (a, b)]
            assert travel[0]["networks"]["walk"]["network"] == "portland" and travel[0]["networks"] == travel[1]["networks"]
            assert _walk(travel[0]) == _walk(travel[1]) and _walk(travel[0])[0][0] == "P1" and _walk(travel[0])[0][1] > 0
            found = [c.get("/v1/lookup", params={"address": "12 Test Street, Portland"}).json() for c in (a, b)]
            assert found[0]["geocode"]["address_id"] == "a1" and found[0]["geocode"] == found[1]["geocode"]
            assert _walk(found[0]) == _walk(found[1])
            # Neither host keeps a network file: both loaded the bytes from the database.
            nets = b.get("/v1/networks").json()
            assert [(n["name"], n["stored"]["codec"]) for n in nets] == [("portland", "npz")] and str(tmp_path) not in str(nets)
            assert not list(host_a.rglob("*.npz")) and not list(host_b.rglob("*.npz"))

            # A drive network built on host A: host B answers drive times within a second.
            _cli(host_a, url, "network", "build", str(PBF), "--mode", "drive")
            took = _answered(lambda: "drive" in b.get("/v1/lookup", params={"lon": WEST[0], "lat": WEST[1]}).json()["networks"])
            assert took < 1.0, f"host B answered the new network after {took:.2f} s"
            drive = b.get("/v1/lookup", params={"lon": WEST[0], "lat": WEST[1]}).json()
            assert drive["networks"]["drive"]["network"] == "portland-drive"
            assert drive["levels"][0]["zones"][0]["schools"][0]["drive_s"] > 0

            # Addresses imported on host A: host B geocodes them within a second.
            csv = tmp_path / "second.csv"
            pd.DataFrame({"id": ["b7"], "number": ["7"], "street": ["Other Avenue"], "locality": ["Portland"],
                          "lon": [-122.74], "lat": [45.52]}).to_csv(csv, index=False)
            _cli(host_a, url, "import", "addresses", str(csv), "--dataset", "second")
            took = _answered(lambda: b.get("/v1/lookup", params={"address": "7 Other Avenue, Portland"}).status_code == 200)
            assert took < 1.0, f"host B answered the new address after {took:.2f} s"
            assert b.get("/v1/lookup", params={"address": "7 Other Avenue, Portland"}).json()["geocode"]["address_id"] == "b7"

            # A plan adopted over HTTP on host A: host B's lookups carry it within a second.
            tag = a.get(f"/v1/plans/{draft}").headers["ETag"]
            r = a.post(f"/v1/plans/{draft}/adopt", headers={"Authorization": f"Bearer {secret}", "If-Match": tag})
            assert r.status_code == 200, r.text
            def levels() -> list[str]:
                return [lv["level"] for lv in b.get("/v1/lookup", params={"lon": WEST[0], "lat": WEST[1]}).json()["levels"]]

            took = _answered(lambda: "middle" in levels())
            assert took < 1.0, f"host B answered the adopted plan after {took:.2f} s"
            assert sorted(levels()) == ["middle", "primary"]
