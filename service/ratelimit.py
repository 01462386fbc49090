"""Rate limits: failed authentications per client and per key prefix, public lookups per client.

Counting is the ``limits`` library's moving window over an async storage: in memory per worker
by default (see :class:`~service.settings.RateLimitSettings`), Redis or another shared storage
by URI. A refused request gets 429 problem+json with ``Retry-After``; an authentication that
is already over its limit is refused before the key is looked up.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Sequence

from limits import RateLimitItem, parse_many
from limits.aio.storage import Storage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string
from limits.util import WindowStats
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.bodylimits import route_path
from service.errors import problem
from service.settings import RateLimitSettings

#: Reads anyone may make without a key, each a lookup against the zone index or the gazetteer.
LOOKUP_PATHS = ("/v1/lookup", "/v1/addresses", "/v1/maps/lookup")
#: Characters of a key that identify it without revealing it ("ck_" and 8 more).
KEY_PREFIX_CHARS = 11


def _items(text: str) -> list[RateLimitItem]:
    return parse_many(text) if text.strip() else []


def key_prefix(headers: Headers) -> str | None:
    scheme, _, secret = headers.get("authorization", "").partition(" ")
    secret = secret.strip()
    return secret[:KEY_PREFIX_CHARS] if scheme.lower() == "bearer" and secret else None


class MemoryWindow:
    """The moving window of ``limits``' ``MovingWindowRateLimiter`` for one worker's memory, cheaper.

    ``limits``' memory storage inserts each hit at the head of a list (a copy of every entry of
    the window per request: at a few thousand lookups a second, tens of microseconds). Here a
    key's hits are a deque of times, oldest first: a hit drops the expired ones from the left
    and appends, so a request costs the same whatever the limit. Same answers: at most
    ``amount`` hits within any ``expiry`` seconds; the window resets when its oldest hit expires.
    """

    #: Hits between sweeps of keys whose hits have all expired (clients that went away).
    SWEEP_EVERY = 10_000

    def __init__(self, longest_s: float = 3600.0) -> None:
        self.events: dict[str, deque[float]] = {}
        self.longest_s = longest_s
        self._since_sweep = 0
        self._keys: dict[tuple[RateLimitItem, tuple[str, ...]], str] = {}

    def _window(self, item: RateLimitItem, ids: Sequence[str], now: float) -> deque[float]:
        ids = tuple(ids)
        key = self._keys.get((item, ids))
        if key is None:
            key = item.key_for(*ids)
            if len(self._keys) < 100_000:  # clients come and go: the names are cheap to rebuild
                self._keys[(item, ids)] = key
        times = self.events.get(key)
        if times is None:
            times = self.events[key] = deque()
        start = now - item.get_expiry()
        while times and times[0] <= start:
            times.popleft()
        return times

    async def hit(self, item: RateLimitItem, *ids: str) -> bool:
        now = time.time()
        times = self._window(item, ids, now)
        self._since_sweep += 1
        if self._since_sweep >= self.SWEEP_EVERY:
            self._sweep(now)
        if len(times) >= item.amount:
            return False
        times.append(now)
        return True

    async def test(self, item: RateLimitItem, *ids: str) -> bool:
        return len(self._window(item, ids, time.time())) < item.amount

    async def get_window_stats(self, item: RateLimitItem, *ids: str) -> WindowStats:
        now = time.time()
        times = self._window(item, ids, now)
        reset = (times[0] if times else now) + item.get_expiry()
        return WindowStats(reset, max(0, item.amount - len(times)))

    def _sweep(self, now: float) -> None:
        self._since_sweep = 0
        for key in [k for k, t in self.events.items() if not t or t[-1] <= now - self.longest_s]:
            del self.events[key]


Limiter = MemoryWindow | MovingWindowRateLimiter


def lookup_items(settings: RateLimitSettings) -> list[RateLimitItem]:
    """The per-client lookup limits."""
    return _items(settings.lookups_per_client)


def new_limiter(settings: RateLimitSettings) -> Limiter:
    """The counter of every limit: in memory per worker, or the configured shared storage."""
    if settings.storage.strip() == "async+memory://":
        items = lookup_items(settings) + _items(settings.auth_failures_per_client) + _items(settings.auth_failures_per_key)
        return MemoryWindow(max((i.get_expiry() for i in items), default=60))
    storage = storage_from_string(settings.storage)
    if not isinstance(storage, Storage):
        msg = f"rate limit storage {settings.storage!r} must be an async one (async+memory://, async+redis://...)"
        raise TypeError(msg)
    return MovingWindowRateLimiter(storage)


class RateLimits:
    """ASGI middleware counting lookups and 401 answers per client address and key prefix.

    ``limiter`` shares the counters with the fast lookup path (:mod:`service.fast_lookup`).
    """

    def __init__(self, app: ASGIApp, *, settings: RateLimitSettings, limiter: Limiter | None = None) -> None:
        self.app = app
        self.enabled = settings.enabled
        self.lookups = lookup_items(settings)
        self.auth_client = _items(settings.auth_failures_per_client)
        self.auth_key = _items(settings.auth_failures_per_key)
        self.limiter: Limiter = limiter if limiter is not None else new_limiter(settings)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.enabled:
            await self.app(scope, receive, send)
            return
        client = scope["client"][0] if scope.get("client") else "unknown"
        path = route_path(scope)
        if self.lookups and path.startswith(LOOKUP_PATHS):
            for item in self.lookups:
                if not await self.limiter.hit(item, "lookup", client):
                    await self._refuse(scope, receive, send, item, ("lookup", client), kind="lookup")
                    return
        prefix = key_prefix(Headers(scope=scope))
        if prefix is None:
            await self.app(scope, receive, send)
            return
        # Only requests that present a key count: a 401 without one guesses nothing.
        checks = [(item, ("auth", client)) for item in self.auth_client] + [(item, ("key", prefix)) for item in self.auth_key]
        for item, ids in checks:
            if not await self.limiter.test(item, *ids):
                await self._refuse(scope, receive, send, item, ids, kind="auth")
                return
        status = 0

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        await self.app(scope, receive, send_status)
        if status == 401:
            for item, ids in checks:
                await self.limiter.hit(item, *ids)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, item: RateLimitItem, ids: Sequence[str],
                      *, kind: str) -> None:
        stats = await self.limiter.get_window_stats(item, *ids)
        retry = max(1, math.ceil(stats.reset_time - time.time()))
        if kind == "lookup":
            detail = (f"too many lookups from this client: the limit is {item}; retry in {retry} s "
                      f"/ 查询过于频繁：每个客户端限 {item}，请 {retry} 秒后重试")
        else:
            detail = (f"too many failed authentications: the limit is {item}; retry in {retry} s "
                      f"/ 认证失败次数过多：限 {item}，请 {retry} 秒后重试")
        where = "Authorization" if kind == "auth" else None
        response = problem(429, "Too many requests", detail, instance=route_path(scope), where=where, limit=str(item),
                           retry_after_s=retry, headers={"Retry-After": str(retry)})
        await response(scope, receive, send)
