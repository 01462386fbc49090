"""GDAL's OAPIF driver as the OGC client: ogrinfo lists our collections, ogr2ogr copies them whole.

Runs a real ``catchment serve`` on a copy of the sample. Needs ``ogrinfo``/``ogr2ogr`` (Debian's
gdal-bin, installed by .ci/run); skipped locally without them, never in CI.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pyogrio
import pytest
import shapely

from geo.models import PlanStatus
from service.storage.base import Repository, StoredDistrict
from tests.support.server import running_service

pytestmark = pytest.mark.gdal


@pytest.fixture(scope="module")
def gdal() -> None:
    if shutil.which("ogr2ogr") is None or shutil.which("ogrinfo") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("ogr2ogr/ogrinfo missing: .ci/run must install Debian's gdal-bin")
        pytest.skip("needs GDAL's ogrinfo and ogr2ogr (apt-get install gdal-bin)")


def _run(*args: str) -> str:
    done = subprocess.run(list(args), capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


def _string_list(text: str) -> list[str]:
    """GDAL writes a JSON array of strings to GeoPackage as its StringList text, ``(2:a,b)``."""
    count, _, items = text.strip("()").partition(":")
    out = items.split(",") if items else []
    assert len(out) == int(count)
    return out


def test_gdal_lists_and_copies_collections(gdal: None, db_url: str, repo: Repository, tmp_path: Path) -> None:
    fairfax = next(p for p in repo.list_plans(status=PlanStatus.ADOPTED) if p.district == "fairfax" and p.level == "elementary")
    with running_service(db_url) as base:
        listing = _run("ogrinfo", "-ro", "-q", f"OAPIF:{base}/ogc")
        assert "schools" in listing and f"zones-{fairfax.id}" in listing
        out = tmp_path / "copy.gpkg"
        _run("ogr2ogr", "-f", "GPKG", "-oo", "PAGE_SIZE=1000", str(out), f"OAPIF:{base}/ogc", f"zones-{fairfax.id}", "schools")
    zones = pyogrio.read_dataframe(out, layer=f"zones-{fairfax.id}")
    stored = {z.id: z for z in repo.zones(fairfax.id)}
    assert len(zones) == len(stored) == 138
    for row in zones.itertuples():
        z = stored[int(row.zone_id)]
        assert shapely.equals_exact(shapely.normalize(row.geometry), shapely.normalize(z.geometry), tolerance=1e-9)
        assert _string_list(row.school_codes) == list(z.school_codes)
        assert (row.name, row.school_year) == (z.name, fairfax.school_year)
    schools = pyogrio.read_dataframe(out, layer="schools")
    by_code = {s.code: s for s in repo.list_schools()}
    assert len(schools) == len(by_code)
    for row in schools.itertuples():
        s = by_code[row.code]
        assert (row.name, round(row.geometry.x, 9), round(row.geometry.y, 9)) == (s.name, round(s.lon, 9), round(s.lat, 9))


def test_gdal_copies_the_districts(gdal: None, db_url: str, repo: Repository, tmp_path: Path) -> None:
    fairfax = next(p for p in repo.list_plans(status=PlanStatus.ADOPTED) if p.district == "fairfax" and p.level == "elementary")
    zones = [z for z in repo.zones(fairfax.id) if len(z.school_codes) == 1]
    groups = [[z.school_codes[0] for z in zones[i:i + 5]] for i in (0, 5)]
    for i, g in enumerate(groups):
        repo.districts.create(StoredDistrict(id=None, name=f"学区 {i + 1}", levels=("elementary",), school_year=fairfax.school_year,
                                             lead=g[0], schools=tuple(g)), actor="test")
    with running_service(db_url) as base:
        assert "districts" in _run("ogrinfo", "-ro", "-q", f"OAPIF:{base}/ogc")
        out = tmp_path / "districts.gpkg"
        _run("ogr2ogr", "-f", "GPKG", str(out), f"OAPIF:{base}/ogc", "districts")
    got = pyogrio.read_dataframe(out, layer="districts").sort_values("name")
    assert list(got["name"]) == ["学区 1", "学区 2"]
    for row, g in zip(got.itertuples(), groups, strict=True):
        assert _string_list(row.school_codes) == g and row.lead == g[0]
        union = shapely.union_all([z.geometry for z in zones if z.school_codes[0] in g])
        assert shapely.equals_exact(shapely.normalize(row.geometry), shapely.normalize(union), tolerance=1e-9)
