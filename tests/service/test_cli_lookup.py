"""``catchment lookup``: negative coordinates, --address and --crs, as the HTTP lookup answers them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from fastapi.testclient import TestClient
from pyproj import Transformer
from typer.testing import CliRunner

from service.cli import app as cli

runner = CliRunner()
# Killara, Sydney: every point in Sydney has a negative latitude.
SYDNEY = (151.1796, -33.7738)
ADDRESS = "350 Great North Rd, Abbotsford"  # a school's published address, in the sample gazetteer


def _zones(body: dict) -> dict[str, list[int]]:
    return {lv["level"]: sorted(z["zone_id"] for z in lv["zones"]) for lv in body["levels"]}


def _cli(sample_db: Path, *args: str) -> dict:
    result = runner.invoke(cli, ["lookup", *args, "--database", f"sqlite:///{sample_db}"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_negative_latitude_matches_http(sample_db: Path, shared_client: TestClient) -> None:
    body = _cli(sample_db, str(SYDNEY[0]), str(SYDNEY[1]), "--level", "high", "--year", "2026")
    http = shared_client.get("/v1/lookup", params={"lon": SYDNEY[0], "lat": SYDNEY[1], "level": "high", "year": 2026}).json()
    assert (body["lon"], body["lat"]) == SYDNEY
    assert _zones(body) == _zones(http) and body["levels"][0]["zones"][0]["zone_name"] == "Killara HS"
    # Options before the numbers work too, and a negative longitude (Fairfax County) as well.
    fairfax = _cli(sample_db, "--level", "elementary", "-77.3064", "38.8462")
    assert fairfax["levels"][0]["covered"] and fairfax["lon"] == -77.3064


def test_installed_entry_point_takes_negative_latitude(sample_db: Path) -> None:
    exe = Path(sys.executable).with_name("catchment")
    run = subprocess.run([str(exe), "lookup", str(SYDNEY[0]), str(SYDNEY[1]), "--database", f"sqlite:///{sample_db}"],
                         capture_output=True, text=True, timeout=120, check=False)
    assert run.returncode == 0, run.stderr
    body = json.loads(run.stdout)
    assert {lv["level"] for lv in body["levels"]} == {"primary", "high"}
    assert "Killara HS" in {z["zone_name"] for lv in body["levels"] for z in lv["zones"]}


def test_address_uses_the_http_geocoder(sample_db: Path, shared_client: TestClient) -> None:
    body = _cli(sample_db, "--address", ADDRESS, "--level", "primary")
    http = shared_client.get("/v1/lookup", params={"address": ADDRESS, "level": "primary"}).json()
    assert body["geocode"] == http["geocode"] and body["geocode"]["geocoder"] == "gazetteer"
    assert (body["lon"], body["lat"]) == (http["lon"], http["lat"]) and _zones(body) == _zones(http)
    assert body["input"]["address"] == ADDRESS
    missing = runner.invoke(cli, ["lookup", "--address", "1 Nowhere Lane, Atlantis", "--database", f"sqlite:///{sample_db}"])
    assert missing.exit_code == 2 and "no address matches" in missing.output


def test_crs_converts_like_http(sample_db: Path, shared_client: TestClient) -> None:
    x, y = Transformer.from_crs(4326, 3857, always_xy=True).transform(*SYDNEY)
    body = _cli(sample_db, str(x), str(y), "--crs", "EPSG:3857")
    http = shared_client.get("/v1/lookup", params={"lon": x, "lat": y, "crs": "EPSG:3857"}).json()
    assert abs(body["lon"] - SYDNEY[0]) < 1e-9 and abs(body["lat"] - SYDNEY[1]) < 1e-9
    assert body["in_crs"] == http["in_crs"] and body["in_crs"]["crs"] == "EPSG:3857"
    assert _zones(body) == _zones(_cli(sample_db, str(SYDNEY[0]), str(SYDNEY[1])))
    bad = runner.invoke(cli, ["lookup", "1", "2", "--crs", "EPSG:999999", "--database", f"sqlite:///{sample_db}"])
    assert bad.exit_code == 2 and "crs" in bad.output.lower()


def test_lookup_needs_a_place(sample_db: Path) -> None:
    none = runner.invoke(cli, ["lookup", "--database", f"sqlite:///{sample_db}"])
    assert none.exit_code == 2 and "lon is missing" in none.output
    both = runner.invoke(cli, ["lookup", "151", "-33", "--address", ADDRESS, "--database", f"sqlite:///{sample_db}"])
    assert both.exit_code == 2 and "not both" in both.output
    text = runner.invoke(cli, ["lookup", "151", "--latt", "--database", f"sqlite:///{sample_db}"])
    assert text.exit_code == 2 and "Invalid value for 'lat'" in text.output
