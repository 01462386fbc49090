"""The gazetteer's in-memory tables: address records, streets, localities and type-ahead keys.

Built once from :class:`~geo.address.geocode.AddressRecord` s (EPSG:4326) and read-only afterwards;
:class:`geo.address.gazetteer.Gazetteer` answers queries over them. A street is one (street, locality)
pair: "Church Street" in Canterbury and in St Peters are two streets. Records are parsed once per
(street, locality, postcode), which keeps a 500,000-address load to seconds.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from geo.address.geocode import AddressRecord
from geo.address.parse import (
    HouseNumber,
    area_aliases,
    is_chinese,
    normalise,
    normalise_chinese,
    parse_address,
    parse_house_number,
    split_street_words,
    street_name_type,
)
from geo.address.suggest import SuggestIndex


@dataclass(slots=True)
class StreetEntry:
    """One street in one locality: its records, known house numbers (sorted) and centroid."""

    key: str  # normalised street ("great north road"), the matching key
    locality: str  # normalised locality ("abbotsford")
    name: str  # street as written in the records ("Great North Rd")
    locality_name: str
    zh: bool
    areas: set[str] = field(default_factory=set)
    postcodes: set[str] = field(default_factory=set)
    members: list[int] = field(default_factory=list)
    numbers: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    number_rec: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    lon: float = 0.0
    lat: float = 0.0
    pos: int = 0  # position in AddressTables._pairs

    @property
    def label(self) -> str:
        if self.zh:
            return f"{self.locality_name}{self.name}"
        return f"{self.name}, {self.locality_name}".rstrip(", ")


@dataclass(slots=True)
class LocalityEntry:
    """A locality (suburb, postcode, Chinese 区/市...): its records and centroid."""

    name: str
    members: list[int] = field(default_factory=list)
    postcodes: set[str] = field(default_factory=set)
    lon: float = 0.0
    lat: float = 0.0


class _Place(NamedTuple):
    """What records on one street of one locality share (parsed once per load)."""

    street_key: str
    street_name: str
    loc_key: str
    loc_name: str
    postcode: str
    zh: bool
    street: StreetEntry | None
    localities: tuple[LocalityEntry, ...]


def _area_set(names: Iterable[str]) -> set[str]:
    return {alias for n in names if n for alias in area_aliases(n)}


def _zh_display(parts: dict[str, str]) -> tuple[str, str]:
    locality = next((parts[k] for k in ("district", "town", "city", "province") if k in parts), "")
    return locality, parts.get("road", "") + (f"{parts['lane']}弄" if "lane" in parts else "")


class AddressTables:
    """Records, streets and localities of a gazetteer, with their type-ahead index.

    Parameters
    ----------
    records
        The address points; see :class:`geo.address.geocode.AddressRecord`.
    """

    def __init__(self, records: Iterable[AddressRecord]) -> None:
        self._ids: list[str] = []
        self._display: list[str] = []
        self._number: list[HouseNumber | None] = []
        self._postcode: list[str | None] = []
        lons: list[float] = []
        lats: list[float] = []
        self._streets: dict[tuple[str, str], StreetEntry] = {}
        self._by_name: dict[str, list[StreetEntry]] = {}
        self._localities: dict[str, LocalityEntry] = {}
        full_keys: list[str] = []
        street_keys: list[str] = []
        # Many records share a street, suburb and postcode, and numbers repeat: parse each once.
        places: dict[tuple[str, str, str], _Place] = {}
        numbers: dict[str, HouseNumber | None] = {}
        for rec in records:
            i = len(self._ids)
            if rec.street or rec.locality:
                pkey = (rec.street or "", rec.locality or "", rec.postcode or "")
                place = places.get(pkey) or places.setdefault(pkey, self._place_of(*pkey))
                raw = rec.number or ""
                number = numbers[raw] if raw in numbers else numbers.setdefault(raw, parse_house_number(raw))
            else:
                place, number = self._place_of_text(rec.text or "", rec.postcode or "")
            num = number.text if number else ""
            label = rec.text or (f"{place.loc_name}{place.street_name}{num}{'号' if num else ''}" if place.zh else
                                 ", ".join(x for x in (f"{num} {place.street_name}".strip(),
                                                       f"{place.loc_name} {place.postcode}".strip()) if x))
            self._ids.append(rec.id)
            lons.append(rec.lon)
            lats.append(rec.lat)
            self._number.append(number)
            self._postcode.append(place.postcode or None)
            self._display.append(label)
            if place.street is not None:
                place.street.members.append(i)
            for loc in place.localities:
                loc.members.append(i)
            if place.zh:
                full_keys.append(normalise_chinese(label))
                street_keys.append(f"{place.street_key}{num}{'号' if num else ''}{place.loc_key}")
            else:
                full_keys.append(" ".join(x for x in (num, place.street_key, place.loc_key, place.postcode) if x))
                street_keys.append(" ".join(x for x in (place.street_key, num, place.loc_key, place.postcode) if x))
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
        # Fuzzy search compares names without their type: "tower" vs "nowhere", not "tower street"
        # vs "nowhere street", whose shared type would inflate the similarity.
        self._by_bare: dict[str, list[tuple[str, str]]] = {}
        self._zh_names: list[str] = []
        for street_key, entries in self._by_name.items():
            if entries[0].zh:
                self._zh_names.append(street_key)
            else:
                bare, kind = street_name_type(street_key)
                self._by_bare.setdefault(bare, []).append((street_key, kind))
        self._bare_names = list(self._by_bare)
        # Names that are all name and no type ("the avenue", "broadway") are also compared with
        # the whole street text typed, type word included ("teh avenue").
        self._typeless = [b for b, kinds in self._by_bare.items() if any(k == "" for _, k in kinds)]
        self._locality_names = list(self._localities)
        self._index = SuggestIndex(full_keys, street_keys)

    # ------------------------------------------------------------------ loading

    def _register(self, street_key: str, street_name: str, loc_key: str, loc_name: str, areas: set[str],
                  postcode: str, zh: bool) -> _Place:
        """The street entry and locality entries of one (street, locality, postcode), created once."""
        entry: StreetEntry | None = None
        if street_key:
            entry = self._streets.get((street_key, loc_key))
            if entry is None:
                entry = StreetEntry(street_key, loc_key, street_name, loc_name, zh)
                self._streets[(street_key, loc_key)] = entry
                self._by_name.setdefault(street_key, []).append(entry)
            entry.areas |= areas
            if postcode:
                entry.postcodes.add(postcode)
        locs = []
        own = set(area_aliases(loc_key))
        for a in sorted(areas | ({postcode} if postcode else set())):
            loc = self._localities.setdefault(a, LocalityEntry(loc_name if a in own else a))
            if postcode:
                loc.postcodes.add(postcode)
            locs.append(loc)
        return _Place(street_key, street_name, loc_key, loc_name, postcode, zh, entry, tuple(locs))

    def _place_of(self, street: str, locality: str, postcode: str) -> _Place:
        zh = is_chinese(street + locality)
        loc_key = normalise(locality) if locality else ""
        return self._register(normalise(street) if street else "", street, loc_key, locality,
                              _area_set([loc_key]), postcode, zh)

    def _place_of_text(self, text: str, postcode: str) -> tuple[_Place, HouseNumber | None]:
        p = parse_address(text)
        if p.script == "zh":
            loc_key, street_key = _zh_display(p.parts)
            return self._register(street_key, street_key, loc_key, loc_key, _area_set(p.areas), postcode, True), p.number
        if p.street is not None:
            street_key, loc_key = p.street, (p.areas[0] if p.areas else "")
        else:
            street_key, loc_key = split_street_words(list(p.words))
        place = self._register(street_key, street_key.title(), loc_key, loc_key.title(), _area_set([loc_key]),
                               postcode or p.postcode or "", False)
        return place, p.number

    def _finish_street(self, e: StreetEntry) -> None:
        idx = np.asarray(e.members)
        e.lon, e.lat = float(self._lon[idx].mean()), float(self._lat[idx].mean())
        numbered = [(n.first, i) for i in e.members if (n := self._number[i]) is not None]
        numbered.sort()
        e.numbers = np.asarray([n for n, _ in numbered], dtype=np.int64)
        e.number_rec = np.asarray([i for _, i in numbered], dtype=np.int64)
