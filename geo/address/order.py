"""Addresses in any common order: read the parts by what they are, not where they stand.

"Lehrter Straße 53, 10557 Berlin", "53 Lehrter Straße, Berlin 10557", "Berlin, Lehrter Str. 53"
and "10557 Berlin Lehrter Straße 53" name the same house. :func:`readings` finds the tokens that
can be a house number ("12", "12a", "12 B", "12-14", "12/3") and those that can be a postcode
(4-6 digits), and returns one :class:`~geo.address.parse.ParsedAddress` per plausible choice,
with the segment holding the number moved first, so that the gazetteer can weigh each against
the streets, localities and postcodes it knows and keep the best. The English reading (number
first, postcode last) comes first, so English text is read as before.
"""

from __future__ import annotations

import re
from itertools import product

from geo.address.parse import (
    REGION_WORDS,
    HouseNumber,
    ParsedAddress,
    expand_words,
    latin_tokens,
    parse_english,
    parse_house_number,
)

__all__ = ["readings"]

_NUMBER = re.compile(r"^[1-9]\d{0,4}[a-z]?(?:-\d{1,5}[a-z]?)?$")
_SLASHED = re.compile(r"^([1-9]\d{0,4}[a-z]?)/(\w{1,5})$")
_POSTCODE = re.compile(r"^\d{4,6}$|^\d{2}-\d{3}$|^\d{4}-\d{3}$")  # and Polish 00-001, Portuguese 1100-048
#: A lone letter after a number is a building letter ("12 B"), except the compass letters.
_LETTER = re.compile(r"^[a-df-mo-rt-vx-z]$")
#: Readings tried at most (numbers x postcodes); addresses have one or two of each.
_MAX_READINGS = 8


def _merge_letters(tokens: list[str]) -> list[str]:
    out: list[str] = []
    for tok in tokens:
        if out and _LETTER.match(tok) and out[-1].isdigit():
            out[-1] += tok
        else:
            out.append(tok)
    return out


def _number_of(tok: str) -> tuple[HouseNumber, str | None] | None:
    m = _SLASHED.match(tok)
    if m:
        # After a street name "12/3" is number 12, flat 3 (the number-first "3/12" is read by
        # parse_english as unit 3 of number 12).
        n = parse_house_number(m.group(1))
        return (n, m.group(2)) if n is not None else None
    if _NUMBER.match(tok):
        n = parse_house_number(tok)
        return (n, None) if n is not None else None
    return None


def _segments(tokens: list[str]) -> list[list[str]]:
    segs: list[list[str]] = [[]]
    for tok in tokens:
        if tok == ",":
            segs.append([])
        else:
            segs[-1].append(tok)
    return segs


def _reading(text: str, tokens: list[str], number_at: int | None, postcode_at: int | None) -> ParsedAddress | None:
    number = unit = postcode = None
    if number_at is not None:
        got = _number_of(tokens[number_at])
        if got is None:
            return None
        number, unit = got
    if postcode_at is not None:
        postcode = tokens[postcode_at]
    marked = [("\0" if i == number_at else tok) for i, tok in enumerate(tokens) if i != postcode_at]
    segs = [s for s in _segments(marked) if s]
    # The number's segment holds the street: put it first, the rest are localities.
    segs.sort(key=lambda s: "\0" not in s)
    segs = [[t for t in s if t != "\0" and t not in REGION_WORDS] for s in segs]
    segs = [s for s in segs if s]
    if not segs:
        return None
    street_words = expand_words(segs[0])
    areas = tuple(" ".join(expand_words(s)) for s in segs[1:])
    words = [*street_words, *(w for s in segs[1:] for w in expand_words(s))]
    return ParsedAddress(text=text, script="latin", words=tuple(words), number=number, unit=unit,
                         street=" ".join(street_words) if len(segs) > 1 else None, areas=areas, postcode=postcode)


def readings(text: str) -> list[ParsedAddress]:
    """The plausible readings of Latin address text, the English one first.

    Parameters
    ----------
    text
        Free address text (not Chinese: Chinese addresses are read by their 路/号 markers).

    Returns
    -------
    list of ParsedAddress
        Distinct readings; each takes at most one house number and one postcode out of the
        words, wherever they stood.

    Examples
    --------
    >>> [(r.number.text if r.number else None, r.street, r.postcode) for r in readings("Lehrter Str. 53, 10557 Berlin")][1]
    ('53', 'lehrter street', '10557')
    """
    first = parse_english(text)
    out = [first]
    tokens = _merge_letters(latin_tokens(text))
    numbers = [i for i, t in enumerate(tokens) if _number_of(t) is not None]
    postcodes = [i for i, t in enumerate(tokens) if _POSTCODE.match(t)]
    seen = {(first.number, first.postcode, first.words)}
    pairs = [(n, p) for n, p in product([*numbers, None], [*postcodes, None]) if n is None or n != p]
    # Prefer readings that use more of the digits: a number and a postcode, then either.
    pairs.sort(key=lambda np_: (np_[0] is None) + (np_[1] is None and bool(postcodes)))
    for n, p in pairs:
        r = _reading(text, tokens, n, p)
        if r is None:
            continue
        key = (r.number, r.postcode, r.words)
        if key in seen:
            continue
        seen.add(key)
        out.append(r)
        if len(out) >= _MAX_READINGS:
            break
    return out
