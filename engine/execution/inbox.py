"""The executor's inbox of venue reports (order updates, trades): queued as the venue sends
them, applied in order, in one transaction between decisions. While another process holds the
database's write lock they wait, in order, and are applied when it is released: never skipped
for that. A report that cannot be applied is skipped alone, with an alert.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
from collections import deque
from collections.abc import Callable
from typing import Protocol

from engine.execution.transactions import Transactions
from engine.venues.base import VenueEvent
from storage.desk.audit import raise_alert
from storage.sqlite.db import is_locked

log = logging.getLogger("engine.executor")

LOCKED_RETRY_S = 0.1  # how soon waiting venue events try the database again


class Applier(Protocol):
    """What writes one report (engine/execution/event_applier.py's EventApplier; a test's stand-in)."""

    def apply(self, event: VenueEvent) -> None: ...


class EventInbox:
    def __init__(self, transactions: Transactions, applier: Applier, reload: Callable[[], None],
                 events: asyncio.Queue[VenueEvent]):
        """The applier writes each report; `reload` rebuilds the mirror after a rollback;
        `events` is the venue's own queue of reports, which this drains (the venue only puts)."""
        self.transactions = transactions
        self.applier = applier
        self.reload = reload
        self.events = events
        self._backlog: deque[VenueEvent] = deque()  # taken from the queue, not yet written
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None:  # its own context: it is no command's, whichever started it
            self._task = asyncio.create_task(self._apply_forever(), context=contextvars.Context())

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task = None

    @property
    def waiting(self) -> int:
        """Reports taken from the queue and not written yet (the database was locked)."""
        return len(self._backlog)

    async def _apply_forever(self) -> None:
        while True:
            self._backlog.append(await self.events.get())
            while self._backlog:
                self._take_queued()
                try:
                    self._apply_backlog()
                except Exception:
                    log.exception("failed to apply venue events")
                if self._backlog:
                    await asyncio.sleep(LOCKED_RETRY_S)

    def drain(self) -> int:
        """Apply every queued venue event now, in one transaction; returns how many applied
        (0 with them kept, in order, when the database is locked by another process)."""
        self._take_queued()
        return self._apply_backlog()

    def _take_queued(self) -> None:
        while not self.events.empty():
            self._backlog.append(self.events.get_nowait())

    def _apply_backlog(self) -> int:
        """Apply the waiting events in one transaction (one commit: the common case). If one
        fails, the batch rolls back and is applied again event by event, so only a bad event
        is skipped (with an alert). A locked database is not a bad event: what is left waits."""
        if not self._backlog:
            return 0
        batch = list(self._backlog)
        try:
            with self.transactions.tx():
                for event in batch:
                    self.applier.apply(event)
        except Exception as exc:
            if self.transactions.is_open:
                raise  # joined an outer transaction: its owner decides
            self.reload()  # the mirror may hold part of the rolled-back batch
            if is_locked(exc):
                return 0
            log.warning("a batch of venue events failed; applying them one at a time", extra={"events": len(batch)})
            return self._apply_one_by_one()
        self._backlog.clear()
        return len(batch)

    def _apply_one_by_one(self) -> int:
        applied = 0
        while self._backlog:
            event = self._backlog[0]
            try:
                with self.transactions.tx():
                    self.applier.apply(event)
                applied += 1
            except Exception as exc:
                self.reload()  # it may have changed the mirror before it raised; its rows are gone
                if is_locked(exc) or not self._skip(event, exc):
                    return applied  # the database is locked: this event and the rest wait
            self._backlog.popleft()
        return applied

    def _skip(self, event: VenueEvent, exc: Exception) -> bool:
        """Skip a bad event with an alert; False if even the alert cannot be written now."""
        log.error("failed to apply a venue event; skipped", extra={"event": repr(event), "error": repr(exc)})
        try:
            with self.transactions.tx() as conn:
                raise_alert(conn, level="critical", source="executor", code="EVENT_FAILED",
                            message=f"a venue report could not be applied and was skipped ({exc!r}): {event!r}. "
                                    "Check that order at the venue; a restart reconciles open orders with it")
        except Exception as alert_exc:
            if is_locked(alert_exc):
                return False
            raise
        return True
