"""The parents' page (``/``) and the planners' workspace (``/plan``): language, settings, the HTML shell.

Each page is a small HTML file from ``service/templates/`` with its labels written in by the
server (escaped), plus a JSON data block that the page's own script reads: the language's
labels, the tile layer and the default school year. The scripts and styles are files under
``service/static/`` (no inline script, so the pages run under a strict Content-Security-Policy).
"""

from __future__ import annotations

import html
import json
import re
from functools import cache
from pathlib import Path
from typing import Any

from geo.errors import InvalidInput
from maps.base import parse_tiles
from maps.styles import LANGS, level_label
from service.operations.lookup import school_year
from service.operations.page_text import FIND, PLAN, Text, texts
from service.settings import Settings
from service.state import Snapshot

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
_SLOT = re.compile(r"\{\{\s*(@?[a-z_]+)\s*\}\}")
_LANG_TAG = re.compile(r"^\s*([A-Za-z]{1,8})(?:-[A-Za-z0-9]{1,8})*\s*(?:;\s*q\s*=\s*([0-9.]+))?\s*$")
HTML_LANG = {"en": "en", "zh": "zh-Hans"}


def pick_lang(query: str | None, accept_language: str | None) -> str:
    """``?lang=`` when given (en or zh), else the best of en / zh in ``Accept-Language``, else en.

    Every Chinese tag (zh, zh-CN, zh-TW, zh-Hant ...) picks zh.
    """
    if query is not None:
        if query not in LANGS:
            msg = f"lang {query!r} is not supported; use 'en' or 'zh'"
            raise InvalidInput(msg, where="lang")
        return query
    best, best_q = "en", 0.0
    for i, part in enumerate((accept_language or "").split(",")):
        m = _LANG_TAG.match(part)
        if m is None:
            continue
        primary = m[1].lower()
        try:
            q = float(m[2]) if m[2] is not None else 1.0
        except ValueError:
            continue
        # Earlier tags win ties: a tiny bonus keeps the order the browser sent.
        score = q - i * 1e-6
        if primary in LANGS and q > 0 and score > best_q:
            best, best_q = primary, score
    return best


def tiles_config(settings: Settings) -> dict[str, str] | None:
    """The tile layer of ``CATCHMENT_TILES`` for the page's script; None = no tiles (offline)."""
    text = settings.maps.tiles
    if "|" not in text and text.startswith("http") and settings.maps.tiles_attribution:
        text = f"{text}|{settings.maps.tiles_attribution}"
    tiles = parse_tiles(text)
    return None if tiles is None else {"url": tiles.url, "attribution": tiles.attribution}


def level_names(snap: Snapshot, lang: str) -> dict[str, str]:
    """Display names of the levels of the adopted plans ("primary" -> "Primary" / "小学")."""
    return {p.level: level_label(p.level, lang) for p in snap.plans}  # type: ignore[arg-type]


def find_page(snap: Snapshot, settings: Settings, *, lang: str, root: str = "") -> str:
    """The parents' find-your-school page."""
    config = {"lang": lang, "root": root, "text": texts(FIND, lang), "tiles": tiles_config(settings),
              "year": school_year(settings, None), "levels": level_names(snap, lang)}
    return render("find.html", FIND, lang=lang, root=root, config=config)


def plan_page(snap: Snapshot, settings: Settings, *, lang: str, root: str = "") -> str:
    """The planners' workspace."""
    config = {"lang": lang, "root": root, "text": texts(PLAN, lang), "tiles": tiles_config(settings),
              "levels": level_names(snap, lang)}
    return render("plan.html", PLAN, lang=lang, root=root, config=config)


def render(name: str, table: Text, *, lang: str, root: str, config: dict[str, Any]) -> str:
    """Fill a template's ``{{label}}`` slots (escaped) and its ``{{@config}}`` data block."""
    words = texts(table, lang)
    other = "zh" if lang == "en" else "en"
    values = {"html_lang": HTML_LANG[lang], "root": root, "other_lang": other, "other_html_lang": HTML_LANG[other], **words}
    # "<" never appears raw inside the data block, so no stored text can close the element.
    data = json.dumps(config, ensure_ascii=False).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")

    def fill(m: re.Match[str]) -> str:
        key = m[1]
        if key == "@config":
            return data
        return html.escape(str(values[key]), quote=True)

    return _SLOT.sub(fill, _template(name))


@cache
def _template(name: str) -> str:
    return (TEMPLATES / name).read_text(encoding="utf-8")
