"""Inputs and outputs of 学区 (school district) formation: frozen, plain data.

A county groups its compulsory schools into 学区 "城乡统筹、强弱搭配、相对就近" (town and country
together, strong with weak, relatively near), each around a lead school (学区长学校). Travel
costs are in whatever unit the caller's matrix uses (metres for :func:`geodesic_matrix`,
seconds for a street network); ``max_travel`` is in the same unit.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from geo.distance import geodesic_m
from geo.errors import InvalidInput


@dataclass(frozen=True, slots=True)
class DistrictSchool:
    """One school to be placed in a district. ``lon``/``lat`` are EPSG:4326.

    ``quality`` is a score >= 0, higher = stronger (see :mod:`geo.districts.quality`);
    ``urban`` True for a town school, False for a rural one, None when unknown.
    """

    code: str
    quality: float
    lon: float
    lat: float
    urban: bool | None = None
    level: str | None = None
    name: str = ""
    name_local: str | None = None


@dataclass(frozen=True, slots=True)
class DistrictOptions:
    """What a district plan must satisfy.

    Attributes
    ----------
    max_schools
        At most this many schools per district; None = the profile's ``district_max_schools``
        (10 for ``cn``), or 10 when the profile sets none.
    min_schools
        At least this many schools per district (the lead counts); 2, since a 学区 of one school
        shares nothing.
    max_travel
        Cap on the travel cost from a school to its lead (the matrix's unit); None = no cap.
    travel_unit
        The matrix's unit, for messages: ``"m"`` (metres), ``"s"`` (seconds) or another name.
    strong_share
        The top share of schools by quality counted "strong"; every district holds at least one.
        None = no such rule.
    lead_from_strong
        Leads are chosen among the strong schools (a lead school is a strong one); otherwise
        any school may lead. Ignored when ``lead_codes`` is given.
    lead_codes
        The schools that may lead, when the county has chosen them already.
    mix_urban_rural
        Every district holds at least one urban and one rural school.
    mix_levels
        Every district holds a school of each level present (primary and junior together).
    districts
        Exactly this many districts; None = as the optimum needs (at least ceil(n / max)).
    travel_weight
        Weight of the compactness term (total travel to the leads, over the travel scale)
        against the balance term (total deviation, over the schools' mean absolute deviation).
    time_limit_s, mip_rel_gap
        Solver limits; the plan reports the gap reached. The balance term's LP relaxation is
        weak (fractional assignments balance perfectly), so on 50+ schools the solver usually
        stops at the time limit with a good partition and a wide gap, not a proof.
    """

    max_schools: int | None = None
    min_schools: int = 2
    max_travel: float | None = None
    travel_unit: str = "m"
    strong_share: float | None = 0.3
    lead_from_strong: bool = True
    lead_codes: tuple[str, ...] | None = None
    mix_urban_rural: bool = False
    mix_levels: bool = False
    districts: int | None = None
    travel_weight: float = 0.05
    time_limit_s: float = 60.0
    mip_rel_gap: float = 0.01


@dataclass(frozen=True, slots=True)
class District:
    """One district of a plan: the lead first in ``members``, the others by code."""

    lead: str
    members: tuple[str, ...]
    mean_quality: float
    min_quality: float
    max_quality: float
    max_travel: float
    total_travel: float
    strong: int
    urban: int
    rural: int

    @property
    def quality_range(self) -> float:
        """Highest minus lowest member quality (the within-district spread)."""
        return self.max_quality - self.min_quality


@dataclass(frozen=True, slots=True)
class SolveProgress:
    """What the solver has reached so far (for a job's progress bar)."""

    elapsed_s: float
    objective: float | None
    bound: float | None
    gap: float | None


@dataclass(frozen=True, slots=True)
class DistrictPlan:
    """The optimiser's answer.

    ``status`` is ``"optimal"`` (within ``mip_rel_gap``) or ``"time_limit"`` (best found, with
    ``gap`` the solver's relative gap). ``between_cv`` is the size-weighted 差异系数 of the
    districts' mean quality (``geo.capacity.balance.weighted_cv`` with district totals as the
    resource and member counts as the pupils); ``max_within_range`` the largest district's
    quality range.
    """

    districts: tuple[District, ...]
    options: DistrictOptions
    max_schools: int
    profile: str | None
    status: str
    objective: float
    bound: float | None
    gap: float | None
    solve_s: float
    county_mean: float
    between_cv: float
    between_cv_unweighted: float
    max_within_range: float
    #: The objective's two terms: balance (sum over districts of |total - size * county mean|, over
    #: the schools' mean absolute deviation) and compactness (weighted travel over its scale).
    #: The LP bound of the balance term is 0 (fractional assignments balance perfectly), so on a
    #: large county the reported gap is mostly this term left unproven, not travel.
    balance_term: float = 0.0
    travel_term: float = 0.0
    text: Mapping[str, str] = field(default_factory=dict)

    def assignment(self) -> dict[str, str]:
        """School code -> its district's lead code."""
        return {m: d.lead for d in self.districts for m in d.members}

    def rows(self) -> list[dict[str, Any]]:
        """One row per school (district number, lead, is-lead), ready for CSV."""
        out: list[dict[str, Any]] = []
        for i, d in enumerate(self.districts, 1):
            out.extend({"district": i, "lead": d.lead, "school": m, "is_lead": m == d.lead} for m in d.members)
        return out


def geodesic_matrix(schools: Sequence[DistrictSchool]) -> NDArray[np.float64]:
    """Geodesic metres between every pair of schools (n x n, zero diagonal).

    Parameters
    ----------
    schools
        The schools, EPSG:4326.
    """
    if not schools:
        msg = "no schools given"
        raise InvalidInput(msg, where="schools")
    lon = np.array([s.lon for s in schools], dtype=float)
    lat = np.array([s.lat for s in schools], dtype=float)
    a, b = np.meshgrid(np.arange(len(schools)), np.arange(len(schools)), indexing="ij")
    return geodesic_m(lon[a], lat[a], lon[b], lat[b])


def travel_text(value: float, unit: str) -> tuple[str, str]:
    """A travel cost in words, English and Chinese: 8000 m -> "8.0 km" / "8.0 公里"."""
    if unit == "m":
        return (f"{value / 1000:.1f} km", f"{value / 1000:.1f} 公里") if value >= 1000 else (f"{value:.0f} m", f"{value:.0f} 米")
    if unit == "s":
        return f"{value / 60:.0f} min", f"{value / 60:.0f} 分钟"
    return f"{value:g} {unit}", f"{value:g} {unit}"
