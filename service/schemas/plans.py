"""Plans on the wire: in, out, references, adoption.

Coordinates on the wire are EPSG:4326, (lon, lat).
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator

from geo.models import (
    Plan,
    PlanStatus,
    check_slug,
)


class PlanIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    level: str
    school_year: int = Field(ge=1900, le=2200)
    district: str = "default"
    description: str | None = Field(default=None, max_length=2000)

    @field_validator("level", "district")
    @classmethod
    def _slug(cls, v: str) -> str:
        return check_slug(v, what="value")


class PlanOut(BaseModel):
    id: int
    name: str
    district: str
    level: str
    school_year: int
    status: PlanStatus
    version: int
    parent_id: int | None
    created_by: str | None
    created_at: datetime | None
    effective_year: int | None
    description: str | None
    served: bool | None = Field(default=None, description="adopted plans only (GET /v1/plans/{id}): whether lookups answer from it")
    not_served_reason: str | None = Field(default=None, description="why an adopted plan is not served (its zones cannot be indexed)")

    @classmethod
    def from_domain(cls, p: Plan) -> PlanOut:
        return cls(id=p.id, name=p.name, district=p.district, level=p.level, school_year=p.school_year, status=p.status,
                   version=p.version, parent_id=p.parent_id, created_by=p.created_by, created_at=p.created_at,
                   effective_year=p.effective_year, description=p.description)


class AdoptOut(PlanOut):
    archived: list[int] = Field(description="ids of the adopted plans of this district and level for the effective "
                                            "school year or later that this adoption archived")
    still_adopted: list[int] = Field(description="ids of this district and level's adopted plans for earlier school years, "
                                                 "kept as the record of those years")


class PlanRef(BaseModel):
    id: int
    name: str
    district: str
    school_year: int

    @classmethod
    def from_domain(cls, p: Plan) -> PlanRef:
        return cls(id=p.id, name=p.name, district=p.district, school_year=p.school_year)


class AdoptIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    effective_year: int | None = Field(default=None, ge=1900, le=2200)
