"""The base map every map starts from, and the pieces they share.

Tiles (OpenStreetMap by default, any XYZ URL with its attribution, or none for offline use),
fit to bounds, a scale bar, fullscreen, a layer control, legend and information boxes, the
school layer with its search box, and a registry of layers for scripts and tests.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import folium
import folium.plugins
import shapely
from branca.element import Element, Figure, MacroElement
from folium.template import Template

from geo.errors import InvalidInput
from geo.models import School
from maps.assets import use_lean_assets
from maps.geometry import Bounds, light_geojson
from maps.layer import LightGeoJson, Rows
from maps.styles import (
    BOX_CSS,
    SCHOOL_EDGE,
    SCHOOL_FILL,
    Lang,
    LegendItem,
    fmt_int,
    fmt_share,
    label,
    legend_html,
    level_label,
)

__all__ = [
    "OSM",
    "Tiles",
    "add_info_box",
    "add_layer_control",
    "add_legend",
    "base_map",
    "light_geojson",
    "parse_tiles",
    "register_layers",
    "resolve_tiles",
    "school_layer",
]


@dataclass(frozen=True, slots=True)
class Tiles:
    """An XYZ tile layer: URL template with ``{z}/{x}/{y}``, and the attribution its licence requires."""

    url: str
    attribution: str
    name: str = "Base map"
    max_zoom: int = 19


OSM = Tiles(
    url="https://tile.openstreetmap.org/{z}/{x}/{y}.png",
    attribution='&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors',
    name="OpenStreetMap",
)

TilesArg = Tiles | str | None


def parse_tiles(setting: str | None) -> Tiles | None:
    """Read a tiles setting (``CATCHMENT_TILES``).

    ``""``, ``"osm"`` or None -> OpenStreetMap; ``"none"`` -> no tile layer (offline);
    ``"URL|ATTRIBUTION"`` -> that layer. A URL without an attribution is refused: tile
    licences require one.
    """
    text = (setting or "").strip()
    if text.lower() in ("", "osm", "openstreetmap"):
        return OSM
    if text.lower() == "none":
        return None
    url, sep, attribution = text.partition("|")
    url, attribution = url.strip(), attribution.strip()
    if not url.startswith(("https://", "http://")) or "{z}" not in url:
        msg = f"tiles {url!r} must be an http(s) URL template with {{z}}/{{x}}/{{y}}, 'osm' or 'none'"
        raise InvalidInput(msg, where="tiles")
    if not sep or not attribution:
        msg = "tiles need an attribution after '|': 'https://.../{z}/{x}/{y}.png|&copy; Provider'"
        raise InvalidInput(msg, where="tiles")
    return Tiles(url=url, attribution=attribution)


def resolve_tiles(tiles: TilesArg) -> Tiles | None:
    """A :class:`Tiles`, or a setting string parsed with :func:`parse_tiles`; None = no tiles."""
    return parse_tiles(tiles) if isinstance(tiles, str) else tiles


# Loaded before leaflet.css, so the selector is made more specific than Leaflet's own.
_PAGE_CSS = ("div.folium-map.leaflet-container{background:#f4f2ee}"
             ".leaflet-control-layers-expanded{font-size:12px;line-height:1.5}" + BOX_CSS)


def add_page_css(m: folium.Map) -> None:
    """The page's own CSS (legend and popup boxes, background); added once per page."""
    root = m.get_root()
    if isinstance(root, Figure):
        root.header.add_child(Element(f"<style>{_PAGE_CSS}</style>"), name="catchment_css")


def base_map(*, bounds: Bounds, lang: Lang, tiles: TilesArg = OSM, fullscreen: bool = True) -> folium.Map:
    """An empty map fitted to ``bounds`` (min lon, min lat, max lon, max lat; EPSG:4326).

    Parameters
    ----------
    bounds
        What the map opens on.
    lang
        Language of the controls' labels.
    tiles
        A :class:`Tiles`, a tiles setting string (see :func:`parse_tiles`), or None / "none"
        for no tile layer (the map then shows only its own layers on a plain background).
    fullscreen
        Add the fullscreen button.
    """
    x0, y0, x1, y1 = bounds
    m = folium.Map(
        location=[(y0 + y1) / 2, (x0 + x1) / 2],
        zoom_start=10,
        tiles=None,
        control_scale=True,
        zoom_snap=0.25,
    )
    use_lean_assets(m)
    spec = resolve_tiles(tiles)
    if spec is not None:
        folium.TileLayer(tiles=spec.url, attr=spec.attribution, name=spec.name, max_zoom=spec.max_zoom,
                         control=False).add_to(m)
    add_page_css(m)
    m.fit_bounds([[y0, x0], [y1, x1]], padding=(12, 12))
    if fullscreen:
        folium.plugins.Fullscreen(
            position="topleft", title="全屏" if lang == "zh" else "Full screen",
            title_cancel="退出全屏" if lang == "zh" else "Exit full screen",
        ).add_to(m)
    return m


