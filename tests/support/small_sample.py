"""A small piece of the real sample, for tests that call every operation many times (the API fuzz run).

The zones around Lindfield (Sydney) and Vienna (Fairfax County), the schools they name, the
Fairfax census blocks under them and the Sydney address points nearby, loaded with the same
imports and options as ``service.sample``: answers are real, and a map or a validation of it takes
milliseconds instead of seconds.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd

from service.operations.addresses import import_addresses_file
from service.operations.imports import import_demand_file, import_schools_file, import_zones_file
from service.sample import FCPS_LEVELS, STEPS, Step
from service.storage.base import Repository
from tests.conftest import DATA

SYDNEY = (151.16, -33.79, 151.19, -33.76)  # minlon, minlat, maxlon, maxlat (EPSG:4326)
FAIRFAX = (-77.25, 38.85, -77.20, 38.88)


def _step(file: str, level: str = "") -> Step:
    return next(s for s in STEPS if s.file == file and (not level or s.level == level))


def load_small_sample(repo: Repository, tmp: Path) -> None:
    """Adopted NSW primary and high plans and a Fairfax elementary plan, with schools, demand and addresses."""
    nsw_zones = gpd.read_file(DATA / "nsw" / "greater_sydney_catchments.geojson", bbox=SYDNEY)
    ffx_zones = gpd.read_file(DATA / "fairfax" / "zones_ES.geojson", bbox=FAIRFAX)
    nsw_schools = gpd.read_file(DATA / "nsw" / "greater_sydney_schools.geojson")
    ffx_schools = gpd.read_file(DATA / "fairfax" / "schools.geojson")
    nsw_schools = nsw_schools[nsw_schools.School_code.astype(str).isin(nsw_zones.USE_ID.astype(str))]
    ffx_schools = ffx_schools[ffx_schools.OBJECTID.isin(ffx_zones.object_id_school)]
    files = {"nsw/greater_sydney_schools.geojson": nsw_schools, "nsw/greater_sydney_catchments.geojson": nsw_zones,
             "fairfax/schools.geojson": ffx_schools, "fairfax/zones_ES.geojson": ffx_zones}
    for name, frame in files.items():
        frame.to_file(tmp / Path(name).name, driver="GeoJSON")
    for name in ("nsw/greater_sydney_schools.geojson", "fairfax/schools.geojson"):
        step = _step(name)
        import_schools_file(repo, tmp / Path(name).name, opts=step.opts, actor="small-sample")
    for name, level in (("nsw/greater_sydney_catchments.geojson", "primary"), ("nsw/greater_sydney_catchments.geojson", "high"),
                        ("fairfax/zones_ES.geojson", "elementary")):
        step = _step(name, level)
        import_zones_file(repo, tmp / Path(name).name, plan_name=step.plan, district=step.district,
                          level=step.level, year=step.year, adopt=True, opts=step.opts, actor="small-sample")
    blocks = gpd.read_file(DATA / "fairfax" / "blocks2020.gpkg", bbox=FAIRFAX)
    blocks.to_file(tmp / "blocks.gpkg", driver="GPKG")
    import_demand_file(repo, tmp / "blocks.gpkg", name="fairfax-blocks", id_column="geoid20", population="pop",
                       calibrate=FCPS_LEVELS[:1], actor="small-sample")
    addresses = pd.read_csv(DATA / "nsw" / "sydney_addresses.csv")
    near = addresses[addresses.lon.between(151.0, 151.3) & addresses.lat.between(-33.9, -33.7)]
    near.to_csv(tmp / "addresses.csv", index=False)
    import_addresses_file(repo, tmp / "addresses.csv", dataset="sydney", actor="small-sample")
