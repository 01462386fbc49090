"""The one escaping function of the maps, and JSON that is safe inside a <script>."""

from __future__ import annotations

import json

import pytest

from maps.styles import escape, script_json

HOSTILE = ["</script><script>alert(1)</script>", '"><img src=x onerror=alert(1)>', "`${alert(1)}`", "a\\`b", "<!--",
           "Saint Mary's & \"St John\"", "北京市第一中学 <b>"]


@pytest.mark.parametrize("text", HOSTILE)
def test_escape_leaves_nothing_that_html_or_a_template_literal_would_act_on(text: str) -> None:
    out = escape(text)
    for ch in "<>\"'`$\\":
        assert ch not in out
    # The browser shows the original text: entities decode back to it.
    import html

    assert html.unescape(out) == text


def test_escape_keeps_plain_and_chinese_text() -> None:
    assert escape("Annandale Public School 安南代尔公立小学") == "Annandale Public School 安南代尔公立小学"
    assert escape(42) == "42"


@pytest.mark.parametrize("text", HOSTILE)
def test_script_json_cannot_close_the_script_and_parses_back(text: str) -> None:
    doc = {"name": text, "rows": [[0, text]], "line": "a\u2028b"}
    out = script_json(doc)
    assert "</" not in out and "<!--" not in out and "<" not in out and "\u2028" not in out
    assert json.loads(out) == doc
