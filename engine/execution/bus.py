"""What the executor tells the rest of the engine, and the one in-process bus it tells it on.

The executor publishes facts after they are committed (a fill, an order's new status) or as
they happen (a placement refused, a venue fault, the venue's phase); the risk monitor, the
watch, the core's venue banner and any later consumer (markouts, liquidity rewards) subscribe
to the kinds they need. Nothing here calls back into the executor: events flow out, and
commands go in through the executor's own methods.

Handlers run synchronously, in the order they subscribed, on the publisher's thread; a
handler that raises stops the publication there, as a direct call would.
"""

from __future__ import annotations

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


class EventBus:
    def __init__(self) -> None:
        self._handlers: defaultdict[type, list[Callable[[Any], None]]] = defaultdict(list)

    def subscribe(self, kind: type[Event], handler: Callable[[Event], None]) -> None:
        self._handlers[kind].append(handler)

    def publish(self, event: object) -> None:
        for handler in self._handlers.get(type(event), ()):
            handler(event)
