"""Domain model: schools, plans, zones and lookup answers.

Every coordinate in this module is EPSG:4326 in (lon, lat) order. Objects are frozen so
that an index built from them can be shared between requests without copying.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from shapely.geometry import MultiPolygon

from geo.errors import InvalidInput

#: Grades are short strings: "K" (kindergarten / 学前), then "1" .. "12".
GRADE_ORDER: tuple[str, ...] = ("K",) + tuple(str(g) for g in range(1, 13))

_SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")

#: The largest integer stored anywhere: both backends keep 64-bit signed integers (SQLite
#: INTEGER, PostgreSQL bigint), so ids, counts and offsets are bounded by it at every boundary.
MAX_INT = 2**63 - 1

#: School codes are 1-64 ASCII letters, digits, '-', '_' or '.', starting with a letter or digit:
#: a code is one path segment of ``/v1/schools/{code}`` and a plain header value as it is, so a
#: school can always be fetched, changed and deleted by its code ('/', '..', spaces and control
#: characters cannot be). Written as a JSON-Schema/ECMA pattern too (the OpenAPI carries it).
CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"
_CODE = re.compile(CODE_PATTERN)
CODE_RULE = {
    "en": "1-64 characters: letters A-Z a-z, digits 0-9, '-', '_' or '.', starting with a letter or digit",
    "zh": "1-64 个字符：英文字母 A-Z a-z、数字 0-9、'-'、'_' 或 '.'，以字母或数字开头",
}


def check_slug(value: str, *, what: str) -> str:
    """Return ``value`` lower-cased if it is a short identifier, else raise InvalidInput."""
    v = value.strip().lower()
    if not _SLUG.match(v):
        msg = f"{what} {value!r} must be 1-40 characters of a-z, 0-9, '_' or '-'"
        raise InvalidInput(msg, where=what)
    return v


def check_code(value: str, *, where: str = "code") -> str:
    """Return ``value`` if it is a valid school code (see ``CODE_PATTERN``), else raise InvalidInput.

    The message says which characters are allowed, in English and Chinese.
    """
    if not _CODE.fullmatch(value):
        shown = value if len(value) <= 80 else value[:77] + "..."
        msg = f"school code {shown!r} must be {CODE_RULE['en']} (学校代码须为{CODE_RULE['zh']})"
        raise InvalidInput(msg, where=where)
    return value


def normalise_grade(value: object) -> str:
    """Map ``"k"``, ``"KINDERGARTEN"``, ``"Year 3"``, ``3`` ... to a grade in GRADE_ORDER."""
    text = str(value).strip().upper()
    if text in {"K", "KG", "KINDERGARTEN", "KINDERGART", "PREP", "R", "0"}:
        return "K"
    text = re.sub(r"^(YEAR|GRADE|YR|Y|G)\s*", "", text)
    if text.isdigit() and 1 <= int(text) <= 12:
        return str(int(text))
    msg = f"unknown grade {value!r}; use K or 1..12"
    raise InvalidInput(msg, where="grade")


class SchoolStatus(StrEnum):
    OPEN = "open"
    PLANNED = "planned"
    CLOSED = "closed"


class PlanStatus(StrEnum):
    DRAFT = "draft"
    PROPOSED = "proposed"
    ADOPTED = "adopted"
    ARCHIVED = "archived"


class Role(StrEnum):
    PLANNER = "planner"
    ADMIN = "admin"


@dataclass(frozen=True, slots=True)
class School:
    """A school site. ``lon``/``lat`` are EPSG:4326."""

    code: str
    name: str
    lon: float
    lat: float
    levels: tuple[str, ...] = ()
    grades: tuple[str, ...] = ()
    name_local: str | None = None
    address: str | None = None
    capacity: int | None = None
    enrolment: int | None = None
    classes: int | None = None
    status: SchoolStatus = SchoolStatus.OPEN
    feeds_into: tuple[str, ...] = ()
    attributes: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Plan:
    """A named, versioned set of zones for one level and school year of one district.

    ``district`` names the authority (an education bureau, a county): one deployment may serve
    several, and "one adopted plan per level and year" holds within each district.
    """

    id: int
    name: str
    level: str
    school_year: int
    status: PlanStatus
    district: str = "default"
    version: int = 1
    parent_id: int | None = None
    created_by: str | None = None
    created_at: datetime | None = None
    effective_year: int | None = None
    description: str | None = None


@dataclass(frozen=True, slots=True)
class Zone:
    """A catchment polygon served by one or more schools (several = 多校划片).

    ``grades`` is None when the zone serves every grade of its schools. ``grade_start_years``
    maps a grade to the first school year in which it uses this zone (a zone that phases in).
    """

    school_codes: tuple[str, ...]
    geometry: MultiPolygon
    id: int | None = None
    plan_id: int | None = None
    name: str | None = None
    grades: tuple[str, ...] | None = None
    grade_start_years: Mapping[str, int] = field(default_factory=dict)
    source: str | None = None
    attributes: Mapping[str, Any] = field(default_factory=dict)

    def serves(self, grade: str | None, year: int | None) -> bool:
        """True when this zone serves ``grade`` in school ``year`` (None = any)."""
        if grade is not None and self.grades is not None and grade not in self.grades:
            return False
        if self.grade_start_years and year is not None:
            if grade is not None:
                start = self.grade_start_years.get(grade)
                return start is not None and start <= year
            return min(self.grade_start_years.values()) <= year
        return True

    @property
    def phasing(self) -> bool:
        return bool(self.grade_start_years)

    @property
    def kind(self) -> str | None:
        """The zone's type within its level (NSW ``CATCH_TYPE``: HIGH_COED, HIGH_BOYS ...), if known.

        A zone that phases in replaces only the zones of its own kind: a new co-educational
        high school zone does not take away the boys' and girls' schools' zones.
        """
        v = self.attributes.get("zone_type", self.attributes.get("CATCH_TYPE"))
        return None if v is None else str(v)


@dataclass(frozen=True, slots=True)
class ApiKey:
    id: int
    name: str
    role: Role
    created_at: datetime | None = None
    revoked_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class SchoolDistance:
    school: School
    distance_m: float


@dataclass(frozen=True, slots=True)
class ZoneHit:
    """One zone covering the looked-up point."""

    plan: Plan
    zone: Zone
    schools: tuple[SchoolDistance, ...]
    near_boundary_m: float | None
    on_boundary: bool


@dataclass(frozen=True, slots=True)
class LevelAnswer:
    """One level's answer: the zones covering the point, else the nearest schools of the level
    within ``nearest_within_m`` (None = no limit)."""

    level: str
    hits: tuple[ZoneHit, ...]
    nearest: tuple[SchoolDistance, ...] = ()
    nearest_within_m: float | None = None


@dataclass(frozen=True, slots=True)
class LookupResult:
    """The answer to "which school serves (lon, lat)" for each level asked."""

    lon: float
    lat: float
    levels: tuple[LevelAnswer, ...]
