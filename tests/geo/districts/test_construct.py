"""The construction heuristic: a partition that meets every rule on a county too large for the MIP's
time limit, and the solver started from it.

Instances are random but seeded: schools scattered over a square, quality uniform. Every rule is
checked from the matrix and the options, not from the heuristic's own bookkeeping.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from geo.districts.checks import prepare
from geo.districts.construct import construct
from geo.districts.formation import form_districts
from geo.districts.model import DistrictOptions, DistrictPlan, DistrictSchool, geodesic_matrix
from geo.errors import Cancelled
from geo.standards import CN


def _county(n: int, seed: int, *, urban_share: float | None = None) -> list[DistrictSchool]:
    rng = np.random.default_rng(seed)
    lon, lat = rng.uniform(150.0, 150.5, n), rng.uniform(-34.0, -33.5, n)  # about 46 x 55 km
    q = rng.uniform(800, 1150, n)
    urban = rng.random(n) < urban_share if urban_share is not None else [None] * n
    return [DistrictSchool(f"s{i:03d}", float(q[i]), float(lon[i]), float(lat[i]), urban=None if urban[i] is None else bool(urban[i]))
            for i in range(n)]


def _check_rules(plan: DistrictPlan, schools: list[DistrictSchool], travel: np.ndarray, o: DistrictOptions) -> None:
    idx = {s.code: i for i, s in enumerate(schools)}
    members = [m for d in plan.districts for m in d.members]
    assert sorted(members) == sorted(idx)  # a partition: every school exactly once
    q = np.array([s.quality for s in schools])
    k = math.ceil(0.3 * len(schools))
    strong = {schools[i].code for i in sorted(range(len(schools)), key=lambda i: (-q[i], schools[i].code))[:k]}
    for d in plan.districts:
        assert o.min_schools <= len(d.members) <= (o.max_schools or 10)
        assert d.lead in d.members and d.lead in strong  # leads come from the strong schools
        assert strong & set(d.members)
        if o.max_travel is not None:
            assert max(travel[idx[m], idx[d.lead]] for m in d.members) <= o.max_travel
        if o.mix_urban_rural:
            kinds = {schools[idx[m]].urban for m in d.members}
            assert kinds == {True, False}


def test_construct_alone_meets_every_rule() -> None:
    schools = _county(300, 1, urban_share=0.5)
    travel = geodesic_matrix(schools)
    o = DistrictOptions(max_travel=15_000.0, mix_urban_rural=True, time_limit_s=5)
    p = prepare(schools, travel, o, CN)
    lead_of = construct(p, o, seconds=2.0)
    assert lead_of is not None
    got: dict[int, list[int]] = {}
    for s, lead in enumerate(lead_of.tolist()):
        got.setdefault(lead, []).append(s)
    assert all(lead in ms for lead, ms in got.items())  # a lead sits in its own district
    assert all(2 <= len(ms) <= 10 for ms in got.values())
    assert all(travel[s, lead] <= 15_000.0 for lead, ms in got.items() for s in ms)
    assert all(p.strong[ms].any() and p.urban is not None and p.urban[ms].any() and (~p.urban[ms]).any() for ms in got.values())


def test_large_county_gets_a_plan_within_a_short_limit() -> None:
    # 600 schools, no travel cap, 4 s: before the construction the solver found no partition in
    # this time and the formation failed with "no district partition found within the time limit".
    schools = _county(600, 2)
    travel = geodesic_matrix(schools)
    o = DistrictOptions(time_limit_s=4)
    plan = form_districts(schools, travel, o, profile=CN)
    _check_rules(plan, schools, travel, o)
    assert plan.status == "time_limit" and len(plan.districts) >= 60
    # Balanced: the between-district CV of mean quality is well under the schools' own CV.
    q = np.array([s.quality for s in schools])
    assert plan.between_cv < 0.25 * float(q.std() / q.mean())


def test_start_then_solver_reaches_the_optimum_on_the_line() -> None:
    # The six-school line of test_formation.py: the start does not stop the solver proving
    # the unique optimum {A, B, E} / {C, D, F}.
    pos = {"A": 0, "B": 1, "C": 2, "D": 10, "E": 11, "F": 12}
    q = {"A": 90, "B": 70, "C": 80, "D": 60, "E": 40, "F": 50}
    schools = [DistrictSchool(c, float(q[c]), 0.0, 0.0) for c in pos]
    travel = np.array([[abs(pos[a] - pos[b]) * 1000.0 for b in pos] for a in pos])
    plan = form_districts(schools, travel, DistrictOptions(max_schools=3, strong_share=None, lead_codes=("A", "D")), profile=CN)
    assert plan.status == "optimal"
    assert {frozenset(d.members) for d in plan.districts} == {frozenset("ABE"), frozenset("CDF")}


def test_cancel_during_construction() -> None:
    schools = _county(300, 3)
    travel = geodesic_matrix(schools)
    o = DistrictOptions(max_travel=20_000.0, time_limit_s=60)
    with pytest.raises(Cancelled):
        form_districts(schools, travel, o, profile=CN, cancel=iter([False, True]).__next__)
