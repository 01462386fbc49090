"""School assignment optimiser (pure domain)."""
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
from geo.planning.optimise.run import Prepared, Proposal, TradeoffPoint, optimise, prepare, solve_prepared, tradeoff

__all__ = ["OptimiseOptions", "OptimiseReport", "Prepared", "Progress", "Proposal", "TradeoffPoint", "TravelCosts", "Weights",
           "dissolve_zones", "geodesic_costs", "optimise", "prepare", "read_cost_matrix", "solve_prepared", "start_from_zones",
           "tradeoff", "unit_adjacency"]
