"""Lookup on the real Greater Sydney sample: the parent's question, and its edge cases."""

from __future__ import annotations

import numpy as np
import shapely
from fastapi.testclient import TestClient

from geo.index.zones import ZoneIndex
from service.storage.base import Repository

# A house in East Lindfield (Sydney), EPSG:4326 (lon, lat).
LINDFIELD = (151.1796, -33.7738)


def level(body: dict, name: str) -> dict:
    return next(lv for lv in body["levels"] if lv["level"] == name)


def test_lindfield_primary_and_high_with_distances(shared_client: TestClient) -> None:
    r = shared_client.get("/v1/lookup", params={"lon": LINDFIELD[0], "lat": LINDFIELD[1]})
    assert r.status_code == 200, r.text
    body = r.json()
    primary = level(body, "primary")
    assert [z["zone_name"] for z in primary["zones"]] == ["Lindfield EPS"]
    school = primary["zones"][0]["schools"][0]
    assert school["name"] == "Lindfield East Public School"
    assert 100 < school["distance_m"] < 3000
    high = level(body, "high")
    assert high["covered"] and all(s["distance_m"] > 0 for z in high["zones"] for s in z["schools"])
    assert {"en", "zh"} <= set(body["explanation"])
    assert "Lindfield East Public School" in body["explanation"]["en"]
    assert body["crs"] == "EPSG:4326"


def _shared_vertex(repo: Repository) -> tuple[float, float, set[int]]:
    """A vertex that two adjacent primary zones both have: exactly on their shared edge."""
    entries = [(p, z) for p, z in repo.adopted_zones() if p.level == "primary" and p.district == "nsw"]
    coords = {}
    for _, z in entries[:400]:
        for xy in shapely.get_coordinates(z.geometry.boundary):
            coords.setdefault((float(xy[0]), float(xy[1])), set()).add(z.id)
    for xy, ids in coords.items():
        if len(ids) == 2:
            return xy[0], xy[1], ids
    raise AssertionError("no shared vertex found in the sample")


def test_point_on_shared_edge_returns_both_zones_flagged(client: TestClient, repo: Repository) -> None:
    lon, lat, ids = _shared_vertex(repo)
    body = client.get("/v1/lookup", params={"lon": lon, "lat": lat, "level": "primary"}).json()
    zones = level(body, "primary")["zones"]
    assert {z["zone_id"] for z in zones} == ids
    assert all(z["on_boundary"] for z in zones)
    assert all(z["near_boundary_m"] is not None and z["near_boundary_m"] < 0.5 for z in zones)
    assert "boundary" in body["explanation"]["en"] and "边界" in body["explanation"]["zh"]


def test_near_boundary_warning_inside_50_m(client: TestClient, repo: Repository) -> None:
    zone = next(z for p, z in repo.adopted_zones() if z.name == "Lindfield EPS")
    inner = zone.geometry.buffer(-0.0002)  # about 20 m inside the edge
    lon, lat = shapely.get_coordinates(inner.exterior if inner.geom_type == "Polygon" else inner.geoms[0].exterior)[0]
    zones = level(client.get("/v1/lookup", params={"lon": lon, "lat": lat, "level": "primary"}).json(), "primary")["zones"]
    assert len(zones) == 1 and not zones[0]["on_boundary"]
    assert 5 < zones[0]["near_boundary_m"] < 50


def test_inside_a_hole_is_not_in_the_zone(client: TestClient, repo: Repository) -> None:
    holed = [(z, poly) for _, z in repo.adopted_zones() for poly in z.geometry.geoms if len(poly.interiors) > 0]
    assert holed, "the sample has zones with holes"
    zone, poly = holed[0]
    hole = shapely.Polygon(poly.interiors[0])
    pt = hole.representative_point()
    body = client.get("/v1/lookup", params={"lon": pt.x, "lat": pt.y}).json()
    assert zone.id not in {z["zone_id"] for lv in body["levels"] for z in lv["zones"]}
    inside = poly.representative_point()
    body = client.get("/v1/lookup", params={"lon": inside.x, "lat": inside.y}).json()
    assert zone.id in {z["zone_id"] for lv in body["levels"] for z in lv["zones"]}


def test_every_part_of_a_multipolygon_answers(client: TestClient, repo: Repository) -> None:
    multi = next(z for _, z in repo.adopted_zones() if len(z.geometry.geoms) > 1)
    for part in multi.geometry.geoms:
        pt = part.representative_point()
        body = client.get("/v1/lookup", params={"lon": pt.x, "lat": pt.y}).json()
        assert multi.id in {z["zone_id"] for lv in body["levels"] for z in lv["zones"]}


def test_outside_all_zones_lists_nearest_schools(shared_client: TestClient) -> None:
    # In the Tasman Sea off Bondi: no catchment covers it.
    body = shared_client.get("/v1/lookup", params={"lon": 151.32, "lat": -33.90, "level": "primary"}).json()
    primary = level(body, "primary")
    assert not primary["covered"] and primary["zones"] == []
    dists = [s["distance_m"] for s in primary["nearest_schools"]]
    assert len(dists) == 3 and dists == sorted(dists) and dists[0] > 1000
    assert "primary" in primary["nearest_schools"][0]["levels"]
    assert "no zone" in body["explanation"]["en"]


