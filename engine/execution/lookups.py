"""Asking the venue about single orders, and closing ours on its answer: an order known only
from a trade (adopted when the venue answers), a placement whose outcome is unknown (LOST
when the venue never had it), a take the venue is done with, an order it no longer has.
An outage is never an answer: the order may be resting there, so it is asked again later.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass

from contracts.domain import fmt
from contracts.order_status import OrderStatus, ended
from engine.execution import store
from engine.execution.event_applier import EventApplier
from engine.execution.planner import TAKE
from engine.execution.state import ExecutionState
from engine.execution.store import OrderRow
from engine.execution.transactions import OrderTracker, Transactions
from engine.execution.venue_health import VenueHealth
from engine.venues.base import Venue, VenueBusy, VenueError, VenueOrder
from storage.desk.audit import raise_alert
from storage.engine_stores import execution_ledger

log = logging.getLogger("engine.executor")

TAKE_CHECK_MS = 2_000


@dataclass
class ExecutorConfig:
    lost_grace_ms: int = 15_000  # a placement never acknowledged is LOST after this long
    # Move orders in place where the market's venue amends them (engine/execution/amends.py); False: cancel and
    # replace, as on every other venue (a comparison's baseline).
    amends: bool = True


class OrderLookups:
    def __init__(self, venue: Venue, state: ExecutionState, health: VenueHealth, transactions: Transactions,
                 tracker: OrderTracker, applier: EventApplier, clock: Callable[[], int], config: ExecutorConfig):
        self.venue = venue
        self.state = state
        self.health = health
        self.transactions = transactions
        self.tracker = tracker
        self.applier = applier
        self.clock = clock
        self.config = config
        self._checked: dict[int, int] = {}
        self._pending: set[asyncio.Task[None]] = set()

    def request(self, venue_order_id: str) -> None:
        """Ask the venue about an order we only know from a trade (applied when it answers)."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # replay without a loop: the order's own report will come in the stream
        task = loop.create_task(self._adopt(venue_order_id))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def settle(self) -> None:
        """Wait for every pending order lookup (recovery wants a settled picture)."""
        while self._pending:
            await asyncio.gather(*list(self._pending), return_exceptions=True)

    async def _adopt(self, venue_order_id: str) -> None:
        await self.ask(venue_order_id)
        self.applier.import_orphans_as_is(venue_order_id)

    async def ask(self, venue_order_id: str) -> tuple[bool, VenueOrder | None]:
        """(whether the venue answered, its report, applied) for one order id."""
        try:
            found = await self.venue.get_order(venue_order_id)
        except VenueBusy as exc:
            self.health.busy(exc)
            return False, None
        except VenueError as exc:
            self.health.failed()
            log.warning("order lookup failed", extra={"venue_order_id": venue_order_id, "error": str(exc)})
            return False, None
        if found is not None:
            self.applier.order_report(found)
        return True, found

    async def settle_by_lookup(self, venue_order_id: str, why: str) -> bool:
        """Look an order up; if the venue answers that it has no such order, close ours (it
        cannot be working there). True when our order moved or closed."""
        order_id = self.state.by_venue.get(venue_order_id)
        before = self.state.orders.get(order_id) if order_id is not None else None
        answered, found = await self.ask(venue_order_id)
        current = self.state.orders.get(order_id) if order_id is not None else None
        if answered and found is None and current is not None and current.status is not OrderStatus.PENDING_SUBMIT:
            self.close_gone(current, why)
            return True
        return before is not None and (current is None or current.status is not before.status)

    def close_gone(self, order: OrderRow, why: str) -> None:
        """The venue answered it has no such order: it is not working there (the venue forgets
        finished orders). It ends as `order_status.ended` says (FILLED if its fills cover it, or
        for a take if anything traded; else CANCELED); its reservation goes (nothing rests to
        honour it). Only an end nobody knew of is alerted: not a fill its fills already show, nor
        the cancel we had asked for."""
        now = self.clock()
        status = ended(size=order.size, filled=order.filled, take=order.tif in TAKE)
        expected = status is OrderStatus.FILLED or order.status is OrderStatus.CANCEL_PENDING
        with self.transactions.tx() as conn:
            if execution_ledger.advance(conn, order.id, status, now, error=why) and not expected:
                raise_alert(conn, level="warning", source="executor", code="ORDER_GONE",
                            message=f"order {order.client_id} ({order.side.value} {fmt(order.size)} at "
                                    f"{fmt(order.price)}) closed as {status.value}: {why}")
            row = store.order_by_id(conn, order.id)
        self.tracker.track(row)

    async def check_unresolved(self) -> None:
        """Takes and unknown-outcome placements settle by lookup; long-unknown ones become LOST."""
        now = self.clock()
        for order in list(self.state.orders.values()):
            pending = order.status is OrderStatus.PENDING_SUBMIT and order.submitted_at is not None
            take = order.tif in TAKE
            if not (pending or take) or now - self._checked.get(order.id, order.created_at) < TAKE_CHECK_MS:
                continue
            self._checked[order.id] = now
            answered, found = await self.ask(order.venue_order_id) if order.venue_order_id else (True, None)
            if not answered:
                continue  # an outage is not an answer: the order may be resting there; ask again later
            current = self.state.orders.get(order.id)
            if current is None:
                continue
            if current.status is OrderStatus.PENDING_SUBMIT:
                if now - order.created_at > self.config.lost_grace_ms:
                    self.mark_lost(current, "the venue never acknowledged it and has no such order")
            elif take and found is None:  # a delayed take the venue is done with: it never rests
                self.close_gone(current, f"the venue no longer has this {current.tif.value} order")

    def mark_lost(self, order: OrderRow, why: str) -> None:
        """LOST, with a flag and an alert, unless it has meanwhile reached a final state."""
        now = self.clock()
        with self.transactions.tx() as conn:
            if execution_ledger.advance(conn, order.id, OrderStatus.LOST, now, error=why):
                execution_ledger.add_flag(conn, order.id, "lost", now)
                raise_alert(conn, level="warning", source="executor", code="ORDER_LOST",
                            message=f"order {order.client_id} marked LOST: {why}; it was not resubmitted")
            row = store.order_by_id(conn, order.id)
        self.tracker.track(row)
