"""The editing map: a draft's zones to reshape, demand units to reassign, tallies and validation live.

The page is a Folium map plus a script (``maps/editor.js``) that edits the draft through the
planning API: reshaping a zone (Leaflet-Geoman, vertex editing or a new polygon) sends a
``replace_geometry`` edit, choosing another school for a demand unit sends ``move_units``;
every edit carries the ETag the page holds (``If-Match``) and the planner's key (typed once,
kept in ``sessionStorage``). After each edit the page fetches the zones, the capacity report
and the validation findings again, without reloading. A stale ETag (412) is reported as a
conflict with a reload button. This module builds the page; it does no HTTP itself: the
service passes the URLs the script calls (:class:`EditorUrls`).

Geometries are EPSG:4326 (lon, lat) everywhere.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from functools import cache
from pathlib import Path
from typing import Any

import folium
from branca.element import Element, Figure, MacroElement
from folium.template import Template

from geo.models import Plan, School, Zone
from maps.base import OSM, Box, TilesArg, base_map, register_layers, school_layer, school_popup_rows, school_utilisation
from maps.colouring import zone_colours
from maps.editor_proposal import ProposalView, proposal_config, proposal_html
from maps.geometry import bounds_of, light_geojson
from maps.styles import (
    BAND_COLOURS,
    CHANGED_COLOUR,
    NO_DATA_COLOUR,
    ZONE_EDGE,
    ZONE_FILL_OPACITY,
    ZONE_PALETTE,
    Lang,
    check_lang,
    escape,
    label,
    script_json,
)

_HERE = Path(__file__).parent
#: Leaflet-Geoman (see maps/assets/LICENSES.md), always inlined: the editor must work offline.
GEOMAN_JS = _HERE / "assets" / "leaflet-geoman.min.js"
GEOMAN_CSS = _HERE / "assets" / "leaflet-geoman.css"
EDITOR_JS = _HERE / "editor.js"
PROPOSAL_JS = _HERE / "editor_proposal.js"

#: Zoom from which demand units are fetched and drawn (a few hundred blocks in a window).
UNIT_ZOOM = 14
#: Decimals of the embedded zone coordinates: 7 (about 1 cm) keeps the stored vertices, so a
#: reshaped zone still meets its neighbours where the planner did not move it.
ZONE_DECIMALS = 7

EDITOR_LABELS: Mapping[str, Mapping[Lang, str]] = {
    "title": {"en": "Editing draft", "zh": "编辑草案"},
    "version": {"en": "version", "zh": "版本"},
    "zones_count": {"en": "{n} zones", "zh": "{n} 个招生片区"},
    "not_draft": {"en": "This plan is {status}: edits are refused. Copy it to a draft first.",
                  "zh": "此方案状态为“{status}”，不能编辑：请先复制为草案。"},
    "key_placeholder": {"en": "Planner key", "zh": "规划人员密钥"},
    "key_use": {"en": "Use key", "zh": "使用密钥"},
    "key_set": {"en": "Key set for this tab", "zh": "本标签页已设置密钥"},
    "key_forget": {"en": "Forget", "zh": "清除"},
    "need_key": {"en": "Enter your planner key first.", "zh": "请先输入规划人员密钥。"},
    "undo": {"en": "Undo", "zh": "撤销"},
    "redo": {"en": "Redo", "zh": "重做"},
    "saving": {"en": "Saving…", "zh": "正在保存…"},
    "saved": {"en": "Saved: version {v}", "zh": "已保存：版本 {v}"},
    "busy": {"en": "Wait for the last edit to finish.", "zh": "请等待上一次修改完成。"},
    "conflict": {"en": "Someone else changed this draft — reload to see their change.",
                 "zh": "其他人修改了此草案——请重新加载以查看其修改。"},
    "reload": {"en": "Reload", "zh": "重新加载"},
    "reloaded": {"en": "Reloaded: version {v}", "zh": "已重新加载：版本 {v}"},
    "network": {"en": "Could not reach the service", "zh": "无法连接服务"},
    "reshape": {"en": "Reshape", "zh": "调整边界"},
    "draw_new": {"en": "Draw new shape", "zh": "重新绘制"},
    "reshape_hint": {"en": "Drag the corners of {zone}, then save.", "zh": "拖动“{zone}”的顶点，然后保存。"},
    "draw_hint": {"en": "Draw the new shape of {zone}: click each corner, then the first one to finish.",
                  "zh": "绘制“{zone}”的新边界：依次点击各顶点，最后点击第一个顶点完成。"},
    "save_shape": {"en": "Save shape", "zh": "保存边界"},
    "cancel": {"en": "Cancel", "zh": "取消"},
    "unit": {"en": "Block", "zh": "生源单元"},
    "pupils": {"en": "Pupils", "zh": "学生数"},
    "school": {"en": "School", "zh": "学校"},
    "move_to": {"en": "Move to", "zh": "调整至"},
    "move": {"en": "Move", "zh": "调整"},
    "edit_zone": {"en": "Reshape this zone", "zh": "调整此招生片区边界"},
    "units_zoom": {"en": "Zoom in to see the blocks and reassign them.", "zh": "放大地图以查看并调整生源单元。"},
    "units_shown": {"en": "{n} blocks shown: click one to move it to another school.",
                    "zh": "显示 {n} 个生源单元：点击可调整其对口学校。"},
    "units_none": {"en": "No demand units cover this plan.", "zh": "此方案范围内没有生源单元数据。"},
    "tallies_top": {"en": "Most crowded schools", "zh": "学位最紧张的学校"},
    "tallies_changed": {"en": "Schools changed by the last edit", "zh": "受上次修改影响的学校"},
    "tallies_none": {"en": "The last edit changed no school's pupils.", "zh": "上次修改未改变任何学校的学生数。"},
    "seats": {"en": "Seats", "zh": "学位"},
    "use": {"en": "Use", "zh": "使用率"},
    "validation": {"en": "Validation", "zh": "校验"},
    "errors": {"en": "{n} errors", "zh": "{n} 个错误"},
    "warnings": {"en": "{n} warnings", "zh": "{n} 个警告"},
    "no_findings": {"en": "No findings", "zh": "未发现问题"},
    "more": {"en": "… and {n} more", "zh": "……另有 {n} 项"},
    "findings_layer": {"en": "Validation findings", "zh": "校验问题"},
    "error": {"en": "error", "zh": "错误"},
    "warning": {"en": "warning", "zh": "警告"},
    "moved": {"en": "block moved here", "zh": "本页已调整的单元"},
    "km": {"en": "{d} km", "zh": "{d} 公里"},
}

STATUS_NAMES: Mapping[str, Mapping[Lang, str]] = {
    "draft": {"en": "draft", "zh": "草案"},
    "proposed": {"en": "proposed", "zh": "已提交"},
    "adopted": {"en": "adopted", "zh": "已采用"},
    "archived": {"en": "archived", "zh": "已归档"},
}

#: Names of the validation finding codes (geo.planning.validate), for the counts in the findings box.
FINDING_NAMES: Mapping[str, Mapping[Lang, str]] = {
    "invalid_geometry": {"en": "invalid shape", "zh": "无效几何"},
    "unknown_school": {"en": "unknown school", "zh": "未知学校"},
    "closed_school": {"en": "closed school", "zh": "已关闭学校"},
    "school_outside_zone": {"en": "school outside its zone", "zh": "学校不在招生片区内"},
    "sliver": {"en": "sliver", "zh": "碎片"},
    "not_contiguous": {"en": "not contiguous", "zh": "片区不连续"},
    "overlap": {"en": "overlap", "zh": "重叠"},
    "gap": {"en": "gap", "zh": "空白"},
    "grade_twice": {"en": "grade served twice", "zh": "年级重复覆盖"},
    "grade_missing": {"en": "grade not served", "zh": "年级未覆盖"},
}

#: Warnings in dark gold, so that they stay apart from moved blocks (CHANGED_COLOUR, orange) and errors (red).
SEVERITY_COLOURS: Mapping[str, str] = {"error": "#d73027", "warning": "#c08b00", "info": "#4393c3"}

_CSS = """
.leaflet-pane > svg{pointer-events:none}
.catchment-editing path.catchment-zone,.catchment-editing path.catchment-unit,
.catchment-editing path.catchment-school{pointer-events:none!important}
.catchment-editor{min-width:250px}
.catchment-box.catchment-tallies{max-width:460px}.catchment-box.catchment-validation{max-width:340px}
.catchment-editor .ce-meta{color:#555;margin-bottom:4px}
.catchment-editor input{width:130px;font:inherit;padding:2px 4px;margin-right:4px}
.catchment-editor button,.ce-popup button{font:inherit;padding:2px 8px;margin:2px 4px 2px 0;cursor:pointer;
 border:1px solid #888;border-radius:4px;background:#f7f7f7}
.catchment-editor button:disabled{opacity:.45;cursor:default}
.catchment-editor .ce-status{min-height:1.4em;margin-top:3px}
.ce-status.ok{color:#1a7f37}.ce-status.error{color:#b3261e}.ce-status.busy{color:#555}
.ce-conflict{margin-top:4px;padding:6px;border:1px solid #b3261e;background:#fdecea;color:#7a1a12;border-radius:4px}
.ce-warn{color:#8a5a00;margin:3px 0}
.ce-action{margin-top:4px;padding:5px;background:#fff6e0;border:1px solid #e0b64a;border-radius:4px}
.ce-hint{color:#555;margin-top:3px;font-size:11px}
.ce-tallies th{text-align:left;font-weight:600;padding:1px 8px 1px 0;border-bottom:1px solid #ccc}
.ce-tallies td{padding:1px 8px 1px 0;white-space:nowrap}
.ce-tallies td.num{text-align:right}
.ce-chip{display:inline-block;width:9px;height:9px;border-radius:2px;margin-right:4px;vertical-align:baseline}
.ce-findings{margin:3px 0 0;padding-left:16px}
.ce-findings li{cursor:pointer;margin:1px 0}.ce-findings li:hover{text-decoration:underline}
.ce-findings li.error{color:#b3261e}
.ce-counts .ce-count{display:inline-block;margin-right:8px;white-space:nowrap}
.ce-delta{font-weight:600}
.leaflet-popup-content .ce-popup{font-size:13px}
.ce-popup select{max-width:240px;font:inherit;margin:4px 0}
.ce-legend{color:#444;margin-top:4px;font-size:11px}.ce-legend span{margin-right:10px;white-space:nowrap}
.ce-popup table th{text-align:left;padding-right:8px}
.ce-proposal{margin-top:6px;padding-top:4px;border-top:1px solid #ccc}.ce-proposal h4{margin:2px 0}
.ce-run-result a{color:#08519c}
"""


@dataclass(frozen=True, slots=True)
class EditorUrls:
    """The API addresses the page calls (absolute paths, or full URLs).

    ``edits``, ``undo`` and ``redo`` take POST with ``If-Match`` and a Bearer key; ``zones``
    (GeoJSON with an ETag), ``units`` (demand units with their school, takes ``bbox=``),
    ``validation``, ``capacity`` (rows per school) and ``history`` (``can_undo``/``can_redo``)
    are read with GET. ``units`` and ``capacity`` may already hold a query (``?plan=7``).
    """

    edits: str
    undo: str
    redo: str
    zones: str
    units: str
    validation: str
    capacity: str
    history: str


def editor_label(key: str, lang: Lang, **values: object) -> str:
    """An editing-map label: :func:`maps.styles.label` on :data:`EDITOR_LABELS`."""
    return label(key, lang, table=EDITOR_LABELS, **values)


@cache
def _asset(path: Path) -> str:
    text = path.read_text(encoding="utf-8")
    # The source map is not shipped; a browser with developer tools open would ask for it.
    lines = [ln for ln in text.splitlines() if not ln.startswith(("//# sourceMappingURL=", "/*# sourceMappingURL="))]
    return "\n".join(lines).replace("</script", "<\\/script").replace("</style", "<\\/style")


class _EditorAssets(MacroElement):
    """Adds Leaflet-Geoman, the editor script and its CSS to the page, after Leaflet (at render time)."""

    def render(self, **kwargs: Any) -> str:
        figure = self.get_root()
        if isinstance(figure, Figure):
            figure.header.add_child(Element(f"<style>{_asset(GEOMAN_CSS)}{_CSS}</style>"), name="catchment_editor_css")
            figure.header.add_child(Element(f"<script>{_asset(GEOMAN_JS)}</script>"), name="catchment_geoman_js")
            figure.header.add_child(Element(f"<script>{_asset(EDITOR_JS)}</script>"), name="catchment_editor_js")
            figure.header.add_child(Element(f"<script>{_asset(PROPOSAL_JS)}</script>"), name="catchment_proposal_js")
        return ""


class _EditorScript(MacroElement):
    """Starts the editor on the map once every layer and box exists."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        catchmentStartEditor({{ this._parent.get_name() }}, {{ this.config }}, {{ this.schools }});
        if (window.catchmentEditor.cfg.proposal) { catchmentStartProposal({{ this._parent.get_name() }}, window.catchmentEditor.cfg); }
        {% endmacro %}
        """
    )

    def __init__(self, config: Mapping[str, Any], schools: Element) -> None:
        super().__init__()
        self._name = "CatchmentEditor"
        self.config = script_json(config)
        self.schools = schools.get_name()
        self.add_child(_EditorAssets(), name="catchment_editor_assets")


def zone_collection(zones: Sequence[Zone], *, decimals: int = ZONE_DECIMALS) -> dict[str, Any]:
    """The zones as GeoJSON (EPSG:4326) with the properties the editor reads, as the API serves them.

    Parameters
    ----------
    zones
        The draft's zones.
    decimals
        Decimal places kept; 7 keeps the stored vertices (finer than 1 cm).
    """
    props = [{"zone_id": z.id, "name": z.name, "school_codes": list(z.school_codes)} for z in zones]
    return light_geojson([z.geometry for z in zones], props, decimals=decimals)


def _panel_html(plan: Plan, n_zones: int, lang: Lang, proposal: ProposalView | None = None) -> str:
    e = escape
    status = STATUS_NAMES.get(plan.status.value, {}).get(lang, plan.status.value)
    warn = "" if plan.status.value == "draft" else f'<div class="ce-warn">{e(editor_label("not_draft", lang, status=status))}</div>'
    return (
        f'<h4>{e(editor_label("title", lang))}: {e(plan.name)}</h4>'
        f'<div class="ce-meta">{e(status)} · {e(editor_label("version", lang))} '
        f'<span class="ce-version">{plan.version}</span> · '
        f'<span class="ce-zones">{e(editor_label("zones_count", lang, n=n_zones))}</span></div>{warn}'
        '<div class="ce-key">'
        f'<form class="ce-key-entry"><input type="password" class="catchment-key-input" autocomplete="off" '
        f'placeholder="{e(editor_label("key_placeholder", lang))}" aria-label="{e(editor_label("key_placeholder", lang))}">'
        f'<button type="submit" class="ce-key-use">{e(editor_label("key_use", lang))}</button></form>'
        f'<span class="ce-key-ok" hidden>✓ {e(editor_label("key_set", lang))} '
        f'<button type="button" class="ce-key-forget">{e(editor_label("key_forget", lang))}</button></span></div>'
        f'<div><button type="button" class="ce-undo" disabled>↶ {e(editor_label("undo", lang))}</button>'
        f'<button type="button" class="ce-redo" disabled>↷ {e(editor_label("redo", lang))}</button></div>'
        '<div class="ce-action" hidden><div class="ce-action-text"></div><div class="ce-action-buttons"></div></div>'
        '<div class="ce-status" role="status"></div>'
        f'<div class="ce-conflict" role="alert" hidden><div>{e(editor_label("conflict", lang))}</div>'
        f'<button type="button" class="ce-reload">{e(editor_label("reload", lang))}</button></div>'
        f'<div class="ce-hint">{e(editor_label("units_zoom", lang))}</div>'
        + (proposal_html(proposal, lang) if proposal is not None else "")
    )


def editor_map(plan: Plan, zones: Sequence[Zone], schools: Sequence[School], *, etag: str, urls: EditorUrls,
               lang: Lang, tiles: TilesArg = OSM, unit_zoom: int = UNIT_ZOOM, proposal: ProposalView | None = None) -> folium.Map:
    """The editing map of a draft plan.

    Parameters
    ----------
    plan
        The plan (a draft; another status is shown with a warning, and the API refuses its edits).
    zones
        Its zones (EPSG:4326), with their ids.
    schools
        The schools a unit can be moved to, and whose names label zones and tallies.
    etag
        The plan's current ETag (``'"7"'``), sent as ``If-Match`` with the first edit.
    urls
        The API the page calls, see :class:`EditorUrls`.
    lang
        Labels in ``"en"`` or ``"zh"``.
    tiles
        Base map tiles; None or ``"none"`` for none (offline).
    unit_zoom
        Zoom from which demand units are loaded (for the current view) and can be clicked.
    proposal
        A proposal against its parent (:class:`~maps.editor_proposal.ProposalView`): the parent's
        zones dashed, the moved units highlighted, locks and a re-run of the optimiser.
    """
    lang = check_lang(lang)
    geoms = [z.geometry for z in zones]
    m = base_map(bounds=bounds_of(geoms, points=[(s.lon, s.lat) for s in schools]), lang=lang, tiles=tiles)
    colours: dict[str, str] = {}
    for z, fill in zip(zones, zone_colours(zones) if zones else [], strict=True):
        if len(z.school_codes) == 1:
            colours.setdefault(z.school_codes[0], fill)
    points = school_layer(schools, lang=lang, m=m, rows=[school_popup_rows(s, lang, utilisation=school_utilisation(s, None))
                                                         for s in schools])
    _add_panels(m, plan, len(zones), lang, proposal)
    config = _editor_config(plan, zones, schools, etag=etag, urls=urls, lang=lang, colours=colours, unit_zoom=unit_zoom,
                            proposal=proposal)
    _EditorScript(config, points).add_to(m)
    register_layers(m, {"schools": points})
    return m


def _add_panels(m: folium.Map, plan: Plan, n_zones: int, lang: Lang, proposal: ProposalView | None) -> None:
    """The editing panel (with the proposal's box), the tallies table and the validation box with its legend of chips."""
    Box(_panel_html(plan, n_zones, lang, proposal), position="topright", css_class="catchment-box catchment-editor").add_to(m)
    Box(f'<h4 class="ce-tallies-title">{escape(editor_label("tallies_top", lang))}</h4>'
        '<table class="ce-tallies"><thead></thead><tbody></tbody></table><div class="ce-tallies-note"></div>',
        position="bottomleft", css_class="catchment-box catchment-tallies").add_to(m)
    Box(f'<h4>{escape(editor_label("validation", lang))}</h4><div class="ce-counts"></div><ul class="ce-findings"></ul>'
        f'<div class="ce-legend">{editor_legend(lang)}</div>', position="bottomright",
        css_class="catchment-box catchment-validation").add_to(m)


def editor_legend(lang: Lang) -> str:
    """The validation box's legend: errors, warnings and moved areas, as coloured chips (HTML)."""
    chips = [(SEVERITY_COLOURS["error"], "error"), (SEVERITY_COLOURS["warning"], "warning"), (CHANGED_COLOUR, "moved")]
    return "".join(f'<span><i class="ce-chip" style="background:{c}"></i>{escape(editor_label(k, lang))}</span>'
                   for c, k in chips)


def _editor_config(plan: Plan, zones: Sequence[Zone], schools: Sequence[School], *, etag: str, urls: EditorUrls, lang: Lang,
                   colours: dict[str, str], unit_zoom: int, proposal: ProposalView | None) -> dict[str, Any]:
    """What the page's script is given: the plan, its ETag, the API, labels, colours, schools, zones
    and the proposal against its parent, if any."""
    return {
        "plan": {"id": plan.id, "name": plan.name, "level": plan.level, "status": plan.status.value, "version": plan.version},
        "etag": etag,
        "urls": asdict(urls),
        "lang": lang,
        "labels": {k: v[lang] for k, v in EDITOR_LABELS.items()},
        "layerNames": {"zones": label("zones", lang), "units": label("demand_units", lang),
                       "findings": editor_label("findings_layer", lang), "schools": label("schools", lang)},
        "findingNames": {k: v[lang] for k, v in FINDING_NAMES.items()},
        "severityColours": dict(SEVERITY_COLOURS),
        "bandColours": dict(BAND_COLOURS),
        "noData": NO_DATA_COLOUR,
        "changed": CHANGED_COLOUR,
        "edge": ZONE_EDGE,
        "fillOpacity": ZONE_FILL_OPACITY,
        "palette": list(ZONE_PALETTE),
        "colours": colours,
        "schools": [{"code": s.code, "name": s.name, "lon": s.lon, "lat": s.lat} for s in schools],
        "zones": zone_collection(zones),
        "unitZoom": unit_zoom,
        "proposal": proposal_config(proposal, lang, zone_collection) if proposal is not None else None,
    }