class Box(MacroElement):
    """A Leaflet control holding fixed HTML (a legend, a summary, an explanation)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function () {
            var box = L.control({position: {{ this.position|tojson }}});
            box.onAdd = function () {
                var div = L.DomUtil.create("div", {{ this.css_class|tojson }});
                div.innerHTML = {{ this.html|tojson }};
                L.DomEvent.disableClickPropagation(div);
                L.DomEvent.disableScrollPropagation(div);
                return div;
            };
            box.addTo({{ this._parent.get_name() }});
        })();
        {% endmacro %}
        """
    )

    def __init__(self, html_text: str, *, position: str = "bottomright", css_class: str = "catchment-box") -> None:
        super().__init__()
        self._name = "Box"
        self.html = html_text
        self.position = position
        self.css_class = css_class


def add_legend(m: folium.Map, title: str, items: Sequence[LegendItem], *, palette: Sequence[str] = (),
               position: str = "bottomright") -> Box:
    """Add a legend box (class ``catchment-legend``) to ``m``."""
    box = Box(legend_html(title, items, palette=palette), position=position, css_class="catchment-box catchment-legend")
    box.add_to(m)
    return box


def add_info_box(m: folium.Map, html_text: str, *, position: str = "topright") -> Box:
    """Add a box of ready-made (already escaped) HTML, class ``catchment-info``."""
    box = Box(html_text, position=position, css_class="catchment-box catchment-info")
    box.add_to(m)
    return box


def add_layer_control(m: folium.Map) -> folium.LayerControl:
    control = folium.LayerControl(position="topright", collapsed=False)
    control.add_to(m)
    return control


class LayerRegistry(MacroElement):
    """Publishes layers as ``window.catchmentLayers[key]`` so scripts and tests can find them."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        window.catchmentLayers = window.catchmentLayers || {};
        {%- for key, name in this.layers.items() %}
        window.catchmentLayers[{{ key|tojson }}] = {{ name }};
        {%- endfor %}
        window.catchmentMap = {{ this._parent.get_name() }};
        {% endmacro %}
        """
    )

    def __init__(self, layers: Mapping[str, Element]) -> None:
        super().__init__()
        self._name = "LayerRegistry"
        self.layers = {k: v.get_name() for k, v in layers.items()}


def register_layers(m: folium.Map, layers: Mapping[str, Element]) -> None:
    """Expose ``layers`` by key on the page; call after every layer has been added."""
    LayerRegistry(layers).add_to(m)


# --------------------------------------------------------------------------- schools


def school_popup_rows(s: School, lang: Lang, *, utilisation: float | None) -> list[tuple[str, str]]:
    """Rows for a school's popup: code, levels, grades, capacity, enrolment, utilisation, address."""
    rows = [
        (label("code", lang), s.code),
        (label("levels", lang), ", ".join(level_label(lv, lang) for lv in s.levels) or label("unknown", lang)),
        (label("grades", lang), _grade_range(s.grades) or label("unknown", lang)),
        (label("capacity", lang), fmt_int(s.capacity, lang)),
        (label("enrolment", lang), fmt_int(s.enrolment, lang)),
        (label("utilisation", lang), fmt_share(utilisation) if utilisation is not None else label("unknown", lang)),
    ]
    if s.address:
        rows.append((label("address", lang), s.address))
    return rows


def _grade_range(grades: Sequence[str]) -> str:
    if not grades:
        return ""
    return grades[0] if len(grades) == 1 else f"{grades[0]}–{grades[-1]}"


def school_utilisation(s: School, given: Mapping[str, float] | None) -> float | None:
    """Utilisation from ``given`` (by code), else enrolment / capacity when both are known."""
    if given is not None and s.code in given:
        return float(given[s.code])
    if s.capacity and s.enrolment is not None:
        return s.enrolment / s.capacity
    return None


def school_layer(
    schools: Sequence[School],
    *,
    lang: Lang,
    rows: Sequence[Rows],
    styles: Sequence[Mapping[str, Any]] | None = None,
    name: str | None = None,
    search: bool = True,
    m: folium.Map | None = None,
) -> LightGeoJson:
    """One layer of school points drawn as circle markers, with popups and a search box.

    Parameters
    ----------
    schools
        The schools; (lon, lat) EPSG:4326.
    lang
        Language of the layer name and search placeholder.
    rows
        Popup rows ``(label, value)`` per school (see :func:`school_popup_rows`).
    styles
        Leaflet path options per school (``radius``, ``fillColor``, ``color``, ``weight``...)
        over the default small white circle with a dark edge.
    name
        Name in the layer control.
    search
        Add a search box over the school names and codes (needs ``m``).
    m
        The map to add the layer (and search box) to.
    """
    base = {"radius": 3.5, "fillColor": SCHOOL_FILL, "color": SCHOOL_EDGE, "weight": 1.5, "fillOpacity": 1.0,
            "className": "catchment-school"}
    layer = LightGeoJson(
        [_point(s) for s in schools],
        names=[s.name for s in schools],
        styles=[dict(base, **(styles[i] if styles else {})) for i in range(len(schools))],
        rows=rows,
        extra=[{"label": f"{s.name} ({s.code})"} for s in schools],
        coverage=False,
        highlight=False,
        name=name or label("schools", lang),
        control=True,
    )
    if m is not None:
        layer.add_to(m)
        if search and schools:
            folium.plugins.Search(
                layer=layer, search_label="label", geom_type="Point", placeholder=label("search", lang),
                collapsed=False, position="topleft", search_zoom=15,
            ).add_to(m)
    return layer


def _point(s: School) -> shapely.Point:
    return shapely.Point(s.lon, s.lat)
