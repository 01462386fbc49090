"""What an OpenStreetMap school's tags say about the pupils it takes.

OSM tags schools in several ways; in order of trust: ``isced:level`` (UNESCO ISCED 2011:
0 pre-primary, 1 primary, 2 lower secondary, 3 upper secondary, 4+ post-secondary and
tertiary), ``school:level`` and ``school`` (words such as ``primary``, ``middle``,
``secondary``), ``grades`` (US-style ranges such as ``6-8``), and last the name ("... Middle
School"). :func:`select_schools` keeps the schools compatible with the levels asked for and
says why it skipped each other one: universities, colleges, kindergartens and professional
schools do not take a zone's pupils.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

from geo.io.values import parse_grades
from geo.models import GRADE_ORDER, School

#: ISCED stages of our usual level names. A level not listed here is not checked against tags.
LEVEL_STAGES: Mapping[str, frozenset[int]] = {
    **dict.fromkeys(("primary", "elementary", "infants", "junior", "lower-primary"), frozenset({1})),
    **dict.fromkeys(("middle", "intermediate", "junior-high", "lower-secondary"), frozenset({2})),
    **dict.fromkeys(("high", "senior", "senior-high", "upper-secondary"), frozenset({3})),
    "secondary": frozenset({2, 3}),
    **dict.fromkeys(("kindergarten", "preschool", "pre-primary"), frozenset({0})),
}

#: Words of ``school=*`` and ``school:level=*`` values.
_WORD_STAGES: Mapping[str, frozenset[int]] = {
    **dict.fromkeys(("primary", "elementary", "infant", "infants", "junior", "first"), frozenset({1})),
    **dict.fromkeys(("middle", "intermediate", "lower_secondary", "junior_high"), frozenset({2})),
    **dict.fromkeys(("high", "senior", "upper_secondary", "senior_high", "sixth_form"), frozenset({3})),
    "secondary": frozenset({2, 3}),
    "all_through": frozenset({1, 2, 3}),
    **dict.fromkeys(("kindergarten", "nursery", "pre_primary", "preschool"), frozenset({0})),
}

#: ``amenity=*`` values that are never a school for zoned pupils.
NOT_SCHOOLS = {"university": "university", "college": "college", "driving_school": "professional school",
               "language_school": "professional school", "music_school": "professional school",
               "dancing_school": "professional school", "training": "professional school",
               "prep_school": "tutoring school"}

#: Names of tertiary and professional schools, used only when no tag says what a school is.
#: A bare "... College" is not here: in Australia and the UK many secondary schools are colleges.
_TERTIARY_NAME = re.compile(
    r"\b(universit(y|ies|é|ät|at)|community college|college of|polytechnic|institute of technology|seminary|"
    r"conservatory|school of (dentistry|medicine|nursing|law|pharmacy|business|engineering|public health|"
    r"architecture|music|art|design|theology)|medical school|law school|dental school|nursing school|大学|学院)\b",
    re.IGNORECASE)
_NAME_STAGES = ((re.compile(r"\b(elementary|primary|infants?)\b|小学", re.IGNORECASE), frozenset({1})),
                (re.compile(r"\b(middle|intermediate|junior high)\b|初中|初级中学", re.IGNORECASE), frozenset({2})),
                (re.compile(r"\b(senior high|high school|secondary college)\b|高中|高级中学", re.IGNORECASE), frozenset({3})))


@dataclass(frozen=True, slots=True)
class Stages:
    """The ISCED stages a school's tags give, and which tag said so (None: nothing said)."""

    stages: frozenset[int]
    basis: str | None


@dataclass(frozen=True, slots=True)
class Skipped:
    """An OSM feature not imported as a school, and why."""

    code: str
    name: str
    reason: str


@dataclass
class Selection:
    """Schools kept for the levels asked, those assumed (tags say nothing), and those skipped."""

    schools: list[School] = field(default_factory=list)
    assumed: list[School] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)

    def skipped_by_reason(self) -> dict[str, list[str]]:
        """Reason -> names of the features skipped for it, most common reason first."""
        counts = Counter(s.reason for s in self.skipped)
        return {r: [s.name for s in self.skipped if s.reason == r] for r, _ in counts.most_common()}


def _isced(text: str) -> frozenset[int]:
    out: set[int] = set()
    for part in re.split(r"[;,]", text):
        m = re.fullmatch(r"\s*(\d)\s*(?:-\s*(\d)\s*)?", part)
        if m:
            a, b = int(m[1]), int(m[2] or m[1])
            out.update(range(min(a, b), max(a, b) + 1))
    return frozenset(out)


