"""The venue's published rate limits, enforced: HTTP 429 with ``Retry-After``.

Polymarket publishes its limits as "N requests per W seconds" per endpoint family
(protocol notes v1 §7, venue-behaviour notes); Cloudflare mostly queues excess
requests, but may answer 429, and that stricter answer is what the simulator gives.
Every client of one simulator shares the counters (like one IP address at the
venue). A refused request does not count. Sliding windows, exact to the request.
"""

from __future__ import annotations

import json
import math
import time
from collections import deque
from collections.abc import Awaitable, Callable, Mapping, Sequence

from aiohttp import web
from aiohttp.typedefs import Middleware

Limits = Mapping[str, Sequence[tuple[int, float]]]  # family -> ((requests, window seconds), ...)

# The families the engine paces (engine/feeds/pacing.py::PUBLISHED_LIMITS; a test keeps them
# equal), then the others the notes publish. A request counts in every family it belongs to.
PUBLISHED: dict[str, tuple[tuple[int, float], ...]] = {
    "place": ((3500, 10), (36000, 600)),  # POST /order: burst and sustained
    "batch": ((1000, 10),),  # POST /orders
    "cancel": ((3000, 10),),  # DELETE /order, /orders, /cancel-market-orders
    "data": ((500, 10),),  # GET /data/orders, /data/order/{id}, /data/trades
    "market": ((500, 10),),  # POST /books
    "balance": ((200, 10),),  # GET /balance-allowance
    "auth": ((100, 10),),  # API key endpoints
    "heartbeat": ((50, 10),),  # POST /v1/heartbeats (the engine's figure; not published)
    "gamma": ((300, 10),),  # Gamma (the engine's figure; Gamma's own is not published)
    "data_api": ((50, 10),),  # the Data API's public /trades (the engine's polite figure; stricter than it)
    "clob": ((9000, 10),),  # every CLOB request
    "cancel-orders": ((1000, 10),),  # DELETE /orders
    "cancel-market": ((1500, 600),),  # DELETE /cancel-market-orders, sustained
    "book": ((1500, 10),), "price": ((1500, 10),), "midpoint": ((1500, 10),),  # GET, each
    "prices": ((500, 10),), "midpoints": ((500, 10),), "spreads": ((500, 10),),  # other batch reads
    "last-trades-prices": ((500, 10),),
    "tick-size": ((200, 10),),
    "balance-update": ((50, 10),),  # GET /balance-allowance/update
}
_EXACT: dict[tuple[str, str], tuple[str, ...]] = {
    ("POST", "/order"): ("place",),
    ("POST", "/orders"): ("batch",),
    ("DELETE", "/order"): ("cancel",),
    ("DELETE", "/orders"): ("cancel", "cancel-orders"),
    ("DELETE", "/cancel-market-orders"): ("cancel", "cancel-market"),
    ("GET", "/data/orders"): ("data",),
    ("GET", "/data/trades"): ("data",),
    ("POST", "/books"): ("market",),
    ("GET", "/book"): ("book",),
    ("GET", "/price"): ("price",),
    ("GET", "/midpoint"): ("midpoint",),
    ("POST", "/prices"): ("prices",),
    ("POST", "/midpoints"): ("midpoints",),
    ("POST", "/spreads"): ("spreads",),
    ("POST", "/last-trades-prices"): ("last-trades-prices",),
    ("GET", "/tick-size"): ("tick-size",),
    ("GET", "/balance-allowance"): ("balance",),
    ("GET", "/balance-allowance/update"): ("balance-update",),
    ("POST", "/v1/heartbeats"): ("heartbeat",),
}
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def families(method: str, path: str) -> tuple[str, ...]:
    """The families a request counts in (empty: not limited, e.g. the control API)."""
    if path.startswith("/_sim") or path.startswith("/ws") or path.startswith("/trade-api"):
        return ()  # (Kalshi's routes count in its own buckets: kalshi/side.py)
    if path.startswith("/gamma"):
        return ("gamma",)
    if path.startswith("/data-api/trades"):
        return ("data_api",)
    specific = _EXACT.get((method, path), ())
    if not specific and method == "GET" and path.startswith("/data/order/"):
        specific = ("data",)
    elif not specific and path.startswith("/auth/"):
        specific = ("auth",)
    return ("clob",) + specific


class _Window:
    __slots__ = ("limit", "span_s", "stamps")

    def __init__(self, limit: int, span_s: float) -> None:
        self.limit = limit
        self.span_s = span_s
        self.stamps: deque[float] = deque()

    def wait(self, now: float) -> float:
        """0 when one more request fits, else seconds until one does."""
        while self.stamps and self.stamps[0] <= now - self.span_s:
            self.stamps.popleft()
        return 0.0 if len(self.stamps) < self.limit else self.stamps[0] + self.span_s - now


class RateLimiter:
    def __init__(self, limits: Limits = PUBLISHED, enabled: bool = True,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.enabled = enabled
        self.clock = clock
        self.windows = {name: [_Window(n, w) for n, w in spec] for name, spec in limits.items()}
        self.refused = 0

    def admit(self, names: Sequence[str]) -> tuple[float, str] | None:
        """Count the request, or return (seconds to wait, what was exceeded) without counting it."""
        if not self.enabled or not names:
            return None
        now = self.clock()
        windows = [(name, w) for name in names for w in self.windows.get(name, ())]
        worst = max(((w.wait(now), name, w) for name, w in windows), default=None, key=lambda t: t[0])
        if worst is not None and worst[0] > 0:
            wait, name, window = worst
            self.refused += 1
            return wait, f"{window.limit} requests per {window.span_s:g} s ({name})"
        for _, window in windows:
            window.stamps.append(now)
        return None

    def middleware(self) -> Middleware:
        @web.middleware
        async def rate_limit_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
            refusal = self.admit(families(request.method, request.path))
            if refusal is None:
                return await handler(request)
            wait, what = refusal
            return too_many(math.ceil(wait), f"Too Many Requests: rate limit of {what} exceeded")

        return rate_limit_middleware


def too_many(retry_after_s: int, message: str = "Too Many Requests") -> web.Response:
    """429 with a JSON error and ``Retry-After`` in whole seconds."""
    return web.Response(status=429, text=json.dumps({"error": message}), content_type="application/json",
                        headers={"Retry-After": str(max(0, retry_after_s))})
