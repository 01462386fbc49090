"""Wire models of admission in shared zones (多校划片): odds in the lookup, admission data, lottery steps."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field


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
