"""Wire models of 学区 (school districts): the district as data, and the formation request."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, Field, StringConstraints

from geo.models import check_slug
from service.params import SchoolCode
from service.storage.base import DistrictStatus, StoredDistrict

Level = Annotated[str, Field(min_length=1, max_length=64), AfterValidator(lambda v: check_slug(v, what="level"))]
Year = Annotated[int, Field(ge=1900, le=2200)]


class DistrictIn(BaseModel):
    """A 学区 made or edited by hand: its members include the lead school."""

    name: str = Field(min_length=1, max_length=200, description="e.g. 第一学区")
    levels: list[Level] = Field(min_length=1, max_length=8, description="the levels it groups, e.g. [\"primary\"]")
    school_year: Year = Field(description="the school year from which it is in force")
    lead: SchoolCode = Field(description="the lead school (学区长学校), one of `schools`")
    schools: list[SchoolCode] = Field(min_length=1, max_length=500, description="member school codes, the lead among them")
    status: Literal["proposed", "effective"] = "effective"

    def to_domain(self, district_id: int | None = None) -> StoredDistrict:
        return StoredDistrict(id=district_id, name=self.name.strip(), levels=tuple(dict.fromkeys(self.levels)),
                              school_year=self.school_year, lead=self.lead, schools=tuple(dict.fromkeys(self.schools)),
                              status=DistrictStatus(self.status))


class DistrictOut(BaseModel):
    id: int
    name: str
    levels: list[str]
    school_year: int
    lead: str
    schools: list[str]
    status: Literal["proposed", "effective"]
    job_id: int | None = Field(default=None, description="the formation job that proposed it")
    report: dict[str, Any] | None = Field(default=None, description="the formation report of the proposal set")
    version: int = Field(description="send it back as If-Match to edit or delete")
    created_at: datetime | None = None
    updated_at: datetime | None = None
    href: str

    @classmethod
    def from_domain(cls, d: StoredDistrict) -> DistrictOut:
        return cls(id=d.id or 0, name=d.name, levels=list(d.levels), school_year=d.school_year, lead=d.lead,
                   schools=list(d.schools), status=d.status.value, job_id=d.job_id,
                   report=d.report if isinstance(d.report, dict) else None, version=d.version, created_at=d.created_at,
                   updated_at=d.updated_at, href=f"/v1/districts/{d.id}")


class FormIn(BaseModel):
    """What a formation job is asked: the schools of ``level``, a quality score, the rules of a 学区."""

    level: Level
    school_year: Year = Field(description="the school year the proposed districts are for")
    max_schools: int | None = Field(default=None, ge=2, le=100, description="default: the profile's (cn: 10), else 10")
    score: str | None = Field(default=None, min_length=1, max_length=64,
                              description="a school attribute holding the quality score; default: computed from the "
                                          "profile's balance indicators")
    time_limit_s: float = Field(default=60.0, gt=0, le=3600)
    max_travel_m: float | None = Field(default=None, gt=0, le=1_000_000, description="cap on the straight-line metres "
                                       "from a school to its lead (相对就近)")
    strong_share: float | None = Field(default=0.3, gt=0, le=1, description="top share counted strong; every district "
                                       "holds one (强弱搭配); null: no such rule")
    lead_codes: list[SchoolCode] | None = Field(default=None, max_length=500, description="the schools that may lead")
    mix_urban_rural: bool = Field(default=False, description="every district holds an urban and a rural school (城乡统筹)")
    urban_column: str | None = Field(default=None, min_length=1, max_length=64,
                                     description="the school attribute saying urban (1/true/urban/城镇) or rural (0/false/rural/乡村)")
    districts: int | None = Field(default=None, ge=1, le=1000, description="exactly this many districts")
    where: dict[Annotated[str, StringConstraints(min_length=1, max_length=64)],
                Annotated[list[Annotated[str, StringConstraints(min_length=1, max_length=200)]], Field(min_length=1, max_length=200)]] | None = Field(
        default=None, max_length=10, description="the area: only schools whose attribute has one of these values, e.g. "
        '{"LGA": ["Hawkesbury"]}; several attributes must all match (a county forms its own 学区)')
    bbox: Annotated[list[float], Field(min_length=4, max_length=4)] | None = Field(default=None, description="only schools inside [min lon, min lat, "
                                                         "max lon, max lat], EPSG:4326")
    travel_weight: float = Field(default=0.05, ge=0, le=100)
    mip_rel_gap: float = Field(default=0.01, ge=0, le=1)


class AdoptIn(BaseModel):
    replace_existing: bool = Field(default=False, description="delete the effective districts of the same year and "
                                   "levels first (else a school already in one is a 422)")
