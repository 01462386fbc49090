"""The Leaflet scripts and styles a map page loads, and writing a map as HTML.

folium links Leaflet and its plugins from public CDNs. Our maps load only what they use
(Leaflet and the plugins below: no jQuery, Bootstrap or icon fonts) and can be written as one
self-contained file with every script, style and image inlined (``inline=True``), for offline
use and for the browser tests, which run without a network. The files in ``maps/assets/`` are
unchanged copies of the npm packages named in ``maps/assets/LICENSES.md``.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping
from functools import cache
from pathlib import Path

import folium
import folium.plugins
from branca.element import Element

from geo.errors import InvalidInput

ASSET_DIR = Path(__file__).with_name("assets")

LEAFLET_JS = "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.js"
LEAFLET_CSS = "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.css"

#: CDN address (as folium writes it) -> the local copy.
LOCAL_COPIES: Mapping[str, str] = {
    LEAFLET_JS: "leaflet.js",
    LEAFLET_CSS: "leaflet.css",
    "https://cdn.jsdelivr.net/npm/leaflet.fullscreen@3.0.0/Control.FullScreen.min.js": "Control.FullScreen.js",
    "https://cdn.jsdelivr.net/npm/leaflet.fullscreen@3.0.0/Control.FullScreen.css": "Control.FullScreen.css",
    "https://cdn.jsdelivr.net/npm/leaflet-search@2.9.7/dist/leaflet-search.min.js": "leaflet-search.min.js",
    "https://cdn.jsdelivr.net/npm/leaflet-search@2.9.7/dist/leaflet-search.min.css": "leaflet-search.min.css",
    "https://teastman.github.io/Leaflet.pattern/leaflet.pattern.js": "leaflet.pattern.js",
    "https://cdn.jsdelivr.net/gh/jieter/Leaflet.Sync/L.Map.Sync.min.js": "L.Map.Sync.js",
}

_MIME = {".png": "image/png", ".gif": "image/gif", ".svg": "image/svg+xml"}
_SCRIPT = re.compile(r'<script src="(?P<url>[^"]+)"></script>')
_STYLE = re.compile(r'<link rel="stylesheet" href="(?P<url>[^"]+)"\s*/>')
_SCRIPT_TAG = re.compile(r"<script(?=[\s>])", re.IGNORECASE)
_NONCE = re.compile(r"[A-Za-z0-9+/_=-]{16,}")
_CSS_URL = re.compile(r"url\((?P<q>['\"]?)(?P<path>[^'\")#]+)(?P=q)\)")


def use_lean_assets(m: folium.Map) -> None:
    """Make ``m`` load Leaflet alone (plugins add their own links when they render).

    folium's default page also loads jQuery, Bootstrap and Font Awesome for its icon markers;
    our maps draw circle markers and their own legend CSS, so those ~400 kB are dropped.
    """
    m.default_js = [("leaflet", LEAFLET_JS)]
    m.default_css = [("leaflet_css", LEAFLET_CSS)]


@cache
def _asset_text(name: str) -> str:
    return (ASSET_DIR / name).read_text(encoding="utf-8")


@cache
def _data_uri(name: str) -> str:
    path = ASSET_DIR / name
    return f"data:{_MIME[path.suffix]};base64,{base64.b64encode(path.read_bytes()).decode('ascii')}"


def _inline_css(name: str) -> str:
    def swap(match: re.Match[str]) -> str:
        local = Path(match["path"]).name
        if (ASSET_DIR / local).suffix in _MIME and (ASSET_DIR / local).is_file():
            return f'url("{_data_uri(local)}")'
        # marker-icon.png and the like: our maps draw no image markers, so an empty image
        # keeps the browser from requesting a file that is not there.
        return 'url("data:image/gif;base64,R0lGODlhAQABAAAAACw=")'

    return _CSS_URL.sub(swap, _asset_text(name))


def inline_assets(page: str) -> str:
    """Replace every CDN ``<script>``/``<link>`` of a rendered page by the inlined local copy.

    Raises InvalidInput when the page links a script or style that has no local copy, so an
    "offline" page never silently depends on the network.
    """

    def script(match: re.Match[str]) -> str:
        url = match["url"]
        if url not in LOCAL_COPIES:
            msg = f"no local copy of {url}; add it to maps/assets and LOCAL_COPIES"
            raise InvalidInput(msg, where="assets")
        # A literal "</script" inside the code would end the element early.
        code = _asset_text(LOCAL_COPIES[url]).replace("</script", "<\\/script")
        return f"<script>{code}</script>"

    def style(match: re.Match[str]) -> str:
        url = match["url"]
        if url not in LOCAL_COPIES:
            msg = f"no local copy of {url}; add it to maps/assets and LOCAL_COPIES"
            raise InvalidInput(msg, where="assets")
        return f"<style>{_inline_css(LOCAL_COPIES[url])}</style>"

    return _STYLE.sub(style, _SCRIPT.sub(script, page))


def render_html(m: folium.Map | folium.plugins.DualMap, *, inline: bool = False, nonce: str | None = None) -> str:
    """The full HTML page of a map.

    Parameters
    ----------
    m
        A map from this package.
    inline
        Inline Leaflet, its plugins and their images so the page needs no network (about
        200 kB more); otherwise they load from their CDNs.
    nonce
        Put ``nonce="..."`` on every ``<script>`` of the page, for a Content-Security-Policy
        ``script-src 'nonce-...'``. Safe because no stored text can write a ``<script`` tag:
        text in HTML is escaped and data in scripts is :func:`maps.styles.script_json`.
    """
    root = m.get_root()
    if not isinstance(root, Element):
        msg = "the map is not attached to a page"
        raise InvalidInput(msg, where="map")
    page = root.render()
    page = inline_assets(page) if inline else page
    if nonce is not None:
        if not _NONCE.fullmatch(nonce):
            msg = "a script nonce is base64 or URL-safe base64 text"
            raise InvalidInput(msg, where="nonce")
        page = _SCRIPT_TAG.sub(f'<script nonce="{nonce}"', page)
    return page
