"""Derive ``sydney_addresses.csv`` (a real address-point sample) from the NSW schools file.

Run from the repository root: ``PYTHONPATH=. python data/boundaries/nsw/derive_sydney_addresses.py``.
Reads ``greater_sydney_schools.geojson`` next to this file (NSW Department of Education,
CC BY 4.0) and writes one address point per school: the school's published ``Street``,
``Town_suburb`` and ``Postcode`` at its published point. Rules (documented in
``data/boundaries/README.md``):

* ALL-CAPS text is title-cased; parenthesised notes ("(via Dent St)") and "Level n" are dropped;
* a leading building or school name before the house number is dropped
  ("MINTO PUBLIC SCHOOL 1 REDFERN ROAD" -> "1 Redfern Road");
* "13/33 Henry St" is unit 13 of number 33: the number column keeps 33; ranges stay ("93-107");
* corners ("Cnr A St & B Rd", "A & B Sts") keep the first street, taking the shared type when
  the first has none ("Trevelyan & Wiggins Sts" -> "Trevelyan St"); no number is given;
* text with no street type word (a park, a hospital ward) keeps the locality only (street empty).
"""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

from geo.address.parse import STREET_TYPES, latin_tokens

HERE = Path(__file__).resolve().parent
_TYPES = set(STREET_TYPES) | {a for v in STREET_TYPES.values() for a in v}
_PLURAL = {"sts": "St", "rds": "Rd", "drives": "Drive", "aves": "Ave", "avenues": "Avenue", "roads": "Road",
           "streets": "Street"}
_NUMBER = re.compile(r"(?:^|\s)(?:\d+[A-Za-z]?/)?(\d+[A-Za-z]?(?:-\d+[A-Za-z]?)?)\s+(?=[A-Za-z'])")


def _title(s: str) -> str:
    return s.title() if s.isupper() else s


def _is_type(word: str) -> bool:
    toks = latin_tokens(word)
    return bool(toks) and (toks[0] in _TYPES or toks[0] in _PLURAL)


def _first_street(words: list[str]) -> list[str]:
    """Words up to the first street type (plus a direction word right after it)."""
    for i, w in enumerate(words):
        if i > 0 and _is_type(w):
            end = i + 1
            if end < len(words) and words[end].lower() in {"north", "south", "east", "west", "n", "s", "e", "w"}:
                end += 1
            return words[:end]
    return []


def split_street(raw: str) -> tuple[str, str]:
    """Published ``Street`` text -> (number, street); see the module docstring."""
    s = _title(re.sub(r"\([^)]*\)", " ", raw))
    s = re.sub(r"\b(?:level|lvl)\s*\d+\b,?", " ", s, flags=re.IGNORECASE)
    s = " ".join(s.replace(",", " ").split())
    number = ""
    matches = list(_NUMBER.finditer(s))
    if matches:
        m = matches[0]
        number, s = m.group(1), s[m.end():]
    s = re.sub(r"^(?:cnr|corner(?: of)?)\s+", "", s, flags=re.IGNORECASE)
    parts = re.split(r"\s+(?:&|and)\s+", s, flags=re.IGNORECASE)
    if len(parts) > 1:
        number = ""
        first = parts[0].split()
        if not _first_street(first):
            second = parts[1].split()
            shared = _first_street(second)[-1:] or second[-1:]
            first = first + [_PLURAL.get(shared[0].lower(), shared[0])] if shared else first
        street = _first_street(first)
    else:
        street = _first_street(s.split())
    return number, " ".join(street)


def main() -> None:
    doc = json.loads((HERE / "greater_sydney_schools.geojson").read_text(encoding="utf-8"))
    rows = []
    for f in doc["features"]:
        p = f["properties"]
        number, street = split_street(p["Street"] or "")
        lon, lat = f["geometry"]["coordinates"]
        rows.append({"id": f"nsw-school-{p['School_code']}", "number": number, "street": street,
                     "locality": _title(p["Town_suburb"] or ""), "postcode": p["Postcode"] or "",
                     "lon": f"{lon:.6f}", "lat": f"{lat:.6f}"})
    rows.sort(key=lambda r: r["id"])
    with (HERE / "sydney_addresses.csv").open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=["id", "number", "street", "locality", "postcode", "lon", "lat"])
        w.writeheader()
        w.writerows(rows)
    print(f"wrote {len(rows)} rows; {sum(1 for r in rows if r['number'])} with a house number, "
          f"{sum(1 for r in rows if not r['street'])} without a street")


if __name__ == "__main__":
    main()
