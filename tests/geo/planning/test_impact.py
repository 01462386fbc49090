"""Impact of moving real Fairfax census blocks from an overcrowded school to its neighbour."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import math

import numpy as np
import pytest
import shapely
from pyproj import Geod

from geo.models import School, Zone
from geo.planning.demand import assign_units
from geo.planning.edit import add_planned_school, move_units
from geo.planning.impact import PlanImpact, _assign_both, compare_plans
from geo.planning.notice import changed_areas, notice_text
from geo.standards import UTILISATION_BANDS, get_profile
from tests.geo.planning_data import LEVEL, by_name, schools, transfer, units, utm, utm_area, zones

GEOD = Geod(ellps="WGS84")
RADIUS = 1600.0


@pytest.fixture(scope="module")
def move() -> tuple[Zone, Zone, list[str], list[Zone]]:
    # Coates is the most overcrowded elementary school (membership / capacity 1.37).
    src, dst, ids = transfer("Coates", 6)
    after = move_units(list(zones()), units=units(), to_school={uid: dst.school_codes[0] for uid in ids})
    return src, dst, ids, after


@pytest.fixture(scope="module")
def impact(move: tuple[Zone, Zone, list[str], list[Zone]]) -> PlanImpact:
    return compare_plans(zones(), move[3], units=units(), schools=schools(), level=LEVEL, service_radius_m=RADIUS)


def _moved_pupils(src: Zone, ids: list[str]) -> dict[str, float]:
    """Children of each moved block inside the source zone, by hand: area share in UTM 18N."""
    out = {}
    for u in units():
        if u.id in ids:
            share = utm_area(u.geometry.intersection(src.geometry)) / utm_area(u.geometry)
            out[u.id] = u.count(LEVEL) * share
    return out


def test_every_moved_block_goes_from_source_to_target(move: tuple[Zone, Zone, list[str], list[Zone]],
                                                      impact: PlanImpact) -> None:
    src, dst, ids, _ = move
    assert schools()[src.school_codes[0]].name == "Coates"
    by_hand = _moved_pupils(src, ids)
    assert {c.unit_id for c in impact.changes} == set(ids)
    assert all(c.from_schools == src.school_codes and c.to_schools == dst.school_codes for c in impact.changes)
    for c in impact.changes:
        assert c.pupils == pytest.approx(by_hand[c.unit_id], rel=1e-3)
    assert impact.units_changed == 6
    assert impact.pupils_moved == pytest.approx(sum(by_hand.values()), rel=1e-3)
    [flow] = impact.flows
    assert (flow.from_schools, flow.to_schools, flow.units) == (src.school_codes, dst.school_codes, 6)
    labels, matrix = impact.flow_matrix()
    assert sum(map(sum, matrix)) == pytest.approx(impact.pupils_moved, abs=0.01)
    assert matrix[labels.index(src.school_codes[0])][labels.index(dst.school_codes[0])] == pytest.approx(flow.pupils, abs=0.01)


def test_school_tallies_add_up(move: tuple[Zone, Zone, list[str], list[Zone]], impact: PlanImpact) -> None:
    src, dst, _, _ = move
    rows = {s.code: s for s in impact.schools}
    assert len(rows) == 138
    moved = impact.pupils_moved
    a, b = rows[src.school_codes[0]], rows[dst.school_codes[0]]
    assert a.demand_before is not None and a.demand_after is not None
    assert a.demand_after == pytest.approx(a.demand_before - moved, abs=1e-6)
    assert b.demand_after == pytest.approx((b.demand_before or 0) + moved, abs=1e-6)
    others = [r for code, r in rows.items() if code not in (a.code, b.code)]
    assert all(abs(r.change or 0.0) < 1e-6 for r in others)
    assert sum(r.demand_before or 0 for r in rows.values()) == pytest.approx(sum(r.demand_after or 0 for r in rows.values()))
    for r in (a, b):
        cap = schools()[r.code].capacity
        assert r.capacity == cap and cap
        assert r.utilisation_before == pytest.approx((r.demand_before or 0) / cap)
        assert r.utilisation_after == pytest.approx((r.demand_after or 0) / cap)
        assert r.band_after is not None and r.band_after == UTILISATION_BANDS.classify(r.utilisation_after or 0)
    assert (a.utilisation_after or 0) < (a.utilisation_before or 0)


def test_distances_of_the_moved_pupils(move: tuple[Zone, Zone, list[str], list[Zone]], impact: PlanImpact) -> None:
    src, dst, ids, _ = move
    target = schools()[dst.school_codes[0]]
    by_hand = _moved_pupils(src, ids)
    pts = {u.id: u.geometry.representative_point() for u in units() if u.id in ids}
    dist = {uid: GEOD.inv(p.x, p.y, target.lon, target.lat)[2] for uid, p in pts.items()}
    order = sorted(dist, key=dist.__getitem__)
    weights = np.cumsum([by_hand[u] for u in order])
    median = dist[order[int(np.searchsorted(weights, weights[-1] / 2))]]
    after = impact.moved_distance_after
    assert after.pupils == pytest.approx(impact.pupils_moved, rel=1e-6)
    assert after.median_m == pytest.approx(median, rel=1e-6)
    within = sum(by_hand[u] for u in ids if dist[u] <= RADIUS) / sum(by_hand.values())
    assert after.share_within == pytest.approx(within, rel=1e-6) and after.radius_m == RADIUS
    assert impact.distance_before.pupils == pytest.approx(impact.distance_after.pupils, rel=1e-9)
    assert impact.distance_before.median_m is not None and impact.distance_before.p90_m is not None
    assert impact.distance_before.median_m <= impact.distance_before.p90_m


def test_reassigning_only_units_near_changed_zones_matches_a_full_assignment(
        move: tuple[Zone, Zone, list[str], list[Zone]]) -> None:
    after = move[3]
    _, fast = _assign_both(zones(), after, units())
    full = assign_units(units(), after)
    assert np.array_equal(fast.unit_pos, full.unit_pos) and np.array_equal(fast.zone_pos, full.zone_pos)
    assert np.allclose(fast.share, full.share, rtol=0, atol=1e-12)
    assert sorted(fast.outside) == sorted(full.outside)


def test_tables_for_csv_and_json(impact: PlanImpact) -> None:
    for table in ("units", "flows", "schools", "distance"):
        rows = impact.to_rows(table)
        assert rows
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
        assert buf.getvalue().count("\n") == len(rows) + 1
    doc = json.loads(json.dumps(impact.as_dict()))
    assert doc["units_changed"] == 6 and len(doc["flow_matrix"]["labels"]) == 2
    assert doc["schools"][0]["band_before_zh"]


def test_same_plan_changes_nothing() -> None:
    same = compare_plans(zones(), list(zones()), units=units(), schools=schools(), level=LEVEL)
    assert not same.changes and not same.flows and same.pupils_moved == 0
    assert all(abs(s.change or 0.0) < 1e-9 for s in same.schools)


def test_class_sizes_and_balance_with_standards(move: tuple[Zone, Zone, list[str], list[Zone]]) -> None:
    src, _, _, after = move
    # Fairfax publishes no class counts or resource fields: give every school some, for the mechanism.
    book = {c: dataclasses.replace(s, classes=20, attributes={**s.attributes, "teaching_area_m2": float(s.capacity) * 5})
            if s.capacity else s for c, s in schools().items()}
    cn = get_profile("cn")
    result = compare_plans(zones(), after, units=units(), schools=book, level=LEVEL, profile=cn)
    row = next(r for r in result.schools if r.code == src.school_codes[0])
    assert row.class_size_standard == 45
    assert row.class_size_before == pytest.approx((row.demand_before or 0) / 20)
    assert row.classes_needed_after == math.ceil(round((row.demand_after or 0) / 45, 6))
    assert row.class_size_band_before is not None
    assert result.distance_after.radius_m == 500.0  # the profile's primary service radius
    for when, rows in (("before", {r.code: r.demand_before for r in result.schools}),
                       ("after", {r.code: r.demand_after for r in result.schools})):
        have = [(float(book[c].attributes["teaching_area_m2"]), round(d)) for c, d in rows.items()
                if d and "teaching_area_m2" in book[c].attributes and round(d) > 0]
        r_, n_ = np.array([h[0] for h in have]), np.array([h[1] for h in have], dtype=float)
        xbar = r_.sum() / n_.sum()
        cv = math.sqrt(float(np.sum(n_ / n_.sum() * (r_ / n_ - xbar) ** 2))) / xbar
        got = result.balance_before if when == "before" else result.balance_after
        assert got["teaching_area_m2"] == pytest.approx(cv, rel=1e-9)
    assert result.balance_before["teaching_area_m2"] != result.balance_after["teaching_area_m2"]


def test_planned_school_takes_pupils_from_its_host() -> None:
    host = by_name("Coates")
    site = host.geometry.representative_point()
    new = School(code="planned-ff-1", name="New Elementary", lon=site.x, lat=site.y, capacity=600, levels=("es",))
    stored, after = add_planned_school(list(zones()), school=new, geometry=site.buffer(0.01))
    book = {**schools(), new.code: stored}
    result = compare_plans(zones(), after, units=units(), schools=book, level=LEVEL)
    row = next(r for r in result.schools if r.code == new.code)
    assert row.demand_before == 0 and (row.demand_after or 0) > 0
    into = sum(f.pupils for f in result.flows if f.to_schools == (new.code,))
    assert into == pytest.approx(row.demand_after, rel=1e-9)


def test_change_notice_lists_the_area(move: tuple[Zone, Zone, list[str], list[Zone]]) -> None:
    src, dst, ids, after = move
    changes = changed_areas(zones(), after, schools=schools(), year=2025)
    assert len(changes) == 1
    [c] = changes
    assert (c.from_schools, c.to_schools) == (src.school_codes, dst.school_codes)
    blocks = shapely.union_all([u.geometry for u in units() if u.id in ids])
    assert c.area_m2 == pytest.approx(utm_area(blocks.intersection(src.geometry)), rel=2e-3)
    assert utm(c.geometry).symmetric_difference(utm(blocks.intersection(src.geometry))).area < 50.0
    names = schools()[src.school_codes[0]].name, schools()[dst.school_codes[0]].name
    assert all(n in c.text["en"] and n in c.text["zh"] for n in names) and "2025" in c.text["zh"]
    text = notice_text(changes, plan_name="FCPS elementary draft", year=2025)
    assert text["en"].count("\n") == 1 and "招生片区调整公告" in text["zh"]
    feature = json.loads(json.dumps(c.as_feature()))
    assert feature["geometry"]["type"] == "MultiPolygon"
    assert not changed_areas(zones(), list(zones()), schools=schools())
