"""What the planners' workspace shows beyond the reports: the distribution of travel distances."""

from __future__ import annotations

from typing import Any

import numpy as np

from service.operations.travel import travel_run
from service.state import Snapshot
from service.storage.base import Repository


def travel_distribution(repo: Repository, snap: Snapshot, *, plan: int, mode: str = "straight",
                        demand: str | None = None, bins: int = 12) -> dict[str, Any]:
    """Pupils by distance (or time) to their school in ``bins`` equal steps up to the 99th percentile.

    The last bin also holds everything beyond it, so a few far places do not flatten the chart.
    """
    run = travel_run(repo, snap, level=None, plan=plan, district=None, year=None, mode=mode, demand=demand, units="demand")
    cost = np.asarray(run.costs["cost"], dtype=float)
    pupils = np.asarray(run.places.pupils, dtype=float)
    ok = np.isfinite(cost)
    top = float(np.percentile(cost[ok], 99)) if ok.any() else 0.0
    step = _nice_step(top / bins) if top > 0 else 1.0
    edges = np.arange(bins + 1) * step
    counts, _ = np.histogram(np.minimum(cost[ok], edges[-1] - step / 2), bins=edges, weights=pupils[ok])
    return {"plan": plan, "mode": mode, "unit": run.unit, "demand": run.ctx.demand_name,
            "edges": [round(float(e), 1) for e in edges], "pupils": [round(float(c), 1) for c in counts],
            "unreachable_pupils": round(float(pupils[~ok].sum()), 1), "open_ended_last_bin": True}


def _nice_step(raw: float) -> float:
    """The next 1, 2 or 5 times a power of ten at or above ``raw`` (readable axis labels)."""
    power = 10 ** np.floor(np.log10(raw))
    for m in (1, 2, 5, 10):
        if m * power >= raw:
            return float(m * power)
    return float(10 * power)
