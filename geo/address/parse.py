"""Address text normalisation and parsing, English (Australian style) and Chinese.

Pure string work, no gazetteer knowledge: :func:`parse_address` turns free text into a
:class:`ParsedAddress` (unit, house number, street, areas, postcode) with every word in one
canonical spelling, so that "Unit 3/12 Smith St." and "3/12 SMITH STREET" compare equal.

Canonical forms
---------------
* Latin text is NFKC-folded, case-folded, stripped of accents and punctuation; street types,
  directions and a few common words are spelled out in full (``st`` -> ``street``,
  ``rd`` -> ``road``, ``n`` after a street type -> ``north``). ``st`` is ``saint`` where it
  starts a name ("St Ives", "12 St Johns Rd") and ``street`` after a name ("Smith St").
* Chinese text follows :mod:`geo.address.parse_zh` (full-width to half-width, Chinese numerals
  before 号/弄/栋/单元/室 to digits, 幢/座/号楼 -> 栋, 至/到/~ between numbers -> ``-``).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Literal

from geo.address.lang import FRONT_TYPES, LANG_TYPES, expand_fused, fold_letters
from geo.address.parse_zh import ZH_PARTS, area_aliases, chinese_parts, cn_numeral_to_int, normalise_chinese

__all__ = [
    "DIRECTIONS", "REGION_WORDS", "STREET_TYPES", "UNIT_WORDS", "WORDS", "ZH_PARTS", "HouseNumber", "ParsedAddress",
    "abbreviate", "area_aliases", "chinese_parts", "cn_numeral_to_int", "completions", "expand_words", "fold",
    "is_chinese",
    "latin_tokens", "normalise", "normalise_chinese", "parse_address", "parse_chinese", "parse_english",
    "parse_house_number", "split_street_words", "street_name_type",
]

#: Street types: canonical (long) spelling -> accepted abbreviations.
STREET_TYPES: dict[str, tuple[str, ...]] = {
    "street": ("st", "str", "sts"),
    "road": ("rd", "rds"),
    "avenue": ("ave", "av", "avn", "avenues"),
    "highway": ("hwy", "hway"),
    "parade": ("pde", "pd"),
    "crescent": ("cres", "cresc", "cr", "crs"),
    "place": ("pl",),
    "court": ("ct", "crt"),
    "drive": ("dr", "drv", "drives"),
    "lane": ("ln",),
    "terrace": ("tce", "terr"),
    "boulevard": ("blvd", "bvd", "boul"),
    "boulevarde": (),
    "close": ("cl",),
    "circuit": ("cct", "circ"),
    "circle": ("cir",),
    "way": ("wy",),
    "grove": ("gr", "gv", "gve"),
    "square": ("sq",),
    "esplanade": ("esp", "espl"),
    "parkway": ("pkwy", "pwy"),
    "promenade": ("prom",),
    "freeway": ("fwy",),
    "motorway": ("mwy",),
    "row": (),
    "walk": (),
    "rise": (),
    "glen": (),
    "loop": (),
    "mews": (),
    "vista": (),
    "ridge": ("rdg",),
    "broadway": (),
    "concourse": ("cnc",),
}

#: Words abbreviated anywhere in a name (not street types).
WORDS: dict[str, tuple[str, ...]] = {
    "mount": ("mt",),
    "point": ("pt",),
    "heights": ("hts",),
    "gardens": ("gdns", "gdn"),
    "corner": ("cnr",),
    "north": ("nth",),
    "south": ("sth",),
    "upper": ("upr",),
    "lower": ("lwr",),
}

#: Single-letter directions, expanded only right after a street type ("Garfield Rd E").
DIRECTIONS: dict[str, str] = {"n": "north", "s": "south", "e": "east", "w": "west"}

_ORDINALS = ("first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth",
             "eleventh", "twelfth", "thirteenth", "fourteenth", "fifteenth", "sixteenth", "seventeenth",
             "eighteenth", "nineteenth", "twentieth")

#: Unit / flat prefixes ("Unit 3/12", "Flat 2, 7", "Apt 5 12").
UNIT_WORDS = frozenset({"unit", "u", "flat", "apartment", "apt", "suite", "ste", "shop", "villa", "townhouse", "lot"})

#: State and country abbreviations dropped from the end of English text ("... Glebe NSW 2037");
#: only at the end, so that "Victoria St" or "Act Pl" keep their names.
REGION_WORDS = frozenset({"nsw", "vic", "qld", "sa", "wa", "tas", "act", "nt", "australia", "au", "china", "prc"})

_EXPAND: dict[str, str] = {}
for _long, _shorts in STREET_TYPES.items():
    _EXPAND.update({s: _long for s in _shorts})
for _long, _shorts in WORDS.items():
    _EXPAND.update({s: _long for s in _shorts})
# Other languages' street types share the English canonical word (geo.address.lang).
for _long, _shorts in LANG_TYPES.items():
    _EXPAND.update({s: _long for s in _shorts if s not in _EXPAND})
for _i, _word in enumerate(_ORDINALS, start=1):
    _suffix = {1: "st", 2: "nd", 3: "rd"}.get(_i, "th")
    _EXPAND[f"{_i}{_suffix}"] = _word  # "2nd Ave" -> "second avenue"
#: Abbreviations that are also full words used as names ("Sts" only as a type, never "St" alone).
_TYPE_WORDS = frozenset(STREET_TYPES)
_SHORT: dict[str, str] = {long: shorts[0] for long, shorts in STREET_TYPES.items() if shorts}
_SHORT.update({long: shorts[0] for long, shorts in WORDS.items() if long not in {"north", "south"}})
_SHORT["saint"] = "st"

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_NUMBERISH = re.compile(r"^[a-z]?\d")
_RANGE = re.compile(r"^(\d+)([a-z]?)(?:-(\d+)([a-z]?))?$")
_POSTCODE = re.compile(r"^\d{4}$|^\d{6}$")


def fold(text: str) -> str:
    """NFKC-fold, case-fold and strip accents ("Ｃafé" -> "cafe"); CJK text is kept.

    Full-width digits and letters become half-width through NFKC.
    """
    t = fold_letters(unicodedata.normalize("NFKC", text).casefold())
    t = "".join(c for c in unicodedata.normalize("NFKD", t) if unicodedata.category(c) != "Mn")
    return unicodedata.normalize("NFC", t)


def is_chinese(text: str) -> bool:
    """True when ``text`` contains a CJK ideograph (it is parsed as a Chinese address)."""
    return _CJK.search(text) is not None


def latin_tokens(text: str) -> list[str]:
    """Fold and split Latin text into words, keeping ``3/12`` and ``12-18`` number forms.

    Apostrophes vanish ("O'Connell" -> "oconnell"); commas survive as a ``","`` token so that
    callers can see segment boundaries.
    """
    t = expand_fused(fold(text))
    t = re.sub(r"['\u2019`]", "", t)
    t = re.sub(r"(\d)\s*([/-])\s*(\d)", r"\1\2\3", t)  # "3 / 12" -> "3/12"; "12 - 18" -> "12-18"
    t = re.sub(r"(?<=[a-z])-(?=[a-z])", " ", t)
    t = re.sub(r"[^\w/,-]+", " ", t)
    t = t.replace(",", " , ")
    out = []
    for tok in t.split():
        if tok in {"-", "/"} or tok.strip("-/") == "":
            continue
        out.append(tok.strip("-/") if tok != "," else tok)
    return out


def expand_words(tokens: list[str]) -> list[str]:
    """Spell abbreviations out in canonical form, using position to read ``st`` and ``n/s/e/w``.

    Parameters
    ----------
    tokens
        Output of :func:`latin_tokens`; ``","`` marks a segment boundary.

    Returns
    -------
    list of str
        Canonical words, commas dropped.
    """
    out: list[str] = []
    seg_start = True
    for tok in tokens:
        if tok == ",":
            seg_start = True
            continue
        prev = out[-1] if out and not seg_start else None
        if tok == "st":
            # "St" opens a name (St Ives, 12 St Johns Rd, Smith St St Peters) or closes one (Smith St).
            saint = prev is None or _NUMBERISH.match(prev) is not None or prev in _TYPE_WORDS
            word = "saint" if saint else "street"
        elif seg_start and tok in FRONT_TYPES and out[-1:] != [FRONT_TYPES[tok]]:
            # "r. de la Paix", "c/ Mayor", "v. Roma": a one-letter type opens the segment.
            word = FRONT_TYPES[tok]
        elif tok in DIRECTIONS:
            word = DIRECTIONS[tok] if prev in _TYPE_WORDS else tok
        else:
            word = _EXPAND.get(tok, tok)
        out.append(word)
        seg_start = False
    return out


def completions(partial: str, *, limit: int = 6) -> list[str]:
    """Canonical words a partly typed word may stand for: itself plus the long forms of the
    abbreviations it starts ("hw" -> "highway" via "hwy"; "st" -> "street", "saint").
    """
    out = [partial]
    if partial.startswith("s") and "st".startswith(partial[:2]):
        out.append("saint")
    out += sorted({long for short, long in _EXPAND.items() if short.startswith(partial)})
    return list(dict.fromkeys(out))[:limit]


def normalise(text: str) -> str:
    """Canonical matching key of any address text (Latin or Chinese).

    Examples
    --------
    >>> normalise("Unit 3/12 Smith St., Glebe")
    'unit 3/12 smith street glebe'
    >>> normalise("上海市徐汇区漕溪北路８８号")
    '上海市徐汇区漕溪北路88号'
    """
    if is_chinese(text):
        return normalise_chinese(text)
    return " ".join(expand_words(latin_tokens(text)))


def abbreviate(text: str) -> str:
    """The short spelling of a canonical name: "smith street north" -> "smith st north"."""
    return " ".join(_SHORT.get(w, w) for w in normalise(text).split())


@dataclass(frozen=True, slots=True)
class HouseNumber:
    """A house number or a range of them ("12", "12a", "12-18"); ``last == first`` for one number."""

    first: int
    last: int
    suffix: str = ""

    @property
    def text(self) -> str:
        base = f"{self.first}{self.suffix}"
        return base if self.last == self.first else f"{self.first}-{self.last}"

    def covers(self, n: int) -> bool:
        """True when ``n`` lies in the range on the same side of the street (same parity)."""
        if self.last == self.first:
            return n == self.first
        return self.first <= n <= self.last and (n - self.first) % 2 == 0


def parse_house_number(text: str) -> HouseNumber | None:
    """Parse "12", "12A", "12-18" or "12 - 18" into a :class:`HouseNumber` (None if not one)."""
    m = _RANGE.match(re.sub(r"\s+", "", fold(text)))
    if m is None:
        return None
    first = int(m.group(1))
    last = int(m.group(3)) if m.group(3) else first
    if last < first:
        first, last = last, first
    return HouseNumber(first=first, last=last, suffix=m.group(2) if m.group(3) is None else "")


@dataclass(frozen=True, slots=True)
class ParsedAddress:
    """Free address text split into parts, each in canonical form.

    ``street`` and ``areas`` are set when the text itself shows where the street ends (a comma,
    a street type, a Chinese 路/街); otherwise ``street`` is None and the gazetteer tries every
    split of ``words``. ``areas`` are locality-level names, most specific first.
    """

    text: str
    script: Literal["latin", "zh"]
    words: tuple[str, ...]
    number: HouseNumber | None = None
    unit: str | None = None
    street: str | None = None
    areas: tuple[str, ...] = ()
    postcode: str | None = None
    parts: dict[str, str] = field(default_factory=dict)


def parse_address(text: str) -> ParsedAddress:
    """Parse free address text, Chinese when it contains CJK ideographs, else English.

    Examples
    --------
    >>> p = parse_address("Unit 3/12-18 Smith St, Glebe NSW 2037")
    >>> (p.unit, p.number.text, p.street, p.areas, p.postcode)
    ('3', '12-18', 'smith street', ('glebe',), '2037')
    """
    if is_chinese(text):
        return parse_chinese(text)
    return parse_english(text)


def _split_unit_number(tokens: list[str]) -> tuple[str | None, HouseNumber | None, list[str]]:
    """Take a leading unit and house number off ``tokens`` ("unit 3 / 12", "3/12", "flat 2, 7")."""
    toks = list(tokens)
    unit: str | None = None
    if toks and toks[0] in {"level", "lvl"} and len(toks) > 1 and toks[1].isdigit():
        toks = toks[2:]
    while toks and toks[0] == ",":
        toks = toks[1:]
    if toks and toks[0] in UNIT_WORDS and len(toks) > 1:
        head = toks[1]
        if "/" in head:
            unit, head = head.split("/", 1)
            toks = [head, *toks[2:]]
        else:
            unit, toks = head, toks[2:]
            while toks and toks[0] == ",":
                toks = toks[1:]
    elif toks and re.match(r"^[a-z]?\d+[a-z]?/\d", toks[0]):
        unit, rest = toks[0].split("/", 1)
        unit = unit.removeprefix("u")  # "u5/7" is unit 5
        toks = [rest, *toks[1:]]
    number = parse_house_number(toks[0]) if toks else None
    if number is not None:
        toks = toks[1:]
    return unit, number, toks


def parse_english(text: str) -> ParsedAddress:
    """Parse English-style "unit/number street, locality state postcode" text."""
    tokens = latin_tokens(text)
    unit, number, rest = _split_unit_number(tokens)
    postcode = None
    core = list(rest)

    def strip_tail() -> None:
        while core and (core[-1] in REGION_WORDS or core[-1] == ","):
            core.pop()

    # A trailing 4-digit token is a postcode (Australian style), around state/country words.
    strip_tail()
    if core and _POSTCODE.match(core[-1]) and (number is not None or len(core) > 1):
        postcode = core.pop()
        strip_tail()
    words = expand_words(core)
    street: str | None = None
    areas: tuple[str, ...] = ()
    if "," in core:
        # A comma ends the street: "12 Smith St, Glebe".
        cut = core.index(",")
        head, tail = expand_words(core[:cut]), expand_words(core[cut + 1:])
        if head:
            street, areas = " ".join(head), ((" ".join(tail),) if tail else ())
    return ParsedAddress(text=text, script="latin", words=tuple(words), number=number, unit=unit,
                         street=street, areas=areas, postcode=postcode)


def split_street_words(words: list[str]) -> tuple[str, str]:
    """Split canonical words at the last street type (plus a direction after it).

    "smith street north glebe" -> ("smith street north", "glebe"); no type -> (all words, "").
    """
    cut = 0
    for i, w in enumerate(words):
        if w in _TYPE_WORDS and i > 0:
            cut = i + 1
    if cut and cut < len(words) and words[cut] in {"north", "south", "east", "west"}:
        cut += 1
    if cut == 0:
        return " ".join(words), ""
    return " ".join(words[:cut]), " ".join(words[cut:])


def street_name_type(street: str) -> tuple[str, str]:
    """Split a canonical street into its name and its type (with a trailing direction).

    "great north road" -> ("great north", "road"); "rooty hill road north" -> ("rooty hill",
    "road north"); "the boulevarde" -> ("the boulevarde", "") (a type alone is the name).
    """
    words = street.split()
    end = len(words)
    if end > 1 and words[-1] in {"north", "south", "east", "west"} and words[-2] in _TYPE_WORDS:
        end -= 1
    if end > 1 and words[end - 1] in _TYPE_WORDS and words[end - 2] != "the":
        return " ".join(words[:end - 1]), " ".join(words[end - 1:])
    return street, ""


def parse_chinese(text: str) -> ParsedAddress:
    """Parse a Chinese address into 省/市/区/县/街道/镇, 路/街/巷, 弄, 号, 栋, 单元 and 室 parts.

    The street is the road plus its lane ("漕溪北路88弄"), the house number is the 号 number
    (a range "12-18号" stays a range); 栋/单元/室 are kept in ``parts`` but do not move the point.

    Examples
    --------
    >>> p = parse_chinese("上海市徐汇区漕溪北路８８弄三号５栋二单元３０１室")
    >>> (p.street, p.number.text, p.areas, p.parts["building"], p.parts["unit"], p.parts["room"])
    ('漕溪北路88弄', '3', ('徐汇区', '上海市'), '5', '2', '301')
    """
    parts = chinese_parts(text)
    street = None
    if "road" in parts:
        street = parts["road"] + (f"{parts['lane']}弄" if "lane" in parts else "")
    number = parse_house_number(parts["number"]) if "number" in parts else None
    areas = tuple(parts[k] for k in ("town", "district", "city", "province") if k in parts)
    return ParsedAddress(text=text, script="zh", words=(normalise_chinese(text),), number=number, unit=parts.get("unit"),
                         street=street, areas=areas, parts=parts)
