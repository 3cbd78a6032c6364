"""The paper venue's requests in flight: placements and cancels sent and not yet acting.

With a latency model other than zero (engine/venues/latency.py), a placement is answered
DELAYED (as the venue answers an order it will match later) and acts when its delay has passed,
against the book as it is then; a cancel is acknowledged when it acts, and until then the order
it targets still rests and can fill. Those fills are what latency cost: a zero-latency cancel
would have taken the order off the book first. They are counted here as pick-offs.

Requests act in the order they were sent where they touch the same order: a cancel sent while
its order is still in flight acts after the order has arrived, never before (which would leave
the order resting with nobody trying to cancel it).
"""

from __future__ import annotations

import heapq
import random
from dataclasses import dataclass, field

from contracts.domain import Side
from engine.venues.base import PreparedOrder
from engine.venues.latency import LatencyModel

NEVER = 2**62  # no request in flight


@dataclass(order=True)
class Arrival:
    at_ms: int
    seq: int
    orders: tuple[PreparedOrder, ...] = field(default=(), compare=False)  # a placement (one, or a batch)
    cancels: frozenset[str] = field(default=frozenset(), compare=False)  # a cancel, by venue order id


@dataclass
class Pickoffs:
    """Fills of orders whose cancel was in flight: a zero-latency run would not have had them."""

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


class InFlight:
    def __init__(self, model: LatencyModel, seed: int) -> None:
        self.model = model
        self.rng = random.Random(f"latency-{seed}")  # its own stream: settlement draws are unchanged
        self.heap: list[Arrival] = []
        self.seq = 0
        self.placing: dict[str, tuple[PreparedOrder, int]] = {}  # venue order id -> (request, when it was sent)
        self.cancelling: set[str] = set()  # orders whose cancel is in flight
        self.pickoffs = Pickoffs()

    @property
    def next_ms(self) -> int:
        return self.heap[0].at_ms if self.heap else NEVER

    def place(self, now: int, orders: tuple[PreparedOrder, ...]) -> int:
        """Send a placement (one request, however many orders); returns when it acts."""
        at = now + self.model.order_delay(self.rng)
        for prepared in orders:
            self.placing[prepared.venue_order_id] = (prepared, now)
        self._push(Arrival(at, self.seq, orders=orders))
        return at

    def cancel(self, now: int, venue_order_ids: set[str]) -> int:
        """Send a cancel; it acts after its delay, and never before an order it names has arrived."""
        at = now + self.model.cancel_delay(self.rng)
        arriving = [a.at_ms for a in self.heap if any(p.venue_order_id in venue_order_ids for p in a.orders)]
        at = max([at, *arriving])
        self.cancelling |= venue_order_ids
        self._push(Arrival(at, self.seq, cancels=frozenset(venue_order_ids)))
        return at

    def pop_due(self, now: int) -> Arrival | None:
        if not self.heap or self.heap[0].at_ms > now:
            return None
        arrival = heapq.heappop(self.heap)
        for prepared in arrival.orders:
            self.placing.pop(prepared.venue_order_id, None)
        self.cancelling -= arrival.cancels
        return arrival

    def drop_placements(self) -> list[PreparedOrder]:
        """Every placement still in flight, taken back (a kill's cancel-all catches them)."""
        dropped = [prepared for prepared, _ in self.placing.values()]
        self.placing.clear()
        self.heap = [a for a in self.heap if not a.orders]
        heapq.heapify(self.heap)
        return dropped

    def summary(self) -> dict[str, object]:
        """What latency cost, for a backtest's report."""
        p = self.pickoffs
        return {"model": self.model.spec.text, "described": self.model.describe(), "pickoffs": p.fills,
                "shares": p.shares / 1_000_000, "notional": p.notional / 1_000_000,
                "bought": p.bought / 1_000_000}

    def _push(self, arrival: Arrival) -> None:
        self.seq += 1
        heapq.heappush(self.heap, arrival)
