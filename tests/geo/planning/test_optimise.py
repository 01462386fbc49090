"""The optimiser on a strip of four blocks whose optimum is worked out by hand.

    u0 | u1 | u2 | u3        squares of 0.01 degrees side by side (each shares an edge with the next)
    P              Q        school P sits in u0, school Q in u3

Demand: u0 = 10, u1 = 5, u2 = 10, u3 = 10 pupils. Capacity: P 20, Q 20. Start: P = {u0, u1, u2}
(25 pupils, 5 over), Q = {u3} (10). Weights: 1 per pupil moved, 0.05 per unit moved, travel 0.

- Contiguous: Q's zone must stay joined to u3, so u1 can only reach Q through u2. Moving u2
  alone: P = 15, Q = 20, both within capacity; 10 pupils moved, objective 10 + 0.05 = 10.05.
  Moving u1 alone would split Q's zone; moving u1 and u2 puts Q at 25 (over). Optimum 10.05.
- Not contiguous: moving u1 alone (5 pupils) gives P = 20, Q = 15: objective 5 + 0.05 = 5.05.
"""

from __future__ import annotations

import numpy as np
import pytest
from shapely.geometry import MultiPolygon, box

from geo.errors import Infeasible, InsufficientCapacity
from geo.models import School, SchoolStatus
from geo.planning.demand import DemandUnit
from geo.planning.optimise import (
    OptimiseOptions,
    Weights,
    dissolve_zones,
    optimise,
    prepare,
    solve_prepared,
    tradeoff,
    unit_adjacency,
    with_locks,
)
from geo.planning.validate import validate_plan

W = Weights(moved=1.0, units_moved=0.05, travel=0.0)
DEMAND = (10.0, 5.0, 10.0, 10.0)


def strip(demand: tuple[float, ...] = DEMAND) -> tuple[list[DemandUnit], dict[str, str]]:
    units = [DemandUnit(f"u{i}", MultiPolygon([box(0.01 * i, 0, 0.01 * (i + 1), 0.01)]), counts={"primary": d})
             for i, d in enumerate(demand)]
    return units, {"u0": "P", "u1": "P", "u2": "P", "u3": "Q"}


def schools(cap_p: int = 20, cap_q: int = 20, q_status: SchoolStatus = SchoolStatus.OPEN) -> list[School]:
    return [School("P", "P", 0.005, 0.005, capacity=cap_p), School("Q", "Q", 0.035, 0.005, capacity=cap_q, status=q_status)]


def opts(**kw: object) -> OptimiseOptions:
    base: dict[str, object] = {"level": "primary", "weights": W, "time_limit_s": 20, "gap": 0.0}
    base.update(kw)
    return OptimiseOptions(**base)  # type: ignore[arg-type]


def test_adjacency_is_shared_edges_only() -> None:
    units, _ = strip()
    corner = DemandUnit("c", MultiPolygon([box(0.04, 0.01, 0.05, 0.02)]), counts={"primary": 0})  # touches u3 at a corner
    adj = unit_adjacency([*units, corner]).toarray()
    assert adj[0, 1] and adj[1, 2] and adj[2, 3] and not adj[0, 2]
    assert not adj[3, 4] and not adj[4].any()


def test_contiguous_optimum_by_hand() -> None:
    units, start = strip()
    p = optimise(units, schools(), start=start, options=opts())
    assert p.assignment == {"u0": "P", "u1": "P", "u2": "Q", "u3": "Q"}
    r = p.report
    assert r.objective == pytest.approx(10.05)
    assert r.pupils_moved == pytest.approx(10.0)
    assert r.terms_after["moved"] == pytest.approx(10.0) and r.terms_after["overflow"] == pytest.approx(0.0)
    assert r.overflow_before == pytest.approx(5.0) and r.overflow_after == 0.0
    assert r.schools_over_before == 1 and r.schools_over_after == 0
    assert [(m.from_school, m.to_school, m.pupils, m.units) for m in r.moves] == [("P", "Q", 10.0, 1)]
    loads = {s.code: (s.demand_before, s.demand_after) for s in r.schools}
    assert loads == {"P": (25.0, 15.0), "Q": (10.0, 20.0)}
    assert r.units_changed == ("u2",)
    assert r.status == "optimal" and r.gap is not None and r.gap <= 1e-6


def test_without_contiguity_the_cheaper_split_wins() -> None:
    units, start = strip()
    p = optimise(units, schools(), start=start, options=opts(contiguous=False))
    assert p.assignment == {"u0": "P", "u1": "Q", "u2": "P", "u3": "Q"}
    assert p.report.objective == pytest.approx(5.05)


