"""Real Fairfax County elementary data for the planning tests (validate, edit, impact, notice).

Files: data/boundaries/fairfax (see data/boundaries/README.md). Zones get ``id`` =
``elem_current`` (the FCPS zone number, also on every census block), schools are keyed by
``OBJECTID`` (the zones' ``object_id_school``). Demand: 2020 block population times the county's
elementary membership per resident (geo.planning.demand's calibrated rate). Areas measured here use UTM
18N (EPSG:32618), independently of the equal-area projection the code under test picks.
"""

from __future__ import annotations

import dataclasses
from functools import cache
from pathlib import Path

import numpy as np
import shapely
from pyproj import Transformer

from geo.io.read import parse_schools, parse_zones, read_frame
from geo.models import School, Zone
from geo.planning.demand import DemandUnit, calibrate_rates, units_from_frame

FAIRFAX = Path(__file__).resolve().parents[2] / "data" / "boundaries" / "fairfax"
LEVEL = "es"
K6 = ("K", "1", "2", "3", "4", "5", "6")
_UTM = Transformer.from_crs("EPSG:4326", "EPSG:32618", always_xy=True)


@cache
def schools() -> dict[str, School]:
    frame = read_frame(FAIRFAX / "schools.geojson")
    out, report = parse_schools(frame, mapping={"code": "OBJECTID", "name": "SCHOOL_NAM", "levels": "SCHOOL_TYP",
                                                "grades": "GRADES", "capacity": "capacity", "enrolment": "membership",
                                                "address": "ADDRESS"})
    assert not report.rejected
    return {s.code: s for s in out}


@cache
def zones() -> tuple[Zone, ...]:
    frame = read_frame(FAIRFAX / "zones_ES.geojson")
    out, report = parse_zones(frame, mapping={"school_code": "object_id_school", "name": "name"})
    assert not report.rejected and len(out) == 138
    return tuple(dataclasses.replace(z, id=int(z.attributes["elem_current"])) for z in out)


@cache
def units() -> tuple[DemandUnit, ...]:
    blocks = read_frame(FAIRFAX / "blocks2020.gpkg")
    membership = float(read_frame(FAIRFAX / "zones_ES.geojson")["membership"].sum())
    rates = calibrate_rates(population=float(blocks["pop"].sum()), level_totals={LEVEL: membership},
                            source="FCPS elementary membership 2024-25")
    out, _ = units_from_frame(blocks, id_column="geoid20", population_column="pop", rates=rates,
                              attribute_columns=["elem_current"])
    return out


def by_name(name: str) -> Zone:
    return next(z for z in zones() if z.name == name)


def utm(geom: shapely.Geometry) -> shapely.Geometry:
    """EPSG:4326 -> UTM 18N metres, for measuring by hand."""
    return shapely.transform(geom, lambda xy: np.column_stack(_UTM.transform(xy[:, 0], xy[:, 1])))


def utm_area(geom: shapely.Geometry) -> float:
    return float(shapely.area(utm(geom)))


def shift_m(geom: shapely.Geometry, *, east: float = 0.0, north: float = 0.0) -> shapely.Geometry:
    """Move a geometry by metres east/north (through UTM 18N and back)."""
    back = Transformer.from_crs("EPSG:32618", "EPSG:4326", always_xy=True)
    moved = shapely.transform(utm(geom), lambda xy: xy + np.array([east, north]))
    return shapely.transform(moved, lambda xy: np.column_stack(back.transform(xy[:, 0], xy[:, 1])))


def square(lon: float, lat: float, side_m: float) -> shapely.Geometry:
    """A square of ``side_m`` metres with its south-west corner at (lon, lat)."""
    back = Transformer.from_crs("EPSG:32618", "EPSG:4326", always_xy=True)
    x, y = _UTM.transform(lon, lat)
    box = shapely.box(x, y, x + side_m, y + side_m)
    return shapely.transform(box, lambda xy: np.column_stack(back.transform(xy[:, 0], xy[:, 1])))


def neighbours(zone: Zone) -> list[tuple[Zone, float]]:
    """Zones sharing a border with ``zone``, longest shared border (metres) first."""
    out = []
    for z in zones():
        if z.id == zone.id or not z.geometry.touches(zone.geometry):
            continue
        shared = float(shapely.length(utm(shapely.intersection(z.geometry.boundary, zone.geometry.boundary))))
        if shared > 0:
            out.append((z, shared))
    return sorted(out, key=lambda p: -p[1])


def blocks_along(src: Zone, dst: Zone) -> list[str]:
    """Ids of the census blocks of ``src`` with children that lie along ``dst``, in id order.

    Block edges and zone edges are not vertex-identical, so "along" means within about a metre.
    """
    return sorted(u.id for u in units() if u.attributes["elem_current"] == src.id and u.count(LEVEL) > 0
                  and shapely.dwithin(u.geometry, dst.geometry, 1e-5))


def transfer(src_name: str, n: int) -> tuple[Zone, Zone, list[str]]:
    """(source zone, the neighbour with most populated blocks along it, ``n`` of those blocks)."""
    src = by_name(src_name)
    dst = max((z for z, _ in neighbours(src)), key=lambda z: len(blocks_along(src, z)))
    picked = blocks_along(src, dst)[:n]
    assert len(picked) == n
    return src, dst, picked
