"""geo.crs: EPSG conversions (pyproj) and GCJ-02 / BD-09 with measured round-trip errors."""

from __future__ import annotations

import math

import numpy as np
import prcoords
import pytest

from geo.crs import (
    bd09_to_wgs84,
    from_wgs84,
    gcj02_to_wgs84,
    in_china,
    parse_crs,
    point_to_wgs84,
    to_wgs84,
    wgs84_to_bd09,
    wgs84_to_gcj02,
)
from geo.distance import geodesic_m
from geo.errors import InvalidInput


@pytest.fixture(scope="module")
def china_points() -> tuple[np.ndarray, np.ndarray]:
    """5,000 random WGS84 points inside the mainland-China test (seeded)."""
    rng = np.random.default_rng(20240601)
    lon = rng.uniform(73.5, 135.0, 40_000)
    lat = rng.uniform(18.0, 53.5, 40_000)
    keep = in_china(lon, lat)
    return lon[keep][:5000], lat[keep][:5000]


CITIES_IN = {"Beijing": (116.397, 39.909), "Shanghai": (121.474, 31.230), "Urumqi": (87.617, 43.826),
             "Harbin": (126.535, 45.803), "Lhasa": (91.117, 29.653), "Sanya": (109.512, 18.253),
             "Kunming": (102.833, 24.880), "Hong Kong": (114.172, 22.302)}
CITIES_OUT = {"Sydney": (151.209, -33.868), "Taipei": (121.565, 25.033), "Seoul": (126.978, 37.566),
              "Tokyo": (139.692, 35.690), "Hanoi": (105.834, 21.028), "Ulaanbaatar": (106.917, 47.918),
              "London": (-0.128, 51.507)}


def test_china_test_on_cities() -> None:
    lon, lat = np.array(list(CITIES_IN.values())).T
    assert in_china(lon, lat).all()
    lon, lat = np.array(list(CITIES_OUT.values())).T
    assert not in_china(lon, lat).any()


def test_forward_matches_prcoords(china_points: tuple[np.ndarray, np.ndarray]) -> None:
    lon, lat = china_points
    g_lon, g_lat = wgs84_to_gcj02(lon, lat)
    b_lon, b_lat = wgs84_to_bd09(lon, lat)
    for i in range(0, lon.size, 50):
        ref = prcoords.wgs_gcj((lat[i], lon[i]), False)
        assert (g_lon[i], g_lat[i]) == pytest.approx((ref.lon, ref.lat), abs=1e-11)
        ref_bd = prcoords.wgs_bd((lat[i], lon[i]), False)
        assert (b_lon[i], b_lat[i]) == pytest.approx((ref_bd.lon, ref_bd.lat), abs=1e-11)
    # The offset is real: between ~10 m and ~1 km everywhere in China.
    shift = geodesic_m(lon, lat, g_lon, g_lat)
    assert shift.min() > 10 and shift.max() < 1500


@pytest.mark.parametrize("crs", ["gcj02", "bd09"])
def test_inverse_round_trip_below_1cm(crs: str, china_points: tuple[np.ndarray, np.ndarray]) -> None:
    lon, lat = china_points
    # WGS84 -> offset -> WGS84 (what a client converting our answers back and forth sees) ...
    x, y = from_wgs84(lon, lat, crs)
    back_lon, back_lat = to_wgs84(x, y, crs)
    err = geodesic_m(lon, lat, back_lon, back_lat)
    # ... and offset -> WGS84 -> offset (the inverse solves the forward formula).
    fx, fy = from_wgs84(back_lon, back_lat, crs)
    err_fwd = geodesic_m(x, y, fx, fy)
    print(f"{crs}: max round-trip error {err.max() * 1000:.6f} mm, forward residual {err_fwd.max() * 1000:.6f} mm")
    assert err.max() < 0.01
    assert err_fwd.max() < 0.01


def test_one_step_inverse_is_not_good_enough(china_points: tuple[np.ndarray, np.ndarray]) -> None:
    """Why iterate: prcoords' rough one-step inverse misses by far more than 1 cm somewhere."""
    lon, lat = china_points
    g_lon, g_lat = wgs84_to_gcj02(lon, lat)
    rough = [prcoords.gcj_wgs((b, a), False) for a, b in zip(g_lon[:500], g_lat[:500], strict=True)]
    err = geodesic_m(lon[:500], lat[:500], [r.lon for r in rough], [r.lat for r in rough])
    assert err.max() > 0.1


def test_identity_outside_china() -> None:
    lon, lat = np.array(list(CITIES_OUT.values())).T
    for crs in ("gcj02", "bd09"):
        x, y = to_wgs84(lon, lat, crs)
        assert np.array_equal(x, lon) and np.array_equal(y, lat)
        x, y = from_wgs84(lon, lat, crs)
        assert np.array_equal(x, lon) and np.array_equal(y, lat)


