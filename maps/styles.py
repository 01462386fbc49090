"""Colours, bands, legends and every label of the maps, in English and Chinese.

One module so that a colour or a word is changed in one place. Labels are looked up with
:func:`label`; ``lang`` is ``"en"`` or ``"zh"`` everywhere.
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from geo.errors import InvalidInput
from geo.levels import level_name
from geo.standards import Band, BandScale

Lang = Literal["en", "zh"]
LANGS: tuple[Lang, ...] = ("en", "zh")

# --------------------------------------------------------------------------- colours

#: Qualitative zone fills (ColorBrewer Set3 without its red and strong yellow, so that no
#: zone looks like a problem area). Eight colours leave the colouring room to spread out.
ZONE_PALETTE: tuple[str, ...] = ("#8dd3c7", "#ffffb3", "#bebada", "#80b1d3", "#fdb462", "#b3de69", "#fccde5", "#bc80bd")
ZONE_FILL_OPACITY = 0.55
ZONE_EDGE = "#4d4d4d"
HATCH_COLOUR = "#252525"
GAP_COLOUR = "#111111"
OVERLAP_COLOUR = "#e7298a"
SCHOOL_FILL = "#ffffff"
SCHOOL_EDGE = "#1f1f1f"
POINT_COLOUR = "#0b5394"
ROUTE_COLOUR = "#0b5394"
LINE_COLOUR = "#333333"
FADED_FILL = "#9e9e9e"
BREACH_RING = "#b2182b"
CHANGED_COLOUR = "#d95f02"
#: Outline of the demand units a proposal moves to another school (over the changed areas).
MOVED_UNIT_COLOUR = "#4a1486"
NO_DATA_COLOUR = "#bdbdbd"

#: Colours by band key: the utilisation keys of :data:`geo.standards.UTILISATION_BANDS` and
#: the distance keys of :func:`distance_bands`. Sequential from good (blue/green) to bad (red).
BAND_COLOURS: Mapping[str, str] = {
    "under": "#4393c3",
    "ok": "#1a9850",
    "tight": "#fdae61",
    "over": "#d73027",
    "d1": "#1a9850",
    "d2": "#a6d96a",
    "d3": "#fdae61",
    "d4": "#d73027",
}
#: Fallback ramp for bands whose keys are not in BAND_COLOURS (a profile with other bands).
BAND_RAMP: tuple[str, ...] = ("#4393c3", "#1a9850", "#a6d96a", "#fee08b", "#fdae61", "#f46d43", "#d73027", "#a50026")


def band_colour(scale: BandScale, band: Band) -> str:
    """The fill colour of ``band`` within ``scale``: by key, else by position on a ramp."""
    if band.key in BAND_COLOURS:
        return BAND_COLOURS[band.key]
    pos = scale.bands.index(band)
    step = (len(BAND_RAMP) - 1) / max(len(scale.bands) - 1, 1)
    return BAND_RAMP[round(pos * step)]


def band_label(band: Band, lang: Lang) -> str:
    return band.label_zh if lang == "zh" else band.label_en


def distance_bands(service_radius_m: float) -> BandScale:
    """Distance bands from a service radius r: within r, to 2r, to 4r, beyond (500 m -> 1 km, 2 km).

    Parameters
    ----------
    service_radius_m
        The standard's service radius in metres (e.g. 500 for primary in GB 50180-2018).
    """
    if not service_radius_m > 0:
        msg = f"service radius {service_radius_m} must be a positive number of metres"
        raise InvalidInput(msg, where="service_radius_m")
    r = float(service_radius_m)
    cuts = (r, 2 * r, 4 * r)
    en = (f"within standard (≤ {fmt_distance(r, 'en')})", f"{fmt_distance(r, 'en')} - {fmt_distance(2 * r, 'en')}",
          f"{fmt_distance(2 * r, 'en')} - {fmt_distance(4 * r, 'en')}", f"beyond {fmt_distance(4 * r, 'en')}")
    zh = (f"达标（≤{fmt_distance(r, 'zh')}）", f"{fmt_distance(r, 'zh')}–{fmt_distance(2 * r, 'zh')}",
          f"{fmt_distance(2 * r, 'zh')}–{fmt_distance(4 * r, 'zh')}", f"超过 {fmt_distance(4 * r, 'zh')}")
    return BandScale(tuple(Band(f"d{i + 1}", en[i], zh[i], cuts[i] if i < 3 else None) for i in range(4)))


def time_bands(standard_s: float) -> BandScale:
    """Travel-time bands from a time standard t: within t, to 2t, to 4t, beyond (same keys as distance)."""
    if not standard_s > 0:
        msg = f"time standard {standard_s} must be a positive number of seconds"
        raise InvalidInput(msg, where="standard_s")
    t = float(standard_s)
    en = (f"within standard (≤ {fmt_minutes(t, 'en')})", f"{fmt_minutes(t, 'en')} - {fmt_minutes(2 * t, 'en')}",
          f"{fmt_minutes(2 * t, 'en')} - {fmt_minutes(4 * t, 'en')}", f"beyond {fmt_minutes(4 * t, 'en')}")
    zh = (f"达标（≤{fmt_minutes(t, 'zh')}）", f"{fmt_minutes(t, 'zh')}–{fmt_minutes(2 * t, 'zh')}",
          f"{fmt_minutes(2 * t, 'zh')}–{fmt_minutes(4 * t, 'zh')}", f"超过 {fmt_minutes(4 * t, 'zh')}")
    cuts = (t, 2 * t, 4 * t)
    return BandScale(tuple(Band(f"d{i + 1}", en[i], zh[i], cuts[i] if i < 3 else None) for i in range(4)))


# --------------------------------------------------------------------------- labels

LABELS: Mapping[str, Mapping[Lang, str]] = {
    "zones": {"en": "Zones", "zh": "招生片区"},
    "schools": {"en": "Schools", "zh": "学校"},
    "school": {"en": "School", "zh": "学校"},
    "zone": {"en": "Zone", "zh": "招生片区"},
    "name": {"en": "Name", "zh": "名称"},
    "code": {"en": "Code", "zh": "代码"},
    "levels": {"en": "Levels", "zh": "学段"},
    "grades": {"en": "Grades", "zh": "年级"},
    "capacity": {"en": "Capacity (seats)", "zh": "学位数"},
    "enrolment": {"en": "Enrolment", "zh": "在校生数"},
    "utilisation": {"en": "Utilisation", "zh": "学位使用率"},
    "pupils": {"en": "Pupils", "zh": "学生数"},
    "demand": {"en": "Pupils in zone", "zh": "招生片区内学生数"},
    "seats_spare": {"en": "Seats spare", "zh": "富余学位"},
    "seats_short": {"en": "Seats short", "zh": "学位缺口"},
    "classes": {"en": "Classes", "zh": "班级数"},
    "classes_needed": {"en": "Classes needed", "zh": "所需班级数"},
    "class_size": {"en": "Average class size", "zh": "平均班额"},
    "breaches": {"en": "Breaks standard", "zh": "不符合标准"},
    "breach_class_size": {"en": "class size above {n}", "zh": "班额超过 {n} 人"},
    "breach_school_size": {"en": "school larger than {n} pupils", "zh": "规模超过 {n} 人"},
    "distance": {"en": "Distance", "zh": "距离"},
    "unknown": {"en": "not known", "zh": "未知"},
    "several_schools": {"en": "Served by several schools (hatched)", "zh": "多校划片（斜线）"},
    "shared_zone": {"en": "shared zone", "zh": "多校划片"},
    "neighbours_differ": {"en": "Zone fill: neighbouring zones differ", "zh": "片区填色：相邻片区颜色不同"},
    "gap": {"en": "Gap: no zone covers it", "zh": "空白：无招生片区覆盖"},
    "overlap": {"en": "Overlap: two zones claim it", "zh": "重叠：多个招生片区重复覆盖"},
    "problems": {"en": "Gaps and overlaps", "zh": "空白与重叠"},
    "coverage_title": {"en": "Catchment zones", "zh": "招生片区划分"},
    "search": {"en": "Find a school", "zh": "查找学校"},
    "overcrowding_title": {"en": "Utilisation (pupils / seats)", "zh": "学位使用率（学生数 / 学位数）"},
    "marker_size": {"en": "Circle size: enrolment", "zh": "圆点大小：在校生数"},
    "breach_legend": {"en": "Red ring: breaks class-size or school-size standard",
                      "zh": "红圈：超出班额或办学规模标准"},
    "no_data": {"en": "No capacity data", "zh": "无学位数据"},
    "travel_title": {"en": "Distance to the assigned school", "zh": "到对口学校的距离"},
    "travel_time_title": {"en": "Travel time to the assigned school", "zh": "到对口学校的通行时间"},
    "service_radius": {"en": "Service radius", "zh": "服务半径"},
    "demand_units": {"en": "Homes (demand units)", "zh": "生源单元"},
    "within_standard": {"en": "Pupils within the standard", "zh": "标准服务半径内的学生"},
    "median": {"en": "Median", "zh": "中位数"},
    "p90": {"en": "90th percentile", "zh": "第 90 百分位"},
    "total_pupils": {"en": "Pupils", "zh": "学生总数"},
    "mode_straight": {"en": "straight line", "zh": "直线距离"},
    "mode_walk": {"en": "walking", "zh": "步行"},
    "mode_drive": {"en": "driving", "zh": "驾车"},
    "mode": {"en": "Measured", "zh": "计算方式"},
    "unreachable": {"en": "No route / not assigned", "zh": "无路径或未分配"},
    "time": {"en": "Travel time", "zh": "通行时间"},
    "unit": {"en": "Unit", "zh": "单元"},
    "assigned_school": {"en": "Assigned school", "zh": "对口学校"},
    "your_address": {"en": "Your address", "zh": "您的地址"},
    "your_zone": {"en": "Your zone", "zh": "您所在的招生片区"},
    "nearby_zones": {"en": "Nearby zones", "zh": "周边招生片区"},
    "straight_line": {"en": "Straight line to the school", "zh": "到学校的直线"},
    "walking_route": {"en": "Walking route", "zh": "步行路线"},
    "nearest_school": {"en": "Nearest school (no zone covers this address)", "zh": "最近的学校（该地址不在任何招生片区内）"},
    "plan_a": {"en": "Plan A", "zh": "方案 A"},
    "plan_b": {"en": "Plan B", "zh": "方案 B"},
    "changed": {"en": "Changed: assigned school differs", "zh": "变化：对口学校不同"},
    "compare_title": {"en": "Plan comparison", "zh": "方案对比"},
    "from_to": {"en": "{a} → {b}", "zh": "{a} → {b}"},
    "none": {"en": "none", "zh": "无"},
    "changed_area": {"en": "Changed area", "zh": "变化面积"},
    "area": {"en": "Area", "zh": "面积"},
    "address": {"en": "Address", "zh": "地址"},
    "in_force_from": {"en": "In force from school year", "zh": "生效学年"},
    "units_moved": {"en": "Blocks that move school", "zh": "调整对口学校的生源单元"},
    "units_moved_count": {"en": "{n} blocks move ({p} pupils)", "zh": "{n} 个生源单元调整（{p} 名学生）"},
}

def check_lang(lang: str) -> Lang:
    """Return ``lang`` as a :data:`Lang`, or raise InvalidInput for anything but en / zh."""
    if lang == "en":
        return "en"
    if lang == "zh":
        return "zh"
    msg = f"lang {lang!r} is not supported; use 'en' or 'zh'"
    raise InvalidInput(msg, where="lang")


# --------------------------------------------------------------------------- escaping

# Besides HTML's five, the characters that end or interpolate a JavaScript template literal:
# folium's Tooltip and Popup put their text inside `...` in a <script>.
_ENTITIES = str.maketrans({"`": "&#96;", "$": "&#36;", "\\": "&#92;"})
# In a <script>, "</script" or "<!--" inside a string still ends or changes the element; U+2028
# and U+2029 end a line in older JavaScript.
_SCRIPT_SAFE = str.maketrans({"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"})


def escape(text: object) -> str:
    """Stored text (a name, a code, a plan's name, a notice) made safe to put into a page.

    Every text that users stored and a map shows passes through here, or reaches the page as
    data (:func:`script_json`) that the page's scripts set with ``textContent``. The result is
    HTML-escaped (quotes too, so it is safe in attributes) and holds no backtick, ``$`` or
    backslash, so it is also inert inside the JavaScript template literals that folium's
    ``Tooltip`` writes. The browser shows the original text.

    Parameters
    ----------
    text
        Any value; ``str()`` of it is escaped.
    """
    return html.escape(str(text), quote=True).translate(_ENTITIES)


def script_json(value: object) -> str:
    """``value`` as JSON that can stand inside a ``<script>`` element as a JavaScript literal.

    ``<``, ``>`` and ``&`` are written as ``\\u003c``-style escapes, so no stored string can
    close the element (``</script>``) or open a comment; the parsed values are unchanged.
    """
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).translate(_SCRIPT_SAFE)


def label(key: str, lang: Lang, *, table: Mapping[str, Mapping[Lang, str]] | None = None, **values: object) -> str:
    """The label ``key`` in ``lang`` (from ``table``, default :data:`LABELS`), ``{placeholders}`` filled from ``values``."""
    text = (LABELS if table is None else table)[key][lang]
    return text.format(**values) if values else text


def level_label(level: str, lang: Lang) -> str:
    """A level's display name ("primary" -> "Primary" / "小学"); unknown names are shown as given.

    The one table is :func:`geo.levels.level_name` (explanations use it too).
    """
    return level_name(level, lang)


def pick_text(text: str | Mapping[str, str], lang: Lang) -> str:
    """A plain string, or the ``lang`` entry of an ``{"en": ..., "zh": ...}`` dict (English fallback)."""
    if isinstance(text, str):
        return text
    return text.get(lang) or text.get("en") or next(iter(text.values()), "")


def fmt_distance(metres: float, lang: Lang) -> str:
    """``450 m`` / ``1.2 km`` (``450 米`` / ``1.2 公里``)."""
    if metres >= 1000:
        value = f"{metres / 1000:.1f}".removesuffix(".0")
        return f"{value} 公里" if lang == "zh" else f"{value} km"
    return f"{metres:.0f} 米" if lang == "zh" else f"{metres:.0f} m"


def fmt_minutes(seconds: float, lang: Lang) -> str:
    return f"{seconds / 60:.0f} 分钟" if lang == "zh" else f"{seconds / 60:.0f} min"


def fmt_share(value: float) -> str:
    """0.873 -> ``87 %``."""
    return f"{value * 100:.0f} %"


def fmt_hectares(square_metres: float, lang: Lang) -> str:
    return f"{square_metres / 10_000:,.2f} 公顷" if lang == "zh" else f"{square_metres / 10_000:,.2f} ha"


def fmt_int(value: float | None, lang: Lang) -> str:
    return label("unknown", lang) if value is None else f"{value:,.0f}"


# --------------------------------------------------------------------------- legends

Swatch = Literal["fill", "hatch", "line", "dash", "circle", "ring", "gap", "overlap"]


@dataclass(frozen=True, slots=True)
class LegendItem:
    """One row of a legend: a swatch drawn in ``colour`` and its text."""

    swatch: Swatch
    colour: str
    text: str


def popup_table(rows: Sequence[tuple[str, str]], *, title: str | None = None) -> str:
    """An HTML table for a popup; every text is escaped here, so callers pass plain strings."""
    head = f"<b>{escape(title)}</b>" if title else ""
    body = "".join(f"<tr><th>{escape(k)}</th><td>{escape(v)}</td></tr>" for k, v in rows)
    return f'{head}<table class="catchment-popup">{body}</table>'


def band_legend(scale: BandScale, lang: Lang) -> list[LegendItem]:
    """Legend rows for every band of ``scale``, in order."""
    return [LegendItem("fill", band_colour(scale, b), band_label(b, lang)) for b in scale.bands]


#: CSS for the legend and information boxes and popups. Self-contained, because the maps do not
#: load Bootstrap.
BOX_CSS = """
.catchment-box{background:rgba(255,255,255,.94);padding:8px 10px;border-radius:6px;
 box-shadow:0 1px 5px rgba(0,0,0,.35);font:12px/1.45 "Helvetica Neue",Arial,"PingFang SC","Noto Sans CJK SC",
 "Microsoft YaHei",sans-serif;color:#222;max-width:320px}
.catchment-box h4{margin:0 0 4px;font-size:13px;font-weight:600}
.catchment-box .row{display:flex;align-items:center;margin:2px 0}
.catchment-box .sw{flex:none;width:16px;height:12px;margin-right:6px;border:1px solid #555;box-sizing:border-box}
.catchment-box .sw.circle{width:12px;height:12px;border-radius:50%;margin:0 8px 0 2px}
.catchment-box .sw.ring{width:12px;height:12px;border-radius:50%;border-width:3px;margin:0 8px 0 2px;background:#fff}
.catchment-box .sw.line{height:0;border-width:2px 0 0 0}
.catchment-box .sw.dash{height:0;border-width:2px 0 0 0;border-style:dashed}
.catchment-box .sw.hatch{background:repeating-linear-gradient(45deg,#252525 0 2px,transparent 2px 5px)}
.catchment-box .sw.palette{display:flex;border:1px solid #555;width:48px}
.catchment-box .sw.palette i{flex:1}
.catchment-box table{border-collapse:collapse}
.catchment-box td{padding:1px 6px 1px 0}
table.catchment-popup th{text-align:left;padding:1px 8px 1px 0;font-weight:600;white-space:nowrap;vertical-align:top}
table.catchment-popup td{padding:1px 0}
.leaflet-tooltip.catchment-label{font-weight:600;background:rgba(255,255,255,.9)}
"""


def legend_html(title: str, items: Sequence[LegendItem], *, palette: Sequence[str] = ()) -> str:
    """HTML of a legend box: a title, then one row per item (swatch + escaped text).

    An item whose colour is ``"palette"`` is drawn as a strip of ``palette`` colours.
    """
    rows = [f"<h4>{escape(title)}</h4>"]
    for item in items:
        text = escape(item.text)
        if item.colour == "palette":
            strip = "".join(f'<i style="background:{c}"></i>' for c in palette)
            rows.append(f'<div class="row"><span class="sw palette">{strip}</span>{text}</div>')
            continue
        style = _swatch_style(item)
        rows.append(f'<div class="row"><span class="sw {item.swatch}" style="{style}"></span>{text}</div>')
    return "".join(rows)


def _swatch_style(item: LegendItem) -> str:
    c = item.colour
    if item.swatch in ("line", "dash"):
        return f"border-color:{c}"
    if item.swatch == "ring":
        return f"border-color:{c}"
    if item.swatch == "hatch":
        return f"background-color:{c}"
    if item.swatch == "gap":
        return f"background:repeating-linear-gradient(-45deg,{c} 0 2px,#fff 2px 4px);border-color:{c}"
    if item.swatch == "overlap":
        return f"background:{c};opacity:.8;border-color:{c}"
    return f"background:{c}"
