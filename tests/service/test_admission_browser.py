"""The parents' page in a shared zone with admission data: the odds table in English and Chinese (headless Chromium).

TEST FIXTURE, made up (tests/data/admission/README.md): schools A and B share the East zone.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from service.cli import app as cli
from service.main import create_app
from tests.conftest import settings_for
from tests.service.test_admission import DATA, _build
from tests.support.pages import Tab, axe, browser, served

pytestmark = pytest.mark.browser

__all__ = ["browser"]  # module fixture


def _rows(tab: Tab) -> list[list[str]]:
    return list(tab.page.eval_on_selector_all(
        ".odds-table tbody tr", "rows => rows.map(r => Array.from(r.cells).map(c => c.textContent))"))


def test_the_page_shows_the_odds_of_a_shared_zone_in_both_languages(browser: Any, tmp_path: Path) -> None:
    world = _build(f"sqlite:///{tmp_path / 'adm.db'}")
    r = CliRunner().invoke(cli, ["import", "admission", str(DATA / "admission.csv"), "--plan", str(world["plan"]),
                                 "--database", str(world["url"])])
    assert r.exit_code == 0, r.output
    settings = settings_for(str(world["url"]))
    settings.maps.tiles = "none"
    with served(create_app(settings)) as base:
        tab = Tab(browser, base)
        tab.open("/?lon=121.437&lat=31.19")
        tab.page.wait_for_selector(".odds-table")
        assert _rows(tab) == [["Registered and living in the zone", "Huayuan Primary", "100%"],
                              ["Living in the zone", "Huayuan Primary", "25%"],
                              ["Registered and living in the zone", "Caoxi Primary", "100%"],
                              ["Living in the zone", "Caoxi Primary", "50%"]]
        assert "Chance of admission at the first choice (exact): 100 places, 140 applicants" in tab.text(".odds-table caption")
        assert "Living in the zone choosing Huayuan Primary first: 25%" in tab.text("#answer-explanation")
        assert axe(tab) == []
        tab.close()
        zh = Tab(browser, base, locale="zh-CN")
        zh.open("/?lang=zh&lon=121.437&lat=31.19")
        zh.page.wait_for_selector(".odds-table")
        assert _rows(zh)[1] == ["居住在片区", "华苑小学", "25%"]
        assert "第一志愿录取概率（精确计算）：学位 100 个，报名 140 人" in zh.text(".odds-table caption")
        assert "居住在片区第一志愿华苑小学：25%" in zh.text("#answer-explanation")
        zh.close()
