"""Offline gazetteer: the default geocoder, built in memory from imported address points.

Matching, in order (every answer says which it was through its precision):

1. **Street**: the text's words are split into street + locality at every position and looked
   up exactly (after :mod:`geo.address.parse` normalisation, so "Rd" = "Road"); when no exact
   street fits well, rapidfuzz ``fuzz.ratio`` ranks known street names without their type
   ("nrth" ~ "north"; a differing type costs a fifth), typo-tolerant. The locality and postcode
   in the text weigh each candidate street; below 0.7 a street is dropped.
2. **House number** on the chosen street: the record with that number (or a range covering it,
   "93-107") is ``exact``; a number not in the gazetteer is ``interpolated`` between the nearest
   known numbers on the same side (parity) of that street, or put at the nearest known number
   beyond the ends; no number, or none known on the street, gives the ``street`` centroid.
3. **Locality** (suburb, postcode, Chinese 区/县/市...) when no street matches: its centroid.

Several candidates within :data:`geo.address.geocode.AMBIGUITY_MARGIN` of the best that are more than a
few metres apart raise :class:`~geo.errors.AmbiguousAddress` with the candidates.

Why rapidfuzz rather than SQLite FTS5 trigram: ``python -m bench.bench_geocode`` measures both
on one-typo queries over the 5,469 street-suburb names of its 500,000-address gazetteer:
rapidfuzz ``fuzz.ratio`` finds the right street first 99.8 % of the time in 0.4 ms (median);
FTS5 trigram with the OR of the query's trigrams ranked by BM25 99.0 % in ~5 ms, and with FTS5's
default AND of trigrams only 4.9 % (one typo breaks three trigrams). rapidfuzz also keeps
``geo`` free of a database.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
from rapidfuzz import fuzz, process

from geo.address.geocode import AddressRecord, GeocodeResult, Precision, Suggestion, check_address_text, pick_best
from geo.address.lang import umlaut_variant
from geo.address.order import readings
from geo.address.parse import (
    UNIT_WORDS,
    HouseNumber,
    ParsedAddress,
    area_aliases,
    completions,
    expand_words,
    is_chinese,
    latin_tokens,
    normalise_chinese,
    parse_address,
    street_name_type,
)
from geo.address.tables import AddressTables, LocalityEntry, StreetEntry

#: Below this best exact-street score the fuzzy street search also runs.
_FUZZY_BELOW = 0.95
#: rapidfuzz cut-offs (0-100) for street names without their type, Chinese roads, localities.
_NAME_CUTOFF = 75.0
_ZH_CUTOFF = 75.0
#: Weight of the street type in a fuzzy street score ("Smith Rd" for "Smith St" keeps 0.8).
_TYPE_WEIGHT = 0.2
#: Weight of the locality/postcode agreement: a street in another suburb than the one asked
#: keeps at most half its score, so the suburb named outweighs an exact house number elsewhere.
_AREA_WEIGHT = 0.5
#: Locality names less similar than this (0-100) are different places, not typos: "Condell
#: Park" and "Bardwell Park" share "park" and score 72 with fuzz.ratio, and must not half-match.
_AREA_CUTOFF = 85.0
_LOCALITY_CUTOFF = 85.0
#: Street candidates scoring below this are dropped (the locality fallback answers instead).
_STREET_MIN = 0.7
#: Score factors for how the number was placed (exact = 1).
_F_INTERPOLATED, _F_NO_NUMBERS = 0.9, 0.85
#: Score factor of a reading that takes no house number from text that has one.
_F_NUMBER_UNREAD = 0.75


class Gazetteer(AddressTables):
    """In-memory address matcher and type-ahead over address records (EPSG:4326).

    Parameters
    ----------
    records
        The address points; see :class:`geo.address.geocode.AddressRecord`.
    name
        Geocoder name reported in answers.
    """

    def __init__(self, records: Iterable[AddressRecord], *, name: str = "gazetteer") -> None:
        super().__init__(records)
        self._name = name

    # ------------------------------------------------------------------ protocol

    @property
    def name(self) -> str:
        return self._name

    def __len__(self) -> int:
        return len(self._ids)

    def geocode(self, text: str) -> GeocodeResult:
        """The best match for ``text``.

        Raises
        ------
        InvalidInput
            Empty, over-long or binary text.
        AddressNotFound
            Nothing matches.
        AmbiguousAddress
            Several places match about equally well (``candidates`` lists them).
        """
        clean = check_address_text(text)
        return pick_best(clean, self.search(clean, limit=10))

    def search(self, text: str, *, limit: int = 5) -> list[GeocodeResult]:
        """Up to ``limit`` scored answers for ``text``, best first (see the module docstring)."""
        clean = check_address_text(text)
        p = parse_address(clean)
        if p.script == "zh":
            return self._answers(clean, [p], limit)
        results = self._answers(clean, readings(clean), limit)
        if (not results or results[0].score < _FUZZY_BELOW) and (alt := umlaut_variant(clean.casefold())) != clean.casefold():
            # "Muellerstrasse" for "Müllerstraße": the transliteration, folded back, as a second try.
            results = sorted(results + self._answers(clean, readings(alt), limit), key=lambda r: (-r.score, r.address))
            results = list({(r.address_id, r.address): r for r in reversed(results)}.values())[::-1][:limit]
        return results

    def _answers(self, clean: str, parsed: list[ParsedAddress], limit: int) -> list[GeocodeResult]:
        """The best answers over the readings of the text (see :func:`geo.address.order.readings`)."""
        best: dict[tuple[str | None, str], GeocodeResult] = {}
        localities: list[GeocodeResult] = []
        numbered = any(p.number is not None for p in parsed)
        for p in parsed:
            cands = self._zh_streets(p) if p.script == "zh" else self._latin_streets(p)
            ranked = sorted(((j, sc) for j, sc in cands.items() if sc >= _STREET_MIN), key=lambda kv: -kv[1])[: max(limit, 10)]
            # A reading that leaves the text's house number unread must not beat one that reads it.
            unread = _F_NUMBER_UNREAD if numbered and p.number is None else 1.0
            for j, score in ranked:
                r = self._place(clean, p, self._pairs[j], score * unread)
                key = (r.address_id, r.address)
                if key not in best or best[key].score < r.score:
                    best[key] = r
            if not ranked and not localities:
                localities = self._locality_results(clean, p)
            top = max((r for r in best.values()), key=lambda r: r.score, default=None)
            if top is not None and top.precision is Precision.EXACT and top.score >= _FUZZY_BELOW:
                break  # a reading matched a house exactly: the others cannot beat it
        results = list(best.values()) or localities
        results.sort(key=lambda r: (-r.score, r.address))
        return results[:limit]

    # ------------------------------------------------------------------ streets

    def _area_factor(self, rest: str, postcode: str | None, e: StreetEntry) -> float:
        parts: list[float] = []
        if rest:
            sim = max((fuzz.ratio(rest, a, score_cutoff=_AREA_CUTOFF) for a in e.areas), default=0.0)
            parts.append(sim / 100.0)
        if postcode:
            parts.append(1.0 if postcode in e.postcodes else 0.0)
        return 1.0 if not parts else 1 - _AREA_WEIGHT + _AREA_WEIGHT * sum(parts) / len(parts)

    @staticmethod
    def _add(found: dict[int, float], e: StreetEntry, score: float) -> None:
        found[e.pos] = max(found.get(e.pos, 0.0), score)

    def _latin_streets(self, p: ParsedAddress) -> dict[int, float]:
        words = list(p.words)
        found: dict[int, float] = {}
        for i in range(len(words), 0, -1):
            for e in self._by_name.get(" ".join(words[:i]), ()):
                self._add(found, e, self._area_factor(" ".join(words[i:]), p.postcode, e))
        if p.street is None:
            # No comma: the locality may also come first ("10557 Berlin Lehrter Straße 53").
            for i in range(1, len(words)):
                for e in self._by_name.get(" ".join(words[i:]), ()):
                    self._add(found, e, self._area_factor(" ".join(words[:i]), p.postcode, e))
        if words and max(found.values(), default=0.0) < _FUZZY_BELOW:
            for i in range(len(words), 0, -1):
                typed = " ".join(words[:i])
                bare, kind = street_name_type(typed)
                rest = " ".join(words[i:])
                for name, sc, _ in process.extract(bare, self._bare_names, scorer=fuzz.ratio, limit=5,
                                                   score_cutoff=_NAME_CUTOFF):
                    for key, key_kind in self._by_bare[name]:
                        # A query without a type loses the type's share, a different type too; a
                        # name with its type fused ("Mannerheimintie") is all name on both sides.
                        same = kind == key_kind and (kind != "" or len(bare.split()) == len(name.split()) == 1)
                        sim = (1 - _TYPE_WEIGHT) * sc / 100.0 + _TYPE_WEIGHT * same
                        for e in self._by_name[key]:
                            self._add(found, e, sim * self._area_factor(rest, p.postcode, e))
                if kind:
                    for name, sc, _ in process.extract(typed, self._typeless, scorer=fuzz.ratio, limit=3,
                                                       score_cutoff=_NAME_CUTOFF):
                        for e in self._by_name[name]:
                            self._add(found, e, sc / 100.0 * self._area_factor(rest, p.postcode, e))
        return found

    def _zh_streets(self, p: ParsedAddress) -> dict[int, float]:
        found: dict[int, float] = {}
        road = p.street
        if not road:
            return found
        areas = list(p.areas)

        def factor(extra: str, e: StreetEntry) -> float:
            asked = [a for a in ([extra] if extra else []) + areas]
            if not asked:
                return 1.0
            hit = sum(1 for a in asked if any(x in e.areas for x in area_aliases(a)))
            return 1 - _AREA_WEIGHT + _AREA_WEIGHT * hit / len(asked)

        # The longest known street name that ends the road text; what precedes it is an area
        # written without its suffix ("徐汇漕溪北路" = 徐汇 + 漕溪北路).
        for k in range(len(road) - 1):
            hits = self._by_name.get(road[k:])
            if hits:
                for e in hits:
                    self._add(found, e, factor(road[:k], e))
                break
        if max(found.values(), default=0.0) < _FUZZY_BELOW:
            for name, sc, _ in process.extract(road, self._zh_names, scorer=fuzz.ratio, limit=5,
                                               score_cutoff=_ZH_CUTOFF):
                for e in self._by_name[name]:
                    self._add(found, e, sc / 100.0 * factor("", e))
        return found

    # ------------------------------------------------------------------ numbers

    def _result(self, query: str, address: str, lon: float, lat: float, precision: Precision, score: float,
                *, rec: int | None = None, e: StreetEntry | None = None, en: str = "", zh: str = "") -> GeocodeResult:
        comps: dict[str, str] = {}
        if e is not None:
            comps.update(street=e.name, locality=e.locality_name)
            if len(e.postcodes) == 1:
                comps["postcode"] = next(iter(e.postcodes))
        if rec is not None:
            if (n := self._number[rec]) is not None:
                comps["number"] = n.text
            if self._postcode[rec]:
                comps["postcode"] = str(self._postcode[rec])
        return GeocodeResult(query=query, address=address, lon=lon, lat=lat, precision=precision,
                             score=round(min(max(score, 0.0), 1.0), 4), geocoder=self._name,
                             address_id=self._ids[rec] if rec is not None else None, components=comps,
                             explanation={"en": en, "zh": zh} if en else {})

    def _place(self, query: str, p: ParsedAddress, e: StreetEntry, base: float) -> GeocodeResult:
        n = p.number
        label = e.label
        if n is None:
            return self._result(query, label, e.lon, e.lat, Precision.STREET, base, e=e,
                                en=f"No house number given: placed at the middle of {label}.",
                                zh=f"未提供门牌号：定位于{label}的中点。")
        exact = [i for i in e.members if (h := self._number[i]) is not None and h.covers(n.first)]
        if exact:
            # The same number drawn twice (a node and a building, two postcodes): the postcode asked decides.
            best = min(exact, key=lambda i: (self._number[i] != n, bool(p.postcode) and self._postcode[i] != p.postcode,
                                             abs(len(self._display[i]) - len(query))))
            h = self._number[best]
            # "12a" answered by "12" (or the reverse) is the right lot most of the time, not always.
            full = h is None or h.last > h.first or (h.first, h.suffix) == (n.first, n.suffix)
            return self._result(query, self._display[best], float(self._lon[best]), float(self._lat[best]),
                                Precision.EXACT, base * (1.0 if full else 0.98), rec=best, e=e)
        if e.numbers.size == 0:
            return self._result(query, label, e.lon, e.lat, Precision.STREET, base * _F_NO_NUMBERS, e=e,
                                en=f"No house numbers are known on {label}: placed at the middle of the street.",
                                zh=f"{label}没有已知门牌号：定位于该街道中点。")
        return self._interpolate(query, n, e, base)

    def _interpolate(self, query: str, n: HouseNumber, e: StreetEntry, base: float) -> GeocodeResult:
        nums, recs = e.numbers, e.number_rec
        # Same side of the street (parity) when it has known numbers on both sides of n, else
        # both sides: interpolating across sides still beats snapping to one end.
        same = (nums % 2) == (n.first % 2)
        use = same
        if not ((same & (nums < n.first)).any() and (same & (nums > n.first)).any()):
            use = np.ones_like(same)
        below = np.flatnonzero(use & (nums < n.first))
        above = np.flatnonzero(use & (nums > n.first))
        where = f"{n.text} {e.name}" if not e.zh else f"{e.name}{n.text}号"
        if below.size and above.size:
            lo, hi = below[-1], above[0]
            t = (n.first - nums[lo]) / (nums[hi] - nums[lo])
            a, b = int(recs[lo]), int(recs[hi])
            lon = float(self._lon[a] + t * (self._lon[b] - self._lon[a]))
            lat = float(self._lat[a] + t * (self._lat[b] - self._lat[a]))
            en = (f"House number {n.text} is not in the gazetteer: placed on {e.label} between "
                  f"numbers {nums[lo]} and {nums[hi]}.")
            zh = f"门牌号{n.text}不在地址库中：按{e.label}上{nums[lo]}号与{nums[hi]}号之间插值定位。"
        else:
            k = below[-1] if below.size else above[0]
            a = int(recs[k])
            lon, lat = float(self._lon[a]), float(self._lat[a])
            en = (f"House number {n.text} is beyond the known numbers of {e.label}: placed at the "
                  f"nearest known number, {nums[k]}.")
            zh = f"门牌号{n.text}超出{e.label}已知门牌范围：定位于最近的已知门牌{nums[k]}号。"
        return self._result(query, f"{where}, {e.locality_name}" if not e.zh else f"{e.locality_name}{where}",
                            lon, lat, Precision.INTERPOLATED, base * _F_INTERPOLATED, e=e, en=en, zh=zh)

    # ------------------------------------------------------------------ localities

    def _locality_results(self, query: str, p: ParsedAddress) -> list[GeocodeResult]:
        hits: list[tuple[LocalityEntry, float, bool]] = []
        if p.script == "zh":
            for k, a in enumerate(p.areas):
                for alias in area_aliases(a):
                    if alias in self._localities:
                        hits.append((self._localities[alias], 1.0 if k == 0 and not p.street else 0.5, bool(p.street)))
                        break
                if hits:
                    break
        else:
            words = list(p.words)
            if not words and (p.postcode or p.number):
                code = p.postcode or (p.number.text if p.number else "")
                if code in self._localities:
                    hits.append((self._localities[code], 1.0, False))
            for i in range(len(words)):
                loc = self._localities.get(" ".join(words[i:]))
                if loc is not None:
                    hits.append((loc, 1.0 if i == 0 and p.number is None else 0.5, i > 0))
                    break
            if not hits and words:
                for name, sc, _ in process.extract(" ".join(words), self._locality_names, scorer=fuzz.ratio,
                                                   limit=3, score_cutoff=_LOCALITY_CUTOFF):
                    hits.append((self._localities[name], sc / 100.0, False))
        out = []
        for loc, score, street_missed in hits:
            en = f"Placed at the centre of {loc.name}'s known addresses"
            zh = f"定位于{loc.name}已知地址的中心"
            if street_missed:
                en, zh = en + ": the street was not found", zh + "：未找到该街道"
            out.append(self._result(query, loc.name, loc.lon, loc.lat, Precision.LOCALITY, score, en=en + ".", zh=zh + "。"))
        return out

    # ------------------------------------------------------------------ type-ahead

    def suggest(self, prefix: str, *, limit: int = 10) -> list[Suggestion]:
        """Up to ``limit`` addresses for a partly typed ``prefix`` (type-ahead).

        Raises
        ------
        InvalidInput
            Empty, over-long or binary text.
        """
        clean = check_address_text(prefix, where="q")
        if is_chinese(clean):
            t = normalise_chinese(clean)
            recs = self._index.query([t], limit=limit)
        else:
            toks = [t for t in latin_tokens(clean) if t != ","]
            if toks and toks[0] in UNIT_WORDS and len(toks) > 1:
                toks = toks[1:] if "/" in toks[1] else toks[2:]
            if toks and "/" in toks[0]:
                toks[0] = toks[0].split("/", 1)[1]  # "3/12" -> "12"
            done = prefix[-1:].isspace()
            words = expand_words(toks)
            if done or not words:
                variants, complete, partials = [" ".join(words) + " "], words, []
            else:
                # The last word is still being typed: try it as typed, as read in context, and as
                # every abbreviation it may be starting ("Great Western Hw" -> "highway").
                complete = words[:-1]
                partials = list(dict.fromkeys([words[-1], *completions(toks[-1])]))
                variants = [" ".join([*complete, p]) for p in partials]
            recs = self._index.query(variants, words=complete, partials=partials, limit=limit)
        return [Suggestion(address=self._display[i], address_id=self._ids[i], lon=float(self._lon[i]),
                           lat=float(self._lat[i])) for i in recs]
