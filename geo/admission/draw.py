"""The draw itself (随机派位 / 摇号): verifiable from a seed published before it, reproducible bit for bit.

Algorithm ``catchment-draw-1``, so anyone can re-run it with any SHA-256 tool:

1. Before the draw the notice publishes the seed (any text, e.g. the digits of a lottery result
   or a public beacon announced in advance), the algorithm name, the categories in priority
   order, and the SHA-256 of the applicant list and of the places table, serialised as UTF-8:

   * applicants sorted by id (Unicode code point order), one line each:
     ``id<TAB>category<TAB>school1,school2,...<TAB>1 or 0 (accepts any)<LF>``;
   * places sorted by school code, one line each: ``school<TAB>places<LF>``.

2. Each applicant's draw key is ``SHA-256("catchment-draw-1" LF seed LF id)`` as lower-case hex.
   The draw order sorts applicants by category priority, then by key (as text, which is the
   same as by number). ``draw_rank`` is the 1-based position in that order.

3. In that order each applicant takes the first school of their list with a place left; "any"
   (or ``accept_any`` after the list) continues with the zone's schools by places offered, most
   first, then by school code. No place left on the list: no school.

The same inputs and seed give the same rows on any machine and any version (no floating point,
no library random generator); another seed gives another order.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from geo.admission.model import Applicant, Category, SchoolPlaces, check_group, zone_of
from geo.errors import InvalidInput

ALGORITHM = "catchment-draw-1"
_FORBIDDEN = ("\t", "\n", "\r", ",")


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def applicants_digest(applicants: Sequence[Applicant]) -> str:
    """SHA-256 (hex) of the applicant list in the canonical form above."""
    lines = (f"{a.id}\t{a.category}\t{','.join(a.preferences)}\t{1 if a.accept_any else 0}\n"
             for a in sorted(applicants, key=lambda a: a.id))
    return _sha("".join(lines))


def places_digest(places: Sequence[SchoolPlaces]) -> str:
    """SHA-256 (hex) of the places table in the canonical form above."""
    return _sha("".join(f"{p.school}\t{p.places}\n" for p in sorted(places, key=lambda p: p.school)))


def draw_key(seed: str, applicant_id: str) -> str:
    """The applicant's key: ``SHA-256(ALGORITHM LF seed LF id)``, hex."""
    return _sha(f"{ALGORITHM}\n{seed}\n{applicant_id}")


@dataclass(frozen=True, slots=True)
class DrawNotice:
    """What is published before the draw."""

    algorithm: str
    seed: str
    categories: tuple[str, ...]
    applicants: int
    applicants_sha256: str
    places: int
    places_sha256: str
    text: Mapping[str, str]

    def as_dict(self) -> dict[str, Any]:
        return {"algorithm": self.algorithm, "seed": self.seed, "categories": list(self.categories),
                "applicants": self.applicants, "applicants_sha256": self.applicants_sha256, "places": self.places,
                "places_sha256": self.places_sha256, "text_en": self.text["en"], "text_zh": self.text["zh"]}


@dataclass(frozen=True, slots=True)
class DrawRow:
    """One applicant's result. ``school`` is ``""`` for no place; ``choice`` the rank of the school got
    in the applicant's full list (1 = first choice), None for no place."""

    applicant_id: str
    category: str
    school: str
    choice: int | None
    draw_rank: int
    category_rank: int

    def as_dict(self) -> dict[str, Any]:
        return {"applicant_id": self.applicant_id, "category": self.category, "school": self.school,
                "choice": self.choice, "draw_rank": self.draw_rank, "category_rank": self.category_rank}


@dataclass(frozen=True, slots=True)
class DrawResult:
    notice: DrawNotice
    rows: tuple[DrawRow, ...]
    text: Mapping[str, str]

    def csv_rows(self) -> list[dict[str, Any]]:
        """The rows in draw order, as dicts for ``csv.DictWriter``."""
        return [r.as_dict() for r in self.rows]


