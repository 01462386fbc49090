"""The districts tables on both backends: create, list, update, delete, the rules checked in the write."""

from __future__ import annotations

from dataclasses import replace

import pytest

from geo.errors import Conflict, InvalidInput, NotFound, StaleVersion
from geo.models import School
from service.storage.base import DistrictStatus, Repository, StoredDistrict


def _schools(repo: Repository) -> None:
    repo.import_schools([School(code=f"S{i}", name=f"School {i}", levels=("primary",), lon=121.43 + i / 1000, lat=31.19)
                         for i in range(1, 6)], actor="t")


def _d(name: str, lead: str, *schools: str, year: int = 2026, status: DistrictStatus = DistrictStatus.EFFECTIVE) -> StoredDistrict:
    return StoredDistrict(id=None, name=name, levels=("primary",), school_year=year, lead=lead, schools=schools, status=status)


def test_create_list_update_delete_audited(repo: Repository) -> None:
    _schools(repo)
    version = repo.zone_version()
    a = repo.districts.create(_d("第一学区", "S2", "S3", "S1", "S2"), actor="ann")
    assert a.id is not None and a.schools == ("S2", "S1", "S3") and a.lead == "S2" and a.version == 1
    assert a.status is DistrictStatus.EFFECTIVE and a.created_at is not None
    assert repo.zone_version() > version  # lookups name the district: workers rebuild their snapshot
    b = repo.districts.create(_d("第二学区", "S4", "S4", "S5"), actor="ann")
    assert [d.name for d in repo.districts.list(level="primary", school_year=2026)] == ["第一学区", "第二学区"]
    assert repo.districts.list(level="junior") == [] and repo.districts.list(school_year=2027) == []
    got = repo.districts.update(replace(b, lead="S5", schools=("S4", "S5")), actor="bob", expected_version=1)
    assert got.lead == "S5" and got.schools == ("S5", "S4") and got.version == 2
    assert repo.districts.get(b.id).lead == "S5"  # type: ignore[arg-type]
    with pytest.raises(StaleVersion):
        repo.districts.delete(b.id, actor="bob", expected_version=1)  # type: ignore[arg-type]
    repo.districts.delete(b.id, actor="bob", expected_version=2)  # type: ignore[arg-type]
    with pytest.raises(NotFound):
        repo.districts.get(b.id)  # type: ignore[arg-type]
    actions = [(e.action, e.actor) for e in repo.audit_events(target=f"district:{b.id}")]
    assert sorted(actions) == [("district.create", "ann"), ("district.delete", "bob"), ("district.update", "bob")]
    update = next(e for e in repo.audit_events(target=f"district:{b.id}") if e.action == "district.update")
    assert update.before["lead"] == "S4" and update.after["lead"] == "S5"


@pytest.mark.parametrize(("district", "where", "error"), [
    (_d("x", "S9", "S1", "S9"), "schools", InvalidInput),   # unknown school
    (_d("x", "S3", "S1", "S2"), "lead", InvalidInput),      # lead not a member
    (_d("x", "S3", "S3", "S1"), "schools", InvalidInput),   # S1 already in 第一学区, same level and year
    (_d("第一学区", "S3", "S3", "S4"), "name", Conflict),     # same name, same year
])
def test_rules_checked_in_the_write(repo: Repository, district: StoredDistrict, where: str, error: type[Exception]) -> None:
    _schools(repo)
    repo.districts.create(_d("第一学区", "S1", "S1", "S2"), actor="ann")
    with pytest.raises(error) as exc:
        repo.districts.create(district, actor="ann")
    assert exc.value.where == where  # type: ignore[attr-defined]
    assert len(repo.districts.list()) == 1


def test_proposals_and_other_years_may_overlap(repo: Repository) -> None:
    _schools(repo)
    repo.districts.create(_d("第一学区", "S1", "S1", "S2"), actor="ann")
    repo.districts.create(_d("第一学区", "S1", "S1", "S2", year=2027), actor="ann")
    job = repo.jobs.create(kind="districts.form", owner="ann", params={})
    got = repo.districts.create_many([
        StoredDistrict(id=None, name="学区 1", levels=("primary",), school_year=2026, lead="S1", schools=("S1", "S3"),
                       status=DistrictStatus.PROPOSED, job_id=job.id, report={"between_cv": 0.1}),
        StoredDistrict(id=None, name="学区 2", levels=("primary",), school_year=2026, lead="S2", schools=("S2", "S4"),
                       status=DistrictStatus.PROPOSED, job_id=job.id, report={"between_cv": 0.1})], actor="ann")
    assert [d.job_id for d in got] == [job.id, job.id] and got[0].report == {"between_cv": 0.1}
    assert [d.name for d in repo.districts.list(job_id=job.id)] == ["学区 1", "学区 2"]
    assert len(repo.districts.list(status=DistrictStatus.EFFECTIVE)) == 2


def test_a_bad_proposal_set_writes_nothing(repo: Repository) -> None:
    _schools(repo)
    with pytest.raises(InvalidInput):
        repo.districts.create_many([_d("a", "S1", "S1", "S2", status=DistrictStatus.PROPOSED),
                                    _d("b", "S9", "S9", status=DistrictStatus.PROPOSED)], actor="ann")
    assert repo.districts.list() == [] and repo.districts.stamp()[0] == 0


def test_adopt_a_proposal_set(repo: Repository) -> None:
    _schools(repo)
    old = repo.districts.create(_d("旧学区", "S1", "S1", "S2"), actor="ann")
    job = repo.jobs.create(kind="districts.form", owner="ann", params={})
    props = [StoredDistrict(id=None, name=n, levels=("primary",), school_year=2026, lead=lead, schools=ms,
                            status=DistrictStatus.PROPOSED, job_id=job.id) for n, lead, ms in
             (("学区 1", "S1", ("S1", "S3")), ("学区 2", "S2", ("S2", "S4", "S5")))]
    repo.districts.create_many(props, actor="ann")
    with pytest.raises(InvalidInput) as exc:  # S1 and S2 are in 旧学区: nothing changes
        repo.districts.adopt(job.id, actor="bob")
    assert exc.value.where == "schools"
    assert [d.status for d in repo.districts.list(job_id=job.id)] == [DistrictStatus.PROPOSED] * 2
    got = repo.districts.adopt(job.id, actor="bob", replace_existing=True)
    assert [(d.name, d.status, d.schools) for d in got] == [("学区 1", DistrictStatus.EFFECTIVE, ("S1", "S3")),
                                                              ("学区 2", DistrictStatus.EFFECTIVE, ("S2", "S4", "S5"))]
    assert [d.name for d in repo.districts.list(status=DistrictStatus.EFFECTIVE)] == ["学区 1", "学区 2"]
    assert old.id not in {d.id for d in repo.districts.list()}
    with pytest.raises(NotFound):
        repo.districts.adopt(job.id, actor="bob")
