"""One table of level names: explanations and maps say 小学 / 初中 / 高中, or the stored name."""

from __future__ import annotations

import pytest

from geo.levels import level_name
from maps.styles import level_label


@pytest.mark.parametrize(("level", "zh", "en"), [
    ("primary", "小学", "Primary"), ("elementary", "小学", "Primary"), ("middle", "初中", "Junior secondary"),
    ("junior", "初中", "Junior secondary"), ("high", "高中", "High school"), ("secondary", "高中", "High school"),
    ("kindergarten", "幼儿园", "Kindergarten"), ("boarding annex", "boarding annex", "boarding annex"),
])
def test_level_names_and_the_maps_use_the_same_table(level: str, zh: str, en: str) -> None:
    assert level_name(level, "zh") == zh and level_name(level, "en") == en
    assert level_label(level, "zh") == zh and level_label(level, "en") == en
