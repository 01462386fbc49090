"""Schools: a page of them (bbox, level), updates checked against the path, and feeder schools
(对口直升): where pupils move up to, and from, without cycles."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from geo.errors import InvalidInput
from geo.models import School, check_slug
from service.storage.base import Repository


def schools_page(repo: Repository, *, bbox: tuple[float, float, float, float] | None, level: str | None, limit: int,
                 offset: int) -> tuple[list[School], int]:
    """The schools asked for (ordered by code, one page) and how many match in all."""
    lv = check_slug(level, what="level") if level else None
    return repo.list_schools(bbox=bbox, level=lv, limit=limit, offset=offset), repo.count_schools(bbox=bbox, level=lv)


def update_school(repo: Repository, code: str, school: School, *, actor: str) -> School:
    if school.code != code:
        msg = f"the body's code {school.code!r} differs from the path's {code!r}"
        raise InvalidInput(msg, where="code")
    return repo.update_school(school, actor=actor)


@dataclass(frozen=True)
class Feeders:
    school: School
    feeds_into: list[School]
    fed_by: list[School]


def feeders_of(school: School, schools: Sequence[School]) -> Feeders:
    by_code = {s.code: s for s in schools}
    return Feeders(school=school, feeds_into=[by_code[c] for c in school.feeds_into if c in by_code],
                   fed_by=[s for s in schools if school.code in s.feeds_into])


def feeders(repo: Repository, code: str) -> Feeders:
    return feeders_of(repo.get_school(code), repo.list_schools())


def set_feeders(repo: Repository, code: str, feeds_into: Sequence[str], *, actor: str) -> Feeders:
    """Set the schools this school's pupils move up to: known schools, not itself, no cycle."""
    school = repo.get_school(code)
    schools = {s.code: s for s in repo.list_schools()}
    targets = list(dict.fromkeys(c.strip() for c in feeds_into))
    for i, c in enumerate(targets):
        if c == code:
            msg = f"school {code} cannot feed into itself"
            raise InvalidInput(msg, where=f"feeds_into[{i}]")
        if c not in schools:
            msg = f"no school with code {c!r} (feeds_into[{i}]); create it first"
            raise InvalidInput(msg, where=f"feeds_into[{i}]")
    # A cycle (A -> B -> ... -> A) would make the feeder path endless: refuse it.
    stack, seen = list(targets), set()
    while stack:
        c = stack.pop()
        if c == code:
            msg = f"feeding {code} into {', '.join(targets)} makes a cycle: one of them already feeds back into {code}"
            raise InvalidInput(msg, where="feeds_into")
        if c not in seen:
            seen.add(c)
            stack.extend(schools[c].feeds_into if c in schools else ())
    updated = repo.update_school(replace(school, feeds_into=tuple(targets)), actor=actor)
    schools[code] = updated
    return feeders_of(updated, list(schools.values()))
