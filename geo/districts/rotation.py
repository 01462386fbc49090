"""Teacher exchange inside a 学区 (教师交流轮岗): the fewest moves that bring every member school up
to the profile's per-school threshold for a teacher indicator (per 100 pupils).

A school of ``n`` pupils needs ``ceil(threshold * n / 100)`` teachers of the kind; its deficit is
what it lacks and its surplus what it has beyond its own need (a donor never drops below its
threshold). One move carries one teacher to one school, so it cuts that school's deficit by at
most one: the total deficit is a lower bound on the moves, and any transfer from surpluses
reaches it. The count is therefore optimal by that argument, with no search. When a district's
surplus is smaller than its deficit, the smallest deficits are filled first, which brings the
most schools up to the threshold (an exchange argument: swapping a filled large deficit for an
unfilled smaller one never lowers the count); the rest is reported as ``short``.

Which donor sends to which school is a transportation problem minimising the total travel
(geodesic metres between the schools, or the caller's costs), solved as an LP with HiGHS
(``scipy.optimize.linprog``); its constraint matrix is totally unimodular, so the vertex the
simplex returns is integral and the moves are whole teachers.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.optimize import linprog

from geo.capacity.utilisation import level_figures, non_negative
from geo.distance import geodesic_m
from geo.errors import InvalidInput
from geo.models import School
from geo.standards import StandardsProfile

DEFAULT_INDICATOR = "backbone_teachers"
TravelFn = Callable[[School, School], float]


@dataclass(frozen=True, slots=True)
class TeacherMove:
    """``count`` teachers of ``indicator`` move from ``from_school`` to ``to_school`` in district ``lead``."""

    lead: str
    from_school: str
    to_school: str
    count: int
    travel: float


@dataclass(frozen=True, slots=True)
class Shortfall:
    """A school still below the threshold after the moves: no surplus left in its district."""

    lead: str
    school: str
    teachers_short: int


@dataclass(frozen=True, slots=True)
class RotationPlan:
    indicator: str
    threshold: float
    profile: str
    moves: tuple[TeacherMove, ...]
    short: tuple[Shortfall, ...]
    text: Mapping[str, str]

    def rows(self) -> list[dict[str, object]]:
        """The table: district lead, from-school, to-school, count (CSV-ready)."""
        return [{"district": m.lead, "from_school": m.from_school, "to_school": m.to_school, "count": m.count}
                for m in self.moves]


def _geodesic(a: School, b: School) -> float:
    return float(geodesic_m(a.lon, a.lat, b.lon, b.lat))


def _whole(v: float | None, code: str, what: str) -> int:
    if v is None:
        msg = f"school {code}: no {what} recorded"
        raise InvalidInput(msg, where=f"school {code}")
    if abs(v - round(v)) > 1e-9:
        msg = f"school {code}: {what} {v} is not a whole number"
        raise InvalidInput(msg, where=f"school {code}")
    return round(v)


def _pair(lead: str, donors: list[tuple[School, int]], takers: list[tuple[School, int]],
          travel: TravelFn) -> list[TeacherMove]:
    cost = np.array([[travel(d, t) for t, _ in takers] for d, _ in donors], dtype=float).ravel()
    nd, nt = len(donors), len(takers)
    a_ub = np.zeros((nd, nd * nt))
    for i in range(nd):
        a_ub[i, i * nt:(i + 1) * nt] = 1.0
    a_eq = np.zeros((nt, nd * nt))
    for j in range(nt):
        a_eq[j, j::nt] = 1.0
    res = linprog(cost, A_ub=a_ub, b_ub=[float(u) for _, u in donors], A_eq=a_eq, b_eq=[float(d) for _, d in takers],
                  bounds=(0, None), method="highs")
    if res.status != 0:  # cannot happen: supply >= demand by construction
        msg = f"district {lead}: teacher transfer problem not solved ({res.message})"
        raise InvalidInput(msg, where=f"district {lead}")
    flow = np.rint(res.x).astype(int).reshape(nd, nt)
    return [TeacherMove(lead, donors[i][0].code, takers[j][0].code, int(flow[i, j]), float(cost[i * nt + j]))
            for i in range(nd) for j in range(nt) if flow[i, j] > 0]


def teacher_moves(schools: Sequence[School], districts: Mapping[str, Sequence[str]], *, level: str,
                  profile: StandardsProfile, indicator: str = DEFAULT_INDICATOR,
                  travel: TravelFn | None = None) -> RotationPlan:
    """The fewest teacher moves inside each district to bring its schools up to the threshold.

    Parameters
    ----------
    schools
        The schools (teachers under ``attributes[indicator]``, enrolment for the level).
    districts
        Lead code -> member codes (``DistrictPlan`` gives them as ``{d.lead: d.members}``).
    level
        Level name; the threshold is the profile's for its kind.
    profile
        Profile with a per-100-pupil threshold for ``indicator``.
    indicator
        A teacher indicator: ``backbone_teachers`` (骨干教师), ``teachers_above_degree``, ``pe_art_teachers``.
    travel
        Cost of sending a teacher from one school to another; geodesic metres when omitted.
    """
    ind = next((i for i in profile.balance_indicators if i.key == indicator), None)
    threshold = profile.for_level(level).balance_thresholds.get(indicator)
    if ind is None or threshold is None or ind.per_pupils != 100:
        msg = f"profile {profile.key} has no per-100-pupil threshold for {indicator!r} at level {level!r}"
        raise InvalidInput(msg, where="indicator")
    by_code = {s.code: s for s in schools}
    moves: list[TeacherMove] = []
    short: list[Shortfall] = []
    for lead, members in sorted(districts.items()):
        donors, takers = [], []
        for code in members:
            s = by_code.get(code)
            if s is None:
                msg = f"district {lead}: school {code} is not among the schools given"
                raise InvalidInput(msg, where=f"district {lead}")
            fig = level_figures(s, level)
            pupils = fig.enrolment
            if not pupils:
                msg = f"school {code}: no enrolment for level {level!r}"
                raise InvalidInput(msg, where=f"school {code}")
            have = _whole(non_negative(fig.attributes.get(indicator), what=indicator, code=code), code, indicator)
            need = math.ceil(round(threshold * pupils / 100, 9))
            if have > need:
                donors.append((s, have - need))
            elif have < need:
                takers.append((s, need - have))
        supply = sum(u for _, u in donors)
        takers.sort(key=lambda t: (t[1], t[0].code))
        filled: list[tuple[School, int]] = []
        for s, d in takers:
            give = min(d, supply)
            supply -= give
            if give:
                filled.append((s, give))
            if give < d:
                short.append(Shortfall(lead, s.code, d - give))
        if filled:
            moves.extend(_pair(lead, donors, filled, travel or _geodesic))
    total = sum(m.count for m in moves)
    left = sum(s.teachers_short for s in short)
    text = {"en": f"{total} teacher move(s) ({ind.label_en}) bring schools to {threshold:g} per 100 pupils; "
                  f"{left} still short where the district has no surplus",
            "zh": f"{ind.label_zh}交流轮岗 {total} 人次，使各校达到每百名学生 {threshold:g} 人；"
                  f"学区内无富余时仍缺 {left} 人"}
    return RotationPlan(indicator, threshold, profile.key, tuple(moves), tuple(short), text)
