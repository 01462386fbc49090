"""The Fairfax sample as optimiser input: blocks as demand units, schools, today's plan.

Demand per block = population x the level's rate calibrated on the county's membership (the
sample's import does the same, ``service/sample.py``). Today's plan is the blocks' ``*_current``
school, which is what ``zones_*.geojson`` were dissolved from.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd

from geo.models import School
from geo.planning.demand import DemandUnit, calibrate_rates, units_from_frame

ROOT = Path(__file__).resolve().parent.parent
FAIRFAX = ROOT / "data" / "boundaries" / "fairfax"
LEVELS = {"elementary": ("ES", "elem_current"), "middle": ("MS", "middle_current"), "high": ("HS", "high_current")}


@dataclass(frozen=True)
class Fairfax:
    level: str
    units: tuple[DemandUnit, ...]
    schools: tuple[School, ...]
    start: dict[str, str]
    zones: gpd.GeoDataFrame
    blocks: gpd.GeoDataFrame


def load_fairfax(level: str, data: Path = FAIRFAX) -> Fairfax:
    """Units, schools (code = OBJECTID) and today's plan for one level."""
    tag, column = LEVELS[level]
    blocks = gpd.read_file(data / "blocks2020.gpkg").to_crs(4326)
    zones = gpd.read_file(data / f"zones_{tag}.geojson").to_crs(4326)
    sites = gpd.read_file(data / "schools.geojson").to_crs(4326)
    rates = calibrate_rates(population=float(blocks["pop"].sum()), level_totals={level: float(zones["membership"].sum())},
                            source=f"FCPS {tag} membership 2024-25")
    units, _ = units_from_frame(blocks, id_column="geoid20", population_column="pop", rates=rates)
    site = sites.set_index("OBJECTID")
    schools = tuple(
        School(code=str(int(z.object_id_school)), name=str(z["name"]), lon=float(site.geometry[int(z.object_id_school)].x),
               lat=float(site.geometry[int(z.object_id_school)].y), levels=(level,), capacity=int(z.capacity),
               enrolment=int(z.membership))
        for _, z in zones.iterrows())
    to_code = {int(z[column]): str(int(z.object_id_school)) for _, z in zones.iterrows()}
    start = {str(g): to_code[int(c)] for g, c in zip(blocks["geoid20"], blocks[column], strict=True)}
    return Fairfax(level, tuple(units), schools, start, zones, blocks)
