"""Admission data, lottery draws and enrolments on both backends: replace as a whole, read back, audit, constraints."""

from __future__ import annotations

import pytest
from shapely.geometry import MultiPolygon, box

from geo.admission.model import Category, SchoolPlaces
from geo.errors import Conflict, NotFound
from geo.models import School, Zone
from service.storage.base import AdmissionData, ApplicantRow, EnrolmentRecord, Repository


def _plan(repo: Repository) -> int:
    repo.import_schools([School(code="S1", name="One", lon=121.437, lat=31.19, capacity=90),
                         School(code="S2", name="Two", lon=121.438, lat=31.19, capacity=60)], actor="t")
    zone = Zone(school_codes=("S1", "S2"), geometry=MultiPolygon([box(121.43, 31.18, 121.44, 31.20)]))
    return repo.import_plan(name="p", district="d", level="primary", school_year=2026, zones=[zone], adopt=True, actor="t").id


def _data(pid: int) -> AdmissionData:
    return AdmissionData(pid, (Category("hukou", "Registered and living here", "户籍和居住均在片区"), Category("resident")),
                         (SchoolPlaces("S1", 60), SchoolPlaces("S2", 40)),
                         (ApplicantRow(2, "华苑小区", "hukou", 50, ("S1", "S2")),
                          ApplicantRow(3, "U2", "resident", 30, (), True, "S1"),
                          ApplicantRow(4, "U2", "resident", 1, ("S2",), False, None, "A-0001")))


def test_replace_and_read_back(repo: Repository) -> None:
    pid = _plan(repo)
    assert repo.admission.get(pid) == AdmissionData(pid) and repo.admission.plans([pid]) == {}
    version = repo.zone_version()
    got = repo.admission.replace(_data(pid), actor="ann")
    assert got == _data(pid)
    assert repo.admission.plans([pid, 999]) == {pid: _data(pid)}
    assert repo.zone_version() > version  # workers rebuild their snapshot (lookups carry the odds)
    event = repo.audit_events(target=f"plan:{pid}")[0]
    assert event.action == "admission.replace" and event.actor == "ann"
    assert event.after == {"categories": ["hukou", "resident"], "admission_places": 2, "admission_applicants": 3, "applicants": 81}
    smaller = AdmissionData(pid, (Category("hukou"),), (SchoolPlaces("S1", 10),), ())
    assert repo.admission.replace(smaller, actor="ann") == smaller


def test_a_bad_row_writes_nothing(repo: Repository) -> None:
    pid = _plan(repo)
    repo.admission.replace(_data(pid), actor="ann")
    bad = AdmissionData(pid, (Category("hukou"),), (SchoolPlaces("S1", 5), SchoolPlaces("S9", 5)), ())  # no school S9
    with pytest.raises(Conflict):
        repo.admission.replace(bad, actor="ann")
    assert repo.admission.get(pid) == _data(pid)


def test_draw_published_then_drawn_once(repo: Repository) -> None:
    pid = _plan(repo)
    notice = {"algorithm": "catchment-draw-1", "seed_sha256": "ab" * 32, "text_zh": "随机派位"}
    d = repo.admission.publish(plan_id=pid, zone=("S1", "S2"), algorithm="catchment-draw-1", seed=None, seed_sha256="ab" * 32,
                               applicants_sha256="cd" * 32, places_sha256="ef" * 32, notice=notice, actor="ann")
    assert (d.status, d.zone, d.seed, d.notice, d.results) == ("published", ("S1", "S2"), None, notice, None)
    rows = [{"applicant_id": "A1", "school": "S1", "draw_rank": 1}, {"applicant_id": "A2", "school": "", "draw_rank": 2}]
    done = repo.admission.record(d.id, seed="42", results=rows, results_sha256="00" * 32, actor="bob")
    assert (done.status, done.seed, done.results, done.drawn_by) == ("drawn", "42", rows, "bob")
    assert done.drawn_at is not None and done.published_at is not None
    with pytest.raises(Conflict, match="already"):
        repo.admission.record(d.id, seed="43", results=[], results_sha256="", actor="bob")
    with pytest.raises(NotFound):
        repo.admission.draw(d.id + 100)
    assert [x.id for x in repo.admission.draws(pid)] == [d.id] and repo.admission.draw(d.id).results == rows
    events = repo.audit_events(target=f"plan:{pid}")
    assert [e.action for e in events][:2] == ["lottery.draw", "lottery.publish"]
    assert events[0].after["placed"] == 1 and events[0].after["seed"] == "42"


def test_enrolments_replace_per_level(repo: Repository) -> None:
    rows = [EnrolmentRecord(2, "P1", "primary", "S1", unit="U1", category="migrant"),
            EnrolmentRecord(3, "P2", "primary", "S2", lon=121.43, lat=31.19, count=4),
            EnrolmentRecord(4, "M1", "middle", "S2", unit="U1")]
    assert repo.admission.replace_enrolments(["primary", "middle"], rows, actor="ann") == 3
    assert repo.admission.enrolments("primary") == rows[:2] and repo.admission.enrolments("middle") == rows[2:]
    assert repo.admission.replace_enrolments(["primary"], rows[:1], actor="ann") == 1
    assert repo.admission.enrolments("primary") == rows[:1] and repo.admission.enrolments("middle") == rows[2:]
    with pytest.raises(Conflict):  # neither unit nor point
        repo.admission.replace_enrolments(["primary"], [EnrolmentRecord(2, "P9", "primary", "S1")], actor="ann")
    assert repo.admission.enrolments("primary") == rows[:1]
