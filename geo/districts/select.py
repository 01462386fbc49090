"""Which schools a formation groups: an area by attribute values or a box, and the scores on offer.

A county forms its 学区 from its own schools, so a service holding a whole state (Greater
Sydney's 664 primary schools) must be told the area: ``where`` keeps the schools whose attribute
has one of the given values (``{"LGA": ["Hawkesbury"]}``; several keys must all match), ``bbox``
those inside (min lon, min lat, max lon, max lat), EPSG:4326. Values compare case-blind and
trimmed. A filter that keeps nothing says which values the attribute does have.
"""

from __future__ import annotations

import difflib
import math
import re
from collections import Counter
from collections.abc import Mapping, Sequence

from geo.errors import InvalidInput
from geo.models import School

Where = Mapping[str, Sequence[str]]
#: Attribute names that hold places, identifiers or contacts, never a quality score.
_NOT_A_SCORE = re.compile(r"(^|[_ ])(lon|lng|lat|longitude|latitude|x|y|id|code|postcode|zip|phone|fax|year)($|[_ ])|id$",
                          re.IGNORECASE)
BBox = tuple[float, float, float, float]


def _norm(v: object) -> str:
    return str(v).strip().casefold()


def check_bbox(bbox: Sequence[float]) -> BBox:
    """(min lon, min lat, max lon, max lat) in range and in order, or InvalidInput at ``bbox``."""
    if len(bbox) != 4 or not all(isinstance(v, int | float) and math.isfinite(v) for v in bbox):
        msg = "bbox needs four numbers: min lon, min lat, max lon, max lat (EPSG:4326) / bbox 需要四个数：最小经度、最小纬度、最大经度、最大纬度"
        raise InvalidInput(msg, where="bbox")
    x0, y0, x1, y1 = (float(v) for v in bbox)
    if not (-180 <= x0 < x1 <= 180 and -90 <= y0 < y1 <= 90):
        msg = (f"bbox {x0:g},{y0:g},{x1:g},{y1:g} must be min lon < max lon in [-180, 180] and min lat < max lat in "
               "[-90, 90] (EPSG:4326, lon first) / bbox 范围无效（经度在前）")
        raise InvalidInput(msg, where="bbox")
    return x0, y0, x1, y1


def select_schools(schools: Sequence[School], *, where: Where | None = None, bbox: Sequence[float] | None = None) -> list[School]:
    """The schools matching every ``where`` attribute (any of its values) and inside ``bbox``.

    Raises
    ------
    InvalidInput
        An empty value list, a bad box, or a filter that keeps no school (naming the values the
        attribute has, the closest first).
    """
    out = list(schools)
    for key, values in (where or {}).items():
        wanted = {_norm(v) for v in values}
        if not wanted:
            msg = f"where {key!r} needs at least one value / 筛选条件 {key!r} 缺少取值"
            raise InvalidInput(msg, where=f"where.{key}")
        kept = [s for s in out if key in s.attributes and _norm(s.attributes[key]) in wanted]
        if not kept:
            raise InvalidInput(_nothing_matches(out, key, list(values)), where=f"where.{key}")
        out = kept
    if bbox is not None:
        x0, y0, x1, y1 = check_bbox(bbox)
        out = [s for s in out if x0 <= s.lon <= x1 and y0 <= s.lat <= y1]
        if not out:
            msg = (f"no school of the selection lies inside bbox {x0:g},{y0:g},{x1:g},{y1:g} (lon, lat) / "
                   "所选范围内没有学校")
            raise InvalidInput(msg, where="bbox")
    return out


def _nothing_matches(schools: Sequence[School], key: str, values: list[str]) -> str:
    seen = Counter(str(s.attributes[key]).strip() for s in schools if key in s.attributes and s.attributes[key] not in (None, ""))
    if not seen:
        keys = sorted({k for s in schools for k in s.attributes})
        folded = {k.casefold(): k for k in keys}
        close = [folded[k] for k in difflib.get_close_matches(key.casefold(), list(folded), n=3, cutoff=0.5)]
        hint = f"; did you mean {', '.join(close)}?" if close else (f"; attributes: {', '.join(keys[:12])}" if keys else "")
        return f"no school has the attribute {key!r}{hint} / 没有学校具有属性 {key!r}"
    close = []
    for v in values:
        close += difflib.get_close_matches(v, list(seen), n=3, cutoff=0.6)
    shown = list(dict.fromkeys(close)) + [v for v, _ in seen.most_common() if v not in close]
    more = f" and {len(shown) - 10} more" if len(shown) > 10 else ""
    return (f"no school has {key} = {' or '.join(repr(v) for v in values)}; values of {key}: "
            f"{', '.join(shown[:10])}{more} / 没有学校的 {key} 为 {'、'.join(values)}")


def numeric_attributes(schools: Sequence[School], *, least_share: float = 0.5) -> list[tuple[str, int]]:
    """Attributes holding a non-negative number for at least ``least_share`` of the schools.

    The candidates for a quality score, most widely recorded first: (key, how many schools).
    Coordinates, identifiers, codes, contacts and constant columns are left out.
    """
    counts: Counter[str] = Counter()
    distinct: dict[str, set[float]] = {}
    for s in schools:
        for k, v in s.attributes.items():
            if isinstance(v, bool) or _NOT_A_SCORE.search(k):
                continue
            try:
                x = float(v)  # type: ignore[arg-type]
            except (TypeError, ValueError):
                continue
            if math.isfinite(x) and x >= 0:
                counts[k] += 1
                distinct.setdefault(k, set()).add(x)
    need = least_share * len(schools)
    found = ((k, c) for k, c in counts.items() if c >= need and len(distinct[k]) > 1)
    return sorted(found, key=lambda kc: (-kc[1], kc[0].casefold()))
