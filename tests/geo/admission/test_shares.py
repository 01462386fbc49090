"""Out-of-zone and migrant-children shares on a small table shaped like a real enrolment return.

Ids, units and schools are made up; the counts are chosen so the shares are known by hand.
"""

from __future__ import annotations

import pytest

from geo.admission.shares import EnrolmentRow, SchoolKind, admission_shares
from geo.errors import InvalidInput
from geo.standards import CN, GENERIC

# Units (小区) and the schools whose zone covers them; u2 is a shared zone (多校划片).
ZONES = {"u1": ("S1",), "u2": ("S1", "S2"), "u3": ("S2",), "u4": ("S3",)}
KINDS = {"S1": "public", "S2": "public", "S3": "public", "P1": SchoolKind.PRIVATE, "P2": "purchased"}
AREAS = {"S1": "north", "S2": "north", "P1": "north", "P2": "north", "S3": "south"}


def _rows() -> list[EnrolmentRow]:
    rows: list[EnrolmentRow] = []

    def add(n: int, unit: str, school: str, category: str | None = None) -> None:
        base = len(rows)
        rows.extend([EnrolmentRow(f"r{base + i:03d}", unit, school, category) for i in range(n)])

    # S1: 20 zoned pupils, 3 from u3 (outside): 3/20 = 15 % > 10 %; 2 allowed (floor 0.1 * 20), 1 over.
    add(10, "u1", "S1")
    add(7, "u2", "S1", "migrant")
    add(3, "u3", "S1")
    # S2: 10 pupils, 1 from u1: 10 % exactly, within the limit.
    add(8, "u3", "S2")
    add(1, "u2", "S2")
    add(1, "u1", "S2")
    # A home no zone covers: listed, not counted.
    add(1, "u9", "S1")
    # Migrants in the north: 7 at S1 (public), 2 at P2 (purchased places), 3 at P1 (private):
    # (7 + 2) / 12 = 75 % < 85 %. South: 4 at S3, all public: 100 %.
    add(2, "u1", "P2", "migrant")
    add(3, "u1", "P1", "migrant")
    add(4, "u4", "S3", "migrant")
    return rows


def test_shares_by_hand() -> None:
    rows = _rows()
    rep = admission_shares(rows, zones=ZONES, kinds=KINDS, areas=AREAS, profile=CN)
    assert rep.profile == "cn@2024.1"
    by = {s.school: s for s in rep.schools}
    assert set(by) == {"S1", "S2", "S3"}  # P1, P2 are in no zone: no "outside" to count
    s1, s2 = by["S1"], by["S2"]
    assert (s1.pupils, s1.out_of_zone, s1.share, s1.breach, s1.excess) == (20, 3, 0.15, True, 1)
    assert s1.rows == tuple(r.id for r in rows[17:20])
    assert (s2.pupils, s2.out_of_zone, s2.share, s2.breach, s2.excess, s2.rows) == (10, 1, 0.1, False, 0, ())
    assert s1.limit == 0.10
    assert rep.unzoned == (rows[30].id,)
    areas = {a.area: a for a in rep.areas}
    north, south = areas["north"], areas["south"]
    assert (north.migrants, north.in_public, north.share, north.breach) == (12, 9, 0.75, True)
    assert north.rows == tuple(r.id for r in rows[33:36])  # the three at the private school
    assert (south.migrants, south.in_public, south.share, south.breach, south.rows) == (4, 4, 1.0, False, ())
    assert "S1 15.0% (1 over)" in rep.text["en"] and "S1 15.0%（超出 1 人）" in rep.text["zh"]
    assert "below 85%" in rep.text["en"] and "低于 85%" in rep.text["zh"]


def test_generic_profile_reports_without_verdict() -> None:
    rep = admission_shares(_rows(), zones=ZONES, kinds=KINDS, profile=GENERIC)
    assert all(s.breach is None and s.limit is None for s in rep.schools)
    assert [(a.area, a.share, a.breach) for a in rep.areas] == [("all", pytest.approx(13 / 16), None)]
    assert "sets no limit" in rep.text["en"]


def test_bad_rows_named() -> None:
    rows = _rows()
    with pytest.raises(InvalidInput, match="'X9' is not a known school") as err:
        admission_shares([*rows, EnrolmentRow("new", "u1", "X9")], zones=ZONES, kinds=KINDS, profile=CN)
    assert err.value.where == f"enrolment row {len(rows) + 1}"
    with pytest.raises(InvalidInput, match="listed twice") as err:
        admission_shares([rows[0], rows[0]], zones=ZONES, kinds=KINDS, profile=CN)
    assert err.value.where == "enrolment row 2"
    with pytest.raises(InvalidInput, match="kind 'charter'"):
        admission_shares(rows, zones=ZONES, kinds={**KINDS, "S1": "charter"}, profile=CN)
