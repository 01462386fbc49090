"""geo.address.parse: English and Chinese address normalisation and parsing."""

from __future__ import annotations

import pytest

from geo.address.parse import (
    HouseNumber,
    abbreviate,
    cn_numeral_to_int,
    fold,
    normalise,
    normalise_chinese,
    parse_address,
    parse_house_number,
    split_street_words,
)


def test_case_punctuation_accents_and_width() -> None:
    assert normalise("Café  Crème Pde.") == normalise("CAFE creme parade") == "cafe creme parade"
    assert normalise("O'Connell St") == "oconnell street"
    assert fold("ＡＢＣ１２３ Ｓｔ") == "abc123 st"
    assert normalise("Smith-Jones Rd") == "smith jones road"


@pytest.mark.parametrize(("short", "long"), [
    ("St", "Street"), ("Rd", "Road"), ("Ave", "Avenue"), ("Hwy", "Highway"), ("Pde", "Parade"),
    ("Cres", "Crescent"), ("Pl", "Place"), ("Ct", "Court"), ("Dr", "Drive"), ("Ln", "Lane"),
    ("Tce", "Terrace"), ("Blvd", "Boulevard"), ("Cl", "Close"), ("Cct", "Circuit"), ("Esp", "Esplanade"),
])
def test_street_type_abbreviations_both_ways(short: str, long: str) -> None:
    assert normalise(f"12 Smith {short}") == normalise(f"12 smith {long}") == f"12 smith {long.lower()}"
    assert abbreviate(f"Smith {long}") == f"smith {short.lower()}"
    assert abbreviate(f"Smith {short}.") == f"smith {short.lower()}"


def test_saint_versus_street() -> None:
    assert normalise("St Ives") == "saint ives"
    assert normalise("12 St Johns Rd") == "12 saint johns road"
    assert normalise("Smith St St Peters") == "smith street saint peters"
    assert normalise("Smith St, St Peters") == "smith street saint peters"
    assert normalise("Mt Druitt") == "mount druitt"


def test_directions_and_ordinals() -> None:
    assert normalise("Rooty Hill Rd N") == normalise("Rooty Hill Road North") == "rooty hill road north"
    assert normalise("Garfield Rd E") == "garfield road east"
    assert normalise("N Sydney") == "n sydney"  # a lone letter is only a direction after a street type
    assert normalise("2nd Ave") == "second avenue" and normalise("Tenth Ave") == "tenth avenue"


@pytest.mark.parametrize("text", ["Unit 3/12 Smith St", "3/12 Smith St", "Flat 3, 12 Smith Street",
                                  "U3/12 Smith St", "unit 3 12 smith st", "Apt 3 / 12 Smith St."])
def test_unit_prefixes(text: str) -> None:
    p = parse_address(text)
    assert (p.unit, p.number, p.words) == ("3", HouseNumber(12, 12), ("smith", "street"))


def test_house_numbers_and_ranges() -> None:
    assert parse_house_number("12") == HouseNumber(12, 12)
    assert parse_house_number("12A") == HouseNumber(12, 12, "a")
    assert parse_house_number("12 - 18") == HouseNumber(12, 18)
    assert parse_house_number("18-12") == HouseNumber(12, 18)
    assert parse_house_number("Smith") is None
    rng = HouseNumber(93, 107)
    assert rng.covers(95) and rng.covers(107) and not rng.covers(96) and not rng.covers(109)
    assert parse_address("12-18 Smith St").number == HouseNumber(12, 18)
    assert parse_address("12 - 18 Smith St").number == HouseNumber(12, 18)


def test_postcode_state_and_comma_split() -> None:
    p = parse_address("12 Smith St, Glebe NSW 2037")
    assert (p.number, p.street, p.areas, p.postcode) == (HouseNumber(12, 12), "smith street", ("glebe",), "2037")
    p = parse_address("350 Great North Rd Abbotsford 2046 Australia")
    assert p.postcode == "2046" and p.words == ("great", "north", "road", "abbotsford") and p.street is None
    assert split_street_words(list(p.words)) == ("great north road", "abbotsford")
    assert split_street_words(["the", "boulevarde", "lewisham"]) == ("the boulevarde", "lewisham")
    assert split_street_words(["kingsway"]) == ("kingsway", "")


def test_chinese_full_width_and_parts() -> None:
    p = parse_address("上海市徐汇区漕溪北路８８号")
    assert p.script == "zh"
    assert p.parts == {"city": "上海市", "district": "徐汇区", "road": "漕溪北路", "number": "88"}
    assert (p.street, p.number, p.areas) == ("漕溪北路", HouseNumber(88, 88), ("徐汇区", "上海市"))
    p = parse_address("广东省深圳市南山区粤海街道深南大道９９８８号")
    assert (p.parts["province"], p.parts["city"], p.parts["district"], p.parts["town"], p.parts["road"]) == (
        "广东省", "深圳市", "南山区", "粤海街道", "深南大道")
    p = parse_address("浙江省湖州市安吉县递铺镇胜利西路2号")
    assert (p.parts["district"], p.parts["town"], p.street) == ("安吉县", "递铺镇", "胜利西路")


def test_chinese_lane_building_unit_room() -> None:
    p = parse_address("上海市徐汇区漕溪北路88弄3号5号楼2单元301室")
    assert p.street == "漕溪北路88弄" and p.number == HouseNumber(3, 3)
    assert (p.parts["building"], p.parts["unit"], p.parts["room"]) == ("5", "2", "301")
    q = parse_address("杭州市西湖区文三路三百九十八号三幢第二单元五〇一室")
    assert q.number == HouseNumber(398, 398)
    assert (q.parts["building"], q.parts["unit"], q.parts["room"]) == ("3", "2", "501")
    assert parse_address("北京路1栋").parts["building"] == "1"


@pytest.mark.parametrize("text", ["漕溪北路12-18号", "漕溪北路１２－１８号", "漕溪北路12至18号", "漕溪北路十二至十八号",
                                  "漕溪北路12~18号", "漕溪北路12到18号"])
def test_chinese_number_ranges(text: str) -> None:
    p = parse_address(text)
    assert (p.street, p.number) == ("漕溪北路", HouseNumber(12, 18))


def test_chinese_numerals_only_before_markers() -> None:
    assert cn_numeral_to_int("十") == 10 and cn_numeral_to_int("十二") == 12 and cn_numeral_to_int("二十") == 20
    assert cn_numeral_to_int("一百零八") == 108 and cn_numeral_to_int("三千四百") == 3400
    assert cn_numeral_to_int("三〇一") == 301 and cn_numeral_to_int("两") == 2
    with pytest.raises(ValueError):
        cn_numeral_to_int("十a")
    # Numerals inside road names stay: 中山一路 is a name, not number one.
    assert normalise_chinese("中山一路十二号") == "中山一路12号"
    assert normalise_chinese("二环路") == "二环路"


def test_chinese_traditional_and_punctuation() -> None:
    assert normalise_chinese("臺北 中山區，中山北路 ２段 ４８號") == "臺北中山区中山北路2段48号"
    assert normalise("上海市 徐汇区、漕溪北路 88 号") == "上海市徐汇区漕溪北路88号"
