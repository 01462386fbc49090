"""A light GeoJSON layer: quantised delta-encoded coordinates, a style table, popups built in the page.

folium's ``GeoJson`` embeds full-precision coordinates, one ``case`` per feature for styles and
any popup HTML as escaped JSON; for the 902 Greater Sydney zones that is well over the 4 MB
budget. This layer embeds coordinates as integer deltas (see :func:`maps.geometry.encode_geometry`),
styles as a small table indexed per feature, and popups as ``[label, value]`` rows that a few
lines of script turn into a table. Names and rows are set with ``textContent`` (tooltips and
search tips too), so stored text is never parsed as HTML.
It subclasses ``folium.GeoJson`` so that folium's layer control and search box accept it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import folium
from branca.element import Element, Figure, MacroElement
from folium.template import Template
from shapely.geometry.base import BaseGeometry

from maps.geometry import DECIMALS, encode_geometry, prepare_for_display
from maps.styles import script_json

Rows = Sequence[tuple[str, str]]

_HELPERS = """
function catchmentDecode(data, decimals) {
    var scale = Math.pow(10, decimals);
    var types = ["Point", "LineString", "Polygon", "MultiLineString", "MultiPolygon"];
    var depth = [0, 0, 1, 1, 2];
    function line(a) {
        var out = [], x = 0, y = 0;
        for (var i = 0; i < a.length; i += 2) { x += a[i]; y += a[i + 1]; out.push([x / scale, y / scale]); }
        return out;
    }
    function walk(a, d) { return d === 0 ? line(a) : a.map(function (b) { return walk(b, d - 1); }); }
    return {type: "FeatureCollection", features: data.p.map(function (props, i) {
        var g = data.g[i], c = g[0] === 0 ? line(g[1])[0] : walk(g[1], depth[g[0]]);
        if (props.rows) {
            props.rows = props.rows.map(function (r) { return [r[0], typeof r[1] === "number" ? data.v[r[1]] : r[1]]; });
        }
        return {type: "Feature", id: i, properties: props, geometry: {type: types[g[0]], coordinates: c}};
    })};
}
// Stored text reaches the page as data and the DOM as text nodes: Leaflet's tooltips and
// leaflet-search's tips would parse a string as HTML.
function catchmentText(text) {
    var span = document.createElement("span");
    span.textContent = text;
    return span;
}
if (L.Control.Search) {
    L.Control.Search.mergeOptions({buildTip: function (text) {
        var li = document.createElement("li");
        li.textContent = text;
        return li;
    }});
}
function catchmentPopup(p, keys) {
    var div = document.createElement("div");
    if (p.name) { var b = document.createElement("b"); b.textContent = p.name; div.appendChild(b); }
    var table = document.createElement("table");
    table.className = "catchment-popup";
    (p.rows || []).forEach(function (r) {
        var tr = table.insertRow(), th = document.createElement("th");
        th.textContent = keys[r[0]];
        tr.appendChild(th);
        tr.insertCell().textContent = r[1];
    });
    div.appendChild(table);
    return div;
}
"""
_TYPE_CODES = {"Point": 0, "LineString": 1, "Polygon": 2, "MultiLineString": 3, "MultiPolygon": 4}


class LightGeoJson(folium.GeoJson):
    """Features with per-feature styles, hover names and popup rows, embedded compactly.

    Parameters
    ----------
    geoms
        Geometries, EPSG:4326 (lon, lat).
    names
        Per feature: hover text and popup title.
    styles
        Per feature: Leaflet path options (``fillColor``, ``color``, ``weight``, ``className``,
        ``radius`` for points...). A value that is a folium element (a fill pattern) is
        referenced by its script name.
    rows
        Per feature: popup rows ``(label, value)`` of plain text; None = no popups.
    extra
        Per feature: more properties (e.g. ``label`` for the search box).
    tolerance_deg, coverage
        Simplification, see :func:`maps.geometry.prepare_for_display`.
    highlight
        Outline a feature in black while the pointer is over it.
    name, control, show
        As for any folium layer.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }}_styles = [{{ this.style_table|join(",") }}];
        var {{ this.get_name() }}_keys = {{ this.popup_keys|tojson }};
        var {{ this.get_name() }} = L.geoJson(null, {
            style: function (f) { return {{ this.get_name() }}_styles[f.properties.s]; },
            pointToLayer: function (f, latlng) {
                return L.circleMarker(latlng, {{ this.get_name() }}_styles[f.properties.s]);
            },
            onEachFeature: function (f, layer) {
                if (f.properties.name) {
                    layer.bindTooltip(function () { return catchmentText(f.properties.name); }, {sticky: true});
                }
                {%- if this.has_popups %}
                layer.bindPopup(function () { return catchmentPopup(f.properties, {{ this.get_name() }}_keys); },
                                {maxWidth: 380});
                {%- endif %}
                {%- if this.hover %}
                layer.on({
                    mouseover: function (e) { e.target.setStyle({weight: 3, color: "#000000"}); },
                    mouseout: function (e) { {{ this.get_name() }}.resetStyle(e.target); }
                });
                {%- endif %}
            }
        });
        {{ this.get_name() }}.addData(catchmentDecode({{ this.payload }}, {{ this.decimals }}));
        {% endmacro %}
        """
    )

    def __init__(
        self,
        geoms: Sequence[BaseGeometry],
        *,
        names: Sequence[str],
        styles: Sequence[Mapping[str, Any]],
        rows: Sequence[Rows] | None = None,
        extra: Sequence[Mapping[str, Any]] | None = None,
        tolerance_deg: float = 0.0,
        coverage: bool = True,
        highlight: bool = True,
        name: str | None = None,
        control: bool = False,
        show: bool = True,
        decimals: int = DECIMALS,
    ) -> None:
        n = len(geoms)
        if not (len(names) == len(styles) == n and (rows is None or len(rows) == n) and (extra is None or len(extra) == n)):
            msg = "geoms, names, styles, rows and extra must have one entry per feature"
            raise ValueError(msg)
        table: dict[str, int] = {}
        style_idx = [table.setdefault(_style_js(st), len(table)) for st in styles]
        keys: dict[str, int] = {}
        # Popup values that repeat (a school's name on every block of its zone) are stored once.
        counts: dict[str, int] = {}
        for r in rows or ():
            for _, v in r:
                counts[v] = counts.get(v, 0) + 1
        values: dict[str, int] = {}
        props: list[dict[str, Any]] = []
        for i in range(n):
            p: dict[str, Any] = {"name": names[i], "s": style_idx[i]}
            if rows is not None:
                p["rows"] = [[keys.setdefault(k, len(keys)), values.setdefault(v, len(values)) if counts[v] > 1 else v]
                             for k, v in rows[i]]
            if extra is not None:
                p.update(extra[i])
            props.append(p)
        shapes = prepare_for_display(geoms, tolerance_deg=tolerance_deg, coverage=coverage, decimals=decimals)
        encoded = [encode_geometry(g, decimals=decimals) for g in shapes]
        payload = {"p": props, "g": [[_TYPE_CODES[e["type"]], e["coordinates"]] for e in encoded], "v": list(values)}
        # folium (layer control, search box) reads properties from self.data; the page gets the payload.
        super().__init__({"type": "FeatureCollection", "features": [{"type": "Feature", "properties": p, "geometry": None}
                                                                    for p in props]},
                         name=name, control=control, show=show)
        self._name = "LightGeoJson"
        self.style_table = list(table)
        self.popup_keys = list(keys)
        self.has_popups = rows is not None
        self.hover = highlight
        self.decimals = decimals
        self.payload = script_json(payload)
        self.add_child(_Helpers(), name="catchment_helpers")

    @property
    def feature_count(self) -> int:
        return len(self.data["features"])


def _style_js(style: Mapping[str, Any]) -> str:
    """A style as a JS object literal; folium elements (fill patterns) by their variable name."""
    parts = []
    for k, v in sorted(style.items()):
        value = v.get_name() if isinstance(v, Element) else json.dumps(v)
        parts.append(f"{json.dumps(k)}:{value}")
    return "{" + ",".join(parts) + "}"


class _Helpers(MacroElement):
    """Adds the decode and popup functions to the page once (by name)."""

    def render(self, **kwargs: Any) -> str:
        figure = self.get_root()
        if isinstance(figure, Figure):
            figure.script.add_child(Element(_HELPERS), name="catchment_helpers")
        return ""
