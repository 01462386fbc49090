"""Zones that are not EPSG:4326 (issue 12, item 7): refused at import with a message naming the
likely CRS, shapefiles without .prj refused unless a CRS is given, and, whatever is stored, a
start-up that indexes every other plan and reports the one it cannot serve."""

from __future__ import annotations

import zipfile
from pathlib import Path

import geopandas as gpd
import pytest
from fastapi.testclient import TestClient
from shapely.geometry import MultiPolygon, box
from typer.testing import CliRunner

from geo.io.read import frame_from_geojson, parse_zones
from geo.models import Zone
from service.cli import app as cli
from service.main import create_app
from service.storage import open_repository
from tests.conftest import DATA, bearer, settings_for

LINDFIELD = (151.1796, -33.7738)  # inside Lindfield EPS's zone (school 2404) of the adopted NSW primary plan
# Web Mercator metres of a Sydney square, written as if they were degrees (the reported file).
MERCATOR = box(16828167.0, -3999299.0, 16829167.0, -3998299.0)


def _square(lon: float, lat: float, d: float = 0.01) -> dict:
    ring = [[lon, lat], [lon + d, lat], [lon + d, lat + d], [lon, lat + d], [lon, lat]]
    return {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [ring]}, "properties": {"school_code": "2404"}}


@pytest.mark.parametrize("lon,lat,words", [(16828167.0, -3999299.0, "EPSG:3857"), (500.0, -33.0, "lon 500"),
                                           (151.0, -133.0, "lat -133")])
def test_zones_outside_lon_lat_are_rejected_naming_the_likely_crs(lon: float, lat: float, words: str) -> None:
    doc = {"type": "FeatureCollection", "features": [_square(151.0, -33.9), _square(lon, lat, 1000.0 if lon > 1e6 else 0.01)]}
    zones, report = parse_zones(frame_from_geojson(doc))
    assert len(zones) == 1 and [p.row for p in report.rejected] == [2]  # rows count from 1: the second feature
    assert words in report.rejected[0].reason
    if lon > 1e6:
        assert "UTM/MGA" in report.rejected[0].reason and "metres" in report.rejected[0].reason


def test_put_of_projected_zones_is_422_and_writes_nothing(client: TestClient, keys: dict[str, str]) -> None:
    planner = bearer(keys["planner"])
    created = client.post("/v1/plans", json={"name": "m", "level": "primary", "school_year": 2031}, headers=planner)
    pid = created.json()["id"]
    doc = {"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": MERCATOR.__geo_interface__,
                                                      "properties": {"school_code": "2404"}}]}
    r = client.put(f"/v1/plans/{pid}/zones", json=doc, headers=planner | {"If-Match": created.headers["ETag"]})
    assert r.status_code == 422 and "EPSG:3857" in r.text, r.text
    assert client.get(f"/v1/plans/{pid}/zones").json()["features"] == []


def _shapefile_without_prj(tmp_path: Path) -> tuple[Path, Path]:
    """Forty real NSW catchments in MGA zone 56 (EPSG:28356) as a shapefile, then its .prj removed."""
    zones = gpd.read_file(DATA / "nsw" / "greater_sydney_catchments.geojson")
    zones = zones[zones.CATCH_TYPE == "PRIMARY"].head(40).to_crs(28356)
    folder = tmp_path / "shp"
    folder.mkdir()
    shp = folder / "zones.shp"
    zones[["USE_ID", "geometry"]].to_file(shp)
    shp.with_suffix(".prj").unlink()
    archive = tmp_path / "zones.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for f in folder.iterdir():
            zf.write(f, f.name)
    return shp, archive


def test_a_shapefile_without_prj_needs_a_crs(tmp_path: Path, db_url: str, keys: dict[str, str]) -> None:
    shp, archive = _shapefile_without_prj(tmp_path)
    runner = CliRunner()
    args = ["import", "zones", str(shp), "--plan", "mga", "--level", "primary", "--year", "2031", "--district", "mga",
            "--map", "school_code=USE_ID", "--database", db_url]
    result = runner.invoke(cli, args)
    assert result.exit_code != 0 and ".prj" in result.output and "--crs" in result.output, result.output
    repo = open_repository(db_url)
    try:
        assert not [p for p in repo.list_plans() if p.district == "mga"]
        result = runner.invoke(cli, [*args, "--crs", "EPSG:28356"])
        assert result.exit_code == 0, result.output
        plan = next(p for p in repo.list_plans() if p.district == "mga")
        x0, y0, x1, y1 = MultiPolygon([g for z in repo.zones(plan.id) for g in z.geometry.geoms]).bounds
        assert 150 < x0 < x1 < 152 and -35 < y0 < y1 < -33  # reprojected to lon/lat
    finally:
        repo.close()
    # The same over HTTP, as a zipped shapefile.
    with TestClient(create_app(settings_for(db_url))) as client:
        form = {"plan": "mga upload", "level": "primary", "year": "2032", "district": "mga", "map": ["school_code=USE_ID"]}
        with archive.open("rb") as f:
            r = client.post("/v1/imports/zones", headers=bearer(keys["planner"]), files={"file": ("zones.zip", f)}, data=form)
        assert r.status_code == 422 and r.json()["where"] == "crs" and ".prj" in r.json()["detail"], r.text
        with archive.open("rb") as f:
            r = client.post("/v1/imports/zones", headers=bearer(keys["planner"]), files={"file": ("zones.zip", f)},
                            data=form | {"crs": "EPSG:28356"})
        assert r.status_code == 200 and r.json()["report"]["written"] == 40, r.text


def test_start_up_skips_a_plan_that_cannot_be_indexed(db_url: str) -> None:
    # Written through the repository, as an old version of the importer let through.
    repo = open_repository(db_url)
    try:
        bad = repo.import_plan(name="projected", district="broken", level="primary", school_year=2026, adopt=True, actor="test",
                               zones=[Zone(school_codes=("2404",), geometry=MultiPolygon([MERCATOR]), name="metres")])
        wide = repo.import_plan(name="lon 500", district="broken2", level="primary", school_year=2026, adopt=True, actor="test",
                                zones=[Zone(school_codes=("2404",), geometry=MultiPolygon([box(150.0, -34.0, 500.0, -33.0)]))])
        good = next(p for p in repo.list_plans(district="nsw", level="primary") if p.status.value == "adopted")
    finally:
        repo.close()
    with TestClient(create_app(settings_for(db_url))) as client:
        # Every other plan answers.
        body = client.get("/v1/lookup", params={"lon": LINDFIELD[0], "lat": LINDFIELD[1], "level": "primary"}).json()
        hits = [z for lv in body["levels"] for z in lv["zones"]]
        assert hits and {z["plan"]["id"] for z in hits} == {good.id}
        assert hits[0]["schools"][0]["code"] == "2404"
        ready = client.get("/readyz")
        assert ready.status_code == 200 and ready.json()["status"] == "degraded", ready.text
        skipped = {s["plan_id"]: s for s in ready.json()["detail"]["skipped_plans"]}
        assert set(skipped) == {bad.id, wide.id}
        assert "EPSG:3857" in skipped[bad.id]["reason"] and "lon 500" in skipped[wide.id]["reason"]
        plan = client.get(f"/v1/plans/{bad.id}").json()
        assert plan["served"] is False and "EPSG:3857" in plan["not_served_reason"]
        assert client.get(f"/v1/plans/{good.id}").json()["served"] is True
