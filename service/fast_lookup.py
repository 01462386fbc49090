"""``GET /v1/lookup`` for a point, answered ahead of the middleware stack.

The middleware every request passes (body limits, rate limits, security headers, the exception
handlers, the router's match over every route) cost a third of a lookup's time in the server
(py-spy, 3 Dec). A plain point lookup needs only two of their checks: the per-client lookup limit
(the same counter as :class:`~service.ratelimit.RateLimits`, so each lookup counts once) and the
security headers (:func:`~service.headers.header_lines`, as :class:`~service.headers.SecurityHeaders`). Anything else
goes through the whole stack unchanged: other methods and paths, a body, an ``Authorization``
header, an ``Origin`` when CORS is on, an address, a query the strict parser refuses, a client
at its limit, or any error while answering (the stack answers it again, with its problem+json).
"""

from __future__ import annotations

from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

from service.bodylimits import route_path
from service.headers import header_lines
from service.operations.lookup import lookup_json
from service.query import lookup_query
from service.ratelimit import Limiter, lookup_items
from service.settings import Settings

PATH = "/v1/lookup"
#: Request headers that send a lookup through the whole stack (auth checks, bodies).
_FULL = (b"authorization", b"transfer-encoding")


class FastLookup:
    """ASGI middleware, outermost of the application's own (see the module docstring)."""

    def __init__(self, app: ASGIApp, *, settings: Settings, limiter: Limiter, stats: dict[str, int]) -> None:
        self.app = app
        self.limited = settings.rate.enabled
        self.items = lookup_items(settings.rate)
        self.limiter = limiter
        self.cors = bool(settings.http.cors_origins)
        self.lines = header_lines(settings.http)
        self.stats = stats  # "served": lookups answered here (tests read it)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        body = await self._answer(scope) if scope["type"] == "http" and scope["method"] == "GET" else None
        if body is None:
            await self.app(scope, receive, send)
            return
        self.stats["served"] += 1
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-length", str(len(body)).encode("latin-1")),
                                (b"content-type", b"application/json"), *self.lines]})
        await send({"type": "http.response.body", "body": body})

    async def _answer(self, scope: Scope) -> bytes | None:
        if route_path(scope) != PATH:
            return None
        for name, value in scope["headers"]:
            if name in _FULL or (name == b"content-length" and value != b"0") or (name == b"origin" and self.cors):
                return None
        client = scope["client"][0] if scope.get("client") else "unknown"
        if self.limited:
            for item in self.items:
                if not await self.limiter.test(item, "lookup", client):
                    return None  # the stack refuses it with its 429
        state: Any = scope["app"].state
        try:
            q = lookup_query(scope.get("query_string", b""))
            if q["address"] is not None:
                return None
            body = await lookup_json(state.holder.current(), state.settings, state.answer_cache, remote=None, **q)
        except Exception:  # noqa: BLE001 - the stack answers the same request again, with its error handling
            return None
        if self.limited:
            for item in self.items:
                if not await self.limiter.hit(item, "lookup", client):
                    return None
        return body
