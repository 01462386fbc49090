"""The README's admission example, command by command, on a new database: what it prints is what
the README shows (the made-up Xuhui schools and zones of tests/data/admission)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from service.cli import app as cli

DATA = Path(__file__).resolve().parent.parent / "data" / "admission"
README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")


def test_readme_admission_example(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CATCHMENT_DATABASE_URL", f"sqlite:///{tmp_path / 'xuhui.db'}")
    monkeypatch.chdir(tmp_path)
    run = CliRunner()

    def say(*args: str, env: dict[str, str] | None = None) -> str:
        r = run.invoke(cli, list(args), env=env)
        assert r.exit_code == 0, r.output
        return r.output

    steps = [
        say("import", "schools", str(DATA / "schools.csv")),
        say("import", "zones", str(DATA / "zones.geojson"), "--plan", "Xuhui primary 2026", "--district", "xh",
            "--level", "primary", "--year", "2026", "--adopt"),
        say("import", "admission", str(DATA / "admission.csv"), "--plan", "1"),
    ]
    for out in steps:  # every line printed is in the README
        for line in out.strip().splitlines():
            assert line.rstrip() in README, line
    answer = json.loads(say("lookup", "121.437", "31.19"))
    assert "Living in the zone choosing Huayuan Primary first: 25%" in answer["explanation"]["en"]
    assert "居住在片区第一志愿华苑小学：25%" in answer["explanation"]["zh"]
    notice = say("lottery", "publish", "--plan", "1", "--zone", "A", "--seed", "2026-06-20 福彩3D 381")
    assert notice.startswith("draw 1 published") and "04be9c0a" in notice and "fedb310c" in notice
    drawn = say("lottery", "draw", "--plan", "1", "1", "--out", "draw-1.csv")
    for line in drawn.strip().splitlines():
        assert line in README, line
    assert (tmp_path / "draw-1.csv").read_text(encoding="utf-8").count("\n") == 141  # header + 140 applicants
    enrolled = say("import", "enrolments", str(DATA / "enrolments.csv"), "--level", "primary")
    report = say("report", "admission", "--level", "primary", env={"CATCHMENT_PROFILE": "cn"})
    for out in (enrolled, report):
        for line in out.strip().splitlines():
            assert " ".join(line.split()) in " ".join(README.split()), line
