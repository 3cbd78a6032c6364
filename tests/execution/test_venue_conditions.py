"""The executor through the venue's weekly restart, its post-only phase, its refusals and its
forgetting: maintenance holds placements back without counting as errors and ends by itself;
a refused placement is REJECTED at once; a fill-and-kill ends with its answer; orders the
venue no longer has are closed on its answer. The venue is the paper venue, told to answer
like the real one's restart (HTTP 425), so every other behaviour is the real code's."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from contracts.domain import Intent, Outcome, Quote, Side, Tif
from engine.execution.bus import EventBus, PlacementRefused, VenueFault, VenueHealthChanged, VenuePhase
from engine.execution.cancels import UNLISTED_GRACE_MS
from engine.execution.planner import OrderSpec
from engine.execution.venue_health import EXIT_HOLD_MS, POST_ONLY_MS, VenueHealth
from engine.venues.base import (
    CancelResult,
    OrderRejected,
    OrderRequest,
    PlaceResult,
    PreparedOrder,
    VenueBusy,
    VenueOrder,
    VenueOrderStatus,
)
from engine.venues.paper import PaperVenue
from tests.desk import Desk, make_desk
from tests.execution.fakes import SH, p

RESTARTING = "the venue's matching engine is restarting (HTTP 425): Too Early"
RATE_LIMITED = "rate-limited by the venue (HTTP 429): Too Many Requests"
POST_ONLY_ONLY = "the matching engine is in post-only mode: only post-only orders are accepted"


class RestartingVenue(PaperVenue):
    """The paper venue, with the real venue's restart: 425 on every trading call while `down`,
    then refusing non-post-only orders while `post_only_phase`."""

    down = False
    post_only_phase = False
    submits = 0
    retry_after_s: float | None = None  # the next trading call is rate-limited (429) with this Retry-After

    def _busy(self) -> None:
        if self.down:
            raise VenueBusy(RESTARTING, maintenance=True, retry_after_s=None)
        if self.retry_after_s is not None:
            wait, self.retry_after_s = self.retry_after_s, None
            raise VenueBusy(RATE_LIMITED, maintenance=False, retry_after_s=wait)

    async def submit(self, prepared: PreparedOrder) -> PlaceResult:
        self.submits += 1
        self._busy()
        if self.post_only_phase and not prepared.request.post_only:
            raise OrderRejected(POST_ONLY_ONLY)
        return await super().submit(prepared)

    async def submit_many(self, prepared: Sequence[PreparedOrder]) -> list[PlaceResult]:
        self.submits += len(prepared)
        self._busy()
        if not self.post_only_phase:
            return await super().submit_many(prepared)
        # As the venue's batch: each non-post-only order refused inside the answer.
        results = []
        for one in prepared:
            if one.request.post_only:
                results += await super().submit_many([one])
            else:
                results.append(PlaceResult(one.venue_order_id, VenueOrderStatus.INVALID, error=POST_ONLY_ONLY))
        return results

    async def cancel(self, venue_order_ids: Sequence[str]) -> CancelResult:
        self._busy()
        return await super().cancel(venue_order_ids)

    async def open_orders(self) -> list[VenueOrder]:
        self._busy()
        return await super().open_orders()


class Sinks:
    def __init__(self) -> None:
        self.errors: list[str] = []
        self.reasons: list[tuple[str, str, str]] = []  # (strategy, reason, detail)
        self.phases: list[VenuePhase] = []

    def listen(self, bus: EventBus) -> None:
        bus.subscribe(VenueFault, lambda fault: self.errors.append(fault.message))
        bus.subscribe(VenueHealthChanged, lambda change: self.phases.append(change.phase))
        bus.subscribe(PlacementRefused, lambda e: self.reasons.append((e.strategy, e.reason, e.detail)))

    def codes(self) -> set[str]:
        return {reason for _, reason, _ in self.reasons}


@pytest.fixture
def restart(tmp_path: Path) -> tuple[Desk, RestartingVenue, Sinks]:
    desk = make_desk(tmp_path / "r.db")
    sinks = Sinks()
    venue = RestartingVenue(desk.db, desk.books, desk.catalog, clock=desk.clock, config=desk.venue.config)
    desk.executor.venue = venue
    sinks.listen(desk.executor.bus)
    desk.run(venue.start())
    desk.books.set("Y1", bids=[(0.48, 100)], asks=[(0.52, 100)])
    desk.books.set("N1", bids=[(0.48, 100)], asks=[(0.52, 100)])
    return desk, venue, sinks


def quote(side: Side, price: float, size: float, *, post_only: bool = False, tif: Tif = Tif.GTC) -> Quote:
    return Quote(side, p(price), round(size * SH), tif, post_only)


def step(desk: Desk, *intents: Intent) -> None:
    desk.executor.set_intents(intents)
    desk.run(desk.executor.reconcile())
    desk.settle()


def statuses(desk: Desk) -> list[tuple[str, str]]:
    return [(r[0], r[1]) for r in desk.rows("SELECT strategy, status FROM orders ORDER BY id")]


MAKER = Intent("mm", "c1", (quote(Side.BUY, 0.45, 10, post_only=True),))
PLAIN = Intent("plain", "c1", (quote(Side.BUY, 0.44, 10),))


def test_a_restart_is_maintenance_not_failure_and_trading_resumes_by_itself(
        restart: tuple[Desk, RestartingVenue, Sinks]) -> None:
    desk, venue, sinks = restart
    venue.down = True
    step(desk, MAKER, PLAIN)
    # Refused with 425: REJECTED at once (nothing rests, nothing reserved), never CANCEL_PENDING.
    assert statuses(desk) == [("mm", "REJECTED"), ("plain", "REJECTED")]
    assert not desk.executor.state.orders
    assert sinks.errors == []  # maintenance never counts toward the error-rate breaker
    assert "VENUE_MAINTENANCE" in sinks.codes() and sinks.phases == [VenuePhase.MAINTENANCE]
    sent = venue.submits
    step(desk, MAKER, PLAIN)  # held back while the venue restarts: nothing is sent to be refused
    assert venue.submits == sent and len(statuses(desk)) == 2
    desk.clock.advance(5_000)
    venue.down, venue.post_only_phase = False, True
    # The probe finds it back: open on its word. The venue's own post-only refusal of the plain
    # order then starts the post-only phase, which holds the others back while post-only go.
    step(desk, MAKER, PLAIN)
    assert sinks.phases == [VenuePhase.MAINTENANCE, VenuePhase.OPEN, VenuePhase.POST_ONLY]
    assert statuses(desk)[2:] == [("mm", "LIVE"), ("plain", "REJECTED")]
    sent = venue.submits
    step(desk, MAKER, PLAIN)
    assert venue.submits == sent  # held back, not sent to be refused again
    assert any(r == ("plain", "VENUE_POST_ONLY") for r in ((s, c) for s, c, _ in sinks.reasons))
    desk.clock.advance(POST_ONLY_MS)
    venue.post_only_phase = False
    step(desk, MAKER, PLAIN)
    assert statuses(desk)[2:] == [("mm", "LIVE"), ("plain", "REJECTED"), ("plain", "LIVE")]
    assert sinks.phases[-1] is VenuePhase.OPEN and sinks.errors == []


def test_a_stray_425_after_a_window_does_not_hold_takes_back(restart: tuple[Desk, RestartingVenue, Sinks]) -> None:
    """Once a stray 425 was taken for a restart, every answer after it started two minutes of
    post-only: fill-and-kill orders (exits, flatten, momentum) were held back, the soak ended so."""
    desk, venue, sinks = restart
    venue.down = True
    step(desk, MAKER)  # one 425, then the venue answers again at once
    venue.down = False
    desk.clock.advance(5_000)
    step(desk)  # the probe: answered
    assert sinks.phases == [VenuePhase.MAINTENANCE, VenuePhase.OPEN]
    take = Intent("momentum", "c1", (quote(Side.BUY, 0.52, 10, tif=Tif.FAK),))
    step(desk, take)
    assert statuses(desk)[-1] == ("momentum", "FILLED")
    assert "VENUE_POST_ONLY" not in sinks.codes()


def test_a_post_only_phase_met_unannounced_holds_back_the_others_without_errors(
        restart: tuple[Desk, RestartingVenue, Sinks]) -> None:
    desk, venue, sinks = restart
    venue.post_only_phase = True  # e.g. the engine started during the venue's post-only phase
    step(desk, PLAIN)
    assert statuses(desk) == [("plain", "REJECTED")]
    assert sinks.errors == [] and sinks.phases == [VenuePhase.POST_ONLY]
    sent = venue.submits
    step(desk, PLAIN, MAKER)
    assert venue.submits == sent + 1 and statuses(desk)[1:] == [("mm", "LIVE")]


def test_cancels_during_a_restart_stay_pending_and_go_out_when_it_ends(
        restart: tuple[Desk, RestartingVenue, Sinks]) -> None:
    desk, venue, sinks = restart
    step(desk, MAKER)
    venue.down = True
    step(desk, Intent("mm", "c1", ()))  # withdraw: the cancel meets the restart
    assert statuses(desk) == [("mm", "CANCEL_PENDING")]  # still resting at the venue: reserved
    assert sinks.errors == []
    desk.clock.advance(6_000)
    venue.down = False
    step(desk, Intent("mm", "c1", ()))
    assert statuses(desk) == [("mm", "CANCELED")] and not desk.executor.state.orders


def test_a_rate_limit_holds_placements_back_for_the_venues_retry_after(
        restart: tuple[Desk, RestartingVenue, Sinks]) -> None:
    desk, venue, sinks = restart
    venue.retry_after_s = 3.0  # longer than the 1 s the executor waits when the venue gives no Retry-After
    step(desk, PLAIN)
    assert statuses(desk) == [("plain", "REJECTED")]  # the venue took nothing
    assert sinks.errors == [] and sinks.phases == [VenuePhase.RATE_LIMITED]
    sent = venue.submits
    desk.clock.advance(2_999)
    step(desk, PLAIN)  # still inside the venue's Retry-After: nothing is sent to be refused again
    assert venue.submits == sent and ("plain", "VENUE_RATE_LIMITED") in {(s, c) for s, c, _ in sinks.reasons}
    desk.clock.advance(1)
    step(desk, PLAIN)
    assert venue.submits == sent + 1 and statuses(desk)[1:] == [("plain", "LIVE")]
    assert sinks.phases == [VenuePhase.RATE_LIMITED, VenuePhase.OPEN] and sinks.errors == []


def test_refusals_are_decisions_and_only_faults_count(restart: tuple[Desk, RestartingVenue, Sinks]) -> None:
    desk, venue, sinks = restart
    step(desk, Intent("mm", "c1", (quote(Side.BUY, 0.52, 10, post_only=True),)))  # crosses the 0.52 ask
    assert statuses(desk) == [("mm", "REJECTED")]
    assert sinks.errors == [] and ("mm", "VENUE_REFUSED") in {(s, c) for s, c, _ in sinks.reasons}

    async def refuse(prepared: PreparedOrder) -> PlaceResult:
        raise OrderRejected("invalid signature")

    venue.submit = refuse  # type: ignore[method-assign]  # a scripted stand-in for this test
    step(desk, Intent("mm", "c1", ()), PLAIN)
    assert sinks.errors == ["invalid signature"]  # a signing problem is a fault: it must halt if repeated


def test_a_fill_and_kill_ends_with_its_answer(restart: tuple[Desk, RestartingVenue, Sinks]) -> None:
    desk, _, _ = restart
    desk.books.set("Y1", bids=[(0.48, 100)], asks=[(0.52, 10)])
    step(desk, Intent("v", "c1", (quote(Side.BUY, 0.52, 40, tif=Tif.FAK),)))
    row = desk.rows("SELECT status, size, filled, error FROM orders")[0]
    assert row[:3] == ("FILLED", 40 * SH, 10 * SH)  # FILLED for what traded: `filled` says how much
    assert "10 of 40 shares traded; the venue cancelled the rest" in row[3]
    assert not desk.executor.state.orders  # not open: it cannot block going live or need a cancel
    step(desk, Intent("v", "c1", (quote(Side.BUY, 0.52, 5, tif=Tif.FAK),)))
    assert desk.rows("SELECT status, filled FROM orders ORDER BY id")[-1] == ("REJECTED", 0)  # nothing left


def test_orders_the_venue_no_longer_has_are_closed_on_its_answer(
        restart: tuple[Desk, RestartingVenue, Sinks]) -> None:
    desk, venue, _ = restart
    step(desk, MAKER)
    (venue_id,) = list(venue.resting)
    venue._unrest(venue_id)  # gone at the venue without a word (e.g. a missed cancellation event)
    with desk.db.write() as conn:
        conn.exec_driver_sql("DELETE FROM paper_orders")  # and it does not know the order any more
    desk.run(desk.executor.sync_with_venue())
    assert statuses(desk) == [("mm", "LIVE")]  # placed a moment ago: the listing may lag
    desk.clock.advance(6_000)
    venue.down = True
    desk.run(desk.executor.sync_with_venue())
    assert statuses(desk) == [("mm", "LIVE")]  # no answer says nothing about the order
    venue.down = False
    desk.run(desk.executor.sync_with_venue())
    assert statuses(desk) == [("mm", "CANCELED")]
    assert desk.rows("SELECT code FROM alerts") == [("ORDER_GONE",)]


def test_the_venues_reason_for_ending_an_order_is_kept_and_an_unknown_status_changes_nothing(
        restart: tuple[Desk, RestartingVenue, Sinks]) -> None:
    from dataclasses import replace

    from engine.venues.base import VenueOrderStatus

    desk, venue, _ = restart
    step(desk, MAKER)
    [resting] = venue.resting.values()
    desk.executor.applier.order_report(replace(resting.report(), status=VenueOrderStatus.UNKNOWN))
    assert statuses(desk) == [("mm", "LIVE")]  # a word the desk does not know leaves it working
    venue._cancel_where(lambda order: True, "CANCELED_NOT_ENOUGH_BALANCE")  # the venue ends it itself
    desk.settle()
    assert desk.rows("SELECT status, error FROM orders") == [("CANCELED", "ended by the venue: NOT_ENOUGH_BALANCE")]
    assert not desk.executor.state.orders and desk.rows("SELECT code FROM alerts") == []


def _forgotten(desk: Desk, venue: RestartingVenue) -> str:
    """The maker's order, gone from the venue without a word, which then forgets it (as the venue
    forgets finished orders)."""
    (venue_id,) = list(venue.resting)
    venue._unrest(venue_id)
    with desk.db.write() as conn:
        conn.exec_driver_sql("DELETE FROM paper_orders")
    return venue_id


def test_a_forgotten_order_whose_end_is_known_closes_without_a_warning(
        restart: tuple[Desk, RestartingVenue, Sinks]) -> None:
    """Its fills cover it (all but rounding dust): FILLED, quietly. Its cancel was ours: CANCELED,
    quietly. Only an end nobody knew of warns (above: ORDER_GONE)."""
    desk, venue, _ = restart
    step(desk, MAKER)
    [order] = desk.executor.state.orders.values()
    with desk.db.write() as conn:  # its fills, all but 0.000001 share, arrived before it was forgotten
        conn.exec_driver_sql("UPDATE orders SET filled = ? WHERE id = ?", (10 * SH - 1, order.id))
    desk.executor.state.orders[order.id] = desk.run(_row(desk, order.id))
    _forgotten(desk, venue)
    desk.clock.advance(6_000)
    desk.run(desk.executor.sync_with_venue())
    assert statuses(desk) == [("mm", "FILLED")]
    step(desk, Intent("mm", "c1", ()), PLAIN)
    _forgotten(desk, venue)
    desk.clock.advance(6_000)
    step(desk, Intent("plain", "c1", ()))  # the strategy withdraws its quote: a cancel the venue has nothing to act on
    assert statuses(desk)[-1] == ("plain", "CANCELED") and not desk.executor.state.orders
    assert desk.rows("SELECT code FROM alerts") == []


async def _row(desk: Desk, order_id: int):
    from engine.execution import store

    with desk.db.read() as conn:
        return store.order_by_id(conn, order_id)


@pytest.mark.parametrize("still_working", [False, True])
def test_an_order_left_out_of_the_listing_while_its_lookup_says_live_is_cancelled_to_be_sure(
        restart: tuple[Desk, RestartingVenue, Sinks], still_working: bool) -> None:
    """The venue's two views disagree: its open-order listing no longer has the order, its lookup
    still answers LIVE. Believing the lookup left it open locally for good although the venue no
    longer worked it; after a grace the order is cancelled, and closed on the cancel's answer."""
    desk, venue, _ = restart
    step(desk, MAKER)
    (venue_id,) = list(venue.resting)
    listing = venue.open_orders

    async def hides_it() -> list[VenueOrder]:
        return [o for o in await listing() if o.venue_order_id != venue_id]

    venue.open_orders = hides_it  # type: ignore[method-assign]  # a scripted stand-in for this test
    if not still_working:
        venue._unrest(venue_id)  # gone from the book; get_order still reads LIVE from its table
    desk.clock.advance(6_000)
    desk.run(desk.executor.sync_with_venue())
    assert statuses(desk) == [("mm", "LIVE")]  # once: the listing may lag
    desk.clock.advance(UNLISTED_GRACE_MS)
    desk.run(desk.executor.sync_with_venue())
    desk.settle()
    assert statuses(desk) == [("mm", "CANCELED")] and not desk.executor.state.orders
    assert ("ORDER_UNLISTED",) in desk.rows("SELECT code FROM alerts")
    assert venue.resting == {}  # whichever view was right, nothing of it rests now


