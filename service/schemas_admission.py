"""Wire models of admission in shared zones (多校划片): odds in the lookup, admission data, lottery steps."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from geo.lookup.answer import Answer
from geo.lookup.odds import ZoneOdds
from service import schemas as base_schemas
from service.schemas import LookupOut


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


class LookupWithOddsOut(LookupOut):
    """The lookup answer with, in a shared zone whose plan has admission data, the odds per category and school."""

    admission: list[ZoneOddsOut] = Field(default_factory=list, description="odds of each shared zone covering the place "
                                         "(多校划片 with a lottery); empty elsewhere")

    @classmethod
    def from_answer(cls, a: Answer, *, input: dict[str, Any], in_crs: dict[str, Any] | None,
                    missing_networks: dict[str, dict[str, Any]] | None = None) -> LookupWithOddsOut:
        base = LookupOut.from_answer(a, input=input, in_crs=in_crs, missing_networks=missing_networks)
        odds = [ZoneOddsOut.from_domain(level, z) for level, zs in a.odds.items() for z in zs]
        return cls(**dict(base), admission=odds)


# LookupOut's fields name models defined after it in service.schemas: resolve them there.
LookupWithOddsOut.model_rebuild(_types_namespace=vars(base_schemas))


class AdmissionIn(BaseModel):
    """A plan's admission data (replaces what it had)."""

    categories: list[dict[str, Any]] = Field(max_length=100, description="in priority order: category (key), label_en, label_zh")
    places: list[dict[str, Any]] = Field(max_length=10_000, description="school, places")
    applicants: list[dict[str, Any]] = Field(default_factory=list, max_length=100_000,
                                             description="unit, category, count, preferences (list or 'S1;S2'; 'any' = "
                                                         "服从调剂), accept_any, zone (a school of the zone, for 'any'), id")


class LotteryIn(BaseModel):
    """Step ``publish`` (the notice: seed or seed_sha256) or step ``draw`` (of a published draw_id)."""

    step: Literal["publish", "draw"]
    zone: str | None = Field(default=None, max_length=64, description="publish: a school code of the shared zone")
    seed: str | None = Field(default=None, min_length=1, max_length=200,
                             description="publish: the seed, published now; draw: the seed committed by its hash")
    seed_sha256: str | None = Field(default=None, max_length=64, description="publish: only the seed's SHA-256 (hex)")
    draw_id: int | None = Field(default=None, ge=1, le=2**31 - 1, description="draw: the published draw")