def test_nearest_schools_stay_near(shared_client: TestClient) -> None:
    """Off Bondi no zone covers the point: NSW's levels list their nearest schools, Fairfax's
    elementary schools (15,000 km away) are not offered; asked for, the answer says none is near."""
    body = shared_client.get("/v1/lookup", params={"lon": 151.32, "lat": -33.90}).json()
    assert {lv["level"] for lv in body["levels"]} == {"primary", "high"}
    assert all(s["distance_m"] <= 50_000 for lv in body["levels"] for s in lv["nearest_schools"])
    assert "Virginia" not in body["explanation"]["en"] and "elementary" not in body["explanation"]["en"]
    far = shared_client.get("/v1/lookup", params={"lon": 151.32, "lat": -33.90, "level": "elementary"}).json()
    assert level(far, "elementary")["nearest_schools"] == []
    assert "no elementary school is within 50.0 km" in far["explanation"]["en"]
    assert "50.0 公里范围内也没有该学段的学校" in far["explanation"]["zh"] and far["explanation"]["zh"].startswith("小学：")
    sea = shared_client.get("/v1/lookup", params={"lon": 170.0, "lat": -40.0}).json()
    assert sea["levels"] == [] and "no school is near enough" in sea["explanation"]["en"]


def test_grade_filter_picks_the_level(shared_client: TestClient) -> None:
    k = shared_client.get("/v1/lookup", params={"lon": LINDFIELD[0], "lat": LINDFIELD[1], "grade": "K"}).json()
    covered = {lv["level"] for lv in k["levels"] if lv["covered"]}
    assert covered == {"primary"}
    y9 = shared_client.get("/v1/lookup", params={"lon": LINDFIELD[0], "lat": LINDFIELD[1], "grade": "Year 9"}).json()
    assert {lv["level"] for lv in y9["levels"] if lv["covered"]} == {"high"}


def test_several_schools_in_one_zone(client: TestClient, keys: dict[str, str], repo: Repository) -> None:
    from tests.conftest import bearer

    zone = next(z for _, z in repo.adopted_zones() if z.name == "Lindfield EPS")
    plan = client.post("/v1/plans", json={"name": "shared zone", "level": "primary", "school_year": 2027, "district": "nsw"},
                       headers=bearer(keys["planner"])).json()
    doc = {"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": zone.geometry.__geo_interface__,
                                                      "properties": {"school_codes": ["2404", "2403"], "name": "Lindfield shared"}}]}
    r = client.put(f"/v1/plans/{plan['id']}/zones", json=doc, headers=bearer(keys["planner"]) | {"If-Match": f'"{plan["version"]}"'})
    assert r.status_code == 200, r.text
    assert client.post(f"/v1/plans/{plan['id']}/adopt", headers=bearer(keys["planner"]) | {"If-Match": r.headers["ETag"]}).status_code == 200
    body = client.get("/v1/lookup", params={"lon": LINDFIELD[0], "lat": LINDFIELD[1], "level": "primary", "year": 2027}).json()
    zones = level(body, "primary")["zones"]
    assert len(zones) == 1 and zones[0]["multi_school"]
    assert {s["code"] for s in zones[0]["schools"]} == {"2404", "2403"}
    assert "several schools" in body["explanation"]["en"] and "多校划片" in body["explanation"]["zh"]
    # The 2026 answer is unchanged: the new plan is for 2027.
    old = client.get("/v1/lookup", params={"lon": LINDFIELD[0], "lat": LINDFIELD[1], "level": "primary", "year": 2026}).json()
    assert level(old, "primary")["zones"][0]["zone_name"] == "Lindfield EPS"


def test_out_of_range_coordinates_are_422_problems(shared_client: TestClient) -> None:
    for params in ({"lon": 200, "lat": 0}, {"lon": 0, "lat": -91}, {"lon": "x", "lat": 1}, {"lat": 1}):
        r = shared_client.get("/v1/lookup", params=params)
        assert r.status_code == 422
        assert r.headers["content-type"] == "application/problem+json"
        assert r.json()["where"].startswith("query")
    r = shared_client.get("/v1/lookup", params={"lon": 151, "lat": -33, "grade": "Year 99"})
    assert r.status_code == 422 and r.json()["where"] == "grade"


def test_bulk_index_agrees_with_geopandas_sjoin(repo: Repository) -> None:
    import geopandas as gpd

    entries = repo.adopted_zones()
    index = ZoneIndex(entries)
    rng = np.random.default_rng(7)
    x0, y0, x1, y1 = shapely.total_bounds(index.geoms[[e.plan.district == "nsw" for e in index.entries]])
    xs, ys = rng.uniform(x0, x1, 30_000), rng.uniform(y0, y1, 30_000)
    pi, zi = index.query_bulk(xs, ys)
    ours = set(zip(pi.tolist(), [index.entries[z].zone.id for z in zi.tolist()], strict=True))
    zones = gpd.GeoDataFrame({"zone_id": [e.zone.id for e in index.entries]}, geometry=list(index.geoms), crs=4326)
    pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(xs, ys), crs=4326)
    joined = gpd.sjoin(pts, zones, predicate="intersects")
    theirs = set(zip(joined.index.tolist(), joined["zone_id"].tolist(), strict=True))
    assert len(ours) > 20_000
    assert ours == theirs
