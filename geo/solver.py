"""One way to make a HiGHS solver, for every model in geo/ (optimiser, district formation).

HiGHS keeps one task scheduler per process, sized by the first solve's ``threads``; a later solve
asking for another thread count fails at once (the model status reports an error, no solution).
So the scheduler is reset whenever the count changes, here, for every caller.
"""

from __future__ import annotations

import threading

import highspy

_lock = threading.Lock()
_threads: list[int] = []


def new_highs(*, threads: int, time_limit_s: float, gap: float, seed: int = 0) -> highspy.Highs:
    """A quiet HiGHS instance with these options, its process scheduler sized for ``threads``.

    Parameters
    ----------
    threads
        Solver threads (1 for small models).
    time_limit_s
        Wall-clock limit; the best solution found by then is kept.
    gap
        Relative MIP gap at which to stop.
    seed
        Random seed (fixed, so runs repeat).
    """
    with _lock:
        if _threads and _threads[-1] != threads:
            highspy.Highs.resetGlobalScheduler(True)
        _threads[:] = [threads]
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("threads", int(threads))
    h.setOptionValue("time_limit", max(float(time_limit_s), 0.1))
    h.setOptionValue("mip_rel_gap", float(gap))
    h.setOptionValue("random_seed", int(seed))
    return h
