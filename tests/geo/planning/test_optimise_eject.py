"""Ejection chains on a strip of six blocks where single moves cannot relieve the full school.

    u0 | u1 | u2 | u3 | u4 | u5     squares of 0.01 degrees side by side
    P         Q              R     P in u0, Q in u2, R in u5

Demand 10, 10, 5, 10, 5, 5; capacity P 15, Q 15, R 20. Start: P = {u0, u1} (20, 5 over),
Q = {u2, u3} (15, full), R = {u4, u5} (10, 10 spare). Weights: 1 per pupil moved, 0.05 per
unit moved, travel 0.

- Single moves: u1 to Q puts Q 10 over (worse than P's 5); u3 to R relieves nobody. So the
  steepest descent stops with 5 pupils over.
- The chain P -> Q -> R: u1 to Q (Q at 25), u3 to R (Q at 15, R at 20): nobody over, zones
  P = {u0}, Q = {u1, u2}, R = {u3, u4, u5} contiguous. P's only movable unit is u1 (10 pupils),
  whose only neighbour school is Q, which then has to shed 10: u3 is the only unit it can give
  R. So 20 pupils moved, 2 units: objective 20.1, the optimum.
"""

from __future__ import annotations

import pytest
from shapely.geometry import MultiPolygon, box

from geo.models import School
from geo.planning.demand import DemandUnit
from geo.planning.optimise import OptimiseOptions, Weights, optimise, prepare
from geo.planning.optimise.build import solution_vector
from geo.planning.optimise.eject import eject
from geo.planning.optimise.local import improve
from geo.planning.optimise.solve import feasible

DEMAND = (10.0, 10.0, 5.0, 10.0, 5.0, 5.0)
START = {"u0": "P", "u1": "P", "u2": "Q", "u3": "Q", "u4": "R", "u5": "R"}
WANT = {"u0": "P", "u1": "Q", "u2": "Q", "u3": "R", "u4": "R", "u5": "R"}


def instance() -> tuple[list[DemandUnit], list[School], OptimiseOptions]:
    units = [DemandUnit(f"u{i}", MultiPolygon([box(0.01 * i, 0, 0.01 * (i + 1), 0.01)]), counts={"primary": d})
             for i, d in enumerate(DEMAND)]
    schools = [School("P", "P", 0.005, 0.005, capacity=15), School("Q", "Q", 0.025, 0.005, capacity=15),
               School("R", "R", 0.055, 0.005, capacity=20)]
    opt = OptimiseOptions(level="primary", weights=Weights(moved=1.0, units_moved=0.05, travel=0.0), time_limit_s=20,
                          gap=0.0, capacity="soft")
    return units, schools, opt


def _assignment(prep_model, v) -> dict[str, str]:  # type: ignore[no-untyped-def]
    x = v[: prep_model.n_pairs] > 0.5
    return {f"u{int(u)}": prep_model.schools[int(s)].code for u, s in zip(prep_model.pair_u[x], prep_model.pair_s[x], strict=True)}


def test_single_moves_leave_the_overflow() -> None:
    units, schools, opt = instance()
    m = prepare(units, schools, start=START, options=opt).model
    v = improve(m, solution_vector(m, m.start), time_limit_s=5)
    assert _assignment(m, v) == START
    assert v[m.n_pairs: m.n_pairs + m.over_s.size].sum() == pytest.approx(5.0)


def test_ejection_chain_routes_the_overflow_to_spare_seats() -> None:
    units, schools, opt = instance()
    m = prepare(units, schools, start=START, options=opt).model
    v = eject(m, solution_vector(m, m.start), time_limit_s=5)
    assert feasible(m, v)
    assert _assignment(m, v) == WANT
    assert v[m.n_pairs: m.n_pairs + m.over_s.size].sum() == pytest.approx(0.0)
    assert float(m.cost @ v) == pytest.approx(20.1)


def test_the_chain_is_the_optimum() -> None:
    units, schools, opt = instance()
    p = optimise(units, schools, start=START, options=opt)
    assert p.assignment == WANT
    assert p.report.objective == pytest.approx(20.1)
    assert p.report.overflow_after == 0.0


def test_a_chain_that_does_not_help_is_undone() -> None:
    units, schools, opt = instance()
    # P 4 over, R 4 spare: the chain would leave R 6 over
    tight = [School("P", "P", 0.005, 0.005, capacity=16), schools[1], School("R", "R", 0.055, 0.005, capacity=14)]
    m = prepare(units, tight, start=START, options=opt).model
    v0 = solution_vector(m, m.start)
    v = eject(m, v0, time_limit_s=5)
    assert _assignment(m, v) == START
    assert float(m.cost @ v) == pytest.approx(float(m.cost @ v0))
