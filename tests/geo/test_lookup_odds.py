"""The lookup answer carries a shared zone's admission odds and says them (geo only, no service).

TEST FIXTURE, made up: schools A and B share one zone, C has its own.
"""

from __future__ import annotations

from shapely.geometry import MultiPolygon, box

from geo.index.zones import ZoneIndex
from geo.lookup.answer import answer
from geo.lookup.odds import SchoolOdds, ZoneOdds, odds_key
from geo.lookup.resolve import SchoolBook
from geo.models import Plan, PlanStatus, School, Zone
from geo.standards import GENERIC

PLAN = Plan(id=7, name="2026 primary", level="primary", school_year=2026, status=PlanStatus.ADOPTED)
SCHOOLS = SchoolBook([School("A", "Huayuan Primary", 121.436, 31.19, levels=("primary",), name_local="华苑小学"),
                      School("B", "Caoxi Primary", 121.439, 31.19, levels=("primary",), name_local="漕溪小学"),
                      School("C", "Kangjian Primary", 121.425, 31.19, levels=("primary",))])
INDEX = ZoneIndex([(PLAN, Zone(("B", "A"), MultiPolygon([box(121.430, 31.18, 121.445, 31.20)]), id=1)),
                   (PLAN, Zone(("C",), MultiPolygon([box(121.420, 31.18, 121.430, 31.20)]), id=2))], grid=False)
ODDS = ZoneOdds(7, ("A", "B"), "monte_carlo", 2000, {"A": 60, "B": 40}, 140,
                (SchoolOdds("resident", "Living in the zone", "居住在片区", "A", 40, 0.2496, 0.0031),))


def test_the_shared_zone_carries_its_odds_in_both_languages() -> None:
    got = answer(INDEX, SCHOOLS, 121.437, 31.19, profile=GENERIC, year=2026, plans=[PLAN],
                 odds={odds_key(7, ("B", "A")): ODDS})
    assert got.odds == {"primary": (ODDS,)}
    en, zh = got.explanation["en"], got.explanation["zh"]
    assert "Chance of admission at the first choice (Monte Carlo estimate, 2000 draws): Living in the zone choosing " \
           "Huayuan Primary first: 25.0% (±0.3%)." in en
    assert "第一志愿录取概率（蒙特卡洛模拟 2000 次估计）：居住在片区第一志愿华苑小学：25.0% (±0.3%)。" in zh


def test_no_odds_outside_a_shared_zone_or_without_data() -> None:
    west = answer(INDEX, SCHOOLS, 121.425, 31.19, profile=GENERIC, year=2026, plans=[PLAN], odds={odds_key(7, ("A", "B")): ODDS})
    assert west.odds == {} and "lottery" not in west.explanation["en"]
    other_plan = answer(INDEX, SCHOOLS, 121.437, 31.19, profile=GENERIC, year=2026, plans=[PLAN],
                        odds={odds_key(8, ("A", "B")): ODDS})
    assert other_plan.odds == {} and "多校划片（" not in other_plan.explanation["zh"]
