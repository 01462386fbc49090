"""Labels, bands and formats of maps/styles.py."""

from __future__ import annotations

import re

import pytest

from geo.errors import InvalidInput
from geo.standards import UTILISATION_BANDS, get_profile
from maps.styles import (
    BAND_COLOURS,
    LABELS,
    LANGS,
    ZONE_PALETTE,
    LegendItem,
    band_colour,
    check_lang,
    distance_bands,
    fmt_distance,
    label,
    legend_html,
    level_label,
    pick_text,
    time_bands,
)

_CJK = re.compile(r"[\u4e00-\u9fff]")


def test_every_label_has_english_and_chinese() -> None:
    for key, texts in LABELS.items():
        assert set(texts) == set(LANGS), key
        assert texts["en"].strip() and texts["zh"].strip(), key
        assert not _CJK.search(texts["en"]), key
        # Placeholders must match, or one language would fail to format.
        assert set(re.findall(r"{(\w+)}", texts["en"])) == set(re.findall(r"{(\w+)}", texts["zh"])), key
        assert _CJK.search(texts["zh"]) or texts["zh"] == texts["en"], key


def test_check_lang_refuses_other_languages() -> None:
    assert check_lang("zh") == "zh"
    with pytest.raises(InvalidInput) as err:
        check_lang("fr")
    assert err.value.where == "lang"


def test_distance_bands_follow_the_service_radius() -> None:
    radius = get_profile("cn").for_level("primary").service_radius_m
    assert radius is not None
    scale = distance_bands(radius)
    assert [b.upper for b in scale.bands] == [radius, 2 * radius, 4 * radius, None]
    assert scale.classify(radius).key == "d1"
    assert scale.classify(radius + 1).key == "d2"
    assert scale.classify(10 * radius).key == "d4"
    assert "500 m" in scale.bands[0].label_en and "500 米" in scale.bands[0].label_zh
    with pytest.raises(InvalidInput):
        distance_bands(0)


def test_time_bands_are_in_minutes() -> None:
    scale = time_bands(600)
    assert "10 min" in scale.bands[0].label_en and "10 分钟" in scale.bands[0].label_zh
    assert scale.classify(1300).key == "d3"


def test_band_colours_are_distinct_and_cover_the_utilisation_bands() -> None:
    colours = [band_colour(UTILISATION_BANDS, b) for b in UTILISATION_BANDS.bands]
    assert len(set(colours)) == len(colours)
    assert all(b.key in BAND_COLOURS for b in UTILISATION_BANDS.bands)
    assert len(set(ZONE_PALETTE)) == len(ZONE_PALETTE) >= 6


def test_formats_and_text_choice() -> None:
    assert fmt_distance(450.4, "en") == "450 m"
    assert fmt_distance(1000, "zh") == "1 公里"
    assert fmt_distance(2350, "en") == "2.4 km"
    assert level_label("primary", "zh") == "小学"
    assert level_label("ES", "en") == "Primary"
    assert level_label("band-9", "en") == "band-9"
    assert pick_text({"en": "hello", "zh": "你好"}, "zh") == "你好"
    assert pick_text({"en": "hello"}, "zh") == "hello"
    assert label("breach_class_size", "en", n=45) == "class size above 45"


def test_legend_html_escapes_text() -> None:
    html = legend_html("A <b> title", [LegendItem("fill", "#ffffff", "x < y & z")])
    assert "A &lt;b&gt; title" in html and "x &lt; y &amp; z" in html and "<b>" not in html