def test_travel_before_and_after_are_pupil_weighted() -> None:
    units, start = strip()
    p = optimise(units, schools(), start=start, options=opts())
    r = p.report
    # u2's centre is 0.01 degrees from both P's point (0.005) and Q's (0.035) ... P is 0.02 away:
    # before, u2 travels to P (0.02 deg), after to Q (0.01 deg): the mean must drop.
    assert r.cost_unit == "m" and r.travel_after.mean < r.travel_before.mean
    assert r.travel_before.pupils == pytest.approx(35.0)


def test_not_enough_seats_in_all_is_a_shortfall() -> None:
    units, start = strip()
    with pytest.raises(InsufficientCapacity) as exc:
        optimise(units, schools(cap_p=15, cap_q=15), start=start, options=opts())
    (fall,) = exc.value.shortfalls
    assert fall["area"] == "all schools" and fall["short"] == pytest.approx(5.0)
    assert fall["demand"] == pytest.approx(35.0) and fall["seats"] == pytest.approx(30.0)


def test_locked_units_over_capacity_name_the_school() -> None:
    units, start = strip()
    with pytest.raises(InsufficientCapacity) as exc:
        optimise(units, schools(), start=start, options=opts(locked={"u0": "P", "u1": "P", "u2": "P"}))
    (fall,) = exc.value.shortfalls
    assert fall["schools"] == ("P",) and fall["short"] == pytest.approx(5.0)


def test_shortfall_found_by_the_solver_names_school_and_neighbours() -> None:
    # No candidate but the starting school (k_nearest=0): u2 cannot move, so P stays 5 over,
    # although Q has 10 seats spare.
    units, start = strip()
    with pytest.raises(InsufficientCapacity) as exc:
        optimise(units, schools(), start=start, options=opts(k_nearest=0))
    (fall,) = exc.value.shortfalls
    assert fall["school"] == "P" and fall["short"] == pytest.approx(5.0)


def test_locked_unit_stays_and_soft_capacity_reports_overflow() -> None:
    units, start = strip()
    p = optimise(units, schools(), start=start, options=opts(locked={"u2": "P"}, capacity="soft"))
    # u2 stays at P, so u1 stays too (Q cannot reach it); P keeps 25: 5 over.
    assert p.assignment == start
    assert p.report.overflow_after == pytest.approx(5.0)


def test_lock_to_another_school_pulls_the_path_along() -> None:
    units, start = strip()
    p = optimise(units, schools(), start=start, options=opts(locked={"u1": "Q"}, capacity="soft"))
    # u1 at Q needs u2 at Q too (contiguity): Q = 25, 5 over; 15 pupils moved.
    assert p.assignment == {"u0": "P", "u1": "Q", "u2": "Q", "u3": "Q"}
    assert p.report.pupils_moved == pytest.approx(15.0) and p.report.overflow_after == pytest.approx(5.0)


def test_lock_that_cannot_be_joined_is_infeasible() -> None:
    units, start = strip()
    # u0 holds school P: it cannot be locked elsewhere.
    with pytest.raises(Infeasible):
        optimise(units, schools(), start=start, options=opts(locked={"u0": "Q"}))


def test_closed_school_gets_nothing() -> None:
    units, start = strip((5.0, 5.0, 5.0, 5.0))
    p = optimise(units, schools(cap_p=40, q_status=SchoolStatus.CLOSED), start=start, options=opts())
    assert set(p.assignment.values()) == {"P"}
    assert p.report.pupils_moved == pytest.approx(5.0)


def test_max_utilisation_override() -> None:
    units, start = strip()
    # Q may only fill to 50 % (10 seats): moving u2 no longer fits, so P cannot be relieved.
    with pytest.raises(InsufficientCapacity):
        optimise(units, schools(), start=start, options=opts(max_utilisation_by_school={"Q": 0.5}))


def test_progress_and_cancel_are_called() -> None:
    units, start = strip()
    seen: list[float] = []
    optimise(units, schools(), start=start, options=opts(), progress=lambda p: seen.append(p.objective))
    assert seen and min(seen) == pytest.approx(10.05)


def test_tradeoff_curve_moves_fewer_as_stability_weighs_more() -> None:
    units, start = strip()
    prep = prepare(units, schools(), start=start, options=opts(weights=Weights(moved=1.0, units_moved=0.0, travel=0.0,
                                                                                  overflow=3.0)))
    curve = tradeoff(prep, n=3, low=0.1, high=10.0)
    # weight 10: moving u2 costs 100 > 5 pupils of overflow x 3 = 15, so nothing moves;
    # weight 0.1: moving u2 costs 1 < 15, so it moves.
    assert [c.moved_weight for c in curve] == pytest.approx([10.0, 1.0, 0.1])
    assert curve[0].pupils_moved == 0 and curve[0].overflow == pytest.approx(5.0)
    assert curve[-1].pupils_moved == pytest.approx(10.0) and curve[-1].overflow == 0


