"""Imports in every format, repair reporting, all-or-nothing, and the CLI, on real files."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import geopandas as gpd
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from service.cli import app as cli
from service.storage import open_repository
from tests.conftest import DATA, bearer

runner = CliRunner()
NSW_SCHOOLS = DATA / "nsw" / "greater_sydney_schools.geojson"
NSW_ZONES = DATA / "nsw" / "greater_sydney_catchments.geojson"
SCHOOL_MAP = ["--map", "code=School_code", "--map", "name=School_name", "--map", "levels=Level_of_schooling",
              "--level-map", "Primary School=primary", "--level-map", "Secondary School=high"]


def _subset(tmp_path: Path) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Real NSW rows: 40 primary catchments and the schools they name."""
    zones = gpd.read_file(NSW_ZONES)
    zones = zones[zones.CATCH_TYPE == "PRIMARY"].head(40)
    schools = gpd.read_file(NSW_SCHOOLS)
    return schools[schools.School_code.isin(zones.USE_ID)], zones


def _write(frame: gpd.GeoDataFrame, path: Path) -> Path:
    if path.suffix == ".zip":
        shp_dir = path.parent / (path.stem + "_shp")
        shp_dir.mkdir()
        frame.to_file(shp_dir / "layer.shp")
        with zipfile.ZipFile(path, "w") as zf:
            for f in shp_dir.iterdir():
                zf.write(f, f.name)
    elif path.suffix == ".csv":
        table = frame.drop(columns="geometry").assign(lon=frame.geometry.x, lat=frame.geometry.y)
        table.to_csv(path, index=False)
    else:
        frame.to_file(path)
    return path


def _import(url: str, args: list[str]) -> str:
    result = runner.invoke(cli, [*args, "--database", url])
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.parametrize("suffix", [".geojson", ".gpkg", ".shp", ".zip", ".csv"])
def test_import_schools_every_format(tmp_path: Path, suffix: str) -> None:
    schools, _ = _subset(tmp_path)
    # Short field names so the same columns survive the Shapefile's 10-character limit.
    short = schools.rename(columns={"School_code": "SCODE", "School_name": "SNAME", "Level_of_schooling": "SLEVEL"})
    path = _write(short[["SCODE", "SNAME", "SLEVEL", "geometry"]], tmp_path / f"schools{suffix}")
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    out = _import(url, ["import", "schools", str(path), "--map", "code=SCODE", "--map", "name=SNAME", "--map", "levels=SLEVEL",
                        "--level-map", "Primary School=primary"])
    assert f"{len(schools)} written" in out
    repo = open_repository(url)
    got = {s.code: s for s in repo.list_schools()}
    assert set(got) == set(schools.School_code)
    first = schools.iloc[0]
    assert got[first.School_code].lon == pytest.approx(first.geometry.x, abs=1e-9)
    assert got[first.School_code].levels == ("primary",)


@pytest.mark.parametrize("suffix", [".geojson", ".gpkg", ".shp", ".zip"])
def test_import_zones_every_format_reprojected(tmp_path: Path, suffix: str) -> None:
    schools, zones = _subset(tmp_path)
    # Write the zones in GDA94 / MGA zone 56 (metres) to prove the import reprojects to EPSG:4326.
    projected = zones[["USE_ID", "USE_DESC", "KINDERGART", "YEAR1", "YEAR6", "geometry"]].to_crs(28356)
    path = _write(projected, tmp_path / f"zones{suffix}")
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    _import(url, ["import", "schools", str(_write(schools, tmp_path / "s.geojson")), *SCHOOL_MAP])
    out = _import(url, ["import", "zones", str(path), "--plan", "p", "--level", "primary", "--year", "2026", "--adopt",
                        "--map", "school_code=USE_ID", "--map", "name=USE_DESC"])
    assert "40 written" in out
    repo = open_repository(url)
    plan = repo.list_plans()[0]
    stored = {z.name: z for z in repo.zones(plan.id)}
    src = zones.set_index("USE_DESC")
    for name, z in list(stored.items())[:5]:
        original = src.loc[name].geometry
        assert z.geometry.symmetric_difference(original).area < 1e-6 * original.area + 1e-12
        assert z.grades == ("K", "1", "6")


