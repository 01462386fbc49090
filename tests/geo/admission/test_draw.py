"""The verifiable draw: re-run here from its published description with hashlib alone.

Applicant ids and schools are made up.
"""

from __future__ import annotations

import hashlib

import pytest

from geo.admission.draw import ALGORITHM, applicants_digest, draw_key, draw_notice, places_digest, run_draw
from geo.admission.model import Applicant, SchoolPlaces
from geo.errors import InvalidInput

SEED = "2026-06-20 福利彩票 3D 第2026160期 4 7 1"
PLACES = [SchoolPlaces("east", 2), SchoolPlaces("west", 3, seats=3)]
CATS = ["hukou", "resident"]
APPLICANTS = [Applicant(f"p{i:02d}", "hukou" if i < 4 else "resident", ("east", "west") if i % 2 else ("east",),
                        accept_any=i % 3 == 0)
              for i in range(1, 11)]


def _rerun(seed: str) -> list[tuple[str, str]]:
    """The algorithm as the notice describes it, written again from the module docstring."""
    def key(a: Applicant) -> tuple[int, str]:
        return CATS.index(a.category), hashlib.sha256(f"catchment-draw-1\n{seed}\n{a.id}".encode()).hexdigest()
    left = {"west": 3, "east": 2}
    any_order = ["west", "east"]  # most places first
    out = []
    for a in sorted(APPLICANTS, key=key):
        full = list(a.preferences) + ([s for s in any_order if s not in a.preferences] if a.accept_any else [])
        got = next((s for s in full if left[s] > 0), "")
        if got:
            left[got] -= 1
        out.append((a.id, got))
    return out


def test_notice_hashes_are_the_published_form() -> None:
    n = draw_notice(PLACES, CATS, APPLICANTS, seed=SEED)
    lines = "".join(f"{a.id}\t{a.category}\t{','.join(a.preferences)}\t{int(a.accept_any)}\n"
                    for a in sorted(APPLICANTS, key=lambda a: a.id))
    assert n.applicants_sha256 == hashlib.sha256(lines.encode()).hexdigest() == applicants_digest(APPLICANTS)
    assert n.places_sha256 == hashlib.sha256(b"east\t2\nwest\t3\n").hexdigest() == places_digest(PLACES)
    assert n.algorithm == ALGORITHM == "catchment-draw-1" and n.seed == SEED and n.places == 5 and n.applicants == 10
    assert n.applicants_sha256 in n.text["en"] and n.applicants_sha256 in n.text["zh"]
    assert n.as_dict()["categories"] == CATS
    # The published list order does not matter; its content does.
    assert applicants_digest(APPLICANTS[::-1]) == n.applicants_sha256


def test_draw_reproduced_bit_for_bit() -> None:
    notice = draw_notice(PLACES, CATS, APPLICANTS, seed=SEED)
    first = run_draw(PLACES, CATS, APPLICANTS, seed=SEED, notice=notice)
    again = run_draw(PLACES, CATS, list(reversed(APPLICANTS)), seed=SEED, notice=notice)
    assert first.csv_rows() == again.csv_rows()
    assert [(r.applicant_id, r.school) for r in first.rows] == _rerun(SEED)
    assert [r.draw_rank for r in first.rows] == list(range(1, 11))
    # Hukou applicants (p01-p03) come first whatever their keys.
    assert {r.applicant_id for r in first.rows[:3]} == {"p01", "p02", "p03"}
    assert [r.category_rank for r in first.rows[3:6]] == [1, 2, 3]
    placed = [r for r in first.rows if r.school]
    assert len(placed) == 5  # five places, ten applicants
    assert all(r.choice is not None for r in placed)
    assert first.rows[0].as_dict().keys() == {"applicant_id", "category", "school", "choice", "draw_rank", "category_rank"}
    assert draw_key(SEED, "p01") == hashlib.sha256(f"catchment-draw-1\n{SEED}\np01".encode()).hexdigest()


def test_other_seed_other_draw() -> None:
    a = run_draw(PLACES, CATS, APPLICANTS, seed=SEED)
    b = run_draw(PLACES, CATS, APPLICANTS, seed=SEED + " ")
    assert [r.applicant_id for r in a.rows] != [r.applicant_id for r in b.rows]
    assert [(r.applicant_id, r.school) for r in b.rows] == _rerun(SEED + " ")


def test_inputs_must_match_the_notice() -> None:
    notice = draw_notice(PLACES, CATS, APPLICANTS, seed=SEED)
    changed = [*APPLICANTS[:-1], Applicant("p10", "hukou", ("east",))]  # p10 moved up a category
    with pytest.raises(InvalidInput, match="differ from the published notice") as err:
        run_draw(PLACES, CATS, changed, seed=SEED, notice=notice)
    assert err.value.where == "applicants_sha256"
    with pytest.raises(InvalidInput) as err:
        run_draw(PLACES, CATS, APPLICANTS, seed="another", notice=notice)
    assert err.value.where == "seed"


@pytest.mark.parametrize(("applicants", "where", "match"), [
    ([Applicant("a", "hukou"), Applicant("a", "hukou")], "applicants row 2", "listed twice"),
    ([Applicant("a\tb", "hukou")], "applicants row 1", "without tabs"),
    ([Applicant("a", "hukou", ("north",))], "applicants row 1", "north does not offer"),
    ([Applicant("a", "hukou", ("east", "east"))], "applicants row 1", "ranked twice"),
])
def test_bad_rows(applicants: list[Applicant], where: str, match: str) -> None:
    with pytest.raises(InvalidInput, match=match) as err:
        draw_notice(PLACES, CATS, applicants, seed=SEED)
    assert err.value.where == where
    with pytest.raises(InvalidInput, match="seed"):
        draw_notice(PLACES, CATS, [], seed="  ")