def test_dissolved_draft_is_a_clean_coverage() -> None:
    units, start = strip()
    p = optimise(units, schools(), start=start, options=opts())
    zones = dissolve_zones(units, p.assignment, schools={s.code: s for s in schools()})
    assert [z.school_codes for z in zones] == [("P",), ("Q",)]
    assert zones[0].geometry.equals(box(0, 0, 0.02, 0.01)) and zones[1].geometry.equals(box(0.02, 0, 0.04, 0.01))
    findings = validate_plan(zones, schools={s.code: s for s in schools()}, area=box(0, 0, 0.04, 0.01))
    assert [f.code for f in findings if f.severity.value == "error"] == []
    assert np.isclose(sum(z.geometry.area for z in zones), 0.04 * 0.01)


def test_nesting_keeps_each_zone_inside_one_upper_zone() -> None:
    # Middle-school zones: M1 = {u0, u1, u2}, M2 = {u3}. Moving u2 to Q (the optimum above) would
    # put Q across M1 and M2, so with nesting nothing can move: P stays 5 over (soft capacity).
    units, start = strip()
    nest = {"u0": "M1", "u1": "M1", "u2": "M1", "u3": "M2"}
    p = optimise(units, schools(), start=start, options=opts(nest_in=nest, capacity="soft"))
    assert p.assignment == start and p.report.overflow_after == pytest.approx(5.0)
    # With M2 = {u2, u3} the optimum is nested already and is found.
    nest["u2"] = "M2"
    p = optimise(units, schools(), start=start, options=opts(nest_in=nest))
    assert p.assignment == {"u0": "P", "u1": "P", "u2": "Q", "u3": "Q"}


def test_planned_school_may_open() -> None:
    # Q full (10 seats, u3 alone), P 5 over: only opening the planned school R (in u1, 20 seats)
    # helps. R = {u1} would cut P's zone in two ({u0}, {u2}); u2 alone cannot join R without u1.
    # So R = {u1, u2}: 15 pupils and 2 units moved, objective 15 + 2 x 0.05 = 15.1; P = 10, R = 15.
    units, start = strip()
    r = School("R", "R", 0.015, 0.005, capacity=20, status=SchoolStatus.PLANNED)
    p = optimise(units, [*schools(cap_q=10), r], start=start, options=opts())
    assert p.assignment == {"u0": "P", "u1": "R", "u2": "R", "u3": "Q"}
    assert p.report.objective == pytest.approx(15.1)
    # Not needed, it stays closed: with Q at 20 seats moving u2 to Q (10.05) is cheaper.
    p = optimise(units, [*schools(), r], start=start, options=opts())
    assert "R" not in p.assignment.values()


def test_relock_reuses_the_model_and_honours_the_lock() -> None:
    units, start = strip()
    prep = prepare(units, schools(), start=start, options=opts(capacity="soft"))
    first = solve_prepared(prep)
    assert first.assignment["u2"] == "Q"
    again = with_locks(prep, {"u2": "P"})
    assert again.model.a is prep.model.a  # same model, one bound changed
    p = solve_prepared(again, warm_start=first.assignment)
    assert p.assignment == start and p.report.overflow_after == pytest.approx(5.0)
    # dropping the lock gives the free optimum back
    assert solve_prepared(with_locks(again, {})).assignment["u2"] == "Q"


def test_repair_joins_cut_off_units_to_a_neighbours_school(monkeypatch: pytest.MonkeyPatch) -> None:
    from geo.planning.optimise import local
    from geo.planning.optimise.build import solution_vector
    from geo.planning.optimise.solve import feasible

    units, start = strip()
    prep = prepare(units, schools(), start=start, options=opts(capacity="soft"))
    m = prep.model
    # u1 at Q while u2 stays at P: u1 is cut off from Q's zone, and u2 from P's (u1 held it up)
    bad = solution_vector(m, np.array([0, 1, 0, 1], dtype=np.intp))
    assert not feasible(m, bad)
    fixed = local.repair(m, bad)
    # u1 joins P through u0, u2 joins Q through u3 (P is full, so Q is the cheaper of the two): the optimum
    assert feasible(m, fixed)
    assert np.array_equal(fixed, solution_vector(m, np.array([0, 0, 1, 1], dtype=np.intp)))
    # with no rounds of rerouting, cut-off units go back to the starting plan
    monkeypatch.setattr(local, "_REROUTE_ROUNDS", 0)
    home = local.repair(m, bad)
    assert feasible(m, home) and np.array_equal(home, solution_vector(m, m.start))
