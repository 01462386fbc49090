"""`catchment import addresses`: CSV and GeoJSON, column mapping, --crs (EPSG, gcj02), and a
running service picking the new points up."""

from __future__ import annotations

import json
import time
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from fastapi.testclient import TestClient
from pyproj import Transformer
from typer.testing import CliRunner

from geo.crs import wgs84_to_gcj02
from geo.distance import geodesic_m
from service.cli import app as cli
from service.main import create_app
from service.storage import open_repository
from service.storage.base import Repository
from tests.conftest import DATA, settings_for

runner = CliRunner()
ADDRESSES = DATA / "nsw" / "sydney_addresses.csv"
# TEST FIXTURE, hand-made (as in tests/geo/test_gazetteer_zh.py): plausible Shanghai street
# names with made-up numbers and WGS84 points; not shipped as data, no real address.
ZH = [("xh-10", 121.43700, 31.18800, "上海市徐汇区漕溪北路10号"), ("xh-20", 121.43720, 31.19000, "上海市徐汇区漕溪北路20号"),
      ("xh-30", 121.43740, 31.19200, "上海市徐汇区漕溪北路30-36号")]


def _run(url: str, *args: str) -> str:
    result = runner.invoke(cli, ["import", "addresses", *args, "--database", url])
    assert result.exit_code == 0, result.output
    return result.output


def _fail(url: str, *args: str) -> str:
    result = runner.invoke(cli, ["import", "addresses", *args, "--database", url])
    assert result.exit_code == 2, result.output
    return result.output


def test_csv_with_mapped_columns_in_mga56(tmp_path: Path, db_url: str) -> None:
    rows = pd.read_csv(ADDRESSES, dtype=str, keep_default_na=False).head(40)
    x, y = Transformer.from_crs("EPSG:4326", "EPSG:28356", always_xy=True).transform(rows.lon.astype(float), rows.lat.astype(float))
    table = pd.DataFrame({"gnaf": rows.id, "house_no": rows.number, "road": rows.street, "suburb": rows.locality,
                          "pc": rows.postcode, "easting": x, "northing": y})
    path = tmp_path / "mga.csv"
    table.to_csv(path, index=False)
    out = _run(db_url, str(path), "--map", "id=gnaf", "--map", "number=house_no", "--map", "street=road",
               "--map", "locality=suburb", "--map", "postcode=pc", "--map", "lon=easting", "--map", "lat=northing",
               "--crs", "EPSG:28356", "--dataset", "mga")
    assert "40 points written to dataset 'mga'" in out
    repo = open_repository(db_url)
    got = {r.id: r for r in repo.addresses("mga")}
    assert len(got) == 40 and got[rows.id[0]].street == rows.street[0]
    err = max(geodesic_m(got[i].lon, got[i].lat, float(lo), float(la)) for i, lo, la in zip(rows.id, rows.lon, rows.lat, strict=True))
    assert err < 0.01, err  # round trip WGS84 -> MGA56 -> WGS84, metres
    # Replacing the dataset keeps the others.
    _run(db_url, str(path), "--map", "id=gnaf", "--map", "lon=easting", "--map", "lat=northing", "--map", "street=road",
         "--map", "locality=suburb", "--crs", "EPSG:28356", "--dataset", "mga")
    assert repo.count_addresses() == len(repo.addresses("sydney")) + 40
    repo.close()


def test_geojson_of_chinese_addresses_in_gcj02(tmp_path: Path, db_url: str) -> None:
    g_lon, g_lat = wgs84_to_gcj02([r[1] for r in ZH], [r[2] for r in ZH])
    doc = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [float(x), float(y)]},
         "properties": {"fid": rid, "地址": text}} for (rid, _, _, text), x, y in zip(ZH, g_lon, g_lat, strict=True)]}
    path = tmp_path / "xuhui.geojson"
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    _run(db_url, str(path), "--crs", "gcj02")
    repo = open_repository(db_url)
    stored = {r.id: r for r in repo.addresses("xuhui")}
    repo.close()
    assert max(geodesic_m(stored[rid].lon, stored[rid].lat, lon, lat) for rid, lon, lat, _ in ZH) < 0.01
    with TestClient(create_app(settings_for(db_url)), raise_server_exceptions=True) as c:
        r = c.get("/v1/lookup", params={"address": "徐汇区漕溪北路１０号", "crs": "gcj02"})
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["geocode"]["address_id"] == "xh-10" and body["geocode"]["precision"] == "exact"
        assert geodesic_m(body["lon"], body["lat"], ZH[0][1], ZH[0][2]) < 0.01
        # Echoed in the caller's GCJ-02: the point the file gave, within a centimetre.
        assert geodesic_m(body["in_crs"]["x"], body["in_crs"]["y"], float(g_lon[0]), float(g_lat[0])) < 0.01
        assert 100 < body["in_crs"]["shift_m"] < 1000
        between = c.get("/v1/lookup", params={"address": "漕溪北路16号"}).json()["geocode"]
        assert between["precision"] == "interpolated" and "插值" in between["explanation"]["zh"]
        sug = c.get("/v1/addresses/suggest", params={"q": "漕溪北路3"}).json()["suggestions"]
        assert [s["address_id"] for s in sug] == ["xh-30"]


