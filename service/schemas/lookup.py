"""Lookup answers on the wire: zones hit, schools with distances, feeders, rules, geocoding, suggestions, batch points.

Coordinates on the wire are EPSG:4326, (lon, lat).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from geo.address.geocode import GeocodeResult, Suggestion
from geo.address.rules import rule_label
from geo.lookup.answer import Answer, Feeder
from geo.lookup.odds import ZoneOdds
from geo.models import (
    LevelAnswer,
    LookupResult,
    SchoolDistance,
    SchoolStatus,
    ZoneHit,
)
from service.schemas.plans import PlanRef


class SchoolDistanceOut(BaseModel):
    code: str
    name: str
    name_local: str | None = None
    levels: list[str]
    lon: float
    lat: float
    distance_m: float = Field(description="geodesic distance from the point to the school, metres (WGS84)")
    status: SchoolStatus
    utilisation_band: dict[str, Any] | None = Field(default=None, description="enrolment / capacity band of the school")
    walk_m: float | None = Field(default=None, description="walking distance along the streets, metres (when a walk network covers it)")
    drive_s: float | None = Field(default=None, description="driving time, seconds (when a drive network covers it)")
    feeders: list[FeederOut] = Field(default_factory=list,
                                     description="feeder path (对口直升): the schools this zoned school's pupils move up to, in order")

    @classmethod
    def from_domain(cls, sd: SchoolDistance, *, answer: Answer | None = None, level: str | None = None,
                    zoned: bool = False) -> SchoolDistanceOut:
        """One school's line; with the complete ``answer``: its band and feeders (zoned schools) and travel."""
        s = sd.school
        out = cls(code=s.code, name=s.name, name_local=s.name_local, levels=list(s.levels), lon=s.lon, lat=s.lat,
                  distance_m=round(sd.distance_m, 1), status=s.status)
        if answer is None:
            return out
        for mode, name in (("walk", "walk_m"), ("drive", "drive_s")):
            cost = answer.travel_cost(mode, s.code)
            if cost is not None:
                setattr(out, name, round(cost, 1))
        if zoned and level is not None:
            band = answer.band(level, s.code)
            out.utilisation_band = band.as_dict() if band else None
            out.feeders = [FeederOut.from_domain(f) for f in answer.feeders.get(s.code, ())]
        return out


class FeederOut(BaseModel):
    """A school that pupils move up to (对口直升); ``path`` runs from the zoned school to this one."""

    code: str
    name: str
    name_local: str | None = None
    levels: list[str]
    lon: float
    lat: float
    distance_m: float = Field(description="geodesic distance from the point looked up, metres (WGS84)")
    status: SchoolStatus
    path: list[str] = Field(description="school codes from the zoned school to this one, e.g. [primary, middle, high]")

    @classmethod
    def from_domain(cls, f: Feeder) -> FeederOut:
        t = f.school
        return cls(code=t.code, name=t.name, name_local=t.name_local, levels=list(t.levels), lon=t.lon, lat=t.lat,
                   distance_m=f.distance_m, status=t.status, path=list(f.path))


class ZoneHitOut(BaseModel):
    zone_id: int | None
    zone_name: str | None
    plan: PlanRef
    grades: list[str] | None
    grade_start_years: dict[str, int]
    schools: list[SchoolDistanceOut]
    multi_school: bool = Field(description="several schools share this zone (多校划片)")
    on_boundary: bool = Field(description="the point lies exactly on this zone's edge")
    near_boundary_m: float | None = Field(description="metres to the zone edge when closer than the warning distance")

    @classmethod
    def from_domain(cls, h: ZoneHit, *, answer: Answer | None = None, level: str | None = None) -> ZoneHitOut:
        return cls(zone_id=h.zone.id, zone_name=h.zone.name, plan=PlanRef.from_domain(h.plan),
                   grades=None if h.zone.grades is None else list(h.zone.grades),
                   grade_start_years=dict(h.zone.grade_start_years),
                   schools=[SchoolDistanceOut.from_domain(s, answer=answer, level=level, zoned=True) for s in h.schools],
                   multi_school=len(h.zone.school_codes) > 1,
                   on_boundary=h.on_boundary,
                   near_boundary_m=None if h.near_boundary_m is None else round(h.near_boundary_m, 1))


