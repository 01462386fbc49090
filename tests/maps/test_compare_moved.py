"""The compare map of a proposal against its parent: the blocks that change school outlined and counted."""

from __future__ import annotations

import json

import shapely

from maps import render_html
from maps.compare import MovedUnit, compare_map
from tests.maps import data

HOSTILE = '</script><img src=x onerror="window.__pwned=1">'


def test_moved_blocks_are_outlined_counted_and_escaped() -> None:
    a, b = data.fairfax_es(), data.fairfax_scenario2()
    blocks = data.fairfax_blocks()[:3]
    moved = [MovedUnit(HOSTILE if i == 0 else u.id, shapely.MultiPolygon([u.geometry]) if u.geometry.geom_type == "Polygon"
                       else u.geometry, a[0].school_codes[0], b[1].school_codes[0], 10.0 + i) for i, u in enumerate(blocks)]
    html = render_html(compare_map(a, b, data.fairfax_schools(), lang="en", tiles="none", moved_units=moved), inline=True)
    assert html.count("catchment-moved-unit") == 1  # one style shared by the three outlines
    assert "3 blocks move (33 pupils)" in html and "Blocks that move school" in html
    assert HOSTILE not in html
    zh = render_html(compare_map(a, b, data.fairfax_schools(), lang="zh", tiles="none", moved_units=moved), inline=True)
    text = "3 个生源单元调整（33 名学生）"
    assert text in zh or json.dumps(text)[1:-1] in zh  # the info box may reach the page as a script string
    plain = render_html(compare_map(a, b, data.fairfax_schools(), lang="en", tiles="none"), inline=True)
    assert "catchment-moved-unit" not in plain and "blocks move" not in plain
