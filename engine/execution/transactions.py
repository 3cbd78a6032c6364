"""The executor's write transactions, and its mirror kept in step with what they write.

One write transaction at a time: nested calls join the open one (a drain of many venue
events commits once), and nothing is announced until it commits. Never held across a venue
call.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import replace

from sqlalchemy import Connection

from contracts.order_status import OrderStatus
from engine.execution.bus import EventBus, OrderAdvanced
from engine.execution.state import ExecutionState
from engine.execution.store import OrderRow
from storage.sqlite.db import Database, Joined

log = logging.getLogger("engine.executor")


class Transactions:
    def __init__(self, db: Database, bus: EventBus):
        self.db = db
        self.bus = bus
        self._tx: Connection | None = None
        self._after_commit: list[Callable[[], None]] = []

    @property
    def is_open(self) -> bool:
        return self._tx is not None

    def tx(self, *, synced: bool = True) -> AbstractContextManager[Connection]:
        """One write transaction; nested calls join the open one. `synced=False`: committed
        without waiting for the disk (storage/sqlite/db.py says when that is allowed); a joined
        transaction commits as the one it joins."""
        if self._tx is not None:
            return Joined(self._tx)
        return self._own_tx(synced)

    @contextmanager
    def _own_tx(self, synced: bool) -> Iterator[Connection]:
        try:
            with self.db.write(synced=synced) as conn:
                self._tx = conn
                try:
                    yield conn
                finally:
                    self._tx = None
        except BaseException:
            self._after_commit.clear()  # rolled back: what it would have announced did not happen
            raise
        done, self._after_commit = self._after_commit, []
        for report in done:
            try:
                report()
            except Exception:  # a report (an alert) that fails must not undo or replay what committed
                log.exception("a report after a commit failed")

    def after_commit(self, report: Callable[[], None]) -> None:
        """Run `report` once the open transaction commits (at once when none is open), never
        inside it: a report that writes through its own connection (an alert) would wait for the
        lock this transaction holds. Dropped if the transaction rolls back."""
        if self._tx is None:
            report()
        else:
            self._after_commit.append(report)

    def announce(self, event: object) -> None:
        """Publish `event` on the bus once the open transaction commits (dropped on a rollback)."""
        self.after_commit(lambda: self.bus.publish(event))


class OrderTracker:
    """Keeps the mirror in step with each order row written, and announces each new status of
    an order, its fills and its terms (OrderAdvanced) once its transaction commits."""

    def __init__(self, state: ExecutionState, transactions: Transactions, clock: Callable[[], int]):
        self.state = state
        self.transactions = transactions
        self.clock = clock

    def track(self, row: OrderRow) -> None:
        before = self.state.orders.get(row.id)
        if before is None and row.venue_order_id:
            before = self.state.closed.get(row.venue_order_id)
        self.state.track(row)
        if before is None or before.status is not row.status or before.filled != row.filled \
                or before.price != row.price or before.size != row.size:  # (an amend moves the last two)
            self.transactions.announce(OrderAdvanced(row, self.clock()))

    def unsent(self, row: OrderRow, status: OrderStatus) -> None:
        """An order written `status` before it was ever sent: it leaves the mirror."""
        self.state.forget(row.id)
        self.transactions.announce(OrderAdvanced(replace(row, status=status), self.clock()))
