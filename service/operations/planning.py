"""Planners at work: copy a plan to a draft, edit it, undo and redo, validate, compare two plans,
propose, and the public change notice. Adoption and whole-plan zone writes are in ``plans.py``.

Every write names the version its author saw (:func:`service.operations.versions.writable_plan`)
and returns the stored plan; the route shapes it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import shapely

from geo.errors import Conflict, Forbidden, InvalidInput, NotFound
from geo.models import Plan, PlanStatus, Role, School, SchoolStatus
from geo.planning import edit
from geo.planning.findings import Finding, count_by_code, findings_geojson
from geo.planning.impact import compare_plans
from geo.planning.impact_report import PlanImpact
from geo.planning.notice import AreaChange, changed_areas, notice_text
from geo.standards import get_profile
from service.operations.context import pick_demand, schools_of, validate_stored
from service.operations.rules import rules_notice
from service.operations.versions import writable_plan
from service.storage.base import Repository

EditOp = Literal["replace_geometry", "move_units", "split", "merge", "add_school"]


@dataclass(frozen=True)
class Edit:
    """One edit of a draft. ``op`` says which; ``geometry`` is GeoJSON in EPSG:4326."""

    op: EditOp
    zone_id: int | None = None
    zone_ids: Sequence[int] | None = None
    geometry: Mapping[str, Any] | None = None
    take_from_neighbours: bool = False
    demand: str | None = None
    moves: Mapping[str, str] | None = None
    school_codes: Sequence[str] | None = None
    name: str | None = None
    school: School | None = None
    grades: Sequence[str] | None = None


@dataclass(frozen=True)
class Edited:
    """A plan after a write, with what its validation found (for the planner's summary)."""

    plan: Plan
    zones: int
    counts: dict[str, int]
    errors: int


def edited(repo: Repository, plan: Plan) -> Edited:
    zones = repo.zones(plan.id)
    findings = validate_stored(repo, plan, zones=zones)
    return Edited(plan=plan, zones=len(zones), counts=count_by_code(findings), errors=_errors(findings))


def _errors(findings: Sequence[Finding]) -> int:
    return sum(1 for f in findings if f.severity == "error")


def copy_plan(repo: Repository, plan_id: int, *, name: str | None, school_year: int | None, actor: str) -> Plan:
    """A new draft holding a copy of any plan's zones."""
    src = repo.get_plan(plan_id)
    return repo.copy_plan(plan_id, name=name or f"Draft from {src.name}", actor=actor, school_year=school_year)


def _geometry(doc: Mapping[str, Any] | None, where: str) -> shapely.Geometry:
    if doc is None:
        msg = f"this edit needs '{where}' (a GeoJSON geometry, EPSG:4326)"
        raise InvalidInput(msg, where=where)
    try:
        return shapely.geometry.shape(doc)
    except (KeyError, TypeError, ValueError, AttributeError, shapely.errors.GEOSException) as exc:
        msg = f"'{where}' is not a valid GeoJSON geometry: {exc}"
        raise InvalidInput(msg, where=where) from exc


def _need(value: Any, name: str) -> Any:
    if value is None:
        msg = f"this edit needs '{name}'"
        raise InvalidInput(msg, where=name)
    return value


def apply_edit(repo: Repository, plan_id: int, change: Edit, *, if_match: str | None, actor: str, role: Role) -> Edited:
    """Apply one edit to a draft, as one new version (If-Match required; 412 when stale)."""
    _, version = writable_plan(repo, plan_id, if_match, drafts_only=True)
    zones = repo.zones(plan_id)
    new_schools = []
    if change.op == "replace_geometry":
        zones = edit.replace_zone_geometry(zones, zone_id=_need(change.zone_id, "zone_id"),
                                           geometry=edit.as_zone_geometry(_geometry(change.geometry, "geometry")),
                                           take_from_neighbours=change.take_from_neighbours)
    elif change.op == "move_units":
        moves = _need(change.moves, "moves")
        _, units = pick_demand(repo, zones, change.demand)
        wanted = [u for u in units if u.id in moves]
        missing = sorted(set(moves) - {u.id for u in wanted})
        if missing:
            msg = f"unknown demand unit id(s) {', '.join(missing[:5])}"
            raise InvalidInput(msg, where="moves")
        zones = edit.move_units(zones, units=wanted, to_school=dict(moves))
    elif change.op == "split":
        zones = edit.split_zone(zones, zone_id=_need(change.zone_id, "zone_id"), by=_geometry(change.geometry, "geometry"),
                                school_codes=change.school_codes)
    elif change.op == "merge":
        zones = edit.merge_zones(zones, zone_ids=_need(change.zone_ids, "zone_ids"), school_codes=change.school_codes,
                                 name=change.name)
    else:
        school, create = school_to_add(repo, change, role=role)
        planned, zones = edit.add_planned_school(zones, school=school, geometry=_geometry(change.geometry, "geometry"),
                                                 take_from_neighbours=change.take_from_neighbours, grades=change.grades)
        new_schools = [planned] if create else []
    updated = repo.replace_zones(plan_id, zones, actor=actor, expected_version=version, action=f"edit.{change.op}",
                                 new_schools=new_schools)
    return edited(repo, updated)


def school_to_add(repo: Repository, change: Edit, *, role: Role) -> tuple[School, bool]:
    """The school an ``add_school`` edit zones, and whether the edit creates it.

    Schools are admin data: a planner's edit may only reference a school stored already as
    planned (``school_codes: [code]``, or ``school`` with that code); creating one needs an admin key.
    """
    given = change.school
    codes = change.school_codes or []
    code = given.code if given is not None else (codes[0] if len(codes) == 1 else None)
    if code is None:
        raise InvalidInput("add_school needs 'school' (a new school: admin key) or 'school_codes' with one planned school's code",
                           where="school")
    try:
        stored = repo.get_school(code)
    except NotFound:
        stored = None
    if stored is not None:
        if stored.status is not SchoolStatus.PLANNED:
            msg = f"school {code} is {stored.status.value}; add_school zones a planned school (POST /v1/schools with status planned)"
            raise Conflict(msg, where="school.code")
        return stored, False
    if given is None:
        msg = f"no school with code {code!r}; an admin creates it first (POST /v1/schools with status planned)"
        raise NotFound(msg, where="school_codes")
    if role is not Role.ADMIN:
        msg = (f"school {code} does not exist and schools are admin data: an admin key creates it here, or an admin adds it "
               f"as planned first and this edit references its code / 学校 {code} 不存在，学校由管理员维护：请管理员先新增（规划中）学校")
        raise Forbidden(msg, where="school")
    return given, True


# ---- undo, redo, history ------------------------------------------------------------------
def version_stacks(history: Sequence[Mapping[str, Any]]) -> tuple[list[int], list[int]]:
    """Replay the plan's zone history: (applied versions, redoable versions)."""
    applied: list[int] = []
    redo: list[int] = []
    for rec in history:
        if rec["action"] == "undo" and applied:
            redo.append(applied.pop())
        elif rec["action"] == "redo" and redo:
            applied.append(redo.pop())
        elif rec["action"] not in {"undo", "redo"}:
            applied.append(rec["version"])
            redo.clear()
    return applied, redo


def undo(repo: Repository, plan_id: int, *, if_match: str | None, actor: str) -> Edited:
    """Undo the last edit of a draft: its zones before that edit become a new version."""
    _, version = writable_plan(repo, plan_id, if_match, drafts_only=True)
    applied, _ = version_stacks(repo.plan_versions(plan_id))
    if len(applied) < 2:
        raise Conflict("nothing to undo", where="plan_id")
    zones = repo.plan_version_zones(plan_id, applied[-2])
    return edited(repo, repo.replace_zones(plan_id, zones, actor=actor, expected_version=version, action="undo"))


def redo(repo: Repository, plan_id: int, *, if_match: str | None, actor: str) -> Edited:
    """Redo the last undone edit, as a new version."""
    _, version = writable_plan(repo, plan_id, if_match, drafts_only=True)
    _, redoable = version_stacks(repo.plan_versions(plan_id))
    if not redoable:
        raise Conflict("nothing to redo", where="plan_id")
    zones = repo.plan_version_zones(plan_id, redoable[-1])
    return edited(repo, repo.replace_zones(plan_id, zones, actor=actor, expected_version=version, action="redo"))


def history(repo: Repository, plan_id: int) -> dict[str, Any]:
    """Every stored version of the plan's zones, and whether undo and redo have anything to do."""
    repo.get_plan(plan_id)
    records = repo.plan_versions(plan_id)
    applied, redoable = version_stacks(records)
    return {"versions": records, "can_undo": len(applied) > 1, "can_redo": bool(redoable)}


def validation(repo: Repository, plan_id: int, *, severity: str | None, code: str | None, sliver_m2: float) -> dict[str, Any]:
    """The plan's findings (invalid shapes, overlaps, gaps, slivers ...), counted, and those asked for as GeoJSON."""
    plan = repo.get_plan(plan_id)
    findings = validate_stored(repo, plan, sliver_m2=sliver_m2)
    shown = [f for f in findings if (severity is None or f.severity == severity) and (code is None or f.code == code)]
    return {"plan_id": plan.id, "version": plan.version, "counts": count_by_code(findings), "errors": _errors(findings),
            "findings": findings_geojson(shown)}


# ---- compare, propose ---------------------------------------------------------------------
@dataclass(frozen=True)
class Comparison:
    a: Plan
    b: Plan
    demand: str | None
    impact: PlanImpact


def compare(repo: Repository, *, a: int, b: int, demand: str | None, profile: str) -> Comparison:
    """The impact of plan ``b`` against plan ``a`` on the demand units covering them."""
    pa, pb = repo.get_plan(a), repo.get_plan(b)
    if pa.level != pb.level:
        msg = f"plans {a} and {b} are for different levels ({pa.level}, {pb.level})"
        raise InvalidInput(msg, where="b")
    za, zb = repo.zones(a), repo.zones(b)
    name, units = pick_demand(repo, za + zb, demand)
    if not units:
        raise InvalidInput("no demand units cover these plans: load them with `catchment import demand`", where="demand")
    schools = {s.code: s for s in schools_of(repo, za + zb, pa.level)}
    impact = compare_plans(za, zb, units=units, schools=schools, level=pa.level, profile=get_profile(profile))
    return Comparison(a=pa, b=pb, demand=name, impact=impact)


def propose(repo: Repository, plan_id: int, *, if_match: str | None, actor: str) -> Plan:
    """Mark a draft as proposed (ready for adoption)."""
    plan, _ = writable_plan(repo, plan_id, if_match)
    if plan.status is not PlanStatus.DRAFT:
        msg = f"plan {plan_id} is {plan.status.value}; only a draft can be proposed"
        raise Conflict(msg, where="status")
    return repo.set_plan_status(plan_id, PlanStatus.PROPOSED, actor=actor)


# ---- the public change notice -------------------------------------------------------------
@dataclass(frozen=True)
class NoticeSubject:
    """The plan a notice announces, the plan it replaces, and the year it takes effect."""

    plan: Plan
    before: Plan
    year: int

    @property
    def key(self) -> tuple[Any, ...]:
        """Both plans' versions (and the effective year, which moves on adoption) key a cached notice."""
        return ("notice", self.plan.id, self.plan.version, self.before.id, self.before.version, self.year)


@dataclass(frozen=True)
class Notice:
    subject: NoticeSubject
    text: dict[str, str]
    planned_schools: list[str]
    rules: list[dict[str, Any]]
    areas: list[AreaChange]


def notice_subject(repo: Repository, plan_id: int) -> NoticeSubject:
    """The plan and the one it replaces: its parent, else the district's latest adopted or archived plan."""
    plan = repo.get_plan(plan_id)
    before_id = plan.parent_id
    if before_id is None:
        others = [p for p in repo.list_plans(district=plan.district, level=plan.level) if p.id != plan.id
                  and p.status in (PlanStatus.ADOPTED, PlanStatus.ARCHIVED)]
        before_id = others[-1].id if others else None
    if before_id is None:
        raise InvalidInput(f"plan {plan_id} has no earlier plan to compare with", where="plan_id")
    return NoticeSubject(plan=plan, before=repo.get_plan(before_id), year=plan.effective_year or plan.school_year)


def notice(repo: Repository, subject: NoticeSubject) -> Notice:
    """The areas that change school, the notice text (English and Chinese) and each zone's 招生范围 list."""
    plan, year = subject.plan, subject.year
    old, new = repo.zones(subject.before.id), repo.zones(plan.id)
    schools = {s.code: s for s in schools_of(repo, old + new, plan.level)}
    changes = changed_areas(old, new, schools=schools, year=year)
    return Notice(subject=subject, text=notice_text(changes, plan_name=plan.name, year=year),
                  planned_schools=[s.code for s in schools.values() if s.status is SchoolStatus.PLANNED],
                  rules=rules_notice(repo, plan.id), areas=changes)