def test_running_service_picks_up_an_import(client: TestClient, tmp_path: Path, db_url: str) -> None:
    text = "1 Example Test Lane, Testville"
    assert client.get("/v1/lookup", params={"address": text}).status_code == 404
    path = tmp_path / "new.csv"
    pd.DataFrame({"id": ["t1"], "number": ["1"], "street": ["Example Test Lane"], "locality": ["Testville"],
                  "lon": [151.1796], "lat": [-33.7738]}).to_csv(path, index=False)
    _run(db_url, str(path), "--dataset", "new")
    deadline = time.monotonic() + 10
    while True:
        r = client.get("/v1/lookup", params={"address": text})
        if r.status_code == 200 or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert r.status_code == 200 and r.json()["geocode"]["address_id"] == "t1"
    # The Sydney points are still there.
    assert client.get("/v1/lookup", params={"address": "25 Johnston St, Annandale"}).status_code == 200


def test_a_chinese_address_is_answered_within_a_second_of_its_import(client: TestClient, tmp_path: Path, db_url: str) -> None:
    """The README's promise: every worker sees a write within a second (here: an address import)."""
    text = "上海市徐汇区漕溪北路20号"
    assert client.get("/v1/lookup", params={"address": text}).status_code == 404
    doc = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [lon, lat]}, "properties": {"fid": rid, "地址": t}}
        for rid, lon, lat, t in ZH]}
    path = tmp_path / "zh.geojson"
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    _run(db_url, str(path), "--dataset", "zh")
    imported = time.monotonic()
    while True:
        r = client.get("/v1/lookup", params={"address": text})
        if r.status_code == 200 or time.monotonic() - imported > 1.0:
            break
        time.sleep(0.02)
    assert r.status_code == 200, f"still {r.status_code} {time.monotonic() - imported:.2f} s after the import"
    assert r.json()["geocode"]["address_id"] == "xh-20"


def test_bad_files_write_nothing(tmp_path: Path, db_url: str, repo: Repository) -> None:
    before = repo.count_addresses()
    rows = pd.read_csv(ADDRESSES, dtype=str, keep_default_na=False).head(5)
    dup = tmp_path / "dup.csv"
    pd.concat([rows, rows.head(1)]).to_csv(dup, index=False)
    assert "appears more than once" in _fail(db_url, str(dup))
    assert "unknown crs" in _fail(db_url, str(dup), "--crs", "EPSG:0")
    assert "unknown address field" in _fail(db_url, str(dup), "--map", "colour=street")
    assert "does not exist" in _fail(db_url, str(tmp_path / "missing.csv"))
    nolon = tmp_path / "nolon.csv"
    rows.drop(columns=["lon"]).to_csv(nolon, index=False)
    assert "lon/lat missing" in _fail(db_url, str(nolon))
    nostreet = tmp_path / "nostreet.csv"
    rows[["id", "lon", "lat"]].to_csv(nostreet, index=False)
    assert "no address text" in _fail(db_url, str(nostreet))
    zones = tmp_path / "zones.geojson"
    gpd.read_file(DATA / "nsw" / "nsw_catchments_future.geojson").head(2).to_file(zones)
    assert "must be points" in _fail(db_url, str(zones))
    binary = tmp_path / "binary.csv"
    binary.write_bytes(b"id,lon,lat\n\xff\xfe\x00\x01,1,2\n")
    assert "not a readable UTF-8 CSV" in _fail(db_url, str(binary))
    assert repo.count_addresses() == before


@pytest.mark.parametrize("crs", ["gcj02", "bd09"])
def test_chinese_crs_outside_china_leaves_points_alone(tmp_path: Path, db_url: str, crs: str) -> None:
    rows = pd.read_csv(ADDRESSES, dtype=str, keep_default_na=False).head(3)
    path = tmp_path / "syd.csv"
    rows.to_csv(path, index=False)
    _run(db_url, str(path), "--crs", crs, "--dataset", "syd")
    repo = open_repository(db_url)
    got = {r.id: (r.lon, r.lat) for r in repo.addresses("syd")}
    repo.close()
    assert got == {r.id: (float(r.lon), float(r.lat)) for r in rows.itertuples()}


def test_http_import_stores_the_points_for_every_worker(client: TestClient, keys: dict[str, str], repo: Repository) -> None:
    """POST /v1/imports/addresses: the CLI's import over HTTP, into the database (admin key)."""
    text = "9 Upload Way, Testville"
    assert client.get("/v1/lookup", params={"address": text}).status_code == 404
    body = pd.DataFrame({"id": ["u9"], "number": ["9"], "street": ["Upload Way"], "locality": ["Testville"],
                         "lon": [151.1796], "lat": [-33.7738]}).to_csv(index=False).encode()
    upload = {"file": ("uploaded.csv", body, "text/csv")}
    assert client.post("/v1/imports/addresses", files=upload).status_code == 401
    assert client.post("/v1/imports/addresses", files=upload,
                       headers={"Authorization": f"Bearer {keys['planner']}"}).status_code == 403
    r = client.post("/v1/imports/addresses", files=upload, headers={"Authorization": f"Bearer {keys['admin']}"})
    assert r.status_code == 200, r.text
    assert r.json()["dataset"] == "uploaded" and r.json()["count"] == 1
    assert [a.id for a in repo.addresses("uploaded")] == ["u9"]
    found = client.get("/v1/lookup", params={"address": text}).json()
    assert found["geocode"]["address_id"] == "u9"
    bad = client.post("/v1/imports/addresses", files={"file": ("a.txt", b"x")}, headers={"Authorization": f"Bearer {keys['admin']}"})
    assert bad.status_code == 415
    assert bad.headers["content-type"].startswith("application/problem+json")
