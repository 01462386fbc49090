"""One way to make a HiGHS solver, for every model in geo/ (optimiser, district formation).

HiGHS keeps one task scheduler per process, sized by the first solve's ``threads``; a later solve
asking for another thread count fails at once (the model status reports an error, no solution).
So the scheduler is reset whenever the count changes, here, for every caller.
"""

from __future__ import annotations

import os
import sys
import threading

import highspy

_lock = threading.Lock()
_threads: list[int] = []


def _first_highs_quietly() -> None:
    """Make the process's first HiGHS instance with standard output sent to standard error.

    HiGHS writes its banner ("Running HiGHS ...") to file descriptor 1 when the first instance is
    made, before any option can turn it off; on a command's standard output it would corrupt
    ``--json``. Later instances print nothing.
    """
    try:
        sys.stdout.flush()
        saved = os.dup(1)
    except (OSError, ValueError):
        highspy.Highs()
        return
    try:
        os.dup2(2, 1)
        highspy.Highs()
    finally:
        os.dup2(saved, 1)
        os.close(saved)


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
        if not _threads:
            _first_highs_quietly()
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


#: Model statuses that mean the solver itself failed (not the model's answer).
_FAILED = frozenset({highspy.HighsModelStatus.kSolveError, highspy.HighsModelStatus.kNotset,
                     highspy.HighsModelStatus.kLoadError, highspy.HighsModelStatus.kPresolveError,
                     highspy.HighsModelStatus.kPostsolveError})


def run_highs(h: highspy.Highs) -> highspy.HighsModelStatus:
    """``h.run()``, once more on a fresh process scheduler if HiGHS failed to solve at all.

    A solve made in another thread with another thread count (a job, a CLI run, a test before)
    can leave the process scheduler unusable for this one: the run then ends at once with an
    error status and no solution, which a caller would read as "nothing found in time".
    """
    h.run()
    status = h.getModelStatus()
    if status in _FAILED:
        with _lock:
            highspy.Highs.resetGlobalScheduler(True)
            _threads[:] = [int(h.getOptionValue("threads")[1])]
        h.run()
        status = h.getModelStatus()
    return status
