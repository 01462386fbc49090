"""append_zones and address_stamp on both backends (see conftest.repo): zones added to a plan
(e.g. phasing in from a later year) without touching its others, atomically and versioned."""

from __future__ import annotations

import dataclasses

import pytest
from shapely.geometry import box

from geo.address.geocode import AddressRecord
from geo.errors import Conflict, InvalidInput
from geo.models import PlanStatus, Zone
from service.storage.base import Repository
from tests.storage.test_contract import make_zones, mp, seeded


def test_append_keeps_the_others_and_versions(repo: Repository) -> None:
    codes = [s.code for s in seeded(repo, 4)]
    plan = repo.import_plan(name="p", district="d", level="primary", school_year=2026, zones=make_zones(codes[:2]),
                            adopt=True, actor="seed")
    old = repo.zones(plan.id)
    stamp = repo.zone_version()
    new = Zone(school_codes=(codes[2],), geometry=mp(box(151.05, -33.9, 151.06, -33.89)), name="from 2027",
               grades=("K", "1"), grade_start_years={"K": 2027, "1": 2028}, source="future file")
    after = repo.append_zones(plan.id, [new], actor="alice", action="zones.append-future")
    assert after.version == plan.version + 1 and after.status is PlanStatus.ADOPTED
    zones = repo.zones(plan.id)
    assert [z.id for z in zones[: len(old)]] == [z.id for z in old]  # untouched, same ids
    added = zones[-1]
    assert (added.school_codes, added.grades, dict(added.grade_start_years), added.source) == (
        new.school_codes, new.grades, {"K": 2027, "1": 2028}, "future file")
    assert added.geometry.equals(new.geometry)
    assert repo.zone_version() > stamp
    last = repo.plan_versions(plan.id)[-1]
    assert (last["action"], last["actor"], last["version"]) == ("zones.append-future", "alice", after.version)
    assert len(repo.plan_version_zones(plan.id, after.version)) == len(old) + 1
    event = repo.audit_events(target=f"plan:{plan.id}")[0]
    assert event.action == "plan.zones.append-future" and event.after["added"] == 1
    # The new zone is in the lookup data: adopted plans' zones.
    assert added.id in {z.id for p, z in repo.adopted_zones() if p.id == plan.id}
    # Nothing to add: no new version.
    assert repo.append_zones(plan.id, [], actor="alice").version == after.version


def test_append_is_all_or_nothing(repo: Repository) -> None:
    codes = [s.code for s in seeded(repo, 3)]
    plan = repo.import_plan(name="p", district="d", level="primary", school_year=2026, zones=make_zones(codes[:1]),
                            adopt=False, actor="seed")
    good = Zone(school_codes=(codes[1],), geometry=mp(box(151.05, -33.9, 151.06, -33.89)))
    bad = dataclasses.replace(good, school_codes=("NOPE",))
    with pytest.raises(InvalidInput):
        repo.append_zones(plan.id, [good, bad], actor="alice")
    assert len(repo.zones(plan.id)) == 2 and repo.get_plan(plan.id).version == plan.version
    archived = repo.set_plan_status(plan.id, PlanStatus.ARCHIVED, actor="alice")
    with pytest.raises(Conflict):
        repo.append_zones(plan.id, [good], actor="alice")
    assert repo.get_plan(plan.id).version == archived.version


def test_address_stamp_moves_with_address_imports_only(repo: Repository) -> None:
    assert repo.address_stamp() == (0, 0)
    recs = [AddressRecord(id=str(i), lon=151.0 + i / 1000, lat=-33.9, number=str(i), street="Test St", locality="Here")
            for i in range(1, 4)]
    repo.import_addresses("a", recs, actor="t")
    first = repo.address_stamp()
    assert first[0] == 3
    seeded(repo, 2)  # a school import bumps the zone version, not the address stamp
    assert repo.address_stamp() == first
    repo.import_addresses("a", recs, actor="t")  # same rows again: the stamp still moves
    assert repo.address_stamp()[0] == 3 and repo.address_stamp() != first
