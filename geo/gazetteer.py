"""Offline gazetteer: the default geocoder, built in memory from imported address points.

Matching, in order (every answer says which it was through its precision):

1. **Street**: the text's words are split into street + locality at every position and looked
   up exactly (after :mod:`geo.addressing` normalisation, so "Rd" = "Road"); when no exact
   street fits well, rapidfuzz ``fuzz.ratio`` ranks known "street locality" pairs and street
   names (typo-tolerant). The locality and postcode in the text weigh each candidate street.
2. **House number** on the chosen street: the record with that number (or a range covering it,
   "93-107") is ``exact``; a number not in the gazetteer is ``interpolated`` between the nearest
   known numbers on the same side (parity) of that street, or put at the nearest known number
   beyond the ends; no number, or none known on the street, gives the ``street`` centroid.
3. **Locality** (suburb, postcode, Chinese 区/县/市...) when no street matches: its centroid.

Several candidates within :data:`geo.geocode.AMBIGUITY_MARGIN` of the best that are more than a
few metres apart raise :class:`~geo.errors.AmbiguousAddress` with the candidates.

Why rapidfuzz rather than SQLite FTS5 trigram: ``bench/bench_geocode.py`` measures both on
typo queries; rapidfuzz's edit-distance ratio over the (few thousand) street names is both
more accurate on one-letter typos (FTS5 trigram needs the OR of the query's trigrams and ranks
by BM25, which rewards shared rare trigrams rather than closeness) and keeps ``geo`` free of a
database (see the benchmark's output for the numbers).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
from rapidfuzz import fuzz, process

from geo.addressing import (
    HouseNumber,
    ParsedAddress,
    UNIT_WORDS,
    area_aliases,
    expand_words,
    is_chinese,
    latin_tokens,
    normalise,
    normalise_chinese,
    parse_address,
    parse_house_number,
    split_street_words,
)
from geo.geocode import AddressRecord, GeocodeResult, Precision, Suggestion, check_address_text, pick_best
from geo.suggest import SuggestIndex

#: Below this best exact-street score the fuzzy street search also runs.
_FUZZY_BELOW = 0.95
_PAIR_CUTOFF = 75.0
_NAME_CUTOFF = 80.0
_LOCALITY_CUTOFF = 85.0
#: Street candidates scoring below this are dropped (the locality fallback answers instead).
_STREET_MIN = 0.7
#: Score factors for how the number was placed (exact = 1).
_F_INTERPOLATED, _F_NO_NUMBERS = 0.9, 0.85


@dataclass(slots=True)
class _Street:
    key: str
    locality: str
    name: str
    locality_name: str
    zh: bool
    areas: set[str] = field(default_factory=set)
    postcodes: set[str] = field(default_factory=set)
    members: list[int] = field(default_factory=list)
    numbers: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    number_rec: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    lon: float = 0.0
    lat: float = 0.0
    pos: int = 0  # position in Gazetteer._pairs

    @property
    def label(self) -> str:
        if self.zh:
            return f"{self.locality_name}{self.name}"
        return f"{self.name}, {self.locality_name}".rstrip(", ")


@dataclass(slots=True)
class _Locality:
    name: str
    members: list[int] = field(default_factory=list)
    postcodes: set[str] = field(default_factory=set)
    lon: float = 0.0
    lat: float = 0.0


def _area_set(names: Iterable[str]) -> set[str]:
    return {alias for n in names if n for alias in area_aliases(n)}


def _zh_display(parts: dict[str, str]) -> tuple[str, str]:
    locality = next((parts[k] for k in ("district", "town", "city", "province") if k in parts), "")
    return locality, parts.get("road", "") + (f"{parts['lane']}弄" if "lane" in parts else "")


class Gazetteer:
    """In-memory address matcher and type-ahead over address records (EPSG:4326).

    Parameters
    ----------
    records
        The address points; see :class:`geo.geocode.AddressRecord`.
    name
        Geocoder name reported in answers.
    """

    def __init__(self, records: Iterable[AddressRecord], *, name: str = "gazetteer") -> None:
        self._name = name
        self._ids: list[str] = []
        self._display: list[str] = []
        self._number: list[HouseNumber | None] = []
        self._street_of: list[_Street | None] = []
        self._postcode: list[str | None] = []
        lons: list[float] = []
        lats: list[float] = []
        self._streets: dict[tuple[str, str], _Street] = {}
        self._by_name: dict[str, list[_Street]] = {}
        self._localities: dict[str, _Locality] = {}
        full_keys: list[str] = []
        street_keys: list[str] = []
        norm_cache: dict[str, str] = {}
        for rec in records:
            i = len(self._ids)
            number, street, loc_key, loc_name, areas, postcode, zh, label = self._parse(rec, norm_cache)
            self._ids.append(rec.id)
            lons.append(rec.lon)
            lats.append(rec.lat)
            self._number.append(number)
            self._postcode.append(postcode)
            self._display.append(label)
            entry: _Street | None = None
            if street[0]:
                entry = self._streets.get((street[0], loc_key))
                if entry is None:
                    entry = _Street(street[0], loc_key, street[1], loc_name, zh)
                    self._streets[(street[0], loc_key)] = entry
                    self._by_name.setdefault(street[0], []).append(entry)
                entry.members.append(i)
                entry.areas |= areas
                if postcode:
                    entry.postcodes.add(postcode)
            self._street_of.append(entry)
            for a in areas | ({postcode} if postcode else set()):
                loc = self._localities.setdefault(a, _Locality(loc_name if a in area_aliases(loc_key) else a))
                loc.members.append(i)
                if postcode:
                    loc.postcodes.add(postcode)
            num = number.text if number else ""
            if zh:
                full_keys.append(normalise_chinese(label))
                street_keys.append(f"{street[0]}{num}{'号' if num else ''}{loc_key}")
            else:
                full_keys.append(" ".join(x for x in (num, street[0], loc_key, postcode or "") if x))
                street_keys.append(" ".join(x for x in (street[0], num, loc_key, postcode or "") if x))
        self._lon = np.asarray(lons, dtype=np.float64)
        self._lat = np.asarray(lats, dtype=np.float64)
        for entry in self._streets.values():
            self._finish_street(entry)
        for loc in self._localities.values():
            idx = np.asarray(loc.members)
            loc.lon, loc.lat = float(self._lon[idx].mean()), float(self._lat[idx].mean())
        self._pairs = list(self._streets.values())
        for j, e in enumerate(self._pairs):
            e.pos = j
        self._pair_keys = [f"{e.key} {e.locality}" if not e.zh else f"{e.locality}{e.key}" for e in self._pairs]
        self._street_names = list(self._by_name)
        self._locality_names = list(self._localities)
        self._index = SuggestIndex(full_keys, street_keys)

    # ------------------------------------------------------------------ loading

    @staticmethod
    def _parse(rec: AddressRecord, cache: dict[str, str]) -> tuple[
            HouseNumber | None, tuple[str, str], str, str, set[str], str | None, bool, str]:
        """(number, (street key, street name), locality key, locality name, areas, postcode, zh, label)."""
        def norm(s: str) -> str:
            if s not in cache:
                cache[s] = normalise(s)
            return cache[s]

        postcode = rec.postcode
        if rec.street or rec.locality:
            street_name, loc_name = rec.street or "", rec.locality or ""
            zh = is_chinese(street_name + loc_name)
            number = parse_house_number(rec.number) if rec.number else None
            loc_key = norm(loc_name)
            areas = _area_set([loc_key])
            if zh:
                label = rec.text or f"{loc_name}{street_name}{number.text + '号' if number else ''}"
            else:
                label = rec.text or ", ".join(x for x in (
                    " ".join(x for x in ((number.text if number else ""), street_name) if x),
                    " ".join(x for x in (loc_name, postcode or "") if x)) if x)
            return number, (norm(street_name), street_name), loc_key, loc_name, areas, postcode, zh, label
        text = rec.text or ""
        p = parse_address(text)
        if p.script == "zh":
            loc_key, street_key = _zh_display(p.parts)
            return p.number, (street_key, street_key), loc_key, loc_key, _area_set(p.areas), postcode, True, text
        if p.street is not None:
            street_key, loc_key = p.street, (p.areas[0] if p.areas else "")
        else:
            street_key, loc_key = split_street_words(list(p.words))
        postcode = postcode or p.postcode
        return (p.number, (street_key, street_key.title()), loc_key, loc_key.title(), _area_set([loc_key]),
                postcode, False, text)

    def _finish_street(self, e: _Street) -> None:
        idx = np.asarray(e.members)
        e.lon, e.lat = float(self._lon[idx].mean()), float(self._lat[idx].mean())
        numbered = [(n.first, i) for i in e.members if (n := self._number[i]) is not None]
        numbered.sort()
        e.numbers = np.asarray([n for n, _ in numbered], dtype=np.int64)
        e.number_rec = np.asarray([i for _, i in numbered], dtype=np.int64)

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
        cands = self._zh_streets(p) if p.script == "zh" else self._latin_streets(p)
        ranked = sorted(((j, sc) for j, sc in cands.items() if sc >= _STREET_MIN), key=lambda kv: -kv[1])[: max(limit, 10)]
        results = [self._place(clean, p, self._pairs[j], score) for j, score in ranked]
        if not results:
            results = self._locality_results(clean, p)
        results.sort(key=lambda r: (-r.score, r.address))
        return results[:limit]

    # ------------------------------------------------------------------ streets

    def _area_factor(self, rest: str, postcode: str | None, e: _Street) -> float:
        parts: list[float] = []
        if rest:
            parts.append(max((fuzz.ratio(rest, a) for a in e.areas), default=0.0) / 100.0)
        if postcode:
            parts.append(1.0 if postcode in e.postcodes else 0.0)
        return 1.0 if not parts else 0.7 + 0.3 * sum(parts) / len(parts)

    @staticmethod
    def _add(found: dict[int, float], e: _Street, score: float) -> None:
        found[e.pos] = max(found.get(e.pos, 0.0), score)

    def _latin_streets(self, p: ParsedAddress) -> dict[int, float]:
        words = list(p.words)
        found: dict[int, float] = {}
        for i in range(len(words), 0, -1):
            for e in self._by_name.get(" ".join(words[:i]), ()):
                self._add(found, e, self._area_factor(" ".join(words[i:]), p.postcode, e))
        if words and max(found.values(), default=0.0) < _FUZZY_BELOW:
            whole = " ".join(words)
            for _, sc, j in process.extract(whole, self._pair_keys, scorer=fuzz.ratio, limit=10,
                                            score_cutoff=_PAIR_CUTOFF):
                e = self._pairs[j]
                pc = 1.0 if not p.postcode or p.postcode in e.postcodes else 0.7
                self._add(found, e, sc / 100.0 * pc)
            street, rest = (p.street, " ".join(p.areas)) if p.street else split_street_words(words)
            for name, sc, _ in process.extract(street, self._street_names, scorer=fuzz.ratio, limit=5,
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

        def factor(extra: str, e: _Street) -> float:
            asked = [a for a in ([extra] if extra else []) + areas]
            if not asked:
                return 1.0
            hit = sum(1 for a in asked if any(x in e.areas for x in area_aliases(a)))
            return 0.7 + 0.3 * hit / len(asked)

        # The longest known street name that ends the road text; what precedes it is an area
        # written without its suffix ("徐汇漕溪北路" = 徐汇 + 漕溪北路).
        for k in range(len(road) - 1):
            hits = self._by_name.get(road[k:])
            if hits:
                for e in hits:
                    self._add(found, e, factor(road[:k], e))
                break
        if max(found.values(), default=0.0) < _FUZZY_BELOW:
            for name, sc, _ in process.extract(road, self._street_names, scorer=fuzz.ratio, limit=5,
                                               score_cutoff=_PAIR_CUTOFF):
                for e in self._by_name[name]:
                    self._add(found, e, sc / 100.0 * factor("", e))
        return found

    # ------------------------------------------------------------------ numbers

    def _result(self, query: str, address: str, lon: float, lat: float, precision: Precision, score: float,
                *, rec: int | None = None, e: _Street | None = None, en: str = "", zh: str = "") -> GeocodeResult:
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

    def _place(self, query: str, p: ParsedAddress, e: _Street, base: float) -> GeocodeResult:
        n = p.number
        label = e.label
        if n is None:
            return self._result(query, label, e.lon, e.lat, Precision.STREET, base, e=e,
                                en=f"No house number given: placed at the middle of {label}.",
                                zh=f"未提供门牌号：定位于{label}的中点。")
        exact = [i for i in e.members if (h := self._number[i]) is not None and h.covers(n.first)]
        if exact:
            best = min(exact, key=lambda i: (self._number[i] != n, abs(len(self._display[i]) - len(query))))
            h = self._number[best]
            same = h is not None and h.first == n.first and h.suffix == n.suffix
            return self._result(query, self._display[best], float(self._lon[best]), float(self._lat[best]),
                                Precision.EXACT, base * (1.0 if same or (h and h.last > h.first) else 0.98), rec=best, e=e)
        if e.numbers.size == 0:
            return self._result(query, label, e.lon, e.lat, Precision.STREET, base * _F_NO_NUMBERS, e=e,
                                en=f"No house numbers are known on {label}: placed at the middle of the street.",
                                zh=f"{label}没有已知门牌号：定位于该街道中点。")
        return self._interpolate(query, n, e, base)

    def _interpolate(self, query: str, n: HouseNumber, e: _Street, base: float) -> GeocodeResult:
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
        hits: list[tuple[_Locality, float, bool]] = []
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
                variants, complete, partial = [" ".join(words) + " "], words, None
            else:
                raw = " ".join([*words[:-1], toks[-1]])
                variants = list(dict.fromkeys([" ".join(words), raw]))
                complete, partial = words[:-1], toks[-1]
            recs = self._index.query(variants, words=complete, partial=partial, limit=limit)
        return [Suggestion(address=self._display[i], address_id=self._ids[i], lon=float(self._lon[i]),
                           lat=float(self._lat[i])) for i in recs]