def test_repairs_are_reported(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    _import(url, ["import", "schools", str(NSW_SCHOOLS), *SCHOOL_MAP])
    out = _import(url, ["import", "zones", str(NSW_ZONES), "--plan", "all", "--level", "any", "--year", "2026",
                        "--map", "school_code=USE_ID", "--map", "name=USE_DESC"])
    invalid = int((~gpd.read_file(NSW_ZONES).is_valid).sum())
    assert invalid > 0
    assert f"{invalid} repaired" in out
    assert "make_valid" in out
    zones = open_repository(url).zones(1)
    assert all(z.geometry.is_valid for z in zones)


def test_zone_import_is_all_or_nothing(tmp_path: Path) -> None:
    schools, zones = _subset(tmp_path)
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    _import(url, ["import", "schools", str(_write(schools, tmp_path / "s.geojson")), *SCHOOL_MAP])
    broken = zones.copy()
    broken.loc[broken.index[-1], "USE_ID"] = "no-such-school"
    path = _write(broken, tmp_path / "broken.geojson")
    result = runner.invoke(cli, ["import", "zones", str(path), "--plan", "p", "--level", "primary", "--year", "2026",
                                 "--map", "school_code=USE_ID", "--database", url])
    assert result.exit_code == 2
    assert "no-such-school" in result.output
    repo = open_repository(url)
    assert repo.list_plans() == []


def test_rejected_rows_write_nothing_and_name_each_row(tmp_path: Path) -> None:
    schools, _ = _subset(tmp_path)
    bad = schools.copy()
    bad.loc[bad.index[3], "School_name"] = None
    path = _write(bad, tmp_path / "bad.geojson")
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    result = runner.invoke(cli, ["import", "schools", str(path), *SCHOOL_MAP, "--database", url])
    assert result.exit_code == 2
    # index 3 is the fourth feature: rows count from 1
    assert "rejected row 4" in result.output and "missing school name" in result.output
    assert open_repository(url).count_schools() == 0


def test_export_round_trip(tmp_path: Path, db_url: str) -> None:
    for suffix in (".geojson", ".gpkg", ".csv", ".zip"):
        out = tmp_path / f"schools{suffix}"
        _import(db_url, ["export", "schools", str(out)])
        assert out.stat().st_size > 1000
    out = tmp_path / "zones.gpkg"
    _import(db_url, ["export", "zones", "1", str(out)])
    assert len(gpd.read_file(out)) == len(open_repository(db_url).zones(1))


def test_http_upload_and_bad_files(client: TestClient, keys: dict[str, str], tmp_path: Path) -> None:
    schools, zones = _subset(tmp_path)
    admin = bearer(keys["admin"])
    path = _write(schools, tmp_path / "s.gpkg")
    with path.open("rb") as f:
        r = client.post("/v1/imports/schools", headers=admin, files={"file": ("s.gpkg", f)},
                        data={"map": ["code=School_code", "name=School_name"], "code_prefix": "x-"})
    assert r.status_code == 200, r.text
    assert r.json()["report"]["written"] == len(schools)
    # A "GeoPackage" that is really text: a clear 415, nothing written.
    r = client.post("/v1/imports/schools", headers=admin, files={"file": ("fake.gpkg", b"just some text")},
                    data={"map": ["code=a", "name=b"]})
    assert r.status_code == 415 and r.headers["content-type"] == "application/problem+json"
    r = client.post("/v1/imports/schools", headers=admin, files={"file": ("x.txt", b"a,b")})
    assert r.status_code == 415
    # A wrong CRS string is a 422 naming the field.
    with path.open("rb") as f:
        r = client.post("/v1/imports/schools", headers=admin, files={"file": ("s.gpkg", f)},
                        data={"map": ["code=School_code", "name=School_name"], "crs": "EPSG:999999"})
    assert r.status_code == 422 and r.json()["where"] == "crs"
    # Zones over HTTP: planners may.
    zpath = _write(zones, tmp_path / "z.geojson")
    with zpath.open("rb") as f:
        r = client.post("/v1/imports/zones", headers=bearer(keys["planner"]), files={"file": ("z.geojson", f)},
                        data={"plan": "uploaded", "level": "primary", "year": "2030", "district": "nsw",
                              "map": ["school_code=USE_ID"]})
    assert r.status_code == 200, r.text
    assert r.json()["report"]["written"] == 40
    assert json.loads(r.text)["plan"]["status"] == "draft"
