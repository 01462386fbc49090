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
from geo.districts.select import Where, numeric_attributes, select_schools
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
                    profile: StandardsProfile, where: Where | None = None,
                    bbox: Sequence[float] | None = None) -> tuple[list[DistrictSchool], list[dict[str, str]]]:
    """The open schools of ``level`` in the area (``where``, ``bbox``) with their quality score (a
    column, or the profile's balance indicators), and the schools left out for want of a score."""
    lv = check_slug(level, what="level")
    schools = select_schools([s for s in repo.list_schools(level=lv) if s.status is SchoolStatus.OPEN], where=where, bbox=bbox)
    if len(schools) < 2:
        msg = (f"level {lv!r} has {len(schools)} open school(s) in the selection; districts need at least 2 / "
               "所选范围内该学段开办学校不足 2 所，无法组建学区")
        raise InvalidInput(msg, where="level")
    left_out: list[dict[str, str]] = []
    if score:
        blank = [s for s in schools if str(s.attributes.get(score, "")).strip() in ("", "None", "nan")]
        if len(blank) == len(schools):
            raise InvalidInput(_score_hint(schools, f"no school of the selection has a {score!r} value"), where="score")
        left_out = [{"code": s.code, "reason": f"no {score} value / 缺少 {score}"} for s in blank]
        schools = [s for s in schools if s not in blank]
        quality = attribute_quality(schools, score)
    else:
        try:
            quality = balance_quality(schools, level=lv, profile=profile)
        except InvalidInput as exc:
            raise InvalidInput(_score_hint(schools, exc.message), where="score") from exc
    return district_schools(schools, quality, urban=_urban(urban_column)), left_out


def _score_hint(schools: Sequence[School], why: str) -> str:
    """``why``, then the school attributes that could score quality (numbers on most schools)."""
    found = numeric_attributes(schools)
    if not found:
        return (f"{why}; no school attribute holds numbers to score quality by: import one (e.g. a 'quality' column) / "
                "学校属性中没有可作为质量评分的数值")
    shown = ", ".join(f"{k} ({c} of {len(schools)} schools)" for k, c in found[:8])
    return (f"{why}; score quality by a numeric school attribute (--score on the command line, \"score\" over HTTP), "
            f"e.g. {shown} / 请用数值型学校属性作为质量评分（命令行 --score，接口 \"score\"），如 {found[0][0]}")


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
                  progress: Any = None, cancel: Any = None, left_out: Sequence[dict[str, str]] = ()) -> dict[str, Any]:
    """Solve, store the districts as a proposal of ``job_id``, return the result (districts + report)."""
    plan = form_districts(schools, geodesic_matrix(schools), options, profile=profile, progress=progress, cancel=cancel)
    names = {s.code: s.name_local or s.name for s in schools}
    report = {k: v for k, v in plan_json(plan, [], names).items() if k != "districts"} | {"left_out": list(left_out)}
    proposals = [StoredDistrict(id=None, name=f"学区 {i} {names.get(d.lead, d.lead)}".strip()[:200], levels=(level,),
                                school_year=school_year, lead=d.lead, schools=d.members, status=DistrictStatus.PROPOSED,
                                job_id=job_id, report=report) for i, d in enumerate(plan.districts, 1)]
    stored = repo.districts.create_many(proposals, actor=actor)
    return plan_json(plan, stored, names) | {"left_out": list(left_out),
                                             "proposal": {"job_id": job_id, "status": "proposed",
                                                          "adopt": f"/v1/districts/proposals/{job_id}/adopt"}}


def submit_formation(runner: JobRunner, *, level: str, school_year: int, score: str | None, urban_column: str | None,
                     options: DistrictOptions, profile: str, actor: str, where: Where | None = None,
                     bbox: Sequence[float] | None = None) -> Job:
    """Check the input and the options now (422 with the reason), then form the districts as a job."""
    prof = get_profile(profile)
    repo = runner.repo
    schools, left_out = formation_input(repo, level=level, score=score, urban_column=urban_column, profile=prof,
                                        where=where, bbox=bbox)
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
                                 job_id=ctx.job.id, progress=progress, cancel=lambda: ctx.cancelled, left_out=left_out)
        except Cancelled as exc:
            raise JobCancelled(str(exc)) from exc

    params = {"level": lv, "school_year": school_year, "score": score, "urban_column": urban_column, "profile": prof.key,
              "max_schools": max_schools_for(options, prof), "time_limit_s": limit, "max_travel_m": options.max_travel,
              "strong_share": options.strong_share, "mix_urban_rural": options.mix_urban_rural, "districts": options.districts,
              "where": {k: list(v) for k, v in (where or {}).items()} or None, "bbox": list(bbox) if bbox else None,
              "schools": len(schools)}
    return runner.submit(kind="districts.form", owner=actor, params=params, fn=run)


def adopt_proposals(repo: Repository, job_id: int, *, actor: str, replace_existing: bool) -> list[StoredDistrict]:
    return repo.districts.adopt(job_id, actor=actor, replace_existing=replace_existing)


def form_now(repo: Repository, *, level: str, school_year: int, score: str | None, urban_column: str | None,
             options: DistrictOptions, profile: str, actor: str, progress: Any = None, where: Where | None = None,
             bbox: Sequence[float] | None = None) -> dict[str, Any]:
    """Form the districts in this process (the CLI), recorded as a finished job like one run by the
    service, so its proposals are adopted the same way (``POST /v1/districts/proposals/{job}/adopt``)."""
    prof = get_profile(profile)
    schools, left_out = formation_input(repo, level=level, score=score, urban_column=urban_column, profile=prof,
                                        where=where, bbox=bbox)
    prepare(schools, geodesic_matrix(schools), options, prof)  # impossible options: no job recorded
    lv = check_slug(level, what="level")
    params = {"level": lv, "school_year": school_year, "score": score, "via": "cli", "schools": len(schools),
              "where": {k: list(v) for k, v in (where or {}).items()} or None, "bbox": list(bbox) if bbox else None}
    job = repo.jobs.start(repo.jobs.create(kind="districts.form", owner=actor, params=params).id)
    try:
        result = run_formation(repo, schools, options, level=lv, school_year=school_year, profile=prof, actor=actor,
                               job_id=job.id, progress=progress, left_out=left_out)
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
        # The same keys as a computed table, so a client reads one shape: no table, and why.
        zh = (f"标准 {prof.key} 未设定该学段每百名学生教师数的底线，无法给出教师交流轮岗建议"
              if exc.where == "indicator" else f"无法给出教师交流轮岗建议：{exc.message}")
        out["teacher_moves"] = None
        out["teacher_short"] = None
        out["teacher_moves_note"] = exc.message
        out["teacher_moves_text"] = {"en": f"no teacher exchange suggested: {exc.message}", "zh": zh}
    else:
        out["teacher_moves_note"] = None
        out["teacher_moves"] = rot.rows()
        out["teacher_short"] = [to_jsonable(s) for s in rot.short]
        out["teacher_moves_text"] = dict(rot.text)
    return out
