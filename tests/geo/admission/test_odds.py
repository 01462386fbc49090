"""Lottery odds in a shared zone: exact by hand, Monte Carlo against it within its error.

Schools, units and counts are made-up examples for arithmetic, not real admissions data.
"""

from __future__ import annotations

import pytest

from geo.admission.exact import exact_ranked_odds
from geo.admission.model import ApplicantGroup, Category, SchoolPlaces
from geo.admission.odds import exact_odds, simulate_odds
from geo.errors import InvalidInput

CATS = [Category("hukou", "zoned with household registration and home", "户籍和住房均在片区"),
        Category("resident", "home in the zone", "住房在片区"), Category("other", "other applicants", "其他")]

# School A, 10 places: hukou 4 -> all in (p = 1), 6 left; resident 10 -> 6 / 10 = 0.6, none left;
# other 5 -> 0. School B, 5 places: hukou 8 -> 5 / 8 = 0.625.
PLACES = [SchoolPlaces("A", 10, seats=12), SchoolPlaces("B", 5)]
GROUPS = [ApplicantGroup("u1", "hukou", 3, ("A",)), ApplicantGroup("u2", "hukou", 1, ("A",)),
          ApplicantGroup("u1", "resident", 10, ("A",)), ApplicantGroup("u3", "other", 5, ("A",)),
          ApplicantGroup("u3", "hukou", 8, ("B",))]
WANT = {("hukou", "A"): 1.0, ("resident", "A"): 0.6, ("other", "A"): 0.0, ("hukou", "B"): 0.625}


def test_exact_by_hand() -> None:
    rep = exact_odds(PLACES, CATS, GROUPS)
    got = {(r.category, r.school): r.probability for r in rep.categories}
    assert got == WANT
    assert {(r.category, r.school): r.applicants for r in rep.categories}[("hukou", "A")] == 4
    assert rep.groups[2].probability == {"A": 0.6, "": pytest.approx(0.4)}
    assert rep.method == "exact" and "60.0%" in rep.text["en"] and "60.0%" in rep.text["zh"]


def test_monte_carlo_matches_exact_case() -> None:
    rep = simulate_odds(PLACES, CATS, GROUPS, runs=400, seed=7)
    for r in rep.categories:
        assert abs(r.probability - WANT[(r.category, r.school)]) <= 4 * (r.stderr or 0.0) + 1e-12


# Ranked lists, one category: A and B have one place each; two applicants rank A then B (group g1),
# one ranks B then A (g2). Where g2 falls in the random order of three (each position 1/3):
#   first or second: g2 takes B, the first g1 takes A, the other g1 gets nothing;
#   third: the g1s take A and then B, g2 gets nothing.
# So g2: B 2/3, none 1/3. Each g1: A 1/2, B (1/3)(1/2) = 1/6, none 1/3.
RANKED_PLACES = [SchoolPlaces("A", 1), SchoolPlaces("B", 1)]
RANKED = [ApplicantGroup("g1", "c", 2, ("A", "B")), ApplicantGroup("g2", "c", 1, ("B", "A"))]


def test_monte_carlo_ranked_by_hand() -> None:
    rep = simulate_odds(RANKED_PLACES, ["c"], RANKED, runs=4000, seed=11)
    g1, g2 = rep.groups
    for group, want in ((g1, {"A": 1 / 2, "B": 1 / 6, "": 1 / 3}), (g2, {"B": 2 / 3, "": 1 / 3})):
        assert set(group.probability) == set(want)
        for school, p in want.items():
            se = group.stderr[school]
            assert abs(group.probability[school] - p) <= 4 * se
    assert g2.stderr["B"] > 0.0 and g1.stderr["A"] == 0.0  # exactly one g1 gets A in every run
    cats = {(r.category, r.school): r for r in rep.categories}
    assert abs(cats[("c", "B")].probability - 2 / 3) <= 4 * (cats[("c", "B")].stderr or 0.0)


def test_any_order_is_places_then_code() -> None:
    # "any" lists A (3 places) before B (1 place): of 5, three get A, one B, one nothing, in every run.
    rep = simulate_odds([SchoolPlaces("B", 1), SchoolPlaces("A", 3)], ["c"], [ApplicantGroup("u", "c", 5, (), True)],
                        runs=50, seed=1)
    assert rep.groups[0].probability == pytest.approx({"A": 0.6, "B": 0.2, "": 0.2})
    assert rep.categories == ()  # no first choice of their own


