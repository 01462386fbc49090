"""Security headers on every response, and CORS for the origins a deployment allows.

* ``Content-Security-Policy``: API answers may load nothing; map pages run only the scripts
  that carry the response's nonce (see :func:`page_csp`), so a stored name that slipped
  through escaping still could not run; ``/docs`` and ``/redoc`` load Swagger UI and ReDoc
  from the service's own static files. ``frame-ancestors`` comes from :class:`~service.settings.HttpSettings`.
* ``X-Content-Type-Options: nosniff``, ``Referrer-Policy``, and ``X-Frame-Options`` for
  browsers that ignore frame-ancestors.
* CORS is off unless ``CATCHMENT_HTTP_CORS_ORIGINS`` lists origins; preflights are answered.
"""

from __future__ import annotations

import secrets
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.bodylimits import route_path
from service.settings import HttpSettings

DOCS_PATHS = ("/docs", "/docs/oauth2-redirect", "/redoc")
# Swagger UI and ReDoc are served by the service itself (service/static/vendor, started by a
# script file, no inline script); they inject their own styles, and ReDoc runs a blob: worker.
_DOCS = ("default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
         "font-src 'self' data:; connect-src 'self'; worker-src blob:; object-src 'none'; base-uri 'none'; form-action 'self'")
_API = "default-src 'none'; base-uri 'none'; form-action 'none'"
#: The parents' page and the planners' workspace: every script and style is a file of the service
#: (no inline script may run), images may come from the tile server, fetches go to this API only.
PAGE_PATHS = ("/", "/plan")
_PAGES = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob: https: http:; "
          "connect-src 'self'; font-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'")


def new_nonce() -> str:
    return secrets.token_urlsafe(18)


def page_csp(nonce: str, http: HttpSettings) -> str:
    """The policy of a map page: scripts only with ``nonce``; styles, images and tiles from anywhere.

    Leaflet sets inline styles on every element and tiles come from the configured server, so
    styles and images stay open; scripts, objects, ``<base>`` and framing are what matter.
    """
    return (f"default-src 'self'; script-src 'nonce-{nonce}'; style-src 'self' 'unsafe-inline' https:; "
            "img-src 'self' data: blob: https: http:; font-src 'self' data: https:; connect-src 'self'; "
            f"object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors {http.frame_ancestors}")


def header_lines(http: HttpSettings, base: str = _API) -> tuple[tuple[bytes, bytes], ...]:
    """The security header lines (raw ASGI pairs) for a policy ``base`` (default: an API answer's)."""
    frame_ancestors = http.frame_ancestors.strip()
    lines = [("content-security-policy", f"{base}; frame-ancestors {frame_ancestors}"), ("x-content-type-options", "nosniff"),
             ("referrer-policy", "same-origin")]
    frame_options = {"'none'": "DENY", "'self'": "SAMEORIGIN"}.get(frame_ancestors)
    if frame_options:
        lines.append(("x-frame-options", frame_options))
    return tuple((k.encode("latin-1"), v.encode("latin-1")) for k, v in lines)


class SecurityHeaders:
    """Add the security headers to every response that has not set its own policy."""

    def __init__(self, app: ASGIApp, *, http: HttpSettings) -> None:
        self.app = app
        # The raw header lines, encoded once per policy (a request only looks which are set already).
        self._raw = {base: header_lines(http, base) for base in (_DOCS, _PAGES, _API)}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = route_path(scope)
        lines = self._raw[_DOCS if path in DOCS_PATHS else _PAGES if path in PAGE_PATHS else _API]

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                # Set-if-absent, as MutableHeaders.setdefault: a response's own policy (map pages) wins.
                headers = list(message.get("headers", ()))
                have = {k.lower() for k, _ in headers}
                headers.extend(line for line in lines if line[0] not in have)
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_headers)


def cors_options(http: HttpSettings) -> dict[str, Any]:
    """Options of Starlette's ``CORSMiddleware`` for the allowed origins (added only when there are some)."""
    return {"allow_origins": list(http.cors_origins), "allow_methods": ["GET", "POST", "PUT", "PATCH", "DELETE"],
            "allow_headers": ["Authorization", "Content-Type", "If-Match", "Accept", "Accept-Language"],
            "expose_headers": ["ETag", "Location", "Retry-After"], "max_age": 600}
