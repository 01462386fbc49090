"""School assignment optimiser (pure domain): demand units to schools, as a MIP solved by HiGHS.

Input: demand units (children per level, polygons; adjacency from shared edges), schools
(capacity, point, status), the plan to start from (unit -> school), a cost per (unit, school)
pair (:class:`TravelCosts`: geodesic metres by default, a street-network matrix computed by the
caller, or a supplied table such as the Fairfax drive times) and :class:`OptimiseOptions`.
Output: a :class:`Proposal`, every unit assigned to one school, with an :class:`OptimiseReport`;
:func:`dissolve_zones` turns it into the zones of a draft plan; :func:`tradeoff` runs several
stability weights and returns the curve.

Model (``model.py``, ``build.py``): a binary ``x[u, s]`` for each unit and candidate school (its
starting school, the ``k_nearest`` cheapest, a lock, a school's own unit); each unit to exactly one
school; demand at each school within ``max_utilisation`` x capacity plus an overflow variable
(weighted heavily; under ``capacity="hard"`` any overflow left raises
:class:`~geo.errors.InsufficientCapacity` with the shortfall per school and the spare seats around
it); contiguity by ordered neighbours (a unit joins a school only through an earlier neighbour
in that school; the order puts today's zone first, so today's plan is a feasible warm start, and
today's detached pieces are not counted as new ones); closed schools get no variable; planned
schools get an "open" variable tied to their own unit; locks fix a column; ``max_travel`` drops
pairs; nesting ties every zone to one zone of the level above. Objective: pupils moved, units
moved, pupil-weighted travel, overflow, optionally compactness, each reported on its own.

Why HiGHS (measured on Fairfax elementary: 9,404 blocks, 138 schools, k=5: 47,445 columns,
56,393 rows of which 46,851 contiguity, warm start = today's plan with 44 schools over capacity
by block demand, 6,068 pupils of overflow; 2 shared cores):

- HiGHS 1.16 branch and cut on the whole model: presolve 33-42 s, then no plan better than the
  warm start within 90 s (gap 99.5 %).
- OR-Tools CP-SAT 9.15 (2 workers, today's plan as hint, coefficients scaled to integers):
  within 60 s overflow down to 3,244 pupils, gap 99.1 %.
- HiGHS LP relaxation (dual simplex): 5 s, bound 29,533, only ~430 of 9,404 units fractional.

The LP relaxation is fast and nearly integral, which CP-SAT cannot exploit as directly, so the
search (``solve.py``) is HiGHS throughout: relaxation (bound), local repair of the warm start
(``local.py``), LP diving from the relaxation's basis (``dive.py``), branch and cut on the
units the dive left fractional, ejection chains that route overflow through full neighbouring
zones to spare seats (``eject.py``; single-unit moves cannot, they only shift the overflow),
repair again, branch and cut on each cluster where the plan and the relaxation disagree
(``windows.py``), and the gap against the relaxation's bound. HiGHS
is already a dependency; ortools stays a benchmark peer (``bench/optimise_cpsat.py``). Small
models (up to 5,000 columns) go straight to branch and cut, which proves their optimum.
``bench/bench_optimise.py`` measures ours against both peers and spopt's capacitated PMedian
in the same run (figures in ``bench/README.md``; run of 3 Dec 08:41): elementary in 60.1 s
leaves no school over capacity (from 6,068 pupils at 44 schools), contiguous, gap 2.38 % against
the LP bound; after ten locks the re-solve takes 14.6 s, no school over, gap 3.55 %; high with
the drive-time matrix is proven within 0.46 % in 42.7 s, no school over, mean drive 496 s
against 512 s today.

Why the elementary gap stays above 1 %: the bound. Measured on that model: the LP bound is
29,533; without contiguity the LP is 29,437 and the best plan found 29,548, but that plan leaves
252 pieces cut off from their schools (7,483 pupils), so contiguity is not cheap: it costs chains
of moves (A's pupils to B, B's to C) that the relaxation prices at a fraction. HiGHS' own cuts at
the root (presolve off, our plan as its start) lift the bound to 29,641 in 25 s; our plans are at
30,136-30,267 (a 300 s run stalls at 30,267 after 60 s). Separator cuts do not help: valid
minimum vertex separators between a fractional column and its school's roots, found by max-flow
on the earlier-neighbour graph and added lazily, ten rounds and 1,521 cuts in about 7 s, lift
the LP by 20 (to 29,553; ``python -m bench.optimise_separators``, 3 Dec), because what is left are ribbons of equal fractions that
satisfy every separator. A 1 % gap needs a bound near 29,850: a formulation that prices the
chains (or hours of branching, as BoundarEase budgets), not more search in a minute.
"""

from geo.planning.optimise.dissolve import dissolve_zones
from geo.planning.optimise.highs import Progress
from geo.planning.optimise.inputs import (
    OptimiseOptions,
    TravelCosts,
    Weights,
    geodesic_costs,
    read_cost_matrix,
    start_from_zones,
    unit_adjacency,
)
from geo.planning.optimise.report import OptimiseReport
from geo.planning.optimise.run import Prepared, Proposal, TradeoffPoint, optimise, prepare, solve_prepared, tradeoff, with_locks

__all__ = ["OptimiseOptions", "OptimiseReport", "Prepared", "Progress", "Proposal", "TradeoffPoint", "TravelCosts", "Weights",
           "dissolve_zones", "geodesic_costs", "optimise", "prepare", "read_cost_matrix", "solve_prepared", "start_from_zones",
           "tradeoff", "unit_adjacency", "with_locks"]
