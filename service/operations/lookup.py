"""Which school serves a place: the one lookup every entry point (HTTP, map page, CLI) calls.

``lookup`` takes the worker's snapshot and settings, finds the point (address text, or lon/lat
in any supported CRS), and returns the complete answer from :func:`geo.lookup.answer.answer`:
zones, schools, feeders, utilisation bands, street travel and the explanation.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from geo.address.geocode import Geocoder, GeocodeResult
from geo.address.rules import AddressRule, RuleAddress
from geo.errors import InvalidInput
from geo.lookup.answer import Answer, PlaceTravel, answer
from geo.models import check_slug, normalise_grade
from geo.standards import get_profile
from service.networks import costs_for_codes
from service.operations.addresses import Located, locate
from service.operations.district_names import district_names
from service.operations.lookup_cache import AnswerCache, encode
from service.schemas import LookupOut
from service.settings import Settings
from service.state import Snapshot


def school_year(settings: Settings, year: int | None) -> int:
    """The school year asked about: the one given, else the configured or current calendar year.

    Answers default to the year in force today, so zones that phase in later (and plans adopted
    for a later year) do not answer before their time.
    """
    if year is not None:
        return year
    return settings.lookup.default_year or date.today().year


def clean_filters(level: str | None, grade: str | None) -> tuple[str | None, str | None]:
    """The level slug and normalised grade of a query; InvalidInput naming the field otherwise."""
    try:
        g = normalise_grade(grade) if grade is not None else None
    except ValueError as exc:
        raise InvalidInput(str(exc), where="grade") from exc
    try:
        lv = check_slug(level, what="level") if level is not None else None
    except ValueError as exc:
        raise InvalidInput(str(exc), where="level") from exc
    return lv, g


def place_travel(snap: Snapshot, lon: float, lat: float) -> list[PlaceTravel]:
    """Street travel from (lon, lat) to the schools of each network that covers it."""
    out = []
    for t in snap.travels:
        if t.covers(lon, lat):
            costs, snap_m, too_far = costs_for_codes(t, lon, lat)
            out.append(PlaceTravel(t.mode, t.name, snap_m, too_far, costs))
    return out


def matching_rules(snap: Snapshot, geocode: GeocodeResult | None) -> list[AddressRule]:
    """The adopted plans' address rules covering a geocoded address (none for bare coordinates)."""
    if geocode is None or not len(snap.rules):
        return []
    comps = geocode.components
    return snap.rules.matching(RuleAddress.of(geocode.query, street=comps.get("street"), number=comps.get("number")))


def answer_at(snap: Snapshot, settings: Settings, lon: float, lat: float, *, level: str | None, grade: str | None,
              year: int | None, geocode: Any = None) -> Answer:
    """The complete answer at an EPSG:4326 point (filters already cleaned); an address's rules first."""
    return answer(snap.index, snap.schools, lon, lat, profile=get_profile(settings.profile), level=level, grade=grade,
                  year=school_year(settings, year), plans=snap.plans, near_m=settings.lookup.near_boundary_m,
                  nearest_k=settings.lookup.nearest_k, nearest_max_m=settings.lookup.nearest_max_m,
                  travel=place_travel(snap, lon, lat), geocode=geocode, rules=matching_rules(snap, geocode),
                  odds=snap.odds, districts=district_names(snap, level=level, year=school_year(settings, year)))


@dataclass(frozen=True, slots=True)
class LookupAnswer:
    """The answer and where it was asked: the located point with its input echoed, and the
    registered networks around it whose files are missing (said, never silently dropped)."""

    answer: Answer
    at: Located
    missing_networks: dict[str, dict[str, Any]]


def missing_networks(snap: Snapshot, lon: float, lat: float) -> dict[str, dict[str, Any]]:
    """Per mode: a registered network covering (lon, lat) whose file is missing, with what to do."""
    out: dict[str, dict[str, Any]] = {}
    for m in snap.missing_networks:
        if m.covers(lon, lat) and m.mode not in out:
            field = "walk_m" if m.mode == "walk" else "drive_s"
            out[m.mode] = {
                "network": m.name, "missing": True,
                "detail": f"street network {m.name!r} is registered but its file is missing (not stored in the database): no {field} here; "
                          f"rebuild it with `catchment network build ... --mode {m.mode}`",
                "detail_zh": f"路网 {m.name} 已登记但文件缺失：此处无法给出{'步行距离' if m.mode == 'walk' else '驾车时间'}；"
                             "请用 `catchment network build` 重新生成"}
    return out


async def lookup(snap: Snapshot, settings: Settings, *, remote: Geocoder | None, lon: float | None = None,
                 lat: float | None = None, address: str | None = None, crs: str | None = None, level: str | None = None,
                 grade: str | None = None, year: int | None = None) -> LookupAnswer:
    """Locate the query and answer it.

    A remote geocoder's call runs in a worker thread inside :func:`locate`; everything else is in
    memory, so this is cheap enough for the event loop.
    """
    lv, g = clean_filters(level, grade)
    extra: Mapping[str, Any] = {"level": level, "grade": grade, "year": year}
    at = await locate(lon=lon, lat=lat, address=address, crs=crs, gazetteer=snap.gazetteer, remote=remote, extra=extra)
    got = answer_at(snap, settings, at.lon, at.lat, level=lv, grade=g, year=year, geocode=at.geocode)
    return LookupAnswer(got, at, missing_networks(snap, at.lon, at.lat))


async def lookup_json(snap: Snapshot, settings: Settings, cache: AnswerCache | None, *, remote: Geocoder | None,
                      lon: float | None = None, lat: float | None = None, address: str | None = None,
                      crs: str | None = None, level: str | None = None, grade: str | None = None,
                      year: int | None = None) -> bytes:
    """:func:`lookup`, serialised: from the per-cell cache where the point allows it (the same
    bytes, see :mod:`service.operations.lookup_cache`), else computed here."""
    lv, g = clean_filters(level, grade)
    extra: Mapping[str, Any] = {"level": level, "grade": grade, "year": year}
    at = await locate(lon=lon, lat=lat, address=address, crs=crs, gazetteer=snap.gazetteer, remote=remote, extra=extra)

    def slow() -> bytes:
        got = answer_at(snap, settings, at.lon, at.lat, level=lv, grade=g, year=year, geocode=at.geocode)
        out = LookupOut.from_answer(got, input=at.input, in_crs=at.in_crs, missing_networks=missing_networks(snap, at.lon, at.lat))
        return encode(out.model_dump(mode="json"))

    if cache is not None:
        fast = cache.answer(snap, settings, at, level=lv, grade=g, year=school_year(settings, year), slow=slow)
        if fast is not None:
            return fast
    return slow()
