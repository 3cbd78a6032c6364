"""Kalshi's exchange as the desk last read it: whether trading is active now (`/exchange/status`)
and the scheduled pauses ahead (`/exchange/schedule`'s maintenance windows), both public reads.

Kalshi pauses trading every Thursday 03:00-05:00 US Eastern (placing and amending refused, cancels
taken) and may pause the whole exchange (cancels refused too); its status says which, and when it
expects to resume. The watch reads the status every STATUS_S (every NEAR_S while a pause is on or
near, so trading resumes within a second or two of Kalshi's), the schedule every SCHEDULE_S.
`on_change` is told each time what it read differs
in what the desk does (paused or not, the next window), so the trading side can say so and hold
its Kalshi orders (engine/trading/ledgers/exchange_pauses.py; what it read is kept and alerted by
engine/venues/kalshi/pairs.py). The state it reads is engine/feeds/exchange_state.py's.

A read that fails leaves the last state (with the failure) and is tried again: a desk that could not
read the status still learns of a pause from Kalshi's own refusals, which are not faults.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import replace

from engine.feeds.exchange_state import LEAD_MS, ExchangeState
from engine.venues.kalshi.client import PublicReads
from engine.venues.kalshi.fixed import KalshiShapeError
from engine.venues.kalshi.http import KalshiError
from storage.sqlite.db import now_ms

log = logging.getLogger("engine.venues.kalshi.exchange")
STATUS_S = 10.0
NEAR_S = 1.0  # while paused, or a pause is this close (LEAD_MS + a margin): resumed within a second
SCHEDULE_S = 300.0


class KalshiExchangeWatch(PublicReads):
    task_name = "kalshi-exchange"

    def __init__(self, host: str, *, on_change: Callable[[ExchangeState, ExchangeState], None] | None = None,
                 clock_ms: Callable[[], int] = now_ms, status_s: float = STATUS_S, near_s: float = NEAR_S,
                 schedule_s: float = SCHEDULE_S) -> None:
        super().__init__(host)
        self.state = ExchangeState()
        self.on_change = on_change
        self.clock_ms = clock_ms
        self.status_s, self.near_s, self.schedule_s = status_s, near_s, schedule_s
        self._schedule_at: int | None = None  # when the schedule was last read

    async def _run(self) -> None:
        while True:
            await self.read_once()
            read_at = time.monotonic()
            while (left := read_at + self._interval() - time.monotonic()) > 0:  # the interval shortens as
                await asyncio.sleep(min(left, self.near_s))  # a pause nears: looked at every near_s

    def _interval(self) -> float:
        now = self.clock_ms()
        near = self.state.near(now, LEAD_MS + int(self.status_s * 2000))
        return self.near_s if self.state.paused or near is not None else self.status_s

    async def read_once(self) -> ExchangeState:
        """The status (and the schedule when due) read; `on_change` told if what it says changed."""
        before, now = self.state, self.clock_ms()
        try:
            status = await self.client.exchange_status()
            windows = before.windows
            if self._schedule_at is None or now - self._schedule_at >= self.schedule_s * 1000:
                windows = tuple(w for w in await self.client.maintenance_windows() if w[1] > now)
                self._schedule_at = now
            after = ExchangeState(now, status.trading_active, status.exchange_active, status.resume_ms,
                                  tuple(w for w in windows if w[1] > now))
        except (KalshiError, KalshiShapeError) as exc:
            after = replace(before, error=f"{type(exc).__name__}: {exc}"[:300])
            log.warning("Kalshi's exchange status could not be read", extra={"error": after.error})
        self.state = after
        if self.on_change is not None and _said(before, now) != _said(after, now):
            self.on_change(before, after)
        return after


def _said(state: ExchangeState, now: int) -> tuple[object, ...]:
    """What of a state the desk acts on and tells: a change of it is told."""
    return state.trading_active, state.exchange_active, state.next_window(now), state.error is None
