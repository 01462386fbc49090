"""学区 (school districts): edit them by hand, form them as a job, adopt a job's proposals.

Framework-free use cases over the repository. Rules that need only the request (the size cap of
the profile, the lead among the members) are checked here; those that need the stored state
(unknown schools, a school in two effective districts of one level and year, duplicate names)
by the store inside its write. Formation runs on the :class:`JobRunner`; its districts are stored
as a *proposal* (status ``proposed``, not in force, so lookups do not name them) with the report,
and a planner adopts the set (``adopt``), or edits and adopts single districts. Options no
partition can meet are refused before the job starts (422 with the reason).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from geo.districts.checks import max_schools_for, prepare
from geo.districts.formation import form_districts
from geo.districts.model import DistrictOptions, DistrictPlan, DistrictSchool, SolveProgress, geodesic_matrix
from geo.districts.quality import attribute_quality, balance_quality, district_schools
from geo.errors import Cancelled, InvalidInput, NotFound
from geo.models import School, SchoolStatus, check_slug
from geo.standards import StandardsProfile, get_profile
from service.operations.jobs import JobCancelled, JobContext, JobRunner
from service.storage.base import DistrictStatus, Job, JobStatus, Repository, StoredDistrict

URBAN = {"1", "true", "yes", "urban", "town", "城镇", "城区", "城市", "镇区"}
RURAL = {"0", "false", "no", "rural", "country", "乡村", "农村"}


# ---- by hand ---------------------------------------------------------------------------
def check_district(d: StoredDistrict, profile: StandardsProfile) -> StoredDistrict:
    """The rules a district breaks on its own (422 naming the field)."""
    levels = tuple(check_slug(lv, what="level") for lv in d.levels)
    cap = max_schools_for(DistrictOptions(), profile)
    if len(d.schools) > cap:
        msg = (f"{len(d.schools)} schools: a district holds at most {cap} (profile {profile.key}) / "
               f"学区学校数 {len(d.schools)} 超过上限 {cap} 所（标准：{profile.key}）")
        raise InvalidInput(msg, where="schools")
    if d.lead not in d.schools:
        msg = f"the lead school {d.lead} is not a member of the district / 学区长学校 {d.lead} 不是该学区的成员"
        raise InvalidInput(msg, where="lead")
    return replace(d, levels=levels)


def create_district(repo: Repository, d: StoredDistrict, *, profile: str, actor: str) -> StoredDistrict:
    return repo.districts.create(check_district(d, get_profile(profile)), actor=actor)


def update_district(repo: Repository, district_id: int, d: StoredDistrict, *, profile: str, actor: str,
                    expected_version: int | None) -> StoredDistrict:
    current = repo.districts.get(district_id)
    d = replace(check_district(d, get_profile(profile)), id=district_id, job_id=current.job_id, report=current.report)
    return repo.districts.update(d, actor=actor, expected_version=expected_version)


def list_districts(repo: Repository, *, level: str | None, school_year: int | None, status: str | None,
                   job_id: int | None = None) -> list[StoredDistrict]:
    lv = check_slug(level, what="level") if level else None
    st = DistrictStatus(status) if status else None
    return repo.districts.list(level=lv, school_year=school_year, status=st, job_id=job_id)


def effective_for(districts: Sequence[StoredDistrict], *, level: str | None, year: int) -> dict[str, StoredDistrict]:
    """School code -> the district in force for it in ``year`` (the latest school year <= year)."""
    best: dict[str, StoredDistrict] = {}
    for d in districts:
        if d.status is not DistrictStatus.EFFECTIVE or d.school_year > year or (level and level not in d.levels):
            continue
        for code in d.schools:
            if code not in best or best[code].school_year < d.school_year:
                best[code] = d
    return best


# ---- formation as a job --------------------------------------------------------------------
def _urban(column: str | None) -> Any:
    if column is None:
        return None

    def flag(s: School) -> bool | None:
        v = str(s.attributes.get(column, "")).strip().lower()
        return True if v in URBAN else False if v in RURAL else None

    return flag


def formation_input(repo: Repository, *, level: str, score: str | None, urban_column: str | None,
                    profile: StandardsProfile) -> list[DistrictSchool]:
    """The open schools of ``level`` with their quality score (a column, or the profile's balance indicators)."""
    lv = check_slug(level, what="level")
    schools = [s for s in repo.list_schools(level=lv) if s.status is SchoolStatus.OPEN]
    if len(schools) < 2:
        msg = f"level {lv!r} has {len(schools)} open school(s); districts need at least 2 / 该学段开办学校不足 2 所，无法组建学区"
        raise InvalidInput(msg, where="level")
    quality = attribute_quality(schools, score) if score else balance_quality(schools, level=lv, profile=profile)
    return district_schools(schools, quality, urban=_urban(urban_column))


def plan_json(plan: DistrictPlan, stored: Sequence[StoredDistrict], names: dict[str, str]) -> dict[str, Any]:
    """The job's result: the proposed districts and the formation report."""
    by_lead = {d.lead: d for d in stored}
    rows = []
    for d in plan.districts:
        s = by_lead.get(d.lead)
        rows.append({"id": s.id if s else None, "name": s.name if s else d.lead, "lead": d.lead, "lead_name": names.get(d.lead, ""),
                     "schools": list(d.members), "mean_quality": round(d.mean_quality, 6), "quality_range": round(d.quality_range, 6),
                     "max_travel_m": round(d.max_travel, 1), "strong": d.strong, "urban": d.urban, "rural": d.rural})
    return {"districts": rows, "between_cv": plan.between_cv, "between_cv_unweighted": plan.between_cv_unweighted,
            "max_within_range": plan.max_within_range, "gap": plan.gap, "status": plan.status, "seconds": round(plan.solve_s, 3),
            "objective": plan.objective, "bound": plan.bound, "max_schools": plan.max_schools, "profile": plan.profile,
            "text": dict(plan.text)}


def run_formation(repo: Repository, schools: Sequence[DistrictSchool], options: DistrictOptions, *, level: str,
                  school_year: int, profile: StandardsProfile, actor: str, job_id: int | None,
                  progress: Any = None, cancel: Any = None) -> dict[str, Any]:
    """Solve, store the districts as a proposal of ``job_id``, return the result (districts + report)."""
    plan = form_districts(schools, geodesic_matrix(schools), options, profile=profile, progress=progress, cancel=cancel)
    names = {s.code: s.name_local or s.name for s in schools}
    report = {k: v for k, v in plan_json(plan, [], names).items() if k != "districts"}
    proposals = [StoredDistrict(id=None, name=f"学区 {i} {names.get(d.lead, d.lead)}".strip()[:200], levels=(level,),
                                school_year=school_year, lead=d.lead, schools=d.members, status=DistrictStatus.PROPOSED,
                                job_id=job_id, report=report) for i, d in enumerate(plan.districts, 1)]
    stored = repo.districts.create_many(proposals, actor=actor)
    return plan_json(plan, stored, names) | {"proposal": {"job_id": job_id, "status": "proposed",
                                                          "adopt": f"/v1/districts/proposals/{job_id}/adopt"}}


def submit_formation(runner: JobRunner, *, level: str, school_year: int, score: str | None, urban_column: str | None,
                     options: DistrictOptions, profile: str, actor: str) -> Job:
    """Check the input and the options now (422 with the reason), then form the districts as a job."""
    prof = get_profile(profile)
    repo = runner.repo
    schools = formation_input(repo, level=level, score=score, urban_column=urban_column, profile=prof)
    prepare(schools, geodesic_matrix(schools), options, prof)  # raises Infeasible (422) with why
    lv = check_slug(level, what="level")
    limit = float(options.time_limit_s)

    def run(ctx: JobContext) -> dict[str, Any]:
        ctx.report(force=True, fraction=0.0, stage="solving / 求解中", schools=len(schools))

        def progress(p: SolveProgress) -> None:
            ctx.report(fraction=min(p.elapsed_s / limit, 0.99), elapsed_s=round(p.elapsed_s, 2), objective=p.objective,
                       bound=p.bound, gap=p.gap, stage="solving / 求解中")

        try:
            return run_formation(repo, schools, options, level=lv, school_year=school_year, profile=prof, actor=actor,
                                 job_id=ctx.job.id, progress=progress, cancel=lambda: ctx.cancelled)
        except Cancelled as exc:
            raise JobCancelled(str(exc)) from exc

    params = {"level": lv, "school_year": school_year, "score": score, "urban_column": urban_column, "profile": prof.key,
              "max_schools": max_schools_for(options, prof), "time_limit_s": limit, "max_travel_m": options.max_travel,
              "strong_share": options.strong_share, "mix_urban_rural": options.mix_urban_rural, "districts": options.districts}
    return runner.submit(kind="districts.form", owner=actor, params=params, fn=run)


def adopt_proposals(repo: Repository, job_id: int, *, actor: str, replace_existing: bool) -> list[StoredDistrict]:
    return repo.districts.adopt(job_id, actor=actor, replace_existing=replace_existing)


def form_now(repo: Repository, *, level: str, school_year: int, score: str | None, urban_column: str | None,
             options: DistrictOptions, profile: str, actor: str, progress: Any = None) -> dict[str, Any]:
    """Form the districts in this process (the CLI), recorded as a finished job like one run by the
    service, so its proposals are adopted the same way (``POST /v1/districts/proposals/{job}/adopt``)."""
    prof = get_profile(profile)
    schools = formation_input(repo, level=level, score=score, urban_column=urban_column, profile=prof)
    lv = check_slug(level, what="level")
    job = repo.jobs.start(repo.jobs.create(kind="districts.form", owner=actor, params={"level": lv, "school_year": school_year,
                                                                                       "score": score, "via": "cli"}).id)
    try:
        result = run_formation(repo, schools, options, level=lv, school_year=school_year, profile=prof, actor=actor,
                               job_id=job.id, progress=progress)
    except Exception as exc:
        repo.jobs.finish(job.id, JobStatus.FAILED, error={"type": type(exc).__name__, "detail": str(exc)})
        raise
    repo.jobs.finish(job.id, JobStatus.DONE, result=result)
    return result | {"job_id": job.id}


# ---- reports ---------------------------------------------------------------------------------
def districts_report_json(repo: Repository, *, level: str, year: int, profile: str) -> dict[str, Any]:
    """Per district the 差异系数 of each indicator among its members, between districts, and the
    teacher moves (轮岗) bringing every member up to the profile's per-100-pupil threshold."""
    from geo.districts.report import districts_report
    from geo.districts.rotation import teacher_moves
    from service.operations.jsonable import to_jsonable

    prof = get_profile(profile)
    lv = check_slug(level, what="level")
    chosen = {d.id: d for d in effective_for(repo.districts.list(status=DistrictStatus.EFFECTIVE), level=lv, year=year).values()}
    if not chosen:
        msg = f"no school district is in force for level {lv!r} in {year} / {year} 学年该学段没有生效的学区"
        raise NotFound(msg, where="level")
    members = {d.lead: d.schools for d in chosen.values()}
    schools = repo.list_schools(level=lv)
    report = districts_report(schools, members, level=lv, profile=prof)
    out: dict[str, Any] = {"profile": prof.key, "level": lv, "year": year,
                           "districts": [{"id": d.id, "name": d.name, "lead": d.lead, "schools": list(d.schools)}
                                         for d in chosen.values()],
                           "report": to_jsonable(report)}
    try:
        rot = teacher_moves(schools, members, level=lv, profile=prof)
    except InvalidInput as exc:
        out["teacher_moves"] = None
        out["teacher_moves_note"] = exc.message
    else:
        out["teacher_moves"] = rot.rows()
        out["teacher_short"] = [to_jsonable(s) for s in rot.short]
        out["teacher_moves_text"] = dict(rot.text)
    return out
