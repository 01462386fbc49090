"""The storage contract: the same assertions on SQLite and PostGIS (see conftest.repo).

Covers schools (CRUD, bbox and level listing, paging), plans and zones (round trip), keys,
the append-only audit, all-or-nothing imports, plan adoption (also two concurrent adopts),
the zone version stamp and migrations. The real-data comparison lives in test_contract_sydney.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any

import numpy as np
import pytest
import shapely
from shapely.geometry import MultiPolygon, Polygon, box

from geo.errors import Conflict, InvalidInput, NotFound, StaleVersion
from geo.models import PlanStatus, Role, School, SchoolStatus, Zone
from service.storage import open_repository
from service.storage.base import Repository


def mp(*polys: Polygon) -> MultiPolygon:
    return MultiPolygon(list(polys))


def school(code: str, lon: float, lat: float, **kw: Any) -> School:
    return School(code=code, name=f"School {code}", lon=lon, lat=lat, **kw)


def grid_schools(n: int = 30) -> list[School]:
    """Schools on a jittered grid around Sydney with mixed levels and attributes."""
    rng = np.random.default_rng(7)
    levels = [("primary",), ("high",), ("primary", "high")]
    return [
        school(f"S{i:03d}", float(150.9 + 0.01 * (i % 6) + rng.uniform(0, 0.004)), float(-33.9 + 0.01 * (i // 6)),
               levels=levels[i % 3], grades=("K", "1", "2") if i % 3 != 1 else ("7", "8"), capacity=300 + i,
               enrolment=250 + i, classes=10 + i % 4, address=f"{i} Test St", name_local=f"学校{i}",
               feeds_into=("S001",) if i % 3 == 0 else (), attributes={"ICSEA": 1000 + i, "note": "50% 测试"})
        for i in range(n)
    ]


def make_zones(codes: list[str]) -> list[Zone]:
    """One square zone per code, side by side (they share edges), plus a two-school zone with a hole."""
    out = [Zone(school_codes=(c,), geometry=mp(box(151.0 + 0.01 * i, -33.9, 151.01 + 0.01 * i, -33.89)), name=f"Zone {c}")
           for i, c in enumerate(codes)]
    ring = Polygon(box(151.2, -34.0, 151.3, -33.9).exterior.coords, [box(151.24, -33.96, 151.26, -33.94).exterior.coords])
    out.append(Zone(school_codes=tuple(codes[:2]), geometry=mp(ring, box(151.31, -34.0, 151.32, -33.99)),
                    name="多校划片 shared", grades=("K", "1", "2"), grade_start_years={"K": 2026, "1": 2027},
                    source="Rule 12(b): 50% of places", attributes={"PRIORITY": 2, "tags": ["a", "b"]}))
    return out


def seeded(repo: Repository, n: int = 4) -> list[School]:
    schools = grid_schools(n)
    repo.import_schools(schools, actor="seed")
    return schools


def adopted_count(repo: Repository, district: str, level: str, year: int) -> int:
    return len(repo.list_plans(district=district, level=level, school_year=year, status=PlanStatus.ADOPTED))


def run_together(*calls: Callable[[], Any]) -> list[Any]:
    """Run the calls in threads released at the same instant; return results or exceptions."""
    barrier = threading.Barrier(len(calls))

    def go(fn: Callable[[], Any]) -> Any:
        barrier.wait()
        try:
            return fn()
        except Exception as exc:  # noqa: BLE001 - returned to the test, which asserts on it
            return exc

    with ThreadPoolExecutor(len(calls)) as pool:
        return [f.result() for f in [pool.submit(go, c) for c in calls]]


# ---------------------------------------------------------------------- schools


def test_school_crud_round_trip(repo: Repository) -> None:
    s = grid_schools(1)[0]
    assert repo.create_school(s, actor="ann") == s
    assert repo.get_school(s.code) == s
    with pytest.raises(Conflict):
        repo.create_school(s, actor="ann")
    changed = school(s.code, 151.2, -33.7, levels=("high",), status=SchoolStatus.PLANNED, capacity=0)
    repo.update_school(changed, actor="bob")
    assert repo.get_school(s.code) == changed
    repo.delete_school(s.code, actor="bob")
    with pytest.raises(NotFound):
        repo.get_school(s.code)
    with pytest.raises(NotFound):
        repo.update_school(changed, actor="bob")
    with pytest.raises(NotFound):
        repo.delete_school(s.code, actor="bob")
    actions = [e.action for e in repo.audit_events(target=f"school:{s.code}")]
    assert actions == ["school.delete", "school.update", "school.create"]


def test_list_schools_bbox_level_and_paging(repo: Repository) -> None:
    schools = grid_schools(30)
    assert repo.import_schools(schools, actor="ann") == len(schools)
    # The bbox corner and its east edge pass exactly through two schools: edges are inclusive.
    corner, east = schools[8], schools[10]
    bbox = (corner.lon, corner.lat, east.lon, corner.lat + 0.025)
    for level in (None, "primary", "high"):
        want = sorted(s.code for s in schools if (level is None or level in s.levels)
                      and bbox[0] <= s.lon <= bbox[2] and bbox[1] <= s.lat <= bbox[3])
        got = [s.code for s in repo.list_schools(bbox=bbox, level=level)]
        assert got == want and 0 < len(want) < len(schools)
        assert repo.count_schools(bbox=bbox, level=level) == len(want)
        for on_edge in (corner, east):
            assert (on_edge.code in got) == (level is None or level in on_edge.levels)
    assert [s.code for s in repo.list_schools(level="kindergarten")] == []
    every = [s.code for s in repo.list_schools()]
    assert every == sorted(s.code for s in schools)
    pages = [repo.list_schools(limit=7, offset=o) for o in range(0, 35, 7)]
    assert [s.code for page in pages for s in page] == every and len(pages[-1]) == 2
    assert repo.list_schools(level="high", limit=3, offset=2) == repo.list_schools(level="high")[2:5]
    assert {s.code: s for s in repo.list_schools()} == {s.code: s for s in schools}


def test_import_schools_updates_existing(repo: Repository) -> None:
    schools = seeded(repo, 5)
    renamed = [school(s.code, s.lon, s.lat, levels=s.levels) for s in schools[:2]]
    repo.import_schools(renamed + [school("NEW", 151.0, -33.8)], actor="ann")
    assert repo.count_schools() == 6
    assert repo.get_school(schools[0].code) == renamed[0]
    assert repo.get_school(schools[3].code) == schools[3]


def test_import_schools_is_all_or_nothing(repo: Repository) -> None:
    seeded(repo, 3)
    version, events = repo.zone_version(), len(repo.audit_events())
    batch = [school("OK1", 151.0, -33.8), school("BAD", 151.0, -33.8, capacity=-1), school("OK2", 151.0, -33.8)]
    with pytest.raises(Conflict):
        repo.import_schools(batch, actor="ann")
    assert repo.count_schools() == 3
    assert repo.zone_version() == version and len(repo.audit_events()) == events


def test_school_named_by_a_zone_cannot_be_deleted(repo: Repository) -> None:
    codes = [s.code for s in seeded(repo, 2)]
    repo.import_plan(name="p", district="d", level="primary", school_year=2026, zones=make_zones(codes[:1]),
                     adopt=False, actor="ann")
    with pytest.raises(Conflict):
        repo.delete_school(codes[0], actor="ann")
    repo.delete_school(codes[1], actor="ann")  # named by no zone
    assert [s.code for s in repo.list_schools()] == [codes[0]]


# ---------------------------------------------------------------------- plans and zones


def test_zone_round_trip(repo: Repository) -> None:
    codes = [s.code for s in seeded(repo, 3)]
    zones = make_zones(codes)
    plan = repo.import_plan(name="2026 primary", district="d", level="primary", school_year=2026, zones=zones,
                            adopt=False, actor="ann")
    assert plan.status is PlanStatus.DRAFT and plan.created_by == "ann" and plan.created_at is not None
    stored = repo.zones(plan.id)
    assert len(stored) == len(zones)
    for want, got in zip(zones, stored, strict=True):
        assert got.plan_id == plan.id and got.id is not None
        assert (got.school_codes, got.name, got.grades, dict(got.grade_start_years), got.source, dict(got.attributes)) == (
            want.school_codes, want.name, want.grades, dict(want.grade_start_years), want.source, dict(want.attributes))
        assert got.geometry.geom_type == "MultiPolygon"
        assert shapely.to_wkb(got.geometry) == shapely.to_wkb(want.geometry)
    assert stored[-1].serves("1", 2027) and not stored[-1].serves("1", 2026) and not stored[-1].serves("3", 2030)
    with pytest.raises(NotFound):
        repo.zones(plan.id + 100)


def test_replace_zones_checks_version_and_status(repo: Repository) -> None:
    codes = [s.code for s in seeded(repo, 3)]
    plan = repo.create_plan(name="p", district="d", level="primary", school_year=2026, actor="ann", description="draft")
    assert repo.zones(plan.id) == [] and plan.version == 1 and plan.description == "draft"
    p2 = repo.replace_zones(plan.id, make_zones(codes), actor="ann", expected_version=1)
    assert p2.version == 2 and len(repo.zones(plan.id)) == len(codes) + 1
    with pytest.raises(StaleVersion):
        repo.replace_zones(plan.id, make_zones(codes[:1]), actor="ann", expected_version=1)
    p3 = repo.replace_zones(plan.id, make_zones(codes[:1]), actor="ann")
    assert p3.version == 3 and [z.school_codes for z in repo.zones(plan.id)] == [(codes[0],), (codes[0],)]
    repo.set_plan_status(plan.id, PlanStatus.ARCHIVED, actor="ann")
    with pytest.raises(Conflict):
        repo.replace_zones(plan.id, make_zones(codes), actor="ann")
    child = repo.create_plan(name="c", district="d", level="primary", school_year=2027, actor="ann", parent_id=plan.id)
    assert child.parent_id == plan.id
    with pytest.raises(NotFound):
        repo.create_plan(name="x", district="d", level="primary", school_year=2027, actor="ann", parent_id=999)


def test_zone_ids_survive_the_writes_they_survive(repo: Repository) -> None:
    codes = [s.code for s in seeded(repo, 4)]
    plan = repo.import_plan(name="p", district="d", level="primary", school_year=2026, zones=make_zones(codes),
                            adopt=False, actor="ann")
    before = repo.zones(plan.id)
    dropped, changed, *rest = before
    grown = Zone(school_codes=changed.school_codes, geometry=mp(box(151.0, -33.95, 151.02, -33.9)), id=changed.id,
                 plan_id=plan.id, name="grown")
    added = Zone(school_codes=(codes[0],), geometry=mp(box(151.5, -33.9, 151.6, -33.8)), name="new")
    repo.replace_zones(plan.id, [grown, *rest, added], actor="ann")
    after = {z.id: z for z in repo.zones(plan.id)}
    # Kept zones keep their id (and take their new content); the dropped id is gone; the new zone has a fresh id.
    assert set(after) >= {changed.id, *(z.id for z in rest)} and dropped.id not in after and len(after) == len(before)
    assert after[changed.id].name == "grown" and after[changed.id].geometry.equals(grown.geometry)
    assert all(after[z.id].geometry.equals(z.geometry) and after[z.id].school_codes == z.school_codes for z in rest)
    fresh = next(z for z in after.values() if z.name == "new")
    assert fresh.id not in {z.id for z in before}
    assert repo.zones_covering(151.55, -33.85, adopted_only=False) == [fresh.id]
    # Putting a stored version back (undo) revives the dropped zone under its old id.
    repo.replace_zones(plan.id, repo.plan_version_zones(plan.id, plan.version), actor="ann", action="undo")
    assert sorted(z.id for z in repo.zones(plan.id)) == sorted(z.id for z in before)
    # A copy is a new plan: its zones get ids of their own.
    copy = repo.copy_plan(plan.id, name="c", actor="ann")
    assert not {z.id for z in repo.zones(copy.id)} & {z.id for z in repo.zones(plan.id)}


def test_import_plan_is_all_or_nothing(repo: Repository) -> None:
    codes = [s.code for s in seeded(repo, 3)]
    version, events = repo.zone_version(), len(repo.audit_events())
    zones = make_zones(codes)
    bad = Zone(school_codes=(codes[0], "NO-SUCH-SCHOOL"), geometry=mp(box(151.5, -33.9, 151.6, -33.8)))
    with pytest.raises(InvalidInput) as err:
        repo.import_plan(name="p", district="d", level="primary", school_year=2026, zones=[*zones, bad, *zones],
                         adopt=True, actor="ann")
    assert "NO-SUCH-SCHOOL" in err.value.message
    assert repo.list_plans() == [] and repo.adopted_zones() == []
    assert repo.zone_version() == version and len(repo.audit_events()) == events
    # replace_zones on an existing plan also keeps the old zones when the new set fails.
    plan = repo.import_plan(name="p", district="d", level="primary", school_year=2026, zones=zones, adopt=True, actor="ann")
    with pytest.raises(InvalidInput):
        repo.replace_zones(plan.id, [zones[0], bad], actor="ann")
    assert [z.school_codes for z in repo.zones(plan.id)] == [z.school_codes for z in zones]
    assert repo.get_plan(plan.id).version == plan.version


def test_list_plans_filters(repo: Repository) -> None:
    made = [repo.create_plan(name=f"p{i}", district=d, level=lv, school_year=y, actor="ann")
            for i, (d, lv, y) in enumerate([("a", "primary", 2026), ("a", "high", 2026), ("b", "primary", 2027)])]
    assert repo.list_plans() == made
    assert [p.name for p in repo.list_plans(district="a")] == ["p0", "p1"]
    assert [p.name for p in repo.list_plans(level="primary", school_year=2027)] == ["p2"]
    assert repo.list_plans(status=PlanStatus.ADOPTED) == []
    with pytest.raises(NotFound):
        repo.get_plan(12345)


# ---------------------------------------------------------------------- adoption


def test_adopting_archives_the_previous_plan(repo: Repository) -> None:
    codes = [s.code for s in seeded(repo, 2)]
    first = repo.import_plan(name="v1", district="d", level="primary", school_year=2026, zones=make_zones(codes),
                             adopt=True, actor="ann")
    other_district = repo.import_plan(name="e", district="e", level="primary", school_year=2026,
                                      zones=make_zones(codes), adopt=True, actor="ann")
    second = repo.create_plan(name="v2", district="d", level="primary", school_year=2026, actor="ann", parent_id=first.id)
    repo.replace_zones(second.id, make_zones(codes[:1]), actor="ann")
    adopted = repo.adopt_plan(second.id, actor="bob")
    assert adopted.status is PlanStatus.ADOPTED and adopted.effective_year == 2026
    assert repo.get_plan(first.id).status is PlanStatus.ARCHIVED
    assert repo.get_plan(other_district.id).status is PlanStatus.ADOPTED
    assert adopted_count(repo, "d", "primary", 2026) == 1
    assert {p.id for p, _ in repo.adopted_zones()} == {second.id, other_district.id}
    assert repo.adopt_plan(second.id, actor="bob") == adopted  # adopting again changes nothing
    moved = repo.set_plan_status(first.id, PlanStatus.ADOPTED, actor="bob", effective_year=2027)
    assert (moved.status, moved.school_year) == (PlanStatus.ADOPTED, 2027)
    assert repo.get_plan(second.id).status is PlanStatus.ADOPTED  # a different year: both stay


def test_adopting_from_a_year_archives_that_year_and_later_and_keeps_earlier(repo: Repository) -> None:
    """A plan adopted from 2025 replaces the adopted plans for 2025 and later (2025, 2027); the
    plan adopted for 2024 stays adopted as the record of 2024; other levels are untouched."""
    codes = [s.code for s in seeded(repo, 2)]
    kw = {"district": "d", "level": "primary", "zones": make_zones(codes), "adopt": True, "actor": "ann"}
    y2024 = repo.import_plan(name="2024", school_year=2024, **kw)
    y2025 = repo.import_plan(name="2025", school_year=2025, **kw)
    y2027 = repo.import_plan(name="2027", school_year=2027, **kw)
    high = repo.import_plan(name="high", district="d", level="high", school_year=2026, zones=make_zones(codes),
                            adopt=True, actor="ann")
    new = repo.create_plan(name="new", district="d", level="primary", school_year=2024, actor="ann")
    done = repo.adopt(new.id, actor="bob", effective_year=2025)
    assert done.archived == (y2025.id, y2027.id)
    assert (done.plan.status, done.plan.school_year, done.plan.effective_year) == (PlanStatus.ADOPTED, 2025, 2025)
    status = {p.id: p.status for p in repo.list_plans(district="d")}
    assert status == {y2024.id: PlanStatus.ADOPTED, y2025.id: PlanStatus.ARCHIVED, y2027.id: PlanStatus.ARCHIVED,
                      high.id: PlanStatus.ADOPTED, new.id: PlanStatus.ADOPTED}
    assert {e.target for e in repo.audit_events() if e.action == "plan.archive"} >= {f"plan:{y2025.id}", f"plan:{y2027.id}"}
    assert repo.adopt(new.id, actor="bob").archived == ()  # adopting again archives nothing


def test_database_refuses_a_second_adopted_plan(repo: Repository) -> None:
    a = repo.create_plan(name="a", district="d", level="high", school_year=2026, actor="ann")
    b = repo.create_plan(name="b", district="d", level="high", school_year=2026, actor="ann")
    repo.adopt_plan(a.id, actor="ann")
    # Bypass the repository's own logic: the database itself must say no.
    with pytest.raises(Conflict), repo.transaction() as cur:  # type: ignore[attr-defined]
        cur.execute(repo._sql("UPDATE plans SET status = 'adopted' WHERE id = ?"), (b.id,))  # type: ignore[attr-defined]
    assert [p.id for p in repo.list_plans(status=PlanStatus.ADOPTED)] == [a.id]


@pytest.mark.parametrize("how", ["adopt_plan", "import_plan"])
def test_concurrent_adopts_leave_exactly_one(repo_url: str, repo: Repository, how: str) -> None:
    """Two workers (two repository handles) adopt different plans for the same slot at once."""
    codes = [s.code for s in seeded(repo, 2)]
    other = open_repository(repo_url)
    try:
        for year in (2026, 2027, 2028):
            if how == "adopt_plan":
                a, b = (repo.create_plan(name=n, district="d", level="primary", school_year=year, actor="ann").id for n in "ab")
                results = run_together(partial(repo.adopt_plan, a, actor="w1"), partial(other.adopt_plan, b, actor="w2"))
            else:
                args = {"district": "d", "level": "primary", "school_year": year, "zones": make_zones(codes), "adopt": True}
                results = run_together(partial(repo.import_plan, name="w1", actor="w1", **args),
                                       partial(other.import_plan, name="w2", actor="w2", **args))
            assert not [r for r in results if isinstance(r, BaseException)], results
            plans = repo.list_plans(district="d", level="primary", school_year=year)
            assert sorted(p.status.value for p in plans) == ["adopted", "archived"]
            winner = next(p for p in plans if p.status is PlanStatus.ADOPTED)
            loser = next(p for p in plans if p.status is PlanStatus.ARCHIVED)
            # Serialised: the later adopter archived the earlier one, in the audit too.
            assert any(e.action == "plan.archive" and e.after["replaced_by"] == winner.id
                       for e in repo.audit_events(target=f"plan:{loser.id}"))
    finally:
        other.close()


# ---------------------------------------------------------------------- zone version


def test_zone_version_changes_on_every_zone_and_school_write(repo_url: str, repo: Repository) -> None:
    other = open_repository(repo_url)  # another worker's handle sees the same stamp
    seen = [repo.zone_version()]

    def bumped(label: str) -> None:
        v = repo.zone_version()
        assert v > seen[-1], label
        assert other.zone_version() == v, label
        seen.append(v)

    try:
        schools = grid_schools(3)
        repo.create_school(schools[0], actor="a")
        bumped("create_school")
        repo.update_school(school(schools[0].code, 151.0, -33.8), actor="a")
        bumped("update_school")
        repo.import_schools(schools[1:], actor="a")
        bumped("import_schools")
        codes = [s.code for s in schools]
        repo.import_plan(name="p0", district="d", level="high", school_year=2026, zones=make_zones(codes[:1]),
                         adopt=True, actor="a")
        bumped("import_plan with adopt")
        # A draft's zones are not served, so importing one need not bump; changing them does.
        plan = repo.import_plan(name="p", district="d", level="primary", school_year=2026, zones=make_zones(codes[:1]),
                                adopt=False, actor="a")
        seen.append(repo.zone_version())
        repo.replace_zones(plan.id, make_zones(codes[:2]), actor="a")
        bumped("replace_zones")
        repo.adopt_plan(plan.id, actor="a")
        bumped("adopt_plan")
        repo.set_plan_status(plan.id, PlanStatus.ARCHIVED, actor="a")
        bumped("archive adopted plan")
        repo.delete_school(codes[2], actor="a")
        bumped("delete_school")
        repo.create_key(name="k", role=Role.PLANNER, actor="a")
        repo.list_schools()
        repo.adopted_zones()
        assert repo.zone_version() == seen[-1]  # reads and key writes leave it alone
    finally:
        other.close()


# ---------------------------------------------------------------------- keys and audit


def test_keys_create_verify_revoke(repo: Repository) -> None:
    key, secret = repo.create_key(name="planner one", role=Role.PLANNER, actor="admin")
    admin, admin_secret = repo.create_key(name="root", role=Role.ADMIN, actor="admin")
    assert secret != admin_secret and len(secret) > 30
    assert repo.key_for_secret(secret) == key and key.revoked_at is None and key.created_at is not None
    assert repo.key_for_secret(admin_secret).role is Role.ADMIN  # type: ignore[union-attr]
    assert repo.key_for_secret(secret + "x") is None
    assert repo.list_keys() == [key, admin]
    revoked = repo.revoke_key(key.id, actor="admin")
    assert revoked.revoked_at is not None and revoked.revoked_at >= key.created_at  # type: ignore[operator]
    assert repo.key_for_secret(secret) == revoked
    with pytest.raises(Conflict):
        repo.revoke_key(key.id, actor="admin")
    with pytest.raises(NotFound):
        repo.revoke_key(9999, actor="admin")
    assert secret not in repr(repo.audit_events())


def test_audit_is_append_only(repo: Repository) -> None:
    seeded(repo, 2)
    repo.create_key(name="k", role=Role.ADMIN, actor="carol")
    events = repo.audit_events()
    assert [e.action for e in events] == ["key.create", "school.import"]
    assert events[0].actor == "carol" and events[0].at >= events[1].at and events[1].after == {"count": 2}
    assert repo.audit_events(limit=1, offset=1) == events[1:]
    for stmt in ("UPDATE audit SET actor = ?", "DELETE FROM audit WHERE actor <> ?"):
        with pytest.raises(Conflict), repo.transaction() as cur:  # type: ignore[attr-defined]
            cur.execute(repo._sql(stmt), ("mallory",))  # type: ignore[attr-defined]
    assert repo.audit_events() == events


# ---------------------------------------------------------------------- migrations


def test_migrations_are_idempotent_and_safe_to_race(repo_url: str) -> None:
    """Two workers starting together on an empty database both come up; each migration runs once."""
    results = run_together(lambda: open_repository(repo_url), lambda: open_repository(repo_url))
    try:
        assert not [r for r in results if isinstance(r, BaseException)], results
        assert results[0].upgrade() == [] and results[1].upgrade() == []
        with results[0].transaction() as cur:  # type: ignore[attr-defined]
            rows = cur.execute("SELECT version FROM schema_migrations ORDER BY version").fetchall()
        assert [r[0] for r in rows] == [v for v, _ in results[0].migrations()]  # type: ignore[attr-defined]
        assert results[0].zone_version() == 1 and results[0].list_schools() == []
    finally:
        for r in results:
            if not isinstance(r, BaseException):
                r.close()
