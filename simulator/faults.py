"""Runtime fault injection: HTTP latency, error statuses, slow (timed-out) order
responses, and the knobs the WebSocket hub reads for drops, dups, reorders and a frozen
market channel.

Faults are drawn from their own seeded RNG so a faulty run is reproducible.
"""

from __future__ import annotations

import asyncio
import json
import math
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Middleware

from .config import FaultConfig
from .ratelimit import too_many

ERROR_BODIES = {
    425: "Too Early",
    429: "Too Many Requests",
    500: "Internal server error",
    502: "Bad Gateway",
    503: "Trading is currently disabled. Check polymarket.com for updates",
    504: "Gateway Timeout",
}
# (method, path) of the order endpoints the "orders" scope covers.
ORDER_ENDPOINTS = {
    ("POST", "/order"), ("POST", "/orders"), ("DELETE", "/order"), ("DELETE", "/orders"),
    ("DELETE", "/cancel-all"), ("DELETE", "/cancel-market-orders"),
}
POSTING_ENDPOINTS = {("POST", "/order"), ("POST", "/orders")}
KALSHI_ORDERS = "/trade-api/v2/portfolio/events/orders"  # Kalshi's (V2) order endpoints take the same faults
KALSHI_POSTING = (KALSHI_ORDERS, KALSHI_ORDERS + "/batched")  # a single create, and a batch of them
KALSHI_API = "/trade-api/"  # Kalshi's faults answer in Kalshi's shapes (a 429 without Retry-After, its envelope)
GARBLED_DEPTH = 100_000  # the nesting of a garbled Kalshi answer (kalshi_answer_garbled)
# Marks an answer that is a fault by design (not one to check against the venue's schemas).
FAULT_HEADER = "X-Sim-Fault"
REMAINING = "Poly-RateLimit-Remaining"  # the per-signer count a hostile_ratelimit_s window lies about
KALSHI_CODES = {500: "internal_server_error", 502: "bad_gateway", 503: "service_unavailable", 504: "gateway_timeout"}


def order_endpoint(method: str, path: str) -> bool:
    """Whether the "orders" scope covers this request (Polymarket's and Kalshi's order endpoints)."""
    return (method, path) in ORDER_ENDPOINTS or (method == "POST" and path in KALSHI_POSTING) or \
        (method == "DELETE" and path.startswith(KALSHI_ORDERS + "/"))


