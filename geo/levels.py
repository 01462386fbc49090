"""The display names of school levels, in English and Chinese: one table for every text and map.

A deployment names its levels as it likes ("primary", "elementary", "ES", "高中"); the name is
recognised through :func:`geo.standards.level_kind` (plus kindergarten, which has no
standards kind), and an unknown name is shown as stored, in both languages.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from geo.standards import LevelKind, level_kind

Lang = Literal["en", "zh"]

#: Names of the level kinds the standards know.
LEVEL_NAMES: Mapping[LevelKind, Mapping[Lang, str]] = {
    LevelKind.PRIMARY: {"en": "Primary", "zh": "小学"},
    LevelKind.JUNIOR: {"en": "Junior secondary", "zh": "初中"},
    LevelKind.HIGH: {"en": "High school", "zh": "高中"},
}

_KINDERGARTEN: Mapping[Lang, str] = {"en": "Kindergarten", "zh": "幼儿园"}
_KINDERGARTEN_NAMES = frozenset({"kindergarten", "kinder", "preschool", "pre_school", "幼儿园", "学前"})


def level_name(level: str, lang: Lang) -> str:
    """A level's display name: ``"primary"`` or ``"elementary"`` -> ``"Primary"`` / ``"小学"``.

    Parameters
    ----------
    level
        The level as stored; case, spaces and hyphens are ignored when recognising it.
    lang
        ``"en"`` or ``"zh"``.

    Returns
    -------
    str
        The name from the table, or ``level`` itself when the level is not recognised.
    """
    key = "_".join(str(level).strip().lower().replace("-", " ").split())
    if key in _KINDERGARTEN_NAMES:
        return _KINDERGARTEN[lang]
    kind = level_kind(level)
    return LEVEL_NAMES[kind][lang] if kind is not None else level
