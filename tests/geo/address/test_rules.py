"""Address rules (招生范围 lists): reading, matching, printing, overlaps and checks (issue 15, part 2).

TEST FIXTURE, made up for these tests: the rules, schools (S1, S2) and address points below are
invented; the street names are plausible Shanghai names, no real notice is reproduced.
"""

from __future__ import annotations

import pytest
from shapely.geometry import MultiPolygon, box

from geo.address.geocode import AddressRecord
from geo.address.rule_check import check_rules
from geo.address.rules import AddressRule, Parity, RuleAddress, RuleBook, parse_parity, rule_label, rules_from_rows
from geo.errors import InvalidInput
from geo.models import School, Zone
from geo.planning.rule_notice import rule_lists, rule_rows

ROWS = [
    {"school_code": "S1", "street": "漕溪北路", "from": "1", "to": "99", "parity": "单号"},
    {"school_code": "S2", "street": "漕溪北路", "from": "2", "to": "98", "parity": "even"},
    {"school_code": "S2", "compound": "华苑小区", "building_from": "1", "building_to": "12"},
    {"school_code": "S1;S2", "text": "华苑小区13-20栋"},
    {"school_code": "S1", "text": "康健村"},
    {"school_code": "S1", "street": "Smith St", "from": "1", "to": "49", "parity": "odd"},
]


def _rules() -> list[AddressRule]:
    return rules_from_rows(ROWS, known_schools={"S1", "S2"}, plan_id=7)


def test_rows_read_in_both_languages() -> None:
    r = _rules()
    assert [x.row for x in r] == [2, 3, 4, 5, 6, 7]
    assert (r[0].street, r[0].first, r[0].last, r[0].parity) == ("漕溪北路", 1, 99, Parity.ODD)
    assert r[1].parity is Parity.EVEN
    assert (r[3].compound, r[3].building_first, r[3].building_last, r[3].school_codes) == ("华苑小区", 13, 20, ("S1", "S2"))
    assert r[4].village == "康健村"
    assert parse_parity("双号") is Parity.EVEN and parse_parity("") is Parity.ALL


@pytest.mark.parametrize(("row", "needle"), [
    ({"school_code": "S1", "street": "漕溪北路", "from": "99", "to": "1"}, "from 99 > to 1"),
    ({"school_code": "S1", "street": "漕溪北路", "from": "1", "to": "9", "parity": "sometimes"}, "unknown parity"),
    ({"school_code": "S9", "street": "漕溪北路"}, "unknown school S9"),
    ({"school_code": "S1", "street": "漕溪北路", "from": "x"}, "not a house"),
    ({"school_code": "S1", "text": "somewhere nice"}, "needs a street"),
    ({"school_code": "", "street": "漕溪北路"}, "no school_code"),
])
def test_bad_rows_name_the_row(row: dict[str, str], needle: str) -> None:
    with pytest.raises(InvalidInput) as err:
        rules_from_rows([ROWS[0], row], known_schools={"S1", "S2"})
    assert err.value.where == "row 3" and needle in err.value.message


def test_matching_is_exact_to_the_house() -> None:
    book = RuleBook(_rules())

    def rows(text: str, street: str | None = None, number: str | None = None) -> list[int]:
        return [r.row for r in book.matching(RuleAddress.of(text, street=street, number=number))]

    assert rows("上海市徐汇区漕溪北路11号", "漕溪北路", "11") == [2]
    assert rows("上海市徐汇区漕溪北路12号", "漕溪北路", "12") == [3]
    assert rows("上海市徐汇区漕溪北路101号", "漕溪北路", "101") == []
    assert rows("徐汇区华苑小区5栋301室") == [4]
    assert rows("徐汇区华苑小区15栋") == [5]
    assert rows("徐汇区华苑小区25栋") == []
    assert rows("康健村3组") == [6]
    assert rows("13 Smith Street, Glebe", "Smith Street", "13") == [7]  # St = Street
    assert rows("14 Smith Street, Glebe", "Smith Street", "14") == []


def test_labels_in_the_notices_form() -> None:
    r = _rules()
    assert [rule_label(x) for x in r[:5]] == ["漕溪北路1-99号(单号)", "漕溪北路2-98号(双号)", "华苑小区1-12栋",
                                              "华苑小区13-20栋", "康健村"]
    assert rule_label(r[0], lang="en") == "漕溪北路 1-99 (odd numbers)"
    assert rule_label(r[2], lang="en") == "华苑小区 buildings 1-12"


