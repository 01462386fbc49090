"""Schools on the wire: in, out, as GeoJSON features, and feeder schools (对口直升).

Coordinates on the wire are EPSG:4326, (lon, lat).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from geo.models import (
    School,
    SchoolStatus,
    check_slug,
    normalise_grade,
)
from service.params import Count, SchoolCode


class SchoolIn(BaseModel):
    """A school to create or update. ``lon``/``lat`` are EPSG:4326."""

    model_config = ConfigDict(extra="forbid")

    code: SchoolCode
    name: str = Field(min_length=1, max_length=300)
    lon: float = Field(ge=-180, le=180)
    lat: float = Field(ge=-90, le=90)
    name_local: str | None = Field(default=None, max_length=300)
    levels: list[str] = Field(default_factory=list, max_length=10)
    grades: list[str] = Field(default_factory=list, max_length=13)
    address: str | None = Field(default=None, max_length=500)
    capacity: Count | None = None
    enrolment: Count | None = None
    classes: Count | None = None
    status: SchoolStatus = SchoolStatus.OPEN
    feeds_into: list[str] = Field(default_factory=list, max_length=20)
    attributes: dict[str, Any] = Field(default_factory=dict)

    @field_validator("levels")
    @classmethod
    def _levels(cls, v: list[str]) -> list[str]:
        return [check_slug(x, what="level") for x in v]

    @field_validator("grades")
    @classmethod
    def _grades(cls, v: list[str]) -> list[str]:
        return [normalise_grade(x) for x in v]

    def to_domain(self) -> School:
        return School(code=self.code.strip(), name=self.name.strip(), lon=self.lon, lat=self.lat, name_local=self.name_local,
                      levels=tuple(self.levels), grades=tuple(self.grades), address=self.address, capacity=self.capacity,
                      enrolment=self.enrolment, classes=self.classes, status=self.status,
                      feeds_into=tuple(self.feeds_into), attributes=self.attributes)


class SchoolOut(SchoolIn):
    model_config = ConfigDict(extra="ignore")

    @classmethod
    def from_domain(cls, s: School) -> SchoolOut:
        return cls.model_construct(code=s.code, name=s.name, lon=s.lon, lat=s.lat, name_local=s.name_local,
                                   levels=list(s.levels), grades=list(s.grades), address=s.address, capacity=s.capacity,
                                   enrolment=s.enrolment, classes=s.classes, status=s.status,
                                   feeds_into=list(s.feeds_into), attributes=dict(s.attributes))


def school_feature(s: School) -> dict[str, Any]:
    props = SchoolOut.from_domain(s).model_dump(mode="json", exclude={"lon", "lat"})
    return {"type": "Feature", "id": s.code, "geometry": {"type": "Point", "coordinates": [s.lon, s.lat]}, "properties": props}


class FeedersIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    feeds_into: list[str] = Field(max_length=20, description="codes of the schools this school's pupils move up to (对口直升)")


class FeedersOut(BaseModel):
    code: str
    name: str
    feeds_into: list[SchoolRef]
    fed_by: list[SchoolRef] = Field(description="schools whose pupils move up to this one")


class SchoolRef(BaseModel):
    code: str
    name: str
    levels: list[str]

    @classmethod
    def from_domain(cls, s: School) -> SchoolRef:
        return cls(code=s.code, name=s.name, levels=list(s.levels))
