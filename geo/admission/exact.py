"""Exact odds for ranked lists on small zones, by dynamic programming over the draw.

Inside a category the uniform random order of applicants makes the next applicant come from
group ``g`` with probability ``remaining_g / remaining`` whatever came before, so the draw is a
Markov chain on (category, applicants left per group, places left per school). The expected
number of each group's applicants placed at each school is computed by recursion over that chain
with memoisation; it is exact (up to float rounding) and independent of any random generator, so
it checks :func:`geo.admission.odds.simulate_odds` on instances small enough to enumerate.
The number of states can grow as the product of (group size + 1) and of (places + 1):
``max_states`` stops the recursion on an instance too large for it. The recursion is as deep as
the zone has applicants, so it takes at most ``MAX_APPLICANTS``.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache

import numpy as np
from numpy.typing import NDArray

from geo.admission.model import ApplicantGroup, Category, SchoolPlaces
from geo.admission.odds import NONE, CategoryOdds, GroupOdds, OddsReport, odds_text, validate_groups
from geo.errors import InvalidInput

DEFAULT_MAX_STATES = 200_000
#: The recursion goes one level per applicant; Python's default stack allows about 1000 frames
#: and each level takes two (the cache wrapper and the function).
MAX_APPLICANTS = 300


def exact_ranked_odds(places: Sequence[SchoolPlaces], categories: Sequence[Category | str],
                      groups: Sequence[ApplicantGroup], *, max_states: int = DEFAULT_MAX_STATES) -> OddsReport:
    """Exact odds of the allocation rule for any lists (ranked, "any", ``accept_any``), small zones only.

    Parameters
    ----------
    places, categories, groups
        As for :func:`geo.admission.odds.simulate_odds`.
    max_states
        Refuse (InvalidInput) when the chain has more states than this; use the Monte Carlo.
    """
    zone = validate_groups(places, categories, groups)
    lists = [zone.full_list(g.preferences, g.accept_any) for g in groups]
    cat_index = {c.key: i for i, c in enumerate(zone.categories)}
    members = [[i for i, g in enumerate(groups) if cat_index[g.category] == k and g.count > 0]
               for k in range(len(zone.categories))]
    n_s, n_g = len(zone.schools), len(groups)
    if sum(g.count for g in groups) > MAX_APPLICANTS:
        msg = f"more than {MAX_APPLICANTS} applicants: use simulate_odds for this zone"
        raise InvalidInput(msg, where="applicants")
    seen = [0]

    @cache
    def expect(k: int, rem: tuple[int, ...], left: tuple[int, ...]) -> NDArray[np.float64]:
        seen[0] += 1
        if seen[0] > max_states:
            msg = f"more than max_states {max_states} states: use simulate_odds for this zone"
            raise InvalidInput(msg, where="max_states")
        if k == len(members):
            return np.zeros((n_g, n_s + 1))
        total = sum(rem)
        if total == 0:
            nxt = k + 1
            start = tuple(groups[i].count for i in members[nxt]) if nxt < len(members) else ()
            return expect(nxt, start, left)
        out = np.zeros((n_g, n_s + 1))
        for j, g in enumerate(members[k]):
            if rem[j] == 0:
                continue
            pick = next((s for s in lists[g] if left[s] > 0), n_s)
            new_left = left if pick == n_s else left[:pick] + (left[pick] - 1,) + left[pick + 1:]
            step = expect(k, rem[:j] + (rem[j] - 1,) + rem[j + 1:], new_left).copy()
            step[g, pick] += 1.0
            out += (rem[j] / total) * step
        return out

    first_rem = tuple(groups[i].count for i in members[0]) if members else ()
    placed = expect(0, first_rem, tuple(zone.places))
    counts = np.array([g.count for g in groups], dtype=float)
    share = placed / np.maximum(counts, 1.0)[:, None]
    names = (*zone.schools, NONE)
    group_rows = tuple(
        GroupOdds(g.unit, g.category, g.preferences, g.accept_any, g.count,
                  {names[j]: float(share[i, j]) for j in range(n_s + 1) if share[i, j] > 0}, {})
        for i, g in enumerate(groups))
    cat_rows = []
    keys = sorted({(cat_index[g.category], zone.index(g.preferences[0])) for g in groups if g.preferences and g.count})
    for k, s in keys:
        idx = [i for i, g in enumerate(groups) if cat_index[g.category] == k and g.preferences
               and zone.index(g.preferences[0]) == s]
        n = float(counts[idx].sum())
        cat_rows.append(CategoryOdds(zone.categories[k].key, zone.schools[s], int(n), float(placed[idx, s].sum() / n),
                                     None, "exact"))
    return OddsReport("exact", None, None, tuple(cat_rows), group_rows, odds_text(cat_rows, "exact"))