def test_overlaps() -> None:
    a, b, c, d = rules_from_rows([
        {"school_code": "S1", "street": "Main St", "from": "1", "to": "51", "parity": "odd"},
        {"school_code": "S2", "street": "Main Street", "from": "2", "to": "50", "parity": "even"},
        {"school_code": "S2", "street": "Main Street", "from": "41", "to": "61", "parity": "all"},
        {"school_code": "S2", "compound": "华苑小区", "building_from": "1", "building_to": "12"},
    ], known_schools={"S1", "S2"})
    assert not a.overlaps(b)  # the two sides of one street
    assert a.overlaps(c) and b.overlaps(c)
    assert not a.overlaps(d)


WEST = MultiPolygon([box(121.430, 31.180, 121.4375, 31.200)])
EAST = MultiPolygon([box(121.4375, 31.180, 121.445, 31.200)])
ZONES = [Zone(school_codes=("S1",), geometry=WEST, id=1, name="West"), Zone(school_codes=("S2",), geometry=EAST, id=2, name="East")]


def _records() -> list[AddressRecord]:
    out = []
    for n in range(1, 21):
        # Odd numbers on the west side (zone West, S1), even on the east (zone East, S2) ...
        lon = 121.4370 if n % 2 else 121.4380
        out.append(AddressRecord(id=f"c{n}", lon=lon, lat=31.185 + n * 0.0003, text=f"上海市徐汇区漕溪北路{n}号"))
    # ... except 21, drawn on the east side: the map and the rule disagree there.
    out.append(AddressRecord(id="c21", lon=121.4380, lat=31.1920, text="上海市徐汇区漕溪北路21号"))
    out.append(AddressRecord(id="k5", lon=121.4360, lat=31.1900, text="上海市徐汇区康健路5号"))  # no rule
    return out


def test_check_rules_counts_per_zone() -> None:
    rules = _rules()
    rep = check_rules(rules, ZONES, _records()).as_dict()
    assert rep["counts"]["contradictions"] == 1
    assert rep["contradictions"][0]["address_id"] == "c21" and rep["contradictions"][0]["zone"] == "East"
    assert rep["per_zone"]["East"]["contradictions"] == 1
    # 康健路5号 lies in West, whose rules do not cover it.
    assert [u["address_id"] for u in rep["uncovered"]] == ["k5"] and rep["per_zone"]["West"]["uncovered"] == 1
    # No address point of the compounds, the village or Smith St is known.
    assert sorted(u["row"] for u in rep["unmatched"]) == [4, 5, 6, 7]
    assert rep["counts"]["overlaps"] == 0


def test_notice_lists_each_zone_as_its_rules() -> None:
    schools = {"S1": School(code="S1", name="Caoxi North Road Primary", name_local="漕溪北路小学", lon=121.437, lat=31.19),
               "S2": School(code="S2", name="Huayuan Primary", name_local="华苑小学", lon=121.438, lat=31.19)}
    lists = rule_lists(_rules(), ZONES, schools)
    by_zone = {x["zone"]: x for x in lists}
    # 多校划片: the rule naming both schools (华苑小区13-20栋) is in both schools' lists.
    assert by_zone["West"]["text"]["zh"] == "漕溪北路小学：漕溪北路1-99号(单号)；华苑小区13-20栋；康健村；Smith St 1-49号(单号)"
    assert by_zone["East"]["text"]["zh"] == "华苑小学：漕溪北路2-98号(双号)；华苑小区1-12栋；华苑小区13-20栋"
    assert by_zone["East"]["text"]["en"] == ("Huayuan Primary: 漕溪北路 2-98 (even numbers); 华苑小区 buildings 1-12; "
                                             "华苑小区 buildings 13-20")
    rows = rule_rows(_rules())
    assert rows[0]["notice_zh"] == "漕溪北路1-99号(单号)" and rows[3]["school_code"] == "S1;S2"
    # The export reads back as the same rules.
    again = rules_from_rows(rows, known_schools={"S1", "S2"}, plan_id=7)
    assert [(r.street, r.first, r.last, r.parity, r.compound, r.building_first, r.village) for r in again] == \
        [(r.street, r.first, r.last, r.parity, r.compound, r.building_first, r.village) for r in _rules()]