class RuleDecisionOut(BaseModel):
    """The address rules (招生范围) that decided a level, and whether the zone map agrees."""

    schools: list[str] = Field(description="school codes the rules name (several = 多校划片)")
    rules: list[dict[str, Any]] = Field(description="each rule: plan_id, row, text (en, zh)")
    polygon_schools: list[str] = Field(description="school codes of the zones covering the point")
    disagrees: bool = Field(description="true when the rule and the covering zone name different schools")


class LevelOut(BaseModel):
    level: str
    covered: bool
    zones: list[ZoneHitOut]
    nearest_schools: list[SchoolDistanceOut] = Field(description="when no zone covers the point: nearest schools of the level")
    decided_by: Literal["rule", "polygon"] = Field(default="polygon", description="rule: a published address rule "
                                                   "covers the address and decides; polygon: the zone map decides")
    rule: RuleDecisionOut | None = None

    @classmethod
    def from_domain(cls, a: LevelAnswer, *, answer: Answer | None = None) -> LevelOut:
        d = answer.decisions.get(a.level) if answer is not None else None
        rule = None
        if d is not None and d.decided_by == "rule":
            rule = RuleDecisionOut(schools=list(d.schools), polygon_schools=list(d.polygon_schools), disagrees=d.disagrees,
                                   rules=[{"plan_id": r.plan_id, "row": r.row, "text": {"en": rule_label(r, lang="en"),
                                                                                          "zh": rule_label(r)}}
                                          for r in d.rules])
        return cls(level=a.level, covered=bool(a.hits), zones=[ZoneHitOut.from_domain(h, answer=answer, level=a.level) for h in a.hits],
                   nearest_schools=[SchoolDistanceOut.from_domain(s, answer=answer) for s in a.nearest],
                   decided_by=d.decided_by if d is not None else "polygon", rule=rule)


class SchoolOddsOut(BaseModel):
    category: str = Field(description="priority category key")
    label_en: str = ""
    label_zh: str = ""
    school: str = Field(description="the first choice (school code)")
    applicants: int = Field(description="applicants of this category whose first choice it is")
    probability: float = Field(description="chance of admission at that school, 0..1")
    stderr: float | None = Field(default=None, description="standard error (Monte Carlo only)")


class ZoneOddsOut(BaseModel):
    """Admission odds of one shared zone covering the place."""

    level: str
    plan_id: int
    schools: list[str] = Field(description="the zone's schools (codes)")
    method: Literal["exact", "monte_carlo"]
    runs: int | None = Field(default=None, description="Monte Carlo draws (None for exact)")
    places: dict[str, int] = Field(description="places per school")
    applicants: int
    odds: list[SchoolOddsOut]

    @classmethod
    def from_domain(cls, level: str, z: ZoneOdds) -> ZoneOddsOut:
        return cls(level=level, plan_id=z.plan_id, schools=list(z.schools), method=z.method, runs=z.runs,  # type: ignore[arg-type]
                   places=dict(z.places), applicants=z.applicants,
                   odds=[SchoolOddsOut(category=o.category, label_en=o.label_en, label_zh=o.label_zh, school=o.school,
                                       applicants=o.applicants, probability=round(o.probability, 6),
                                       stderr=None if o.stderr is None else round(o.stderr, 6)) for o in z.odds])


class DistrictRefOut(BaseModel):
    """The 学区 a zoned school belongs to."""

    id: int
    name: str
    lead: str = Field(description="the lead school's code (学区长学校)")
    lead_name: str
    href: str


