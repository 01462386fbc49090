"""Demand units: loading, validation, and assignment to zones by area share or containment."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
from shapely.geometry import MultiPolygon, Point, box

from geo.errors import InvalidGeometry, InvalidInput
from geo.io.read import read_frame
from geo.models import Zone
from geo.planning.demand import (
    DemandUnit,
    LevelRate,
    assign_units,
    calibrate_rates,
    units_from_frame,
    zone_demand,
)

FAIRFAX = Path(__file__).resolve().parents[3] / "data" / "boundaries" / "fairfax"


def _zone(x0: float, x1: float, y0: float = 38.80, y1: float = 38.82, code: str = "S") -> Zone:
    return Zone(school_codes=(code,), geometry=MultiPolygon([box(x0, y0, x1, y1)]), name=code)


def _frame(**cols: list) -> gpd.GeoDataFrame:
    geoms = [box(-77.30 + i * 0.001, 38.805, -77.2995 + i * 0.001, 38.8055) for i in range(len(next(iter(cols.values()))))]
    return gpd.GeoDataFrame({"uid": [f"u{i}" for i in range(len(geoms))], **cols}, geometry=geoms, crs=4326)


def test_load_level_and_grade_counts() -> None:
    units, rep = units_from_frame(_frame(prim=[10, 20], g1=[2, 3], g2=[4, 5]), id_column="uid",
                                  level_columns={"primary": "prim"}, grade_columns={"1": "g1", "Grade 2": "g2"})
    assert rep.method == "counts" and rep.totals["primary"] == 30 and rep.totals["grade 2"] == 9
    assert units[1].count("primary") == 20 and units[1].count("es") == 20  # "es" found by level kind
    assert units[1].grade_counts == {"1": 3.0, "2": 5.0}


def test_grade_counts_need_the_level_grades() -> None:
    units, _ = units_from_frame(_frame(g1=[2, 3], g2=[4, 5]), id_column="uid", grade_columns={"1": "g1", "2": "g2"})
    assert units[0].count("primary", grades=["1", "2"]) == 6
    with pytest.raises(InvalidInput, match="grade counts"):
        units[0].count("primary")


def test_population_rates_are_explained() -> None:
    rates = calibrate_rates(population=1000.0, level_totals={"primary": 80.0, "junior": 35.0}, source="bureau totals 2024")
    units, rep = units_from_frame(_frame(pop=[400, 600]), id_column="uid", population_column="pop", rates=rates)
    assert units[0].count("primary") == pytest.approx(32.0) and units[1].count("junior") == pytest.approx(21.0)
    assert rep.method == "population_rate" and rep.population == 1000
    en, zh = rep.explanations[0]
    assert "0.080000" in en and "80 pupils" in en and "bureau totals 2024" in en and "常住人口" in zh
    conf = LevelRate("primary", 0.07, "configured", "planning manual")
    assert "configured" in conf.explain()[0]


@pytest.mark.parametrize("bad", [[5, -1], [5, float("nan")], [5, "many"]])
def test_negative_or_missing_counts_rejected(bad: list) -> None:
    with pytest.raises(InvalidInput, match="negative") as info:
        units_from_frame(_frame(prim=bad), id_column="uid", level_columns={"primary": "prim"})
    assert info.value.where == "prim" and "row 1" in info.value.message


def test_other_bad_loads() -> None:
    with pytest.raises(InvalidInput, match="needs per-level"):
        units_from_frame(_frame(prim=[1]), id_column="uid")
    with pytest.raises(InvalidInput, match="no column"):
        units_from_frame(_frame(prim=[1]), id_column="uid", level_columns={"primary": "nope"})
    dup = _frame(prim=[1, 2]).assign(uid=["a", "a"])
    with pytest.raises(InvalidInput, match="twice"):
        units_from_frame(dup, id_column="uid", level_columns={"primary": "prim"})
    line = gpd.GeoDataFrame({"uid": ["l"], "prim": [1]}, geometry=[shapely.LineString([(0, 0), (1, 1)])], crs=4326)
    with pytest.raises(InvalidGeometry, match="unit l"):
        units_from_frame(line, id_column="uid", level_columns={"primary": "prim"})
    with pytest.raises(InvalidInput, match="negative"):
        calibrate_rates(population=10.0, level_totals={"primary": -1.0}, source="x")


def test_points_by_containment() -> None:
    zones = [_zone(-77.30, -77.29, code="A"), _zone(-77.29, -77.28, code="B")]
    units = [
        DemandUnit("in_a", Point(-77.295, 38.81), counts={"primary": 10}),
        DemandUnit("in_b", Point(-77.285, 38.81), counts={"primary": 20}),
        DemandUnit("edge", Point(-77.29, 38.81), counts={"primary": 4}),
        DemandUnit("away", Point(-77.0, 38.0), counts={"primary": 7}),
    ]
    a = assign_units(units, zones)
    assert a.outside == ("away",) and a.covered_twice == ("edge",)
    d = zone_demand(a, units, level="primary")
    assert d == pytest.approx([12.0, 22.0])  # the point on the shared edge counts half in each, once in all


def test_polygon_split_by_boundary_in_proportion() -> None:
    # A box split by a meridian at a quarter of its width: on the ellipsoid the area between two
    # meridians is proportional to the longitude difference, so the shares are 1/4 and 3/4.
    zones = [_zone(-77.30, -77.2975, code="W"), _zone(-77.2975, -77.28, code="E")]
    unit = DemandUnit("blk", box(-77.298, 38.805, -77.296, 38.815), counts={"primary": 100})
    a = assign_units([unit], zones)
    assert a.outside == () and a.partly_outside == () and a.covered_twice == ()
    assert dict(zip(a.zone_pos.tolist(), a.share.tolist(), strict=True)) == pytest.approx({0: 0.25, 1: 0.75}, rel=1e-6)
    assert zone_demand(a, [unit], level="primary") == pytest.approx([25.0, 75.0], rel=1e-6)
    assert "+proj=laea" in a.area_crs


def test_partly_outside_and_overlap_reported() -> None:
    zones = [_zone(-77.30, -77.29, code="A"), _zone(-77.30, -77.29, code="A2")]  # the same square twice
    half_out = DemandUnit("half", box(-77.291, 38.805, -77.289, 38.806), counts={"primary": 10})
    a = assign_units([half_out], [zones[0]])
    assert [u for u, _ in a.partly_outside] == ["half"] and a.partly_outside[0][1] == pytest.approx(0.5, rel=1e-6)
    assert zone_demand(a, [half_out], level="primary").sum() == pytest.approx(5.0, rel=1e-6)
    inside = DemandUnit("in", box(-77.299, 38.805, -77.298, 38.806), counts={"primary": 10})
    b = assign_units([inside], zones)
    assert b.covered_twice == ("in",)
    assert zone_demand(b, [inside], level="primary").sum() == pytest.approx(10.0)


def test_no_units_or_no_zones() -> None:
    unit = DemandUnit("u", Point(0, 0), counts={"primary": 3})
    a = assign_units([unit], [])
    assert a.outside == ("u",) and zone_demand(a, [unit], level="primary").shape == (0,)
    assert zone_demand(assign_units([], [_zone(0, 1)]), [], level="primary") == pytest.approx([0.0])


@pytest.fixture(scope="module")
def fairfax_blocks() -> gpd.GeoDataFrame:
    return read_frame(FAIRFAX / "blocks2020.gpkg")


def test_real_block_split_in_proportion(fairfax_blocks: gpd.GeoDataFrame) -> None:
    """A real Fairfax block cut by a made-up boundary through its middle splits by area, checked
    against geopandas areas in the block's UTM zone (an independent computation)."""
    blocks = fairfax_blocks
    row = blocks.loc[blocks["pop"].idxmax()]
    geom = row.geometry
    minx, miny, maxx, maxy = geom.bounds
    cut = (minx + maxx) / 2
    west = MultiPolygon([box(minx - 0.01, miny - 0.01, cut, maxy + 0.01)])
    east = MultiPolygon([box(cut, miny - 0.01, maxx + 0.01, maxy + 0.01)])
    units, _ = units_from_frame(blocks[blocks.geoid20 == row.geoid20], id_column="geoid20", level_columns={"all": "pop"})
    a = assign_units(units, [Zone(("W",), west), Zone(("E",), east)])
    utm = blocks.estimate_utm_crs()
    parts = gpd.GeoSeries([geom.intersection(west), geom.intersection(east), geom], crs=4326).to_crs(utm).area.to_numpy()
    expected = parts[:2] / parts[2]
    assert 0.05 < expected[0] < 0.95  # the cut really splits the block
    assert a.share == pytest.approx(expected, rel=1e-4)
    assert zone_demand(a, units, level="all") == pytest.approx(row["pop"] * expected, rel=1e-4)
    assert np.isclose(zone_demand(a, units, level="all").sum(), row["pop"])
