"""Street networks built once per test session from the bundled OSM extracts."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from geo.io.osm_schools import read_osm_schools
from geo.models import School
from geo.network.build import build_network
from geo.network.graph import StreetNetwork, TravelMode

ROOT = Path(__file__).resolve().parents[2]
HELSINKI = ROOT / "tests" / "data" / "osm" / "Helsinki.osm.pbf"
PORTLAND = ROOT / "data" / "osm" / "portland.osm.pbf"


@cache
def helsinki(mode: TravelMode) -> StreetNetwork:
    return build_network(HELSINKI, mode=mode)


@cache
def portland_walk() -> StreetNetwork:
    return build_network(PORTLAND, mode="walk")


@cache
def helsinki_schools() -> tuple[School, ...]:
    return tuple(read_osm_schools(HELSINKI))