class LookupOut(BaseModel):
    lon: float = Field(description="EPSG:4326 longitude of the point looked up")
    lat: float = Field(description="EPSG:4326 latitude of the point looked up")
    crs: str = "EPSG:4326"
    levels: list[LevelOut]
    explanation: dict[str, str] = Field(default_factory=dict, description="one sentence in English (en) and Chinese (zh)")
    networks: dict[str, dict[str, Any]] = Field(default_factory=dict, description="per mode: network name, snap_m, too_far")
    geocode: GeocodeOut | None = Field(default=None, description="when an address was given: what it matched, how precisely, by which geocoder")
    in_crs: InCrsOut | None = Field(default=None, description="when crs= was given: the point in that crs and how far the conversion moved it")
    input: dict[str, Any] = Field(default_factory=dict, description="the query as given")
    admission: list[ZoneOddsOut] = Field(default_factory=list, description="odds of each shared zone covering the place "
                                         "(多校划片 with a lottery); empty elsewhere")
    districts: dict[str, DistrictRefOut] = Field(default_factory=dict, description="zoned school code -> its school district "
                                                 "(学区) in force for the year; empty where there are none")

    @classmethod
    def from_domain(cls, r: LookupResult, **extra: Any) -> LookupOut:
        return cls(lon=r.lon, lat=r.lat, levels=[LevelOut.from_domain(a) for a in r.levels], **extra)

    @classmethod
    def from_answer(cls, a: Answer, *, input: dict[str, Any], in_crs: dict[str, Any] | None,
                    missing_networks: dict[str, dict[str, Any]] | None = None) -> LookupOut:
        """The wire form of the complete answer (nothing is added to it afterwards)."""
        r = a.result
        networks = dict(missing_networks or {})
        networks.update({t.mode: {"network": t.network, "snap_m": round(t.snap_m, 1), "too_far": t.too_far} for t in a.travel})
        return cls(lon=r.lon, lat=r.lat, levels=[LevelOut.from_domain(lv, answer=a) for lv in r.levels],
                   explanation=a.explanation, input=input, networks=networks,
                   geocode=GeocodeOut.from_domain(a.geocode) if a.geocode else None,
                   in_crs=InCrsOut(**in_crs) if in_crs else None,
                   admission=[ZoneOddsOut.from_domain(level, z) for level, zs in a.odds.items() for z in zs],
                   districts={code: DistrictRefOut(id=d.id, name=d.name, lead=d.lead, lead_name=d.lead_name,
                                                   href=f"/v1/districts/{d.id}") for code, d in a.districts.items()})


class GeocodeOut(BaseModel):
    """One geocoding answer; ``lon``/``lat`` are EPSG:4326."""

    query: str = Field(description="the address text as given (whitespace collapsed)")
    address: str = Field(description="the address matched")
    lon: float
    lat: float
    precision: Literal["exact", "interpolated", "street", "locality"]
    score: float = Field(description="0..1; 1 = the text matched exactly (remote geocoders: their own ranking)")
    geocoder: str = Field(description="which geocoder answered: 'gazetteer' (offline) or 'nominatim'")
    address_id: str | None = None
    components: dict[str, str] = Field(default_factory=dict)
    explanation: dict[str, str] = Field(default_factory=dict, description="how a non-exact point was placed (en, zh)")

    @classmethod
    def from_domain(cls, r: GeocodeResult) -> GeocodeOut:
        return cls(query=r.query, address=r.address, lon=r.lon, lat=r.lat, precision=r.precision.value, score=r.score,
                   geocoder=r.geocoder, address_id=r.address_id, components=dict(r.components),
                   explanation=dict(r.explanation))


class InCrsOut(BaseModel):
    crs: str = Field(description="the crs asked for, canonical: EPSG:<code>, gcj02 or bd09")
    x: float = Field(description="lon (geographic crs) or easting")
    y: float = Field(description="lat (geographic crs) or northing")
    shift_m: float | None = Field(description="metres the conversion moved the point (geographic crs only; 0 for gcj02/bd09 outside China)")


class SuggestionOut(BaseModel):
    address: str
    address_id: str
    lon: float
    lat: float

    @classmethod
    def from_domain(cls, s: Suggestion) -> SuggestionOut:
        return cls(address=s.address, address_id=s.address_id, lon=s.lon, lat=s.lat)


class SuggestOut(BaseModel):
    query: str
    geocoder: str = Field(description="type-ahead always runs on the offline gazetteer")
    addresses: int = Field(description="address points in the gazetteer")
    suggestions: list[SuggestionOut]


class BatchPoint(BaseModel):
    """One point of ``POST /v1/lookup/batch`` (EPSG:4326); ``id`` is echoed in its answer row."""

    id: str | int
    lon: float = Field(ge=-180, le=180)
    lat: float = Field(ge=-90, le=90)
