"""geo.address.gazetteer with Chinese addresses.

TEST FIXTURES ONLY: the records below are hand-made for these tests (plausible street names,
made-up house numbers and points); they are not shipped as data and describe no real address.
"""

from __future__ import annotations

import pytest

from geo.address.gazetteer import Gazetteer
from geo.address.geocode import AddressRecord, Precision
from geo.distance import geodesic_m
from geo.errors import AddressNotFound, AmbiguousAddress, InvalidInput

R = AddressRecord
FIXTURE = [
    R("xh-10", 121.43700, 31.18800, text="上海市徐汇区漕溪北路10号"),
    R("xh-11", 121.43690, 31.18805, text="上海市徐汇区漕溪北路11号"),
    R("xh-20", 121.43720, 31.19000, text="上海市徐汇区漕溪北路20号"),
    R("xh-30", 121.43740, 31.19200, text="上海市徐汇区漕溪北路30-36号"),
    R("xh-88-3", 121.43600, 31.18500, text="上海市徐汇区漕溪北路88弄3号"),
    R("gl-100", 118.78000, 32.06000, text="江苏省南京市鼓楼区中山路100号"),
    R("xw-100", 118.79000, 32.04000, text="江苏省南京市玄武区中山路100号"),
    R("hd-27", 116.31000, 39.98000, number="27", street="中关村大街", locality="海淀区"),
]


@pytest.fixture(scope="module")
def gaz() -> Gazetteer:
    return Gazetteer(FIXTURE)


@pytest.mark.parametrize("text", ["上海市徐汇区漕溪北路10号", "上海市徐汇区漕溪北路１０号", "徐汇区漕溪北路十号",
                                  "徐汇漕溪北路10号", "漕溪北路 10 号", "上海市徐汇区漕溪北路第十号"])
def test_exact_forms(gaz: Gazetteer, text: str) -> None:
    res = gaz.geocode(text)
    assert (res.address_id, res.precision, res.score) == ("xh-10", Precision.EXACT, 1.0)


def test_structured_record(gaz: Gazetteer) -> None:
    res = gaz.geocode("北京市海淀区中关村大街２７号")
    assert res.address_id == "hd-27" and res.precision is Precision.EXACT
    assert res.components == {"street": "中关村大街", "locality": "海淀区", "number": "27"}


def test_lane_and_sub_address_parts(gaz: Gazetteer) -> None:
    res = gaz.geocode("漕溪北路88弄三号5栋2单元301室")
    assert res.address_id == "xh-88-3" and res.precision is Precision.EXACT


def test_range_record_and_range_query(gaz: Gazetteer) -> None:
    assert gaz.geocode("漕溪北路32号").address_id == "xh-30"  # 30-36号 covers 32 (same side)
    assert gaz.geocode("漕溪北路30-36号").address_id == "xh-30"
    assert gaz.geocode("漕溪北路三十至三十六号").address_id == "xh-30"


def test_interpolated_on_the_same_side(gaz: Gazetteer) -> None:
    res = gaz.geocode("漕溪北路16号")  # even: between 10 and 20 (11 is the other side)
    assert res.precision is Precision.INTERPOLATED
    t = (16 - 10) / (20 - 10)
    want = (121.43700 + t * (121.43720 - 121.43700), 31.18800 + t * (31.19000 - 31.18800))
    assert geodesic_m(res.lon, res.lat, *want) < 0.01
    assert "10" in res.explanation["zh"] and "20" in res.explanation["zh"] and "插值" in res.explanation["zh"]


def test_typo_in_road_name(gaz: Gazetteer) -> None:
    res = gaz.geocode("漕溪路10号")  # 北 missing
    assert res.address_id == "xh-10" and 0.7 < res.score < 1


def test_ambiguous_road_across_districts(gaz: Gazetteer) -> None:
    with pytest.raises(AmbiguousAddress) as err:
        gaz.geocode("中山路100号")
    assert {c.address_id for c in err.value.candidates} == {"gl-100", "xw-100"}
    assert gaz.geocode("南京市鼓楼区中山路100号").address_id == "gl-100"
    assert gaz.geocode("玄武中山路100号").address_id == "xw-100"


def test_locality_only(gaz: Gazetteer) -> None:
    res = gaz.geocode("上海市徐汇区")
    assert res.precision is Precision.LOCALITY and res.address == "徐汇区"
    xh = [r for r in FIXTURE if r.id.startswith("xh")]
    assert res.lon == pytest.approx(sum(r.lon for r in xh) / len(xh))
    assert "中心" in res.explanation["zh"]


def test_no_match_and_bad_input(gaz: Gazetteer) -> None:
    with pytest.raises(AddressNotFound):
        gaz.geocode("广州市天河区体育西路1号")
    for bad in ("", "漕溪北路\x00", "号" * 5000):
        with pytest.raises(InvalidInput):
            gaz.geocode(bad)


def test_suggest_chinese(gaz: Gazetteer) -> None:
    ids = [s.address_id for s in gaz.suggest("漕溪北")]
    assert set(ids) == {"xh-10", "xh-11", "xh-20", "xh-30", "xh-88-3"}
    assert [s.address_id for s in gaz.suggest("上海市徐汇区漕溪北路２")] == ["xh-20"]
    assert {s.address_id for s in gaz.suggest("中山路")} == {"gl-100", "xw-100"}
