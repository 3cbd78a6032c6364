"""Catching up with the venue over REST: fills since a moment, an order by id, and the
reconcile that runs after every user-channel (re)connect.

The venue only knows an order by id once it rested on the book; one matched in full on
arrival is visible through its trades alone, so a lookup falls back to them. Trades are
re-sent at every status (MATCHED -> MINED -> CONFIRMED/FAILED), and a trade matched
before a disconnect may change status during it, so the reconcile re-reads trades from
the oldest one still settling, not just from the last one seen.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Protocol

from py_clob_client_v2 import TradeParams

from engine.venues.base import (
    OrderEvent,
    TradeEvent,
    TradeStatus,
    VenueEvent,
    VenueOrder,
    VenueOrderStatus,
    VenueTrade,
)
from engine.venues.polymarket.calls import ClobCaller
from engine.venues.polymarket.client import AdapterClobClient, CallFailure
from engine.venues.polymarket.wire import FeeSchedule, Identity, no_fee_schedule, our_fills, venue_order

log = logging.getLogger("engine.venues.polymarket.venue")
END_CURSOR = "LTE="
MARGIN_MS = 60_000  # clock skew and second-granular match times
SETTLED = (TradeStatus.CONFIRMED, TradeStatus.FAILED)


class OrderSource(Protocol):
    """What the reconcile reads from the venue (the adapter in engine/venues/polymarket/venue.py)."""

    async def open_orders(self) -> list[VenueOrder]: ...

    async def get_order(self, venue_order_id: str) -> VenueOrder | None: ...

    async def trades(self, *, after_ms: int | None = None) -> list[VenueTrade]: ...


class FillTracker:
    """What the reconcile needs to remember: trades still settling, the newest match
    seen, and the orders we believe are open."""

    def __init__(self, since_ms: int):
        self.last_seen_ms = since_ms
        self.settling: dict[tuple[str, str], int] = {}  # (trade id, order id) -> matched ms
        self.known_open: set[str] = set()

    def note_fill(self, fill: VenueTrade) -> None:
        self.last_seen_ms = max(self.last_seen_ms, fill.matched_ms)
        key = (fill.trade_id, fill.venue_order_id)
        if fill.status in SETTLED:
            self.settling.pop(key, None)
        else:
            self.settling[key] = fill.matched_ms

    def note_order(self, order_id: str, is_open: bool) -> None:
        if is_open:
            self.known_open.add(order_id)
        else:
            self.known_open.discard(order_id)

    def trades_after_ms(self) -> int:
        return min([self.last_seen_ms, *self.settling.values()]) - MARGIN_MS


async def fetch_fills(calls: ClobCaller, client: AdapterClobClient, identity: Identity,
                      after_ms: int | None, fees: FeeSchedule = no_fee_schedule) -> list[VenueTrade]:
    """Our fills in every trade matched after `after_ms`, page by page."""
    params = TradeParams(after=max(0, after_ms // 1000 - 1)) if after_ms else TradeParams()
    fills: list[VenueTrade] = []
    cursor: str | None = None
    while cursor != END_CURSOR:
        page = await calls.call("data", client.get_trades_paginated, params, cursor)
        for raw in page.get("trades") or ():
            if isinstance(raw, dict):
                fills.extend(our_fills(raw, identity, fees))
        cursor = page.get("next_cursor") or END_CURSOR
    return fills


async def find_order(calls: ClobCaller, client: AdapterClobClient, identity: Identity, order_id: str,
                     since_ms: int, fees: FeeSchedule = no_fee_schedule
                     ) -> tuple[VenueOrder, tuple[str, ...]] | None:
    """An order's current state by id (REST order, else its trades); None if unknown."""
    try:
        raw = await calls.call("data", client.get_order, order_id)
    except CallFailure as failure:
        if failure.status != 404:
            raise
        raw = None
    if isinstance(raw, dict) and raw.get("id"):
        return venue_order(raw), tuple(str(t) for t in raw.get("associate_trades") or ())
    found = await fetch_fills(calls, client, identity, since_ms, fees)
    fills = [f for f in found if f.venue_order_id == order_id]
    if not fills:
        return None
    first, filled = fills[0], sum(f.size for f in fills)
    order = VenueOrder(venue_order_id=order_id, condition_id=first.condition_id, token_id=first.token_id,
                       side=first.side, price=first.price, size=filled, filled=filled,
                       status=VenueOrderStatus.MATCHED, created_ms=first.matched_ms)
    return order, tuple(dict.fromkeys(f.trade_id for f in fills))


async def reconcile(venue: OrderSource, tracker: FillTracker,
                    deliver: Callable[[VenueEvent], None]) -> None:
    orders = await venue.open_orders()
    for order in orders:
        deliver(OrderEvent(order))
    listed = {o.venue_order_id for o in orders}
    for order_id in sorted(tracker.known_open - listed):  # closed while we were away
        gone = await venue.get_order(order_id)
        if gone is not None:
            deliver(OrderEvent(gone))
    for fill in await venue.trades(after_ms=tracker.trades_after_ms()):
        deliver(TradeEvent(fill))
