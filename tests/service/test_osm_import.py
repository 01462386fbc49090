"""``catchment import schools --from-osm`` on the real Portland extract: what is skipped and why."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from service.cli import app as cli
from service.storage import open_repository
from tests.conftest import DATA

PORTLAND = DATA.parent / "osm" / "portland.osm.pbf"


def test_from_osm_skips_the_dentistry_school_and_says_why(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'osm.db'}"
    out = CliRunner().invoke(cli, ["import", "schools", str(PORTLAND), "--from-osm", "--level", "middle", "--database", url],
                             terminal_width=300)
    assert out.exit_code == 0, out.output
    assert "0 written, 1 skipped" in out.output
    assert "university or professional school" in out.output and "School of Dentistry" in out.output
    assert "--name-pattern" in out.output
    assert open_repository(url).list_schools() == []
    named = CliRunner().invoke(cli, ["import", "schools", str(PORTLAND), "--from-osm", "--level", "middle",
                                     "--name-pattern", r"\bschool\b", "--database", url], terminal_width=300)
    assert named.exit_code == 0, named.output
    schools = {s.name: s for s in open_repository(url).list_schools()}
    assert {"West Sylvan Middle School", "Warren Middle School"} <= set(schools)
    assert "Oregon Health & Sciences University School of Dentistry" not in schools
    assert schools["Warren Middle School"].levels == ("middle",)
    assert "level unknown, assumed" in named.output  # "Upper School Science Building": no tag, no level word
