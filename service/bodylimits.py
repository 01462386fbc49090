"""Request body limits by path, enforced while the body streams in.

Starlette's ``RequestBodyLimitMiddleware`` does the counting: a Content-Length over the limit is
refused before the body is read, and a chunked body is refused at the first chunk that passes
it, so no more than the limit (plus one chunk) is ever read. This module only picks the limit
for the path from :class:`~service.settings.LimitSettings` and words the 413.
"""

from __future__ import annotations

from starlette.middleware.body_limit import MAX_BODY_SIZE_SCOPE_KEY, RequestBodyLimitMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from service.settings import LimitSettings


def route_path(scope: Scope) -> str:
    """The path without the mount prefix (``root_path``) the app may be served under."""
    path: str = scope.get("path", "")
    root: str = scope.get("root_path", "")
    return path[len(root):] if root and path.startswith(root) else path


def fmt_bytes(n: int) -> str:
    """``8 MiB``, ``512 KiB`` or ``1234 bytes``: the size as it was configured."""
    for unit, size in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= size and n % size == 0:
            return f"{n // size} {unit}"
    return f"{n} bytes"


def too_large_detail(limit: int | None) -> str:
    """The 413 problem detail, in English and Chinese."""
    if limit is None:
        return "the request body is too large / 请求体过大"
    size = fmt_bytes(limit)
    return (f"the request body is larger than the {size} ({limit} bytes) allowed here; send less, or split it "
            f"into several requests / 请求体超过此处允许的 {size}（{limit} 字节）上限，请减少内容或分多次发送")


def limit_in_force(scope: Scope) -> int | None:
    """The body limit applied to this request, as the limiter recorded it in the scope."""
    value = scope.get(MAX_BODY_SIZE_SCOPE_KEY)
    return value if isinstance(value, int) else None


class BodyLimits:
    """Pick the body limit by path (batch lookups, uploads, everything else) and enforce it."""

    def __init__(self, app: ASGIApp, *, limits: LimitSettings) -> None:
        self.app = app
        self.by_prefix = (("/v1/lookup/batch", limits.batch_bytes), ("/v1/imports/", limits.upload_bytes))
        self.default = limits.body_bytes
        sizes = {self.default, *(n for _, n in self.by_prefix)}
        self.limiters = {n: RequestBodyLimitMiddleware(app, max_body_size=n) for n in sizes}

    def limit_for(self, path: str) -> int:
        return next((n for prefix, n in self.by_prefix if path.startswith(prefix)), self.default)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        await self.limiters[self.limit_for(route_path(scope))](scope, receive, send)
