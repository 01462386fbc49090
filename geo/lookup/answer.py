"""The complete answer to "which school serves this place": zones, schools, feeders, bands, travel, words.

:func:`resolve` finds the zones and schools; :func:`answer` adds everything a caller shows with
them, so no layer above patches the answer afterwards: the feeder path of each zoned school
(对口直升), each school's utilisation band under the standards profile, the street distance or
driving time where a network covers the place (computed by the caller from ``geo.network``,
which this package does not import), and the two-language explanation.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from geo.address.geocode import GeocodeResult
from geo.address.rules import AddressRule
from geo.capacity.utilisation import utilisation_band
from geo.distance import geodesic_m
from geo.index.zones import ZoneIndex
from geo.lookup.decide import Decision, decide
from geo.lookup.explain import explain
from geo.lookup.odds import OddsKey, ZoneOdds, hit_odds, odds_sentence
from geo.lookup.resolve import SchoolBook, choose_plans, resolve
from geo.models import LookupResult, Plan, School
from geo.standards import Band, StandardsProfile

#: Longest feeder path followed (primary -> middle -> high -> ...); guards against cycles too.
FEEDER_DEPTH = 4


@dataclass(frozen=True, slots=True)
class Feeder:
    """A school that pupils of a zoned school move up to; ``path`` runs from the zoned school to it."""

    school: School
    path: tuple[str, ...]
    distance_m: float


@dataclass(frozen=True, slots=True)
class PlaceTravel:
    """Street travel from the looked-up place to the schools of one network.

    ``costs`` are metres (walk) or seconds (drive) by school code, None where unreachable;
    ``too_far`` means the place is farther from any street than the network's snap limit, and
    then no cost is given.
    """

    mode: str
    network: str
    snap_m: float
    too_far: bool
    costs: Mapping[str, float | None] = field(default_factory=dict)

    def cost(self, code: str) -> float | None:
        return None if self.too_far else self.costs.get(code)


@dataclass(frozen=True, slots=True)
class DistrictName:
    """The 学区 (school district) a school belongs to, as a lookup says it."""

    id: int
    name: str
    lead: str
    lead_name: str = ""
    lead_name_local: str | None = None

    def sentence(self, code: str, school: str, school_local: str | None = None) -> dict[str, str]:
        """What the explanation says of school ``code`` (its name, and its local name for the Chinese)."""
        local = school_local or school
        if code == self.lead:
            return {"en": f"{school} leads the school district {self.name}.", "zh": f"{local}是{self.name}的学区长学校。"}
        lead = self.lead_name or self.lead
        return {"en": f"{school} is in the school district {self.name} (lead school {lead}).",
                "zh": f"{local}属于{self.name}（学区长学校：{self.lead_name_local or lead}）。"}


@dataclass(frozen=True, slots=True)
class Answer:
    """Everything a lookup shows: the zones and schools, and what each school's line carries."""

    result: LookupResult
    explanation: dict[str, str]
    feeders: Mapping[str, tuple[Feeder, ...]]
    bands: Mapping[tuple[str, str], Band | None]
    travel: tuple[PlaceTravel, ...] = ()
    geocode: GeocodeResult | None = None
    #: Per level: rule or polygon, and whether they disagree (see :mod:`geo.lookup.decide`).
    decisions: Mapping[str, Decision] = field(default_factory=dict)
    #: Per level: the admission odds of each shared zone covering the place (多校划片 with a lottery).
    odds: Mapping[str, tuple[ZoneOdds, ...]] = field(default_factory=dict)
    #: Zoned school code -> its 学区 in force (empty where the county has none).
    districts: Mapping[str, DistrictName] = field(default_factory=dict)

    def band(self, level: str, code: str) -> Band | None:
        return self.bands.get((level, code))

    def travel_cost(self, mode: str, code: str) -> float | None:
        for t in self.travel:
            if t.mode == mode:
                return t.cost(code)
        return None


def feeder_chains(by_code: Mapping[str, School], codes: Sequence[str], *, lon: float, lat: float,
                  depth: int = FEEDER_DEPTH) -> dict[str, tuple[Feeder, ...]]:
    """Per zoned school code: the schools its pupils move up to, breadth first.

    Parameters
    ----------
    by_code
        Every school by code.
    codes
        The zoned schools (duplicates are ignored).
    lon, lat
        The place looked up (EPSG:4326); each feeder carries its geodesic distance from it.
    depth
        Longest path followed.
    """
    out: dict[str, tuple[Feeder, ...]] = {}
    for code in dict.fromkeys(codes):
        chain: list[tuple[School, tuple[str, ...]]] = []
        frontier: list[tuple[str, ...]] = [(code,)]
        seen = {code}
        for _ in range(depth):
            nxt = []
            for path in frontier:
                start = by_code.get(path[-1])
                for f in start.feeds_into if start else ():
                    target = by_code.get(f)
                    if target is None or f in seen:
                        continue
                    seen.add(f)
                    chain.append((target, (*path, f)))
                    nxt.append((*path, f))
            frontier = nxt
        if chain:
            out[code] = tuple(Feeder(t, path, round(float(geodesic_m(lon, lat, t.lon, t.lat)), 1)) for t, path in chain)
    return out