def test_the_running_sync_imports_an_order_only_the_venue_knows(
        restart: tuple[Desk, RestartingVenue, Sinks]) -> None:
    desk, venue, _ = restart
    step(desk, MAKER)
    # Placed for this account by something else (another tab's client, a process before a lost
    # database), and its report missed (the user channel was down): only the venue knows it.
    sink, venue.sink = venue.sink, lambda event: None
    request = OrderRequest(client_id="elsewhere", condition_id="c1", token_id="Y1", side=Side.BUY,
                           price=p(0.40), size=10 * SH, post_only=True)
    prepared = desk.run(venue.prepare(request))
    desk.run(venue.submit(prepared))
    elsewhere = prepared.venue_order_id
    venue.sink = sink
    assert len(statuses(desk)) == 1
    desk.run(desk.executor.sync_with_venue())
    assert statuses(desk) == [("mm", "LIVE"), ("imported", "LIVE")]
    row = desk.rows("SELECT venue_order_id, side, price, size, flags FROM orders WHERE strategy = 'imported'")
    assert row == [(elsewhere, "BUY", p(0.40), 10 * SH, "imported")]
    assert elsewhere in desk.executor.state.by_venue  # open in the executor: counted, cancellable
    assert desk.rows("SELECT code FROM alerts") == [("ORDER_IMPORTED",)]
    desk.run(desk.executor.sync_with_venue())  # a second pass imports nothing twice
    assert len(statuses(desk)) == 2 and desk.rows("SELECT COUNT(*) FROM alerts") == [(1,)]


