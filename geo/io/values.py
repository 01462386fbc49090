"""Cell values of imported rows: blanks, counts, lists, grade ranges, field mappings."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from geo.errors import InvalidInput
from geo.models import GRADE_ORDER, MAX_INT, normalise_grade


def is_blank(v: Any) -> bool:
    """None, NaN, NA or whitespace."""
    return v is None or (isinstance(v, float) and math.isnan(v)) or (isinstance(v, str) and not v.strip()) or v is pd.NA


def int_or_none(v: Any, *, what: str) -> int | None:
    """A non-negative count, rounded; blank -> None; anything else a ValueError naming ``what``."""
    if is_blank(v):
        return None
    try:
        f = float(v)
    except (TypeError, ValueError) as exc:
        msg = f"{what} {v!r} is not a number"
        raise ValueError(msg) from exc
    if not math.isfinite(f) or f < 0:
        msg = f"{what} {v!r} must be a non-negative number"
        raise ValueError(msg)
    if f > MAX_INT:
        msg = f"{what} {v!r} is larger than {MAX_INT}, the largest number stored"
        raise ValueError(msg)
    return round(f)


def split_list(v: Any) -> list[str]:
    """``"a,b"``, ``"a;b"``, ``["a", "b"]`` -> ``["a", "b"]``; blanks -> []."""
    if is_blank(v):
        return []
    if isinstance(v, (list, tuple, np.ndarray)):
        return [str(x).strip() for x in v if not is_blank(x)]
    return [x.strip() for x in re.split(r"[;,|]", str(v)) if x.strip()]


_RANGE = re.compile(r"^(?P<a>[^-]+?)\s*(?:-|to|–)\s*(?P<b>.+)$", re.IGNORECASE)


def parse_grades(v: Any) -> tuple[str, ...]:
    """``"K-6"``, ``"Kindergarten to Year 6"``, ``"7,8"``, ``["K", 1]`` -> grades in order.

    Unknown texts (``"N/A"``, ``"Medium / High Support needs"``) give an empty tuple.
    """
    out: list[str] = []
    for part in split_list(v):
        text = re.sub(r"^preschool", "K", part.strip(), flags=re.IGNORECASE)
        m = _RANGE.match(text)
        try:
            if m:
                a, b = normalise_grade(m["a"]), normalise_grade(m["b"])
                ia, ib = GRADE_ORDER.index(a), GRADE_ORDER.index(b)
                out.extend(GRADE_ORDER[ia : ib + 1])
            else:
                out.append(normalise_grade(text))
        except ValueError:
            continue
    return tuple(g for g in GRADE_ORDER if g in set(out))


def json_safe(v: Any) -> Any:
    """A cell as a JSON value (numpy scalars unwrapped, timestamps as ISO text)."""
    if is_blank(v):
        return None
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (np.floating,)):
        return float(v)
    if isinstance(v, (np.bool_,)):
        return bool(v)
    if isinstance(v, pd.Timestamp):
        return v.isoformat()
    if isinstance(v, (str, int, float, bool, list, dict)):
        return v
    return str(v)


def parse_mapping(pairs: Sequence[str]) -> dict[str, str]:
    """``["code=USE_ID", "name=USE_DESC"]`` -> ``{"code": "USE_ID", "name": "USE_DESC"}``."""
    out: dict[str, str] = {}
    for pair in pairs:
        target, sep, source = pair.partition("=")
        if not sep or not target.strip() or not source.strip():
            msg = f"mapping {pair!r} must look like target=SOURCE_FIELD"
            raise InvalidInput(msg, where="map")
        out[target.strip()] = source.strip()
    return out