def test_wgs84_is_identity_and_shape_kept() -> None:
    lon = np.array([[151.2, 116.4], [121.5, -0.1]])
    lat = np.array([[-33.9, 39.9], [31.2, 51.5]])
    x, y = to_wgs84(lon, lat, "EPSG:4326")
    assert x.shape == (2, 2) and np.array_equal(x, lon) and np.array_equal(y, lat)
    gx, _ = to_wgs84(lon, lat, "gcj02")
    assert gx.shape == (2, 2)
    assert gx[0, 0] == 151.2 and gx[0, 1] != 116.4  # only the Chinese points move


def test_web_mercator_against_formula_and_round_trip() -> None:
    rng = np.random.default_rng(7)
    lon = rng.uniform(-180, 180, 2000)
    lat = rng.uniform(-85, 85, 2000)
    x, y = from_wgs84(lon, lat, "EPSG:3857")
    r = 6378137.0  # spherical Web Mercator radius
    assert np.allclose(x, r * np.radians(lon), atol=1e-6)
    assert np.allclose(y, r * np.log(np.tan(np.pi / 4 + np.radians(lat) / 2)), atol=1e-6)
    back_lon, back_lat = to_wgs84(x, y, "epsg:3857")
    assert geodesic_m(lon, lat, back_lon, back_lat).max() < 1e-6


def test_utm_round_trip_and_central_meridian() -> None:
    # UTM zone 50N (EPSG:32650), central meridian 117E: the equator point there is (500000, 0).
    x, y = from_wgs84(117.0, 0.0, "EPSG:32650")
    assert float(x) == pytest.approx(500000.0, abs=1e-6) and float(y) == pytest.approx(0.0, abs=1e-6)
    rng = np.random.default_rng(11)
    lon = rng.uniform(114.0, 120.0, 1000)
    lat = rng.uniform(22.0, 45.0, 1000)
    e, n = from_wgs84(lon, lat, "EPSG:32650")
    back_lon, back_lat = to_wgs84(e, n, "EPSG:32650")
    assert geodesic_m(lon, lat, back_lon, back_lat).max() < 1e-6
    # Sydney in its own zone (56S, EPSG:32756): easting/northing in range.
    e, n = from_wgs84(151.2093, -33.8688, "EPSG:32756")
    assert 300_000 < float(e) < 700_000 and 6_000_000 < float(n) < 7_000_000


def test_point_helper_returns_floats() -> None:
    lon, lat = point_to_wgs84(121.474, 31.230, "gcj02")
    assert isinstance(lon, float) and isinstance(lat, float)
    assert math.dist((lon, lat), (121.474, 31.230)) > 1e-4  # moved by the offset


@pytest.mark.parametrize("bad", ["", "   ", "foo", "EPSG:", "EPSG:999999", "bd09mc", "EPSG:4326; DROP TABLE"])
def test_bad_crs(bad: str) -> None:
    with pytest.raises(InvalidInput) as err:
        to_wgs84(1.0, 2.0, bad)
    assert err.value.where == "crs"


def test_crs_names() -> None:
    assert parse_crs("WGS84") == parse_crs("EPSG:4326") == parse_crs("CRS84") == "wgs84"
    assert parse_crs("GCJ-02") == "gcj02" and parse_crs("bd09ll") == "bd09"
    assert parse_crs("epsg:3857") == "EPSG:3857"


@pytest.mark.parametrize(("x", "y", "crs"), [
    (float("nan"), 30.0, "gcj02"), (120.0, float("inf"), "wgs84"), (120.0, 95.0, "gcj02"),
    (200.0, 30.0, "bd09"), ("abc", 30.0, "wgs84"), ([1.0, 2.0], [1.0, 2.0, 3.0], "EPSG:3857"),
])
def test_bad_coordinates(x: object, y: object, crs: str) -> None:
    with pytest.raises(InvalidInput):
        to_wgs84(x, y, crs)  # type: ignore[arg-type]


def test_out_of_domain_projected_coordinates() -> None:
    with pytest.raises(InvalidInput):
        to_wgs84(5e7, 1e7, "EPSG:32650")  # 50,000 km east of UTM 50N's false origin


def test_inverse_functions_match_to_wgs84() -> None:
    g = (121.474, 31.230)
    assert tuple(map(float, gcj02_to_wgs84(*g))) == tuple(map(float, to_wgs84(*g, "gcj02")))
    assert tuple(map(float, bd09_to_wgs84(*g))) == tuple(map(float, to_wgs84(*g, "bd09")))


def test_out_of_range_coordinates_name_the_likely_crs() -> None:
    from geo.crs import check_lon_lat, likely_crs, lon_lat_problem

    assert lon_lat_problem(151.0, -33.9, 151.1, -33.8) is None
    assert "EPSG:3857" in (lon_lat_problem(16828167.0, -3999299.0, 16829167.0, -3998299.0) or "")
    assert "UTM/MGA" in likely_crs(334_000.0, 6_250_000.0)
    assert "360" in likely_crs(300.0, 10.0) and "swapped" in likely_crs(-33.9, 151.2)
    assert "finite" in (lon_lat_problem(float("nan"), 0.0, 1.0, 1.0) or "")
    with pytest.raises(InvalidInput) as err:
        check_lon_lat(500.0, -33.0, where="query.")
    assert err.value.where == "query.lon" and "outside -180..180" in err.value.message
    check_lon_lat(151.2, -33.9)
