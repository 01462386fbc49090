"""Inputs of admission in a shared zone (多校划片): places, priority categories, applicants.

The allocation rule everywhere in this package: categories are served in strict priority order
(e.g. 户籍和居住都在片区 first); inside a category the order is a uniform random draw (随机派位 /
摇号); in that order each applicant takes the first school of their list with a place left
(random serial dictatorship). "any" (服从调剂, no list) stands for every school of the zone
ordered by places offered, most first, then by school code: a fixed list, so the rule stays a
serial dictatorship and anyone can re-run it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from geo.errors import InvalidInput


@dataclass(frozen=True, slots=True)
class SchoolPlaces:
    """Places a school offers in this draw; ``seats`` (its capacity) bounds them when known."""

    school: str
    places: int
    seats: int | None = None


@dataclass(frozen=True, slots=True)
class Category:
    """A priority category; the order categories are given in is the priority (first = served first)."""

    key: str
    label_en: str = ""
    label_zh: str = ""


@dataclass(frozen=True, slots=True)
class ApplicantGroup:
    """``count`` applicants of one unit or compound (小区) and category with the same preferences.

    ``preferences`` ranks schools; empty with ``accept_any`` = "any school of the zone".
    ``accept_any`` (服从调剂) appends the zone's other schools, in the fixed "any" order.
    """

    unit: str
    category: str
    count: int
    preferences: tuple[str, ...] = ()
    accept_any: bool = False


@dataclass(frozen=True, slots=True)
class Applicant:
    """One applicant of a real draw (ids only: no names)."""

    id: str
    category: str
    preferences: tuple[str, ...] = ()
    accept_any: bool = False
    unit: str | None = None


@dataclass(frozen=True, slots=True)
class SharedZone:
    """The validated zone: schools in "any" order, places, categories in priority order."""

    schools: tuple[str, ...]
    places: tuple[int, ...]
    categories: tuple[Category, ...]

    def index(self, school: str) -> int:
        return self.schools.index(school)

    def full_list(self, preferences: Sequence[str], accept_any: bool) -> tuple[int, ...]:
        """Preferences as school indices, with the "any" order appended when ``accept_any``."""
        out = [self.schools.index(s) for s in preferences]
        if accept_any or not preferences:
            out.extend(i for i in range(len(self.schools)) if i not in out)
        return tuple(out)


def zone_of(places: Sequence[SchoolPlaces], categories: Sequence[Category | str]) -> SharedZone:
    """Check the places and categories and fix the "any" order.

    Raises
    ------
    InvalidInput
        Naming the row at fault: a school listed twice, negative places, more places than seats,
        a category listed twice, no school.
    """
    if not places:
        msg = "no school offers places in this zone"
        raise InvalidInput(msg, where="places")
    seen: set[str] = set()
    for i, p in enumerate(places):
        where = f"places row {i + 1} ({p.school})"
        if p.school in seen:
            msg = f"school {p.school} is listed twice"
            raise InvalidInput(msg, where=where)
        seen.add(p.school)
        if not isinstance(p.places, int) or p.places < 0:
            msg = f"school {p.school}: places {p.places!r} must be a whole number, not negative"
            raise InvalidInput(msg, where=where)
        if p.seats is not None and p.places > p.seats:
            msg = f"school {p.school}: {p.places} places offered but only {p.seats} seats"
            raise InvalidInput(msg, where=where)
    cats = tuple(c if isinstance(c, Category) else Category(str(c)) for c in categories)
    keys = [c.key for c in cats]
    if not cats or len(set(keys)) != len(keys):
        msg = f"categories must be given once each, in priority order (got {keys})"
        raise InvalidInput(msg, where="categories")
    order = sorted(places, key=lambda p: (-p.places, p.school))
    return SharedZone(tuple(p.school for p in order), tuple(p.places for p in order), cats)


def check_group(zone: SharedZone, row: int, *, category: str, count: float, preferences: Sequence[str], what: str) -> None:
    """Raise InvalidInput naming ``what`` row ``row`` for an unknown school or category, or a bad count."""
    where = f"{what} row {row}"
    if category not in {c.key for c in zone.categories}:
        msg = f"unknown category {category!r}; categories are {[c.key for c in zone.categories]}"
        raise InvalidInput(msg, where=where)
    if isinstance(count, bool) or not isinstance(count, int) or count < 0:
        msg = f"applicant count {count!r} must be a whole number, not negative"
        raise InvalidInput(msg, where=where)
    unknown = [s for s in preferences if s not in zone.schools]
    if unknown:
        msg = f"school {unknown[0]} does not offer places in this zone"
        raise InvalidInput(msg, where=where)
    if len(set(preferences)) != len(preferences):
        msg = f"a school is ranked twice in {list(preferences)}"
        raise InvalidInput(msg, where=where)