def test_seeded_and_reproducible() -> None:
    a = simulate_odds(RANKED_PLACES, ["c"], RANKED, runs=200, seed=3)
    b = simulate_odds(RANKED_PLACES, ["c"], RANKED, runs=200, seed=3)
    c = simulate_odds(RANKED_PLACES, ["c"], RANKED, runs=200, seed=4)
    assert a.groups == b.groups
    assert a.groups[1].probability != c.groups[1].probability


@pytest.mark.parametrize(("places", "groups", "where", "match"), [
    ([SchoolPlaces("A", 13, seats=12)], [], "places row 1 (A)", "13 places offered but only 12 seats"),
    ([SchoolPlaces("A", -1)], [], "places row 1 (A)", "not negative"),
    ([SchoolPlaces("A", 1), SchoolPlaces("A", 2)], [], "places row 2 (A)", "listed twice"),
    ([SchoolPlaces("A", 1)], [ApplicantGroup("u", "hukou", 1, ("A",)), ApplicantGroup("u", "hukou", -2, ("A",))],
     "applicants row 2", "not negative"),
    ([SchoolPlaces("A", 1)], [ApplicantGroup("u", "hukou", 1, ("Z",))], "applicants row 1", "school Z does not offer"),
    ([SchoolPlaces("A", 1)], [ApplicantGroup("u", "nobody", 1, ("A",))], "applicants row 1", "unknown category"),
])
def test_bad_rows_named(places: list[SchoolPlaces], groups: list[ApplicantGroup], where: str, match: str) -> None:
    with pytest.raises(InvalidInput, match=match) as err:
        exact_odds(places, CATS, groups)
    assert err.value.where == where


def test_exact_refuses_ranked_lists() -> None:
    with pytest.raises(InvalidInput, match="simulate_odds") as err:
        exact_odds(RANKED_PLACES, ["c"], RANKED)
    assert err.value.where == "applicants row 1"


def test_exact_ranked_by_hand_and_formula() -> None:
    rep = exact_ranked_odds(RANKED_PLACES, ["c"], RANKED)
    g1, g2 = rep.groups
    assert g1.probability == pytest.approx({"A": 1 / 2, "B": 1 / 6, "": 1 / 3}, rel=1e-12)
    assert g2.probability == pytest.approx({"B": 2 / 3, "": 1 / 3}, rel=1e-12)
    # On single-school applications it agrees with the closed form.
    got = {(r.category, r.school): r.probability for r in exact_ranked_odds(PLACES, CATS, GROUPS).categories}
    assert got == pytest.approx(WANT, rel=1e-12)


def test_monte_carlo_within_error_of_exact_ranked() -> None:
    # Three schools, two categories, ranked lists, "any" and accept_any mixed: the chain is exact.
    places = [SchoolPlaces("A", 3), SchoolPlaces("B", 2), SchoolPlaces("C", 2)]
    groups = [ApplicantGroup("u1", "hukou", 3, ("A", "B")), ApplicantGroup("u2", "hukou", 2, ("B",), True),
              ApplicantGroup("u1", "resident", 3, ("A", "C")), ApplicantGroup("u3", "resident", 2, (), True),
              ApplicantGroup("u2", "resident", 2, ("C", "A", "B"))]
    exact = exact_ranked_odds(places, CATS[:2], groups)
    mc = simulate_odds(places, CATS[:2], groups, runs=3000, seed=5)
    checked = 0
    for e, m in zip(exact.groups, mc.groups, strict=True):
        assert abs(sum(e.probability.values()) - 1.0) < 1e-12
        for school, p in e.probability.items():
            se = m.stderr.get(school, 0.0)
            assert abs(m.probability.get(school, 0.0) - p) <= 4 * se + 1e-12
            checked += se > 0
    assert checked >= 4  # several outcomes are truly random, not fixed in every run


def test_exact_ranked_refuses_large_zones() -> None:
    two = [ApplicantGroup("u", "c", 60, ("A", "B")), ApplicantGroup("v", "c", 60, ("B", "A"))]
    with pytest.raises(InvalidInput, match="use simulate_odds") as err:
        exact_ranked_odds([SchoolPlaces("A", 50), SchoolPlaces("B", 50)], ["c"], two, max_states=1000)
    assert err.value.where == "max_states"
    with pytest.raises(InvalidInput, match="more than 300 applicants") as err:
        exact_ranked_odds([SchoolPlaces("A", 100)], ["c"], [ApplicantGroup("u", "c", 500, ("A",))])
    assert err.value.where == "applicants"