def test_a_rate_limit_holds_an_exit_back_at_most_ten_seconds_and_new_exposure_its_whole_retry_after() -> None:
    """Issue 86 item 3: a Retry-After the venue gives (at most its longest window, as the adapter reads
    it) holds new orders back that long; a sell of what the desk holds goes after EXIT_HOLD_MS."""
    now = [0]
    health = VenueHealth(lambda: now[0], EventBus())
    health.busy(VenueBusy("rate-limited by the venue (HTTP 429)", maintenance=False, retry_after_s=600.0))
    buy = OrderSpec("Y1", Outcome.YES, Side.BUY, 100_000, 10 * SH)
    sell = OrderSpec("Y1", Outcome.YES, Side.SELL, 900_000, 10 * SH, tif=Tif.FAK)
    assert health.holds_back(buy) == health.holds_back(sell) == "VENUE_RATE_LIMITED"
    now[0] = EXIT_HOLD_MS - 1
    assert health.holds_back(sell) == "VENUE_RATE_LIMITED"
    now[0] = EXIT_HOLD_MS
    assert health.holds_back(sell) is None and health.holds_back(buy) == "VENUE_RATE_LIMITED"
    now[0] = 600_000
    assert health.holds_back(buy) is None and health.phase is VenuePhase.OPEN
