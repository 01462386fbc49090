"""GET /v1/reports/districts under the cn profile with real teacher figures: exact 轮岗 moves,
every member at the threshold afterwards, the per-district and between-district 差异系数 by hand.

The six schools below are made up for this test (not real schools): only their enrolment and
``backbone_teachers`` (县级以上骨干教师数, the rotation's default indicator) are real-shaped.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from geo.models import School
from service.main import create_app
from service.storage.base import Repository
from tests.conftest import bearer, settings_for

# code: (district lead, enrolment, backbone teachers). cn primary threshold: 1.0 per 100 pupils,
# so a school needs ceil(n / 100) backbone teachers.
MADE_UP = {
    "p-A1": ("p-A1", 400, 8),  # needs 4: surplus 4
    "p-A2": ("p-A1", 300, 1),  # needs 3: deficit 2
    "p-A3": ("p-A1", 200, 1),  # needs 2: deficit 1
    "p-B1": ("p-B1", 500, 5),  # needs 5: exact
    "p-B2": ("p-B1", 250, 6),  # needs ceil(2.5) = 3: surplus 3
    "p-B3": ("p-B1", 150, 0),  # needs ceil(1.5) = 2: deficit 2
}
# By hand: each district has one donor, so the moves are forced and their count (3 in A, 2 in B)
# equals the total deficit, the lower bound.
MOVES = [("p-A1", "p-A1", "p-A2", 2), ("p-A1", "p-A1", "p-A3", 1), ("p-B1", "p-B2", "p-B3", 2)]

# District A, backbone teachers per 100 pupils: x = 2, 1/3, 1/2; weights n/N = 4/9, 3/9, 2/9;
# xbar = 10 / 900 * 100 = 10/9. Deviations 8/9, -7/9, -11/18, so
# var = 4/9 * 64/81 + 3/9 * 49/81 + 2/9 * 121/324 = (1024 + 588 + 242) / 2916 = 1854 / 2916.
CV_A = math.sqrt(1854 / 2916) / (10 / 9)  # 0.71763...
# District B: x = 1, 2.4, 0; weights 5/9, 2.5/9, 1.5/9; xbar = 11/9.
# Deviations -2/9, 10.6/9, -11/9: var = (5 * 4 + 2.5 * 112.36 + 1.5 * 121) / 729 = 482.4 / 729.
CV_B = math.sqrt(482.4 / 729) / (11 / 9)  # 0.66555...
# Between districts: A = 10 teachers / 900 pupils, B = 11 / 900; each weight 1/2, xbar = 21/1800 * 100
# = 7/6, deviations -+1/18: CV = (1/18) / (7/6) = 1/21.
CV_BETWEEN = 1 / 21


@pytest.fixture
def cn_client(db_url: str) -> Iterator[TestClient]:
    settings = settings_for(db_url)
    settings.profile = "cn"
    with TestClient(create_app(settings), raise_server_exceptions=True) as c:
        yield c


def _made_up(repo: Repository) -> None:
    repo.import_schools([School(code=c, name=f"Made-up {c}", name_local=f"虚构{c}", levels=("primary",),
                                lon=i / 100, lat=30.0, enrolment=n, attributes={"backbone_teachers": t})
                         for i, (c, (_, n, t)) in enumerate(MADE_UP.items())], actor="t")


def _indicator(items: list[dict[str, Any]], key: str) -> dict[str, Any]:
    return next(i for i in items if i["indicator"]["key"] == key)


def test_teacher_moves_and_cvs_by_hand(cn_client: TestClient, keys: dict[str, str], repo: Repository) -> None:
    _made_up(repo)
    for lead, name in (("p-A1", "甲学区"), ("p-B1", "乙学区")):
        members = sorted(c for c, (d, _, _) in MADE_UP.items() if d == lead)
        body = {"name": name, "levels": ["primary"], "school_year": 2026, "lead": lead, "schools": members}
        r = cn_client.post("/v1/districts", json=body, headers=bearer(keys["planner"]))
        assert r.status_code == 201, r.text
    r = cn_client.get("/v1/reports/districts?level=primary&year=2026")
    assert r.status_code == 200, r.text
    got = r.json()
    assert got["profile"] == "cn@2024.1" and got["report"]["profile"] == "cn@2024.1"
    moves = [(m["district"], m["from_school"], m["to_school"], m["count"]) for m in got["teacher_moves"]]
    assert sorted(moves) == MOVES
    assert got["teacher_short"] == []
    have = {c: t for c, (_, _, t) in MADE_UP.items()}
    for _, src, dst, k in moves:
        have[src] -= k
        have[dst] += k
    assert all(have[c] >= math.ceil(n / 100) for c, (_, n, _) in MADE_UP.items()), have
    per = {d["lead"]: _indicator(d["report"]["indicators"], "backbone_teachers") for d in got["report"]["districts"]}
    assert per["p-A1"]["cv_weighted"] == pytest.approx(CV_A, rel=1e-9)
    assert per["p-A1"]["area_value"] == pytest.approx(10 / 9, rel=1e-9)
    assert per["p-B1"]["cv_weighted"] == pytest.approx(CV_B, rel=1e-9)
    assert per["p-A1"]["cv_limit"] == 0.5 and per["p-A1"]["within_limit"] is False
    between = _indicator(got["report"]["between"], "backbone_teachers")
    assert between["cv_weighted"] == pytest.approx(CV_BETWEEN, rel=1e-9)
    assert between["values"] == pytest.approx({"p-A1": 10 / 9, "p-B1": 11 / 9}, rel=1e-9)
    assert "5" in got["teacher_moves_text"]["en"] and "5" in got["teacher_moves_text"]["zh"]


def test_nearest_donor_and_shortfall(cn_client: TestClient, keys: dict[str, str], repo: Repository) -> None:
    """Made-up schools again. District C has two donors, 50 km apart, each next to one taker: the
    least-travel transfer pairs each taker with its neighbour. District D has no surplus: its taker is
    reported short by 1 and no move is invented."""
    rows = {  # code: (lead, lon, enrolment, backbone teachers); all need ceil(100 / 100) = 1
        "p-C1": ("p-C1", 0.0, 100, 2), "p-C2": ("p-C1", 0.01, 100, 0),
        "p-C3": ("p-C1", 0.5, 100, 2), "p-C4": ("p-C1", 0.51, 100, 0),
        "p-D1": ("p-D1", 2.0, 100, 1), "p-D2": ("p-D1", 2.01, 100, 0),
    }
    repo.import_schools([School(code=c, name=f"Made-up {c}", levels=("primary",), lon=x, lat=30.0, enrolment=n,
                                attributes={"backbone_teachers": t}) for c, (_, x, n, t) in rows.items()], actor="t")
    for lead, name in (("p-C1", "丙学区"), ("p-D1", "丁学区")):
        members = sorted(c for c, v in rows.items() if v[0] == lead)
        body = {"name": name, "levels": ["primary"], "school_year": 2026, "lead": lead, "schools": members}
        assert cn_client.post("/v1/districts", json=body, headers=bearer(keys["planner"])).status_code == 201
    got = cn_client.get("/v1/reports/districts?level=primary&year=2026").json()
    moves = sorted((m["district"], m["from_school"], m["to_school"], m["count"]) for m in got["teacher_moves"])
    assert moves == [("p-C1", "p-C1", "p-C2", 1), ("p-C1", "p-C3", "p-C4", 1)]
    assert [(s["lead"], s["school"], s["teachers_short"]) for s in got["teacher_short"]] == [("p-D1", "p-D2", 1)]