def _check(places: Sequence[SchoolPlaces], categories: Sequence[Category | str], applicants: Sequence[Applicant],
           seed: str) -> None:
    if not str(seed).strip():
        msg = "the draw needs a seed published before it"
        raise InvalidInput(msg, where="seed")
    zone = zone_of(places, categories)
    seen: set[str] = set()
    for i, a in enumerate(applicants, 1):
        if not a.id or any(ch in a.id for ch in _FORBIDDEN) or a.id in seen:
            why = "is listed twice" if a.id in seen else "must be non-empty, without tabs, line breaks or commas"
            msg = f"applicant id {a.id!r} {why}"
            raise InvalidInput(msg, where=f"applicants row {i}")
        seen.add(a.id)
        check_group(zone, i, category=a.category, count=1, preferences=a.preferences, what="applicants")


def draw_notice(places: Sequence[SchoolPlaces], categories: Sequence[Category | str], applicants: Sequence[Applicant],
                *, seed: str) -> DrawNotice:
    """The public notice of a draw: seed, algorithm, list hashes (publish before drawing).

    Raises
    ------
    InvalidInput
        A bad row (unknown school or category, duplicate id, negative places, places above seats).
    """
    _check(places, categories, applicants, seed)
    cats = tuple(c.key if isinstance(c, Category) else str(c) for c in categories)
    a_sha, p_sha = applicants_digest(applicants), places_digest(places)
    total = sum(p.places for p in places)
    en = (f"Draw by {ALGORITHM}: seed {seed!r}; {len(applicants)} applicants (SHA-256 {a_sha}); {total} places "
          f"(SHA-256 {p_sha}); categories in priority order: {', '.join(cats)}.")
    zh = (f"随机派位（算法 {ALGORITHM}）：种子 {seed!r}；报名 {len(applicants)} 人（SHA-256 {a_sha}）；学位 {total} 个"
          f"（SHA-256 {p_sha}）；优先类别依次为：{'、'.join(cats)}。")
    return DrawNotice(ALGORITHM, seed, cats, len(applicants), a_sha, total, p_sha, {"en": en, "zh": zh})


def run_draw(places: Sequence[SchoolPlaces], categories: Sequence[Category | str], applicants: Sequence[Applicant],
             *, seed: str, notice: DrawNotice | None = None) -> DrawResult:
    """Run the draw; with ``notice``, first check the inputs are the ones it published.

    Parameters
    ----------
    places, categories, applicants
        The zone's places, priority categories (first served first) and applicants.
    seed
        The published seed.
    notice
        The notice published before; a different list, table or seed raises InvalidInput.
    """
    made = draw_notice(places, categories, applicants, seed=seed)
    if notice is not None:
        for field in ("algorithm", "seed", "categories", "applicants_sha256", "places_sha256"):
            if getattr(notice, field) != getattr(made, field):
                msg = f"the inputs differ from the published notice ({field}); the draw must use what was published"
                raise InvalidInput(msg, where=field)
    zone = zone_of(places, categories)
    priority = {c: i for i, c in enumerate(made.categories)}
    order = sorted(applicants, key=lambda a: (priority[a.category], draw_key(seed, a.id)))
    left = dict(zip(zone.schools, zone.places, strict=True))
    rows, per_cat = [], dict.fromkeys(made.categories, 0)
    for rank, a in enumerate(order, 1):
        per_cat[a.category] += 1
        full = [zone.schools[i] for i in zone.full_list(a.preferences, a.accept_any)]
        got = next(((k, s) for k, s in enumerate(full, 1) if left[s] > 0), None)
        if got is not None:
            left[got[1]] -= 1
        rows.append(DrawRow(a.id, a.category, got[1] if got else "", got[0] if got else None, rank, per_cat[a.category]))
    placed = sum(1 for r in rows if r.school)
    text = {"en": f"{placed} of {len(rows)} applicants placed; {sum(left.values())} places left ({ALGORITHM}, seed {seed!r}).",
            "zh": f"{len(rows)} 名报名者中 {placed} 人获得学位；剩余学位 {sum(left.values())} 个（{ALGORITHM}，种子 {seed!r}）。"}
    return DrawResult(made, tuple(rows), text)
