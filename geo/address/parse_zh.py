"""Chinese address text: full-width folding, Chinese numerals and 省/市/区/路/号/栋/单元/室 parts.

Pure string work used by :mod:`geo.address.parse` (which turns the parts into a
:class:`~geo.address.parse.ParsedAddress`). Rules:

* NFKC folding turns full-width digits, letters and punctuation into half-width ones;
* spaces and punctuation go; traditional 號/棟/單元/區/縣 become 号/栋/单元/区/县;
* Chinese numerals right before a unit marker (号, 弄, 栋, 幢, 座, 单元, 室, 楼, 层) become Arabic
  digits ("三百九十八号" -> "398号"), so that road names such as 中山一路 or 二环路 stay as they are;
* 至/到/~ between two numbers becomes ``-`` (a 号 range, "12-18号");
* 幢, 座 and 号楼 become 栋.
"""

from __future__ import annotations

import re
import unicodedata

_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_CN_UNITS = {"十": 10, "百": 100, "千": 1000}
_CN_NUMERAL = "零〇一二两三四五六七八九十百千"
_ZH_MARKERS = "号|弄|栋|幢|座|单元|室|楼|层"


def cn_numeral_to_int(text: str) -> int:
    """Convert a Chinese numeral below 10,000 ("十二", "一百零八", "三〇一") to an int.

    Raises
    ------
    ValueError
        When ``text`` is not a Chinese numeral.
    """
    if not text or any(c not in _CN_NUMERAL for c in text):
        msg = f"{text!r} is not a Chinese numeral"
        raise ValueError(msg)
    if not any(c in _CN_UNITS for c in text):
        # Digit-by-digit form used for room numbers: "三〇一" = 301.
        return int("".join(str(_CN_DIGITS[c]) for c in text))
    total, digit = 0, 0
    for c in text:
        if c in _CN_DIGITS:
            digit = _CN_DIGITS[c]
        else:
            total += (digit or 1) * _CN_UNITS[c]  # "十二" = 12: a bare 十 means one ten
            digit = 0
    return total + digit


def normalise_chinese(text: str) -> str:
    """Canonical Chinese address text (see the module docstring for the rules)."""
    t = unicodedata.normalize("NFKC", text).casefold()
    t = re.sub(r"[\s,.;:，。、；：·()（）【】\[\]\"'“”‘’]+", "", t)
    t = t.replace("號", "号").replace("棟", "栋").replace("單元", "单元").replace("區", "区").replace("縣", "县")
    t = re.sub(r"第(?=[\d" + _CN_NUMERAL + r"])", "", t)
    t = re.sub(f"([{_CN_NUMERAL}]+)(?={_ZH_MARKERS})", lambda m: str(cn_numeral_to_int(m.group(1))), t)
    # The first number of a range: "十二至18号" (its second half was converted just above).
    t = re.sub(rf"([{_CN_NUMERAL}]+)(?=(?:至|到|~|-)\d)", lambda m: str(cn_numeral_to_int(m.group(1))), t)
    t = re.sub(r"(\d+[a-z]?)\s*(?:至|到|~|—|–|－)\s*(\d+)", r"\1-\2", t)
    t = re.sub(r"(\d+[a-z]?)(?:号楼|幢|座|#楼|#)", r"\1栋", t)
    return t


_ZH_PATTERN = re.compile(
    r"^(?:中国|中华人民共和国)?"
    r"(?P<province>[\u4e00-\u9fff]{2,8}?(?:省|自治区|特别行政区))?"
    r"(?P<city>[\u4e00-\u9fff]{2,8}?(?:市|自治州|地区|盟))?"
    r"(?P<district>[\u4e00-\u9fff]{1,8}?(?:区|县|旗|市))?"
    r"(?P<town>[\u4e00-\u9fff]{1,8}?(?:街道|镇|乡))?"
    r"(?P<road>[\u4e00-\u9fff\da-z]{1,15}?(?:大道|大街|路|街|巷|胡同|道))?"
    r"(?:(?P<lane>\d+)弄)?"
    r"(?:(?P<number>\d+[a-z]?(?:-\d+[a-z]?)?)号)?"
    r"(?:(?P<building>\d+[a-z]?)栋)?"
    r"(?:(?P<unit>\d+)单元)?"
    r"(?:(?P<room>\d+)室)?"
    r"(?P<rest>.*)$"
)

#: Chinese part names in the order of :data:`ParsedAddress.parts`.
ZH_PARTS = ("province", "city", "district", "town", "road", "lane", "number", "building", "unit", "room", "rest")


def area_aliases(name: str) -> tuple[str, ...]:
    """A Chinese area name and its short form without the suffix ("徐汇区" -> ("徐汇区", "徐汇"))."""
    m = re.match(r"^(.{2,}?)(?:特别行政区|自治区|自治州|街道|省|市|区|县|旗|镇|乡)$", name)
    return (name, m.group(1)) if m else (name,)


def chinese_parts(text: str) -> dict[str, str]:
    """Split normalised Chinese address text into the named parts of :data:`ZH_PARTS` (absent = missing)."""
    m = _ZH_PATTERN.match(normalise_chinese(text))
    return {k: v for k, v in (m.groupdict() if m else {}).items() if v}
