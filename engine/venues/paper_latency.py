"""The paper venue's request trips: how long each placement and cancel takes to act.

A call to the paper venue takes the latency model's time (engine/venues/latency.py), as a call to
the venue does: the caller waits, the market moves meanwhile, and the answer reflects the book the
request met on arrival. A cancel's orders still rest while it is on its way and can be filled:
those fills are what latency cost (a zero-latency cancel would have taken the order off first),
and they are counted here as pick-offs.

How a trip passes is the clock's business: on a real clock it is a sleep (events keep arriving
on the loop); in a backtest `wait_until` is the replay's, which applies the recording up to the
arrival time before the call goes on. A taker on a crypto market that would match at once is then held
by the venue (`hold`: its crypto taker delay) and matches the book as it is after that, at any latency.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

from contracts.domain import Side
from engine.venues.latency import LatencyModel


@dataclass
class Pickoffs:
    """Fills of orders whose cancel was on its way: a zero-latency run would not have had them."""

    fills: int = 0
    shares: int = 0  # micro-shares
    notional: int = 0  # micro-pUSD, at the fills' prices
    bought: int = 0  # micro-shares of those that were buys (the rest sold)

    def add(self, side: Side, price: int, size: int) -> None:
        self.fills += 1
        self.shares += size
        self.notional += price * size // 1_000_000
        if side is Side.BUY:
            self.bought += size


class Trips:
    def __init__(self, model: LatencyModel, seed: int, clock: Callable[[], int]) -> None:
        self.model = model
        self.clock = clock
        self.rng = random.Random(f"latency-{seed}")  # its own stream: settlement draws are unchanged
        self.wait_until: Callable[[int], Awaitable[None]] = self._sleep_until
        self.cancelling: dict[str, int] = {}  # order -> cancels of it on their way
        self.pickoffs = Pickoffs()
        self.cancel_alls = 0  # the operator's cancel-alls so far
        self.holds = 0  # takers the venue held before matching (its crypto markets' taker delay)
        self.hold_ms = 0  # how long it held each

    async def place(self) -> bool:
        """A placement's trip; False when a cancel-all acted while it was on its way."""
        if self.model.zero:
            return True
        sent = self.cancel_alls
        await self.wait_until(self.clock() + self.model.order_delay(self.rng))
        return self.cancel_alls == sent

    async def hold(self, ms: int) -> bool:
        """A taker the venue holds `ms` before it matches, whatever the latency model (the venue's rule, not
        the network's); False when a cancel-all acted meanwhile (a held order is cancelled with the rest)."""
        self.holds += 1
        self.hold_ms = ms
        sent = self.cancel_alls
        await self.wait_until(self.clock() + ms)
        return self.cancel_alls == sent

    @asynccontextmanager
    async def cancelling_orders(self, venue_order_ids: set[str]) -> AsyncIterator[None]:
        """A cancel's trip: its orders are marked while it is on its way; the body acts on arrival."""
        if self.model.zero:
            yield
            return
        for v in venue_order_ids:
            self.cancelling[v] = self.cancelling.get(v, 0) + 1
        try:
            await self.wait_until(self.clock() + self.model.cancel_delay(self.rng))
            yield
        finally:
            for v in venue_order_ids:
                left = self.cancelling.pop(v, 1) - 1
                if left > 0:
                    self.cancelling[v] = left

    def filled(self, venue_order_id: str, side: Side, price: int, size: int) -> None:
        """A resting order filled: a pick-off if its cancel is on its way."""
        if venue_order_id in self.cancelling:
            self.pickoffs.add(side, price, size)

    def cancel_all(self) -> None:
        self.cancel_alls += 1

    def summary(self) -> dict[str, object]:
        """The model and what it cost, for a backtest's report."""
        p = self.pickoffs
        held = (f"; {self.holds:,} taker order{'s' if self.holds != 1 else ''} on crypto markets held "
                f"{self.hold_ms} ms by the venue before matching") if self.holds else ""
        return {"model": self.model.spec.text, "described": self.model.describe() + held, "pickoffs": p.fills,
                "shares": p.shares / 1_000_000, "notional": p.notional / 1_000_000,
                "bought": p.bought / 1_000_000, "taker_holds": self.holds}

    async def _sleep_until(self, at: int) -> None:
        await asyncio.sleep(max(0, at - self.clock()) / 1000)
