"""Request body limits by path, enforced while the body streams in.

Starlette's ``RequestBodyLimitMiddleware`` does the counting: a Content-Length over the limit is
refused before the body is read, and a chunked body is refused at the first chunk that passes
it, so no more than the limit (plus one chunk) is ever read. This module picks the limit for
the path from :class:`~service.settings.LimitSettings` and answers a declared length over it
itself, so that answer is problem+json too (``service/errors.py`` words every 413).
"""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.middleware.body_limit import RequestBodyLimitMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from service.errors import problem, too_large_detail
from service.settings import LimitSettings


def route_path(scope: Scope) -> str:
    """The path without the mount prefix (``root_path``) the app may be served under."""
    path: str = scope.get("path", "")
    root: str = scope.get("root_path", "")
    return path[len(root):] if root and path.startswith(root) else path


class BodyLimits:
    """Pick the body limit by path (batch lookups, uploads, everything else) and enforce it."""

    def __init__(self, app: ASGIApp, *, limits: LimitSettings) -> None:
        self.app = app
        self.by_prefix = (("/v1/lookup/batch", limits.batch_bytes), ("/v1/imports/", limits.upload_bytes),
                          ("/v1/jobs/assign", limits.upload_bytes))
        self.default = limits.body_bytes
        sizes = {self.default, *(n for _, n in self.by_prefix)}
        self.limiters = {n: RequestBodyLimitMiddleware(app, max_body_size=n) for n in sizes}

    def limit_for(self, path: str) -> int:
        return next((n for prefix, n in self.by_prefix if path.startswith(prefix)), self.default)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(route_path(scope))
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            # Refused before a byte is read (Starlette's limiter would answer in plain text here).
            response = problem(413, "Content too large", too_large_detail(limit), instance=route_path(scope),
                               where="body", limit_bytes=limit)
            await response(scope, receive, send)
            return
        await self.limiters[limit](scope, receive, send)
