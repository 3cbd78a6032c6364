"""What the executor tells the rest of the engine, and the one in-process bus it tells it on.

The executor publishes facts after they are committed (a fill, an order's new status) or as
they happen (a placement refused, a venue fault, the venue's phase); the risk monitor, the
watch, the core's venue banner and any later consumer (markouts, liquidity rewards) subscribe
to the kinds they need. Nothing here calls back into the executor: events flow out, and
commands go in through the executor's own methods.

Handlers run synchronously, in the order they subscribed, on the publisher's thread. Each is
isolated: one that raises is logged and reported (`on_error`: the core raises an alert) and the
handlers after it still run, so a bug in one subscriber (a markout, the watch) never keeps a fill
from the risk monitor, nor reaches back into the executor that published.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, TypeVar

from contracts.domain import MarketInfo, Outcome, Side
from engine.execution.planner import OrderSpec
from engine.execution.store import OrderRow
from engine.venues.base import TradeStatus

Event = TypeVar("Event")
log = logging.getLogger("engine.execution.bus")


@dataclass(frozen=True, slots=True)
class FillApplied:
    """A new fill of one of our orders, committed: everything a markout needs (a later status of
    the same trade, MINED or CONFIRMED, is not a new fill and is not published)."""

    order_id: int
    trade_id: str
    strategy: str
    condition_id: str
    token_id: str
    outcome: Outcome
    side: Side
    price: int  # micro-pUSD per share
    size: int  # micro-shares
    fee: int  # micro-pUSD, as the venue charges it
    liquidity: str  # "maker" or "taker"
    status: TradeStatus
    matched_at: int  # when the venue matched it (ms)
    at_ms: int  # when it was applied


@dataclass(frozen=True, slots=True)
class OrderAdvanced:
    """An order was recorded or moved, committed: its placement (first seen, with price and
    size), each status it reaches and its end (`order.terminal`)."""

    order: OrderRow
    at_ms: int


@dataclass(frozen=True, slots=True)
class PlacementRefused:
    """An order was not placed: held back or refused before sending (`by_venue` False), or
    refused by the venue's answer (`by_venue` True). `reason` is a reason code."""

    strategy: str
    market: MarketInfo
    spec: OrderSpec
    reason: str
    detail: str
    by_venue: bool


@dataclass(frozen=True, slots=True)
class PlacementsAnswered:
    """The venue answered a batch of placements: how many it took (each refusal is its own
    PlacementRefused), so a breaker can tell a venue refusing most orders from one refusing a few."""

    accepted: int


@dataclass(frozen=True, slots=True)
class VenueFault:
    """A real venue fault (no answer, a server error): refusals and maintenance are not faults."""

    message: str


class VenuePhase(StrEnum):
    """Whether the venue takes orders (engine/execution/venue_health.py tracks it)."""

    OPEN = "ok"
    MAINTENANCE = "maintenance"
    POST_ONLY = "post_only"
    RATE_LIMITED = "rate_limited"


@dataclass(frozen=True, slots=True)
class VenueHealthChanged:
    """The venue started or stopped taking orders: a restart, its post-only phase, a rate limit."""

    phase: VenuePhase
    detail: str
    at_ms: int


# Told of a handler that raised: the event, the handler and what it raised.
ErrorReport = Callable[[object, Callable[[Any], None], Exception], None]


class EventBus:
    def __init__(self, on_error: ErrorReport | None = None) -> None:
        self._handlers: defaultdict[type, list[Callable[[Any], None]]] = defaultdict(list)
        self.on_error = on_error

    def subscribe(self, kind: type[Event], handler: Callable[[Event], None]) -> None:
        self._handlers[kind].append(handler)

    def publish(self, event: object) -> None:
        for handler in self._handlers.get(type(event), ()):
            try:
                handler(event)
            except Exception as exc:
                self._failed(event, handler, exc)

    def _failed(self, event: object, handler: Callable[[Any], None], exc: Exception) -> None:
        log.exception("an event handler raised; the other handlers still ran",
                      extra={"handler": handler_name(handler), "event": type(event).__name__})
        if self.on_error is None:
            return
        try:
            self.on_error(event, handler, exc)
        except Exception:  # (the database locked by another process, say): the log above says it
            log.exception("the report of a failed event handler failed too")


def handler_name(handler: Callable[[Any], None]) -> str:
    """How logs and alerts name a handler: its qualified name (a lambda's is its enclosing function's)."""
    return getattr(handler, "__qualname__", None) or type(handler).__qualname__