def answer(index: ZoneIndex, schools: SchoolBook, lon: float, lat: float, *, profile: StandardsProfile,
           level: str | None = None, grade: str | None = None, year: int | None = None,
           plans: Sequence[Plan] | None = None, near_m: float = 50.0, nearest_k: int = 3,
           nearest_max_m: float | None = None, travel: Sequence[PlaceTravel] = (),
           geocode: GeocodeResult | None = None, rules: Sequence[AddressRule] = (),
           odds: Mapping[OddsKey, ZoneOdds] | None = None,
           districts: Mapping[str, DistrictName] | None = None) -> Answer:
    """Resolve (lon, lat) and complete the answer.

    Parameters
    ----------
    index, schools, lon, lat, level, grade, year, plans, near_m, nearest_k, nearest_max_m
        As for :func:`geo.lookup.resolve.resolve`.
    profile
        The standards profile whose utilisation bands label each zoned school.
    travel
        Street travel from the place per network (see :class:`PlaceTravel`).
    geocode
        When the place came from address text: the match, said first in the explanation.
    rules
        The address rules (招生范围 lists) that cover the address; they decide their plan's level
        before the polygon does (:func:`geo.lookup.decide.decide`).
    odds
        Admission odds of shared zones (computed by the caller from ``geo.admission``), keyed by
        :func:`geo.lookup.odds.odds_key`; those of the zones covering the place are carried and said.
    districts
        School code -> its 学区 in force; the zoned schools' districts are carried and said.

    Returns
    -------
    Answer
    """
    result = resolve(index, schools, lon, lat, level=level, grade=grade, year=year, plans=plans, near_m=near_m,
                     nearest_k=nearest_k, nearest_max_m=nearest_max_m)
    return complete(result, schools, profile=profile, year=year, plans=plans, travel=travel, geocode=geocode, rules=rules,
                    odds=odds, districts=districts)


def complete(result: LookupResult, schools: SchoolBook, *, profile: StandardsProfile, year: int | None = None,
             plans: Sequence[Plan] | None = None, travel: Sequence[PlaceTravel] = (),
             geocode: GeocodeResult | None = None, rules: Sequence[AddressRule] = (),
             odds: Mapping[OddsKey, ZoneOdds] | None = None,
             districts: Mapping[str, DistrictName] | None = None) -> Answer:
    """Everything :func:`answer` adds to a resolved ``result`` (same parameters).

    The answer depends on the place only through ``result`` (its point and distances), ``travel``
    and ``geocode`` (the odds are per zone and the districts per school, not per point): the service's per-cell answer cache (``service.operations.lookup_cache``)
    relies on it, completing a result once and filling in each point's distances.
    """
    zoned = [(a.level, sd.school) for a in result.levels for h in a.hits for sd in h.schools]
    chains = feeder_chains(schools.by_code, [s.code for _, s in zoned], lon=result.lon, lat=result.lat)
    bands = {(lv, s.code): utilisation_band(s, level=lv, profile=profile) for lv, s in zoned}
    # The words say the walk next to the straight line where a walking network gives it.
    walk = {code: cost for t in travel if t.mode == "walk" and not t.too_far for code, cost in t.costs.items() if cost is not None}
    words = explain(result, geocode=geocode, feeders={c: [f.school for f in ch] for c, ch in chains.items()}, walk_m=walk)
    # Only the plans in force for the year speak through their rules, as through their zones.
    in_force = choose_plans(plans, year) if plans else set()
    decisions = decide(result, rules, [p for p in plans or () if p.id in in_force])
    for d in decisions.values():
        said = d.sentence()
        if said["en"]:
            words = {k: f"{words.get(k, '')} {said[k]}".strip() for k in ("en", "zh")} | {
                k: v for k, v in words.items() if k not in ("en", "zh")}
    found = {a.level: tuple(z for h in a.hits if (z := hit_odds(h, odds or {})) is not None) for a in result.levels}
    found = {lv: zs for lv, zs in found.items() if zs}
    for zs in found.values():
        for z in zs:
            said = odds_sentence(z, schools.by_code)
            words = {**words, "en": f"{words.get('en', '')} {said['en']}".strip(), "zh": f"{words.get('zh', '')}{said['zh']}"}
    mine = {s.code: districts[s.code] for _, s in zoned if districts and s.code in districts}
    for code, dn in mine.items():
        school = schools.by_code.get(code)
        said = dn.sentence(code, school.name, school.name_local) if school else dn.sentence(code, code)
        words = {"en": f"{words.get('en', '')} {said['en']}".strip(), "zh": f"{words.get('zh', '')}{said['zh']}".strip()} | {
            k: v for k, v in words.items() if k not in ("en", "zh")}
    return Answer(result, words, chains, bands, tuple(travel), geocode, decisions, found, mine)
