"""Street types of the languages an address may be written in, apart and fused.

Matching keys are spelled in one canonical (English) word per street type, on both sides of a
match: a gazetteer record "Lehrter Straße" and a query "Lehrter Str." both become "lehrter
street", "rue de la Paix" and "r. de la Paix" both "street de la paix". The key is never shown;
answers show the record's own spelling. Types fused into the name (German "Hauptstraße", Finnish
"Mannerheimintie", Swedish "Fredriksgatan") stay fused, and their abbreviations ("Hauptstr.",
"Mannerheimint.", "Fredriksg.") are spelled back out to the fused full form.
"""

from __future__ import annotations

import re

__all__ = ["FRONT_TYPES", "FUSED", "LANG_TYPES", "expand_fused", "fold_letters", "umlaut_variant"]

#: Street types written apart, canonical word -> spellings (folded: no accents, ß = ss).
LANG_TYPES: dict[str, tuple[str, ...]] = {
    # German, Dutch, Nordic, Finnish, French, Spanish, Italian, Portuguese, Polish
    "street": ("strasse", "strase", "straat", "gatan", "gata", "gade", "gate", "katu", "rue", "rua", "calle",
               "ulica", "ul", "via", "carrer"),
    "road": ("tie", "vagen", "vag", "vej", "veien", "vei"),
    "way": ("weg",),
    "place": ("platz", "plac", "plaza", "piazza", "pza", "praca", "largo"),
    "avenue": ("allee", "alle", "avenida", "avda", "laan", "viale"),
    "boulevard": ("bd", "bulevar", "boulevar"),
    "square": ("plein", "tori", "torget", "aukio", "torg"),
    "lane": ("gasse", "kuja", "grand", "grander", "steeg", "vicolo"),
}

#: One-letter (and short) abbreviations that are a street type only where a segment starts:
#: French/Portuguese "r." (rue, rua), Spanish "c/" (calle), Italian "v." (via), "p.za".
FRONT_TYPES: dict[str, str] = {"r": "street", "c": "street", "v": "street", "cl": "street", "p": "place",
                               "pzza": "place", "pza": "place", "av": "avenue"}

#: Fused suffixes and their abbreviations: "hauptstr." -> "hauptstrasse".
FUSED: dict[str, str] = {"str": "strasse", "k": "katu", "t": "tie", "g": "gatan", "v": "vagen", "pl": "platz",
                         "gt": "gate", "vn": "veien"}

_FUSED_DOT = re.compile(r"\b(\w{4,}?)(" + "|".join(sorted(FUSED, key=len, reverse=True)) + r")\.(?=[\s,\d]|$)")
_FUSED_STR = re.compile(r"\b(\w{3,})str\b")
_PIAZZA = re.compile(r"\bp\.\s?zza\b")
_LETTERS = str.maketrans({"ø": "o", "æ": "ae", "œ": "oe", "ł": "l", "đ": "d", "þ": "th", "ð": "d", "ı": "i"})
_UMLAUT = re.compile(r"(?<=[^aeiou\W\d])(ae|oe|ue)")


def fold_letters(text: str) -> str:
    """Letters that Unicode does not decompose into a base letter and an accent ("ø" -> "o")."""
    return text.translate(_LETTERS)


def expand_fused(folded: str) -> str:
    """Spell fused abbreviations out before punctuation is dropped (the dot marks them).

    Examples
    --------
    >>> expand_fused("hauptstr. 5, mannerheimint. 3, fredriksg. 1, p.zza duomo")
    'hauptstrasse 5, mannerheimintie 3, fredriksgatan 1, piazza duomo'
    """
    t = _PIAZZA.sub("piazza", folded)
    t = _FUSED_DOT.sub(lambda m: m.group(1) + FUSED[m.group(2)], t)
    return _FUSED_STR.sub(r"\1strasse", t)


def umlaut_variant(folded: str) -> str:
    """The text with German/Nordic transliterations folded back ("mueller" -> "muller").

    ``fold`` strips the umlaut of "Müller" to "muller"; a user without the key types "Mueller".
    Only used as a second try: "queen" keeps its "ue" because a vowel precedes it.
    """
    return _UMLAUT.sub(lambda m: m.group(1)[0], folded)