def _words(text: str) -> frozenset[int]:
    out: set[int] = set()
    for word in re.split(r"[;,\s]+", text.strip().lower()):
        out.update(_WORD_STAGES.get(word, ()))
    return frozenset(out)


def _grades(text: str) -> frozenset[int]:
    """US-style grades: K-5 primary, 7-8 lower secondary, 9-12 upper; 6 goes with its neighbours."""
    grades = set(parse_grades(re.sub(r"\bP?K\b|\bTK\b", "K", text.upper())))
    stages = {1 for g in grades if g in GRADE_ORDER[:6]} | {2 for g in grades if g in ("7", "8")}
    stages |= {3 for g in grades if g in ("9", "10", "11", "12")}
    if "6" in grades:
        stages.add(1 if grades & set(GRADE_ORDER[:6]) else 2)
    return frozenset(stages)


def school_stages(tags: Mapping[str, str], name: str) -> Stages:
    """The ISCED stages of a school from its tags (``isced:level``, ``school:level``, ``school``,
    ``grades``), else from its name; empty with basis None when nothing says.

    Parameters
    ----------
    tags
        The OSM tags (or the kept ones in ``School.attributes``).
    name
        The school's name, the last resort.

    Returns
    -------
    Stages
        ``stages`` as ISCED numbers (0 pre-primary .. 3 upper secondary, 4+ beyond school).
    """
    for key, parse in (("isced:level", _isced), ("school:level", _words), ("school", _words), ("grades", _grades)):
        value = tags.get(key)
        if value:
            stages = parse(str(value))
            if stages:
                return Stages(stages, f"{key}={value}")
    found = frozenset(s for pattern, st in _NAME_STAGES if pattern.search(name) for s in st)
    return Stages(found, "name" if found else None)


def not_a_school(tags: Mapping[str, str], name: str, stages: Stages) -> str | None:
    """Why a feature takes no zoned pupils (university, kindergarten, ...), or None."""
    amenity = tags.get("amenity", "")
    if amenity in NOT_SCHOOLS:
        return f"{NOT_SCHOOLS[amenity]} (amenity={amenity})"
    if amenity == "kindergarten" and 1 not in stages.stages:
        return "kindergarten (amenity=kindergarten)"
    if stages.basis is not None and stages.basis != "name" and stages.stages and min(stages.stages) >= 4:
        return f"beyond school age ({stages.basis})"
    if stages.basis is not None and stages.basis != "name" and stages.stages == {0}:
        return f"pre-school ({stages.basis})"
    if stages.basis in (None, "name") and _TERTIARY_NAME.search(name):
        return "university or professional school (by its name; no tag gives a school level)"
    return None


def select_schools(schools: Sequence[School], levels: Sequence[str]) -> Selection:
    """Keep the schools that take pupils of ``levels``, with those levels set.

    A school whose tags say nothing of its stage is kept for every level asked and listed in
    ``assumed``; one whose stages fit none of the levels, or that is not a school for zoned
    pupils (:func:`not_a_school`), is skipped with the reason. A level with no known stage
    (:data:`LEVEL_STAGES`) takes every school.

    Parameters
    ----------
    schools
        From :func:`geo.io.osm_schools.read_osm_schools` (tags kept in ``attributes``).
    levels
        Our level names, e.g. ``["middle"]``; empty keeps every school, levels unset.

    Returns
    -------
    Selection
    """
    out = Selection()
    for s in schools:
        tags = {k: str(v) for k, v in s.attributes.items()}
        st = school_stages(tags, s.name)
        why = not_a_school(tags, s.name, st)
        if why is not None:
            out.skipped.append(Skipped(s.code, s.name, why))
            continue
        if not levels:
            out.schools.append(s)
            continue
        if not st.stages:
            out.schools.append(replace(s, levels=tuple(levels)))
            out.assumed.append(s)
            continue
        fits = tuple(lv for lv in levels if lv not in LEVEL_STAGES or LEVEL_STAGES[lv] & st.stages)
        if fits:
            out.schools.append(replace(s, levels=fits))
        else:
            out.skipped.append(Skipped(s.code, s.name, f"not {'/'.join(levels)} ({st.basis} says ISCED "
                                                        f"{','.join(map(str, sorted(st.stages)))})"))
    return out
