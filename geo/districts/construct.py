"""A first district partition without the MIP: leads, an assignment, then local search.

The MIP of :mod:`geo.districts.formation` proves optimality on a county of a few dozen schools,
but on hundreds (every primary school of Greater Sydney) its root relaxation alone can outlast
the time limit, and it then had no partition at all to give. This builds one in about a second,
and the solver starts from it (a MIP start), so a formation always answers with a plan that
meets every rule whenever this finds one:

1. **Leads.** Greedy cover: the lead candidate reaching the most schools not yet reachable
   (strongest first on ties), until every school can reach a lead and there are at least as
   many leads as the size cap needs; further leads, if a fixed count asks for them, farthest
   from those chosen.
2. **Assignment.** Each lead gets ``max_schools`` seats, the first ``min_schools - 1`` of them
   to be filled before any other; every school takes the nearest seat it may (a rectangular
   assignment problem, :func:`scipy.optimize.linear_sum_assignment`), so districts are compact
   and within the travel cap. A school no seat within reach can take adds a lead near it.
3. **Local search.** Moves of one school and swaps of two between districts, each taken when it
   lowers the MIP's own objective (balance over the mean absolute deviation plus the weighted
   travel), with a large penalty for every district missing a strong, urban, rural or
   level's school, until no move helps or the time is up.

The result is a plan only when no rule is broken; otherwise the MIP is left to find one.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import linear_sum_assignment

from geo.districts.checks import Prepared, required_groups
from geo.districts.model import DistrictOptions
from geo.errors import Cancelled

_FORBIDDEN = 1e9
_REQUIRED = 1e5
_PENALTY = 1e3


def _groups(p: Prepared, o: DistrictOptions) -> NDArray[np.bool_]:
    """Rows: the groups every district needs a member of, as one boolean matrix."""
    gs = required_groups(p, o)
    return np.array(gs, dtype=bool).reshape(len(gs), len(p.codes))


def _pick_leads(p: Prepared, want: int, fixed: int | None) -> list[int] | None:
    n = len(p.codes)
    cand = np.flatnonzero(p.lead_ok)
    covered = np.zeros(n, dtype=bool)
    leads: list[int] = []
    # Strongest first on ties: order candidates by quality once, argmax takes the first maximum.
    cand = cand[np.argsort(-p.quality[cand], kind="stable")]
    free = np.ones(cand.size, dtype=bool)
    while not covered.all() or len(leads) < want:
        if not free.any():
            break
        if not covered.all():
            gain = (p.reach[:, cand] & ~covered[:, None]).sum(axis=0)
            gain[~free] = -1
            j = int(np.argmax(gain))
        else:
            far = np.min(p.travel[np.ix_(cand, np.asarray(leads, dtype=np.int64))], axis=1)
            far[~free] = -np.inf
            j = int(np.argmax(far))
        best = int(cand[j])
        free[j] = False
        leads.append(best)
        covered |= p.reach[:, best]
    if not covered.all() or (fixed is not None and len(leads) > fixed):
        return None
    return leads


def _assign(p: Prepared, o: DistrictOptions, leads: list[int], scale: float) -> NDArray[np.int64] | None:
    """School index -> its lead's index, or None when some school has no seat within reach."""
    n, cap = len(p.codes), p.max_schools
    k = len(leads)
    if k * cap < n:
        return None
    # Seat j * cap + i is the i-th of lead j's district: its first seat is the lead's own.
    col = np.where(p.reach[:, leads], p.travel[:, leads] / scale, _FORBIDDEN)
    cost = np.repeat(col, cap, axis=1)
    for j in range(k):
        cost[:, j * cap + 1: j * cap + o.min_schools] -= _REQUIRED
    cost[leads, :] = _FORBIDDEN  # a lead sits in its own first seat only ...
    cost[:, ::cap] = _FORBIDDEN  # ... and no other school does
    cost[leads, np.arange(k) * cap] = -_REQUIRED * 10
    rows, cols = linear_sum_assignment(cost)
    if (cost[rows, cols] >= _FORBIDDEN / 2).any():
        return None
    out = np.empty(n, dtype=np.int64)
    out[rows] = np.asarray(leads)[cols // cap]
    sizes = np.bincount(out, minlength=n)[leads]
    if (sizes < o.min_schools).any():
        return None
    return out


class _Search:
    """Moves and swaps between districts over the MIP's objective plus rule penalties."""

    def __init__(self, p: Prepared, o: DistrictOptions, a: NDArray[np.int64], leads: list[int], scale: float) -> None:
        self.p, self.o = p, o
        n = len(p.codes)
        self.leads = np.asarray(leads)
        self.pos = np.full(n, -1)
        self.pos[self.leads] = np.arange(len(leads))
        self.at = self.pos[a]  # school -> district position
        self.dev = p.quality - p.quality.mean()
        self.mad = float(np.abs(self.dev).mean()) or 1.0
        # travel cost per (school, district), forbidden where the school may not join.
        t = p.travel[:, self.leads] * (o.travel_weight / scale)
        self.tc = np.where(p.reach[:, self.leads], t, np.inf)
        self.groups = _groups(p, o)
        k = len(leads)
        self.size = np.bincount(self.at, minlength=k)
        self.total = np.bincount(self.at, weights=self.dev, minlength=k)
        self.count = np.array([np.bincount(self.at, weights=g.astype(float), minlength=k) for g in self.groups]).reshape(-1, k)
        self.is_lead = np.zeros(n, dtype=bool)
        self.is_lead[self.leads] = True

    def violations(self) -> int:
        return int((self.count < 0.5).sum())

    def _pen(self, counts: NDArray[np.float64]) -> NDArray[np.float64]:
        return (counts < 0.5).sum(axis=0) * _PENALTY

    def try_move(self, s: int) -> bool:
        d1 = self.at[s]
        if self.is_lead[s] or self.size[d1] <= self.o.min_schools:
            return False
        v = self.dev[s]
        g = self.groups[:, s].astype(float)[:, None]
        bal = (np.abs(self.total + v) - np.abs(self.total)) / self.mad  # into each district
        bal += (abs(self.total[d1] - v) - abs(self.total[d1])) / self.mad
        pen_in = self._pen(self.count + g) - self._pen(self.count)
        out_cnt = self.count[:, d1:d1 + 1] - g
        pen_out = float(self._pen(out_cnt)[0] - self._pen(self.count[:, d1:d1 + 1])[0])
        delta = bal + pen_in + pen_out + self.tc[s] - self.tc[s, d1]
        delta[(self.size >= self.p.max_schools) | ~np.isfinite(self.tc[s])] = np.inf
        delta[d1] = np.inf
        d2 = int(np.argmin(delta))
        if not delta[d2] < -1e-9:
            return False
        self._apply(s, d1, d2)
        return True

    def try_swap(self, s: int) -> bool:
        if self.is_lead[s]:
            return False
        d1 = self.at[s]
        others = np.flatnonzero(~self.is_lead & (self.at != d1))
        if not others.size:
            return False
        d2 = self.at[others]
        vs, vo = self.dev[s], self.dev[others]
        t1, t2 = self.total[d1], self.total[d2]
        bal = (np.abs(t1 - vs + vo) - abs(t1) + np.abs(t2 - vo + vs) - np.abs(t2)) / self.mad
        trav = self.tc[s, d2] + self.tc[others, d1] - self.tc[s, d1] - self.tc[others, d2]
        gs = self.groups[:, s].astype(float)[:, None]
        go = self.groups[:, others].astype(float)
        c1 = self.count[:, d1:d1 + 1]
        c2 = self.count[:, d2]
        pen = (self._pen(c1 - gs + go) - self._pen(c1)) + (self._pen(c2 - go + gs) - self._pen(c2))
        delta = bal + trav + pen
        delta[~np.isfinite(delta)] = np.inf
        j = int(np.argmin(delta))
        if not delta[j] < -1e-9:
            return False
        o_ = int(others[j])
        dd2 = int(d2[j])
        self._apply(s, d1, dd2)
        self._apply(o_, dd2, d1)
        return True

    def _apply(self, s: int, d1: int, d2: int) -> None:
        self.at[s] = d2
        self.size[d1] -= 1
        self.size[d2] += 1
        self.total[d1] -= self.dev[s]
        self.total[d2] += self.dev[s]
        g = self.groups[:, s].astype(float)
        self.count[:, d1] -= g
        self.count[:, d2] += g

    def run(self, deadline: float, rng: np.random.Generator, cancel: Callable[[], bool] | None) -> None:
        n = len(self.p.codes)
        while time.perf_counter() < deadline:
            improved = False
            for i, s in enumerate(rng.permutation(n)):
                if time.perf_counter() >= deadline:
                    return
                if cancel is not None and i % 32 == 0 and cancel():
                    msg = "district formation cancelled"
                    raise Cancelled(msg)
                if self.try_move(int(s)) or self.try_swap(int(s)):
                    improved = True
            if not improved:
                return


def construct(p: Prepared, o: DistrictOptions, *, seconds: float,
              cancel: Callable[[], bool] | None = None) -> NDArray[np.int64] | None:
    """School index -> the index of its district's lead, meeting every rule; None if not found.

    Parameters
    ----------
    p
        The checked input (:func:`geo.districts.checks.prepare`).
    o
        The options (size, travel, groups, travel weight).
    seconds
        Time for the local search (leads and the assignment take what they take: well under a
        second for 700 schools).
    cancel
        Polled during the search; True stops it with :class:`geo.errors.Cancelled`.
    """
    start = time.perf_counter()
    finite = p.travel[np.isfinite(p.travel) & (p.travel > 0)]
    scale = o.max_travel or (float(np.median(finite)) if finite.size else 1.0)
    want = p.min_districts if o.districts is None else o.districts
    leads = _pick_leads(p, want, o.districts)
    a = None
    for _ in range(25):  # a school without a seat in reach adds a lead; a few tries, then leave it to the MIP
        if leads is None:
            return None
        a = _assign(p, o, leads, scale)
        if a is not None or (o.districts is not None and len(leads) >= o.districts):
            break
        leads = _pick_leads(p, len(leads) + 1, o.districts)
    if a is None or leads is None:
        return None
    search = _Search(p, o, a, leads, scale)
    search.run(start + max(seconds, 0.0), np.random.default_rng(0), cancel)
    if search.violations():
        return None
    return search.leads[search.at]
