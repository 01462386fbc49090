"""The address_rules table on both backends: replace as a whole, list in row order, stamp, constraints."""

from __future__ import annotations

import pytest
from shapely.geometry import MultiPolygon, box

from geo.address.rules import AddressRule, Parity
from geo.errors import Conflict
from geo.models import School, Zone
from service.storage.base import Repository


def _plan(repo: Repository) -> int:
    repo.import_schools([School(code="S1", name="One", lon=121.437, lat=31.19),
                         School(code="S2", name="Two", lon=121.438, lat=31.19)], actor="t")
    zone = Zone(school_codes=("S1",), geometry=MultiPolygon([box(121.43, 31.18, 121.44, 31.20)]))
    return repo.import_plan(name="p", district="d", level="primary", school_year=2026, zones=[zone], adopt=True, actor="t").id


def test_replace_list_and_stamp(repo: Repository) -> None:
    pid = _plan(repo)
    assert repo.rules.list([pid]) == [] and repo.rules.stamp() == (0, 0)
    version = repo.zone_version()
    rules = [AddressRule(row=2, school_codes=("S1",), street="漕溪北路", first=1, last=99, parity=Parity.ODD),
             AddressRule(row=3, school_codes=("S1", "S2"), compound="华苑小区", building_first=1, building_last=12, text="x")]
    assert repo.rules.replace(pid, rules, actor="ann") == 2
    got = repo.rules.list([pid])
    assert [(r.row, r.school_codes, r.street, r.first, r.last, r.parity, r.compound, r.building_first, r.building_last, r.text)
            for r in got] == [(2, ("S1",), "漕溪北路", 1, 99, Parity.ODD, None, None, None, None),
                              (3, ("S1", "S2"), None, None, None, Parity.ALL, "华苑小区", 1, 12, "x")]
    assert all(r.plan_id == pid and r.id is not None for r in got)
    assert repo.zone_version() > version  # workers rebuild their snapshot (lookups use the rules)
    stamp = repo.rules.stamp()
    repo.rules.replace(pid, rules[:1], actor="ann")
    assert len(repo.rules.list([pid])) == 1 and repo.rules.stamp() != stamp


def test_a_bad_rule_writes_nothing(repo: Repository) -> None:
    pid = _plan(repo)
    repo.rules.replace(pid, [AddressRule(row=2, school_codes=("S1",), street="A路")], actor="ann")
    bad = [AddressRule(row=2, school_codes=("S1",), street="B路"),
           AddressRule(row=3, school_codes=("S1",), street="C路", first=9, last=1)]  # the CHECK refuses from > to
    with pytest.raises(Conflict, match="out of range"):  # the backends turn the CHECK violation into a 409
        repo.rules.replace(pid, bad, actor="ann")
    assert [r.street for r in repo.rules.list([pid])] == ["A路"]
