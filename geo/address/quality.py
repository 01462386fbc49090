"""How well the gazetteer finds addresses: exact, perturbed and held-out text against known points.

The three measures of issue 15, used by the tests and by ``make bench``:

* **exact**: each address's own text ("Kaivokatu 1, 00100 Helsinki") must come back at its own
  point (within ``exact_m``);
* **perturbed**: the text as people type it: lower case, the street type abbreviated, two
  neighbouring letters of the street name swapped, and the postcode dropped or moved to the front
  (all four at once), within ``perturbed_m``;
* **held out**: a tenth of the numbered addresses is left out of the gazetteer; their text must be
  interpolated from the neighbours within ``held_out_m``.

Addresses whose text is shared by several points (the same number drawn twice in OpenStreetMap)
have no single right answer; a hit on any point of that text counts, and :class:`Quality` says
how many there were.
"""

from __future__ import annotations

import random
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from geo.address.gazetteer import Gazetteer
from geo.address.geocode import AddressRecord
from geo.distance import geodesic_m
from geo.errors import AddressNotFound, AmbiguousAddress

__all__ = ["Quality", "address_text", "measure", "perturb"]

#: Fused and apart street types and the abbreviation a person would type.
_ABBREVIATIONS = (("katu", "k."), ("gatan", "g."), ("tie", "t."), ("vagen", "v."), ("vägen", "v."),
                  ("strasse", "str."), ("straße", "str."), ("street", "St"), ("road", "Rd"), ("avenue", "Ave"))


def address_text(r: AddressRecord) -> str:
    """The street-first text of a record: "Kaivokatu 1, 00100 Helsinki"."""
    tail = " ".join(x for x in (r.postcode, r.locality) if x)
    head = f"{r.street} {r.number}" if r.number else str(r.street)
    return f"{head}, {tail}" if tail else head


def perturb(r: AddressRecord, rng: random.Random) -> str:
    """The record's text as typed in a hurry (see the module docstring); deterministic for ``rng``."""
    name, kind = str(r.street), ""
    for full, short in _ABBREVIATIONS:
        if name.lower().endswith(full):
            name, kind = name[: len(name) - len(full)], short
            break
    # The typo goes in the name, not in the abbreviation ("Mikonk." -> "Mioknk.").
    letters = [i for i in range(1, len(name) - 1) if name[i].isalpha() and name[i + 1].isalpha() and name[i] != name[i + 1]]
    if letters:
        i = rng.choice(letters)
        name = name[:i] + name[i + 1] + name[i] + name[i + 2:]
    street = name + kind
    head = f"{street} {r.number}" if r.number else street
    if r.postcode and rng.random() < 0.5:
        text = f"{r.postcode} {r.locality or ''}, {head}".replace(" ,", ",")  # postcode moved to the front
    else:
        text = f"{head}, {r.locality}" if r.locality else head  # postcode dropped
    return text.lower()


@dataclass(frozen=True, slots=True)
class Quality:
    """Shares of queries answered within the distance asked (0-1), with the counts behind them."""

    exact: float
    perturbed: float
    held_out: float
    n_exact: int
    n_held_out: int
    shared_texts: int


def _hits(gaz: Gazetteer, queries: Sequence[tuple[str, list[tuple[float, float]]]], within_m: float) -> float:
    ok = 0
    for text, points in queries:
        try:
            res = gaz.geocode(text)
        except (AddressNotFound, AmbiguousAddress):
            continue
        lon, lat = np.array([p[0] for p in points]), np.array([p[1] for p in points])
        if float(np.min(geodesic_m(np.full(lon.shape, res.lon), np.full(lat.shape, res.lat), lon, lat))) <= within_m:
            ok += 1
    return ok / max(len(queries), 1)


def measure(records: Sequence[AddressRecord], *, seed: int = 15, exact_m: float = 5.0, perturbed_m: float = 25.0,
            held_out_m: float = 150.0, held_out_share: float = 0.1) -> Quality:
    """Measure the gazetteer built from ``records`` on their own text (see the module docstring).

    Parameters
    ----------
    records
        Address points with street and number (others are loaded but not asked for).
    seed
        Seed of the perturbations and of the held-out draw.

    Returns
    -------
    Quality
    """
    rng = random.Random(seed)
    numbered = [r for r in records if r.street and r.number and re.match(r"\d", r.number)]
    points: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for r in numbered:
        points[address_text(r).casefold()].append((r.lon, r.lat))
    gaz = Gazetteer(records)
    exact = _hits(gaz, [(address_text(r), points[address_text(r).casefold()]) for r in numbered], exact_m)
    perturbed = _hits(gaz, [(perturb(r, rng), points[address_text(r).casefold()]) for r in numbered], perturbed_m)
    # Held out: whole texts, so that a duplicate left in the gazetteer does not answer for itself.
    texts = sorted(points)
    rng.shuffle(texts)
    out = set(texts[: max(1, round(held_out_share * len(texts)))])
    kept = [r for r in records if not (r.street and r.number and address_text(r).casefold() in out)]
    asked = [r for r in numbered if address_text(r).casefold() in out]
    held = _hits(Gazetteer(kept), [(address_text(r), [(r.lon, r.lat)]) for r in asked], held_out_m)
    return Quality(exact=exact, perturbed=perturbed, held_out=held, n_exact=len(numbered), n_held_out=len(asked),
                   shared_texts=sum(1 for v in points.values() if len(v) > 1))