def posting_endpoint(method: str, path: str) -> bool:
    """Whether a request places orders (a timeout fault holds its answer after the order is taken)."""
    return (method, path) in POSTING_ENDPOINTS or (method == "POST" and path in KALSHI_POSTING)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class Faults:
    """Mutable view over a FaultConfig; only touched on the event loop thread."""

    def __init__(self, config: FaultConfig, seed: int) -> None:
        self.config = config
        self.rng = random.Random(f"faults:{seed}")
        counters = ("errors", "timeouts", "ws_drops", "ws_dups", "ws_reorders", "refused_in_body", "ws_frozen",
                    "relayer_answers_lost", "rpc_answers_lost", "kalshi_answers_garbled", "hostile_ratelimit")
        self.stats: dict[str, int] = dict.fromkeys(counters, 0)
        # time.monotonic() the market channel is frozen until (FaultConfig.market_feed_freeze_s, from now)
        self.market_frozen_until = time.monotonic() + config.market_feed_freeze_s
        self.user_down_until = time.monotonic() + config.user_channel_down_s  # the same, for the user channel
        self.hostile_until = time.monotonic() + config.hostile_ratelimit_s  # the same, for hostile rate-limit headers

    def update(self, changes: Mapping[str, Any]) -> FaultConfig:
        self.config = self.config.with_updates(changes)
        if "market_feed_freeze_s" in changes:  # a window from now (0 ends one)
            self.market_frozen_until = time.monotonic() + self.config.market_feed_freeze_s
        if "user_channel_down_s" in changes:
            self.user_down_until = time.monotonic() + self.config.user_channel_down_s
        if "hostile_ratelimit_s" in changes:
            self.hostile_until = time.monotonic() + self.config.hostile_ratelimit_s
        return self.config

    def clear(self) -> FaultConfig:
        self.config = FaultConfig()
        self.market_frozen_until = 0.0
        self.user_down_until = 0.0
        self.hostile_until = 0.0
        return self.config

    def market_frozen(self) -> bool:
        """Whether the market channel is frozen now (open, answering PINGs, sending no data)."""
        return time.monotonic() < self.market_frozen_until

    def user_channel_down(self) -> bool:
        """Whether the user channel is down now (connections closed, new ones refused)."""
        return time.monotonic() < self.user_down_until

    def roll(self, rate: float) -> bool:
        return rate > 0 and self.rng.random() < rate

    def as_dict(self) -> dict[str, Any]:
        left = max(0.0, self.market_frozen_until - time.monotonic())
        down = max(0.0, self.user_down_until - time.monotonic())
        hostile = max(0.0, self.hostile_until - time.monotonic())
        return {**self.config.as_dict(), "market_feed_frozen_for_s": round(left, 3),
                "user_channel_down_for_s": round(down, 3), "hostile_ratelimit_for_s": round(hostile, 3),
                "stats": dict(self.stats)}

    def middleware(self) -> Middleware:
        @web.middleware
        async def fault_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
            path = request.path
            if path.startswith("/_sim") or path.startswith("/ws"):
                return await handler(request)
            cfg = self.config
            if cfg.latency_ms > 0:
                await asyncio.sleep(cfg.latency_ms / 1000)
            key = (request.method, path)
            in_scope = order_endpoint(*key) or cfg.error_scope == "all"
            if in_scope and cfg.error_codes and self.roll(cfg.error_rate):
                self.stats["errors"] += 1
                status = self.rng.choice(cfg.error_codes)
                if path.startswith(KALSHI_API):
                    return _kalshi_fault(status)
                if status == 429:  # the venue's 429s may carry Retry-After; ours always do
                    return too_many(math.ceil(cfg.retry_after_s))
                body = json.dumps({"error": ERROR_BODIES.get(status, "error")})
                return web.Response(status=status, text=body, content_type="application/json")
            response = await handler(request)
            if REMAINING in response.headers and time.monotonic() < self.hostile_until:
                response.headers[REMAINING] = cfg.hostile_remaining  # evaluated as usual; only the count lies
                self.stats["hostile_ratelimit"] += 1
            if key == ("POST", "/relayer/submit") and cfg.relayer_answer_lost > 0 and response.status == 200:
                # Taken and to be mined as usual; only the answer is lost.
                self.config = cfg.with_updates({"relayer_answer_lost": cfg.relayer_answer_lost - 1})
                self.stats["relayer_answers_lost"] += 1
                return web.Response(status=502, text=json.dumps({"error": ERROR_BODIES[502]}),
                                    content_type="application/json")
            if key == ("POST", "/rpc") and cfg.rpc_answer_lost > 0 and response.status == 200 \
                    and await _rpc_method(request) == "eth_sendRawTransaction":
                self.config = cfg.with_updates({"rpc_answer_lost": cfg.rpc_answer_lost - 1})
                self.stats["rpc_answers_lost"] += 1
                return web.Response(status=502, text=json.dumps({"error": ERROR_BODIES[502]}),
                                    content_type="application/json")
            if key == ("POST", KALSHI_ORDERS) and cfg.kalshi_answer_garbled > 0:
                # Taken (or refused) as usual; only the answer is one no client can read whole.
                self.config = cfg.with_updates({"kalshi_answer_garbled": cfg.kalshi_answer_garbled - 1})
                self.stats["kalshi_answers_garbled"] += 1
                return web.Response(status=response.status, text="[" * GARBLED_DEPTH + "]" * GARBLED_DEPTH,
                                    content_type="application/json", headers={FAULT_HEADER: "kalshi_answer_garbled"})
            if posting_endpoint(*key) and self.roll(cfg.timeout_rate):
                # The order is already processed; the client times out before this returns.
                self.stats["timeouts"] += 1
                await asyncio.sleep(cfg.timeout_hold_s)
            return response

        return fault_middleware


def _kalshi_fault(status: int) -> web.Response:
    """An injected error as Kalshi answers one: a 429 as `{"error": "too many requests"}` with no
    Retry-After, anything else in its `{"error": {code, message}}` envelope."""
    if status == 429:
        return web.json_response({"error": "too many requests"}, status=429)
    code = KALSHI_CODES.get(status, "internal_server_error")
    return web.json_response({"error": {"code": code, "message": ERROR_BODIES.get(status, "error")}}, status=status)


async def _rpc_method(request: web.Request) -> str | None:
    """The JSON-RPC method a request called (its body is cached by aiohttp once read)."""
    try:
        body = json.loads(await request.read())
    except ValueError:
        return None
    return body.get("method") if isinstance(body, dict) else None
