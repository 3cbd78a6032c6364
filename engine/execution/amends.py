"""Amending resting orders in place at the venue, instead of cancelling and replacing them, where the
market's venue policy says it amends (`VenuePolicy.amends`: Kalshi's Amend and Decrease Order (V2)).

A decrease (fewer contracts at the same price) keeps the order's queue place, and is always sent. Any
other change (a price, more contracts) puts the order at the back of the queue at its new terms, as a
new order would be: it is sent as one amend (one request, a create's tokens, no moment with the order
gone or doubled) only when that takes no more requests than cancelling and placing them with the rest
of the pass would (the venue's batches: `worth_moving`); otherwise it is replaced.

Intent before network: each amend is written `pending` (committed to disk) before it is sent. The
venue's answer moves it once: `applied` (the order row takes its new terms in the same transaction),
`refused` (the order rests as it was; it is cancelled and replaced instead, and never amended again;
a venue that did nothing now, busy or paused, leaves it to the next pass), or, when the answer is lost
(no answer, a server error, an answer that names another order), it stays pending and the order is
looked up (`settle`): the venue showing the new terms applies it, the old ones end it `lost`, an
order that ended ends it `ended`. It is never sent again. Start-up settles every pending amend so
(engine/execution/recovery.py); until then the planner reads the order at the amend's terms and
neither cancels nor amends it (engine/execution/planner.py `WorkingOrder.amending`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import cast

from contracts.domain import MarketInfo
from engine.execution import amend_records, store
from engine.execution.amend_records import PendingAmend
from engine.execution.bus import EventBus, VenueFault
from engine.execution.placement import PlacementCheck
from engine.execution.planner import Amend
from engine.execution.state import ExecutionState
from engine.execution.store import OrderRow
from engine.execution.transactions import OrderTracker, Transactions
from engine.execution.venue_health import VenueHealth
from engine.failpoints import crash_point
from engine.venues.base import (
    AmendRequest,
    AmendsOrders,
    OrderRejected,
    Venue,
    VenueBusy,
    VenueError,
    VenueOrderStatus,
    VenueUnavailable,
)

log = logging.getLogger("engine.executor")

ASK_MS = 2_000  # an amend whose answer was lost is looked up at most this often
RESTING = frozenset({VenueOrderStatus.LIVE, VenueOrderStatus.DELAYED, VenueOrderStatus.UNKNOWN})


@dataclass(frozen=True, slots=True)
class Move:
    """One amend the planner asked for: whose (strategy, market, why) and the order as the mirror holds it."""

    strategy: str
    market: MarketInfo
    amend: Amend
    reason: str
    order: OrderRow


class Amends:
    _venue: Venue

    def __init__(self, venue: Venue, state: ExecutionState, health: VenueHealth, transactions: Transactions,
                 tracker: OrderTracker, bus: EventBus, clock: Callable[[], int], *, mode: str,
                 placement_check: Callable[[], PlacementCheck | None]) -> None:
        self.venue = venue
        self.state = state
        self.health = health
        self.transactions = transactions
        self.tracker = tracker
        self.bus = bus
        self.clock = clock
        self.mode = mode
        self.placement_check = placement_check
        self._asked: dict[int, int] = {}  # amend id -> when its order was last looked up
        self.applied = 0  # amends the venue took, so far

    @property
    def venue(self) -> Venue:
        return self._venue

    @venue.setter
    def venue(self, venue: Venue) -> None:
        self._venue = venue
        self.can = isinstance(venue, AmendsOrders)  # (asked once: a protocol's isinstance is slow)

    # -- what is sent --------------------------------------------------------------------

    def worth_moving(self, moves: int, cancels: int, places: int) -> bool:
        """Whether `moves` amends that lose the queue place anyway take no more requests than cancelling
        and placing them beside the pass's `cancels` and `places`, in the venue's batches."""
        replace = cast(AmendsOrders, self.venue).replace_requests
        return moves + replace(cancels, places) <= replace(cancels + moves, places + moves)

    def approved(self, move: Move) -> bool:
        """Whether the venue takes a move now and the placement check passes it (a move rests anew, as a
        placement would: held back while the venue cannot take it; a decrease only ever takes risk off)."""
        spec = move.amend.spec
        if move.amend.decrease:
            return True
        if self.health.holds_back(spec) is not None:
            return False
        check = self.placement_check()
        return check is None or check(move.strategy, move.market, spec, max(0, len(self.state.orders) - 1)) is None

    async def send(self, moves: Sequence[Move], blocked: Callable[[], bool]) -> list[Move]:
        """Send each amend (its intent written first); the moves the venue refused, to replace instead.
        Nothing is sent once `blocked` (a kill or a stop closed the order gate)."""
        refused: list[Move] = []
        for move in moves:
            if blocked():
                break
            if await self._one(move) == "refused":
                refused.append(move)
        return refused

    async def _one(self, move: Move) -> str:
        order, amend = move.order, move.amend
        assert order.venue_order_id is not None  # (only an acknowledged order is amended)
        request = AmendRequest(order.venue_order_id, order.condition_id, order.token_id, order.side, order.price,
                               order.size, amend.spec.price, amend.size, order.post_only)
        with self.transactions.tx() as conn:  # intent before network (committed to disk)
            pending = amend_records.write_intent(
                conn, order_id=order.id, mode=self.mode, venue=self.state.venue, old_price=order.price,
                old_size=order.size, price=request.price, size=request.size, decrease=request.decrease,
                now=self.clock())
        self.state.amend_moved(order.id, pending)
        crash_point("after_amend_intent")
        try:
            await cast(AmendsOrders, self.venue).amend(request)
        except VenueBusy as exc:  # nothing done now (restarting, rate-limited, paused): the next pass sees
            self.health.busy(exc)
            self._end(pending, "refused", f"not done now: {exc}")
            return "busy"
        except OrderRejected as exc:
            self._end(pending, "refused", str(exc)[:300], refused=True)
            log.info("the venue refused an amend: the order is replaced instead",
                     extra={"order": order.client_id, "error": str(exc)[:300]})
            return "refused"
        except VenueError as exc:  # no answer: looked up (`settle`), never sent again
            self.bus.publish(VenueFault(str(exc)))
            if isinstance(exc, VenueUnavailable):
                self.health.failed()
            log.warning("an amend's outcome is unknown; the order will be looked up",
                        extra={"order": order.client_id, "error": str(exc)[:300]})
            return "unknown"
        crash_point("after_amend_sent")
        self.health.answered()
        self._applied(pending)
        return "applied"

    # -- its end -------------------------------------------------------------------------

    def _applied(self, amend: PendingAmend, *, price: int | None = None, size: int | None = None) -> None:
        self.applied += 1
        now = self.clock()
        with self.transactions.tx() as conn:  # the amend's end and the order's new terms: one transaction
            amend_records.applied(conn, amend, now, price=price, size=size)
            row = store.order_by_id(conn, amend.order_id)
        self.state.amend_moved(amend.order_id, None)
        self.tracker.track(row)

    def _end(self, amend: PendingAmend, status: str, why: str, *, refused: bool = False) -> None:
        with self.transactions.tx() as conn:
            amend_records.ended(conn, amend, status, self.clock(), why)
        self.state.amend_moved(amend.order_id, None, refused=refused)

    async def settle(self, *, now: bool = False) -> int:
        """Amends whose answer was lost, settled by looking their order up (each at most every ASK_MS;
        `now`: all of them, as start-up does): the venue showing the new terms applies one, the old terms
        end it `lost`, an order that ended ends it `ended`. Returns how many were settled."""
        settled = 0
        at = self.clock()
        for order_id, amend in list(self.state.amending.items()):
            if not now and at - self._asked.get(amend.id, amend.created_at) < ASK_MS:
                continue
            self._asked[amend.id] = at
            order = self.state.orders.get(order_id)
            if order is None or not order.venue_order_id:
                self._end(amend, "ended", "the order ended before the venue's word on its amend was read")
                settled += 1
                continue
            try:
                found = await self.venue.get_order(order.venue_order_id)
            except VenueBusy as exc:
                self.health.busy(exc)
                continue
            except VenueError as exc:  # an outage is not an answer: asked again later
                log.warning("an amend's order could not be looked up", extra={"error": str(exc)[:300]})
                continue
            if found is None or found.status not in RESTING:
                self._end(amend, "ended", "the order no longer rests at the venue")
            elif (found.price, found.size) == (amend.old_price, amend.old_size) != (amend.price, amend.size):
                self._end(amend, "lost", "its answer was lost and the venue shows the order's old terms: it was "
                                         "not taken (never sent again)")
            else:  # the venue shows it amended (or at terms it says: those are the order's now)
                self._applied(amend, price=found.price, size=found.size)
            self._asked.pop(amend.id, None)
            settled += 1
        return settled
