"""`catchment db upgrade` stores file-registered street networks in the database (once), and
`catchment import sample --if-empty` leaves a database with data alone (docker-compose's init)."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from geo.models import School
from service.cli import app as cli
from service.storage import open_repository
from tests.storage.test_assets import STATS, _net

runner = CliRunner()


def test_db_upgrade_imports_the_networks_registered_as_files_once(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    repo = open_repository(url)
    # An older version's layout: the file in the networks folder next to the database, registered
    # by a path that is no longer where it is (the volume was mounted elsewhere).
    (tmp_path / "networks").mkdir()
    _net().save(tmp_path / "networks" / "old-walk.npz")
    repo.register_network("old", mode="walk", path="/app/var/networks/old-walk.npz", source=None, stats=STATS, actor="t")
    out = runner.invoke(cli, ["db", "upgrade", "--database", url])
    assert out.exit_code == 0, out.output
    assert json.loads(out.output)["networks_imported"] == ["old"]
    assert repo.assets.get("network", "old") == (tmp_path / "networks" / "old-walk.npz").read_bytes()
    again = runner.invoke(cli, ["db", "upgrade", "--database", url])
    assert json.loads(again.output)["networks_imported"] == []
    repo.close()


def test_sample_if_empty_leaves_data_alone(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    repo = open_repository(url)
    repo.import_schools([School(code="S1", name="One", lon=151.0, lat=-33.8)], actor="t")
    out = runner.invoke(cli, ["import", "sample", "--if-empty", "--database", url])
    assert out.exit_code == 0, out.output
    assert "not loaded" in out.output and repo.count_schools() == 1 and repo.list_plans() == []
    repo.close()
