"""District formation on the real sample: an area chosen by attribute or box, a score named by the
error when none is given, schools without a score left out and said.

The sample holds every NSW government primary school of Greater Sydney (664, with the
department's published attributes: LGA, ICSEA_value, ...); a county-sized formation picks one
local government area, as a Chinese county forms its own 学区.
"""

from __future__ import annotations

import json
import time
from dataclasses import replace
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from service.cli import app as cli
from service.storage.base import Repository
from tests.conftest import bearer

HAWKESBURY = 24  # government primary schools in the Hawkesbury LGA, in the sample


def _wait(client: TestClient, job_id: int, key: str, timeout: float = 120.0) -> dict[str, Any]:
    end = time.monotonic() + timeout
    while True:
        body = client.get(f"/v1/jobs/{job_id}", headers=bearer(key)).json()
        if body["status"] in ("done", "failed", "cancelled") or time.monotonic() > end:
            return body
        time.sleep(0.1)


def test_cli_forms_one_local_government_area(db_url: str, repo: Repository) -> None:
    r = CliRunner().invoke(cli, ["districts", "form", "--level", "primary", "--where", "LGA=Hawkesbury", "--score", "ICSEA_value",
                                 "--max-travel-m", "30000", "--time-limit", "30", "--year", "2026", "--json", "--database", db_url])
    assert r.exit_code == 0, r.output
    got = json.loads(r.stdout)
    codes = [c for d in got["districts"] for c in d["schools"]]
    hawkesbury = {s.code for s in repo.list_schools(level="primary") if s.attributes.get("LGA") == "Hawkesbury"}
    assert len(hawkesbury) == HAWKESBURY and sorted(codes) == sorted(hawkesbury)
    assert all(2 <= len(d["schools"]) <= 10 and d["max_travel_m"] <= 30_000 for d in got["districts"])
    assert got["left_out"] == []


def test_cli_where_that_matches_nothing_names_the_values(db_url: str) -> None:
    r = CliRunner().invoke(cli, ["districts", "form", "--level", "primary", "--where", "LGA=Hawksbury", "--score", "ICSEA_value",
                                 "--database", db_url])
    assert r.exit_code == 2
    assert "no school has LGA = 'Hawksbury'" in r.output and "Hawkesbury" in r.output
    typo = CliRunner().invoke(cli, ["districts", "form", "--level", "primary", "--where", "lga=Camden", "--database", db_url])
    assert typo.exit_code == 2 and "did you mean LGA?" in typo.output
    bad = CliRunner().invoke(cli, ["districts", "form", "--level", "primary", "--where", "LGA", "--database", db_url])
    assert bad.exit_code == 2 and "KEY=VALUE" in bad.output


def test_no_score_names_the_numeric_attributes(db_url: str) -> None:
    # The default profile (generic) sets no balance thresholds: the message says what could score.
    r = CliRunner().invoke(cli, ["districts", "form", "--level", "primary", "--where", "LGA=Camden", "--database", db_url])
    assert r.exit_code == 2
    out = " ".join(r.output.split())
    assert "--score" in out and "ICSEA_value (" in out and "Postcode" not in out and "Latitude" not in out


def test_http_form_a_box_of_the_state(client: TestClient, keys: dict[str, str], repo: Repository) -> None:
    # A box around Penrith and the foot of the Blue Mountains, 5 s: a plan of every school inside.
    box = [150.55, -33.85, 150.80, -33.65]
    inside = [s for s in repo.list_schools(level="primary")
              if box[0] <= s.lon <= box[2] and box[1] <= s.lat <= box[3]]
    assert 30 <= len(inside) <= 120
    form = {"level": "primary", "school_year": 2026, "score": "ICSEA_value", "bbox": box, "time_limit_s": 5}
    r = client.post("/v1/districts/form", json=form, headers=bearer(keys["planner"]))
    assert r.status_code == 202, r.text
    done = _wait(client, r.json()["id"], keys["planner"])
    assert done["status"] == "done", done
    res = done["result"]
    assert sorted(c for d in res["districts"] for c in d["schools"]) == sorted(s.code for s in inside)
    assert done["params"]["bbox"] == box and done["params"]["schools"] == len(inside)


@pytest.mark.parametrize(("body", "where", "says"), [
    ({"where": {"LGA": ["Nowhere"]}}, "where.LGA", "values of LGA"),
    ({"bbox": [151.0, -33.0, 150.0, -34.0]}, "bbox", "min lon < max lon"),
    ({"bbox": [0.0, 0.0, 1.0, 1.0]}, "bbox", "no school of the selection"),
    ({"score": "Principal_network"}, "school 1001", "not a number"),
])
def test_http_bad_selection_is_a_422_before_any_job(client: TestClient, keys: dict[str, str], body: dict[str, Any],
                                                    where: str, says: str) -> None:
    form = {"level": "primary", "school_year": 2026, "score": "ICSEA_value"} | body
    r = client.post("/v1/districts/form", json=form, headers=bearer(keys["planner"]))
    assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json"), r.text
    assert r.json()["where"] == where and says in r.json()["detail"], r.json()
    assert client.get("/v1/jobs", headers=bearer(keys["planner"])).json() == []


def test_schools_without_a_score_are_left_out_and_said(client: TestClient, keys: dict[str, str], repo: Repository) -> None:
    camden = [s for s in repo.list_schools(level="primary") if s.attributes.get("LGA") == "Camden"]
    blank = camden[0]
    repo.update_school(replace(blank, attributes={**blank.attributes, "ICSEA_value": ""}), actor="t")
    form = {"level": "primary", "school_year": 2026, "score": "ICSEA_value", "where": {"LGA": ["Camden"]}, "time_limit_s": 20}
    r = client.post("/v1/districts/form", json=form, headers=bearer(keys["planner"]))
    assert r.status_code == 202, r.text
    res = _wait(client, r.json()["id"], keys["planner"])["result"]
    assert [x["code"] for x in res["left_out"]] == [blank.code]
    assert sorted(c for d in res["districts"] for c in d["schools"]) == sorted(s.code for s in camden[1:])
