"""The executor with the paper venue on a real SQLite file: queue position, settlement
statuses, ghost fills, resolution, cancel ACKs, and order-independent replay."""

from __future__ import annotations

import random
from dataclasses import replace
from pathlib import Path
from typing import Any

from sqlalchemy.exc import OperationalError

from contracts.domain import Intent, Outcome, Quote, Side, Tif
from contracts.payouts import Payouts
from engine.execution import store
from engine.execution.state import ExecutionState
from engine.feeds.market_data_events import TradePrint
from engine.venues.base import (
    OrderEvent,
    TradeEvent,
    TradeStatus,
    VenueEvent,
    VenueOrder,
    VenueOrderStatus,
    VenueTrade,
    VenueUnavailable,
)
from engine.venues.paper import PaperConfig
from tests.desk import Desk, make_desk
from tests.execution.fakes import SH, p


def quote(side: Side, price: float, size: float, tif: Tif = Tif.GTC) -> Quote:
    return Quote(side, p(price), round(size * SH), tif)


def step(desk: Desk, *intents: Intent) -> None:
    desk.executor.set_intents(intents)
    desk.run(desk.executor.reconcile())
    desk.settle()


def orders(desk: Desk) -> list[tuple]:
    return desk.rows("SELECT client_id, token_id, side, price, size, filled, status FROM orders ORDER BY id")


def test_unchanged_intent_keeps_the_order_and_its_queue_position(desk: Desk) -> None:
    desk.books.set("Y1", bids=[(0.48, 100)], asks=[(0.52, 100)])
    intent = Intent("mm", "c1", (quote(Side.BUY, 0.49, 10),))
    step(desk, intent)
    step(desk, intent)
    assert [o[-1] for o in orders(desk)] == ["LIVE"]
    step(desk, Intent("mm", "c1", (quote(Side.BUY, 0.47, 10),)))
    assert [(o[3], o[-1]) for o in orders(desk)] == [(p(0.49), "CANCELED"), (p(0.47), "LIVE")]


def test_pending_fill_is_not_sellable_until_mined(tmp_path: Path) -> None:
    desk = make_desk(tmp_path / "d.db", config=PaperConfig(mined_after_ms=1000, confirmed_after_ms=2000))
    desk.books.set("Y1", bids=[(0.48, 100)], asks=[(0.50, 100)])
    step(desk, Intent("v", "c1", (quote(Side.BUY, 0.50, 10, Tif.FAK),)))
    totals = desk.executor.state.totals("v", "Y1")
    assert (totals.settled, totals.pending) == (0, 10 * SH)
    # Asking to sell YES now must not sell the pending shares: it buys NO instead.
    step(desk, Intent("v", "c1", (quote(Side.SELL, 0.55, 10),)))
    assert orders(desk)[-1][1:3] == ("N1", "BUY")
    desk.clock.advance(1000)
    desk.venue.advance()
    desk.settle()
    totals = desk.executor.state.totals("v", "Y1")
    assert (totals.settled, totals.pending) == (10 * SH, 0)
    step(desk, Intent("v", "c1", (quote(Side.SELL, 0.56, 10),)))
    assert orders(desk)[-1][1:5] == ("Y1", "SELL", p(0.56), 10 * SH)


def test_ghost_fill_reverses_position_and_cash_and_alerts(tmp_path: Path) -> None:
    desk = make_desk(tmp_path / "g.db", config=PaperConfig(mined_after_ms=1000, fail_rate=1.0))
    cash_before = desk.executor.state.cash
    desk.books.set("Y1", bids=[(0.48, 100)], asks=[(0.50, 100)])
    step(desk, Intent("v", "c1", (quote(Side.BUY, 0.50, 10, Tif.FAK),)))
    assert desk.executor.state.cash == cash_before - 5 * SH
    desk.clock.advance(1000)
    desk.venue.advance()
    desk.settle()
    totals = desk.executor.state.totals("v", "Y1")
    assert (totals.size, totals.cost) == (0, 0)
    assert desk.executor.state.cash == cash_before
    assert desk.rows("SELECT status FROM fills") == [("FAILED",)]
    assert desk.rows("SELECT level, code FROM alerts") == [("critical", "FILL_FAILED")]
    assert desk.rows("SELECT settled, pending, cost FROM positions") == [(0, 0, 0)]


def test_resolution_settles_positions_at_one_or_zero_as_redeemable_not_cash(desk: Desk) -> None:
    desk.books.set("Y1", bids=[(0.38, 100)], asks=[(0.40, 100)])
    desk.books.set("N1", bids=[(0.58, 100)], asks=[(0.60, 100)])
    step(desk, Intent("a", "c1", (quote(Side.BUY, 0.40, 10, Tif.FAK),)))
    step(desk, Intent("b", "c1", (quote(Side.SELL, 0.40, 20, Tif.FAK),)))  # buys 20 NO at 0.60
    cash_before = desk.executor.state.cash
    owed = desk.executor.applier.settle_market("c1", Payouts.won_by(Outcome.YES))
    assert owed == 10 * SH  # 10 YES are owed 1 each by the venue; 20 NO pay nothing
    assert desk.executor.state.cash == cash_before  # nothing is cash until the venue pays
    assert desk.executor.state.redeemable == 10 * SH
    yes, no = desk.executor.state.totals("a", "Y1"), desk.executor.state.totals("b", "N1")
    assert (yes.size, yes.realized) == (0, 10 * SH - 4 * SH)
    assert (no.size, no.realized) == (0, -12 * SH)
    assert desk.rows("SELECT kind, strategy, token_id, amount, status FROM claims") == [
        ("redeem", "a", "Y1", 10 * SH, "open")]
    # Settling twice owes nothing more.
    assert desk.executor.applier.settle_market("c1", Payouts.won_by(Outcome.YES)) == 0
    assert desk.executor.state.redeemable == 10 * SH


class NoAckVenue:
    """Wraps the paper venue; cancels never reach it (the network is down)."""

    def __init__(self, inner):
        self.inner = inner

    def __getattr__(self, name):
        return getattr(self.inner, name)

    async def cancel(self, ids):
        raise VenueUnavailable("timed out")


def test_reservation_holds_until_the_cancel_ack(tmp_path: Path) -> None:
    desk = make_desk(tmp_path / "r.db", config=PaperConfig(mined_after_ms=0))
    desk.books.set("Y1", bids=[(0.48, 100)], asks=[(0.50, 100)])
    step(desk, Intent("s", "c1", (quote(Side.BUY, 0.50, 10, Tif.FAK),)))
    desk.venue.advance()
    desk.settle()
    desk.books.set("Y1", bids=[(0.48, 100)], asks=[(0.70, 100)])
    step(desk, Intent("s", "c1", (quote(Side.SELL, 0.60, 10),)))
    real_venue = desk.executor.venue
    desk.executor.venue = NoAckVenue(real_venue)
    step(desk, Intent("s", "c1", (quote(Side.SELL, 0.65, 10),)))
    statuses = [o[-1] for o in orders(desk)]
    assert statuses[-1] == "CANCEL_PENDING"  # no replacement SELL while the old one may still fill
    assert sum(1 for o in orders(desk) if o[2] == "SELL") == 1
    desk.executor.venue = real_venue
    desk.clock.advance(10_000)  # the unacknowledged cancel is retried and acknowledged...
    step(desk, Intent("s", "c1", (quote(Side.SELL, 0.65, 10),)))
    step(desk, Intent("s", "c1", (quote(Side.SELL, 0.65, 10),)))  # ...then the new SELL goes out
    sells = [o for o in orders(desk) if o[2] == "SELL"]
    assert [(o[3], o[-1]) for o in sells] == [(p(0.60), "CANCELED"), (p(0.65), "LIVE")]


def _stream() -> list:
    """A venue event stream for two orders: placements, partial fills, settlement, a ghost, a cancel."""
    def order(vid: str, token: str, side: Side, filled: float, status: VenueOrderStatus) -> OrderEvent:
        return OrderEvent(VenueOrder(vid, "c1", token, side, p(0.5), 20 * SH, round(filled * SH), status, 1))

    def trade(tid: str, vid: str, token: str, side: Side, size: float, status: TradeStatus, at: int) -> TradeEvent:
        return TradeEvent(VenueTrade(tid, vid, "c1", token, side, p(0.5), round(size * SH), 0, status, "MAKER", at))

    events: list[OrderEvent | TradeEvent] = [order("v1", "Y1", Side.BUY, 0, VenueOrderStatus.LIVE),
                                             order("v2", "N1", Side.BUY, 0, VenueOrderStatus.LIVE)]
    for i, (vid, token) in enumerate([("v1", "Y1"), ("v1", "Y1"), ("v2", "N1")]):
        tid = f"t{i}"
        events += [trade(tid, vid, token, Side.BUY, 5, s, 100 + i) for s in
                   (TradeStatus.MATCHED, TradeStatus.MINED, TradeStatus.CONFIRMED)]
    events += [trade("t9", "v2", "N1", Side.BUY, 3, TradeStatus.MATCHED, 200),
               trade("t9", "v2", "N1", Side.BUY, 3, TradeStatus.FAILED, 200),
               order("v1", "Y1", Side.BUY, 10, VenueOrderStatus.LIVE),
               order("v1", "Y1", Side.BUY, 10, VenueOrderStatus.CANCELED)]
    return events


def _ledger(desk: Desk) -> tuple:
    return (
        desk.rows("SELECT client_id, filled, status FROM orders ORDER BY client_id"),
        desk.rows("SELECT trade_id, size, status FROM fills ORDER BY trade_id"),
        desk.rows("SELECT strategy, token_id, settled, pending, cost, realized FROM positions ORDER BY token_id"),
        desk.executor.state.cash,
    )


def _shuffled_with_repeats(events: list, seed: int) -> list:
    """The venue's reports in a random order, half of them delivered twice."""
    rng = random.Random(seed)
    shuffled = events + rng.sample(events, len(events) // 2)
    rng.shuffle(shuffled)
    return shuffled


def _desk_with_orders(path: Path) -> Desk:
    """Two orders committed as the executor commits them before sending (intent first)."""
    desk = make_desk(path)
    with desk.db.write() as conn:
        for vid, token, outcome in (("v1", "Y1", Outcome.YES), ("v2", "N1", Outcome.NO)):
            row = store.insert_order(conn, client_id=f"c-{vid}", venue_order_id=vid, mode="paper", strategy="s",
                                     condition_id="c1", token_id=token, outcome=outcome, side=Side.BUY,
                                     price=p(0.5), size=20 * SH, tif=Tif.GTC, post_only=False, payload=None,
                                     reason=None, now=1)
            desk.executor.state.track(row)
    return desk


def test_shuffled_and_duplicated_events_give_the_same_state(tmp_path: Path) -> None:
    events = _stream()
    baseline = _desk_with_orders(tmp_path / "in_order.db")
    for event in events:
        baseline.executor.applier.apply(event)
    expected = _ledger(baseline)
    assert expected[0] == [("c-v1", 10 * SH, "CANCELED"), ("c-v2", 8 * SH, "PARTIALLY_FILLED")]
    assert expected[2] == [("s", "N1", 5 * SH, 0, 2_500_000, 0), ("s", "Y1", 10 * SH, 0, 5 * SH, 0)]
    for seed in range(8):
        shuffled = _shuffled_with_repeats(events, seed)
        replica = _desk_with_orders(tmp_path / f"shuffled{seed}.db")
        for event in shuffled:
            replica.executor.applier.apply(event)
        assert _ledger(replica) == expected, seed


def test_a_taker_fill_whose_fee_is_unknown_is_alerted_not_booked_silently(tmp_path: Path) -> None:
    desk = _desk_with_orders(tmp_path / "fees.db")
    unpriced = VenueTrade("t1", "v1", "c1", "Y1", Side.BUY, p(0.5), 5 * SH, 0, TradeStatus.MATCHED, "TAKER", 100,
                          fee_known=False)
    desk.executor.applier.apply(TradeEvent(unpriced))
    desk.executor.applier.apply(TradeEvent(replace(unpriced, status=TradeStatus.MINED)))  # once per fill
    assert desk.rows("SELECT fee FROM fills") == [(0,)]
    ((level, message),) = desk.rows("SELECT level, message FROM alerts WHERE code = 'FEE_UNKNOWN'")
    assert level == "critical" and "trade t1" in message and "fee is booked as 0" in message
    priced = replace(unpriced, trade_id="t2", fee=62_500, fee_known=True)
    desk.executor.applier.apply(TradeEvent(priced))
    assert desk.rows("SELECT COUNT(*) FROM alerts WHERE code = 'FEE_UNKNOWN'") == [(1,)]


def test_the_mirror_holds_each_order_as_stored_through_any_event_order(tmp_path: Path) -> None:
    """Order writes build their rows from the mirror (no read-back), and reports about a
    closed order are matched against the closed orders it remembers: both must stay the
    rows as the table has them, whatever order the venue's reports come in."""
    events = _stream()
    for seed in range(8):
        shuffled = _shuffled_with_repeats(events, seed)
        desk = _desk_with_orders(tmp_path / f"mirror{seed}.db")
        for event in shuffled:
            desk.executor.applier.apply(event)
            state = desk.executor.state
            with desk.db.read() as conn:
                for vid in ("v1", "v2"):
                    stored = store.order_by_venue_id(conn, "paper", vid)
                    assert stored is not None
                    kept = state.orders.get(stored.id) or state.closed.get(vid)
                    assert kept == stored, (seed, event)
                    assert (stored.id in state.orders) != stored.terminal


def test_trade_print_fills_flow_into_positions(desk: Desk) -> None:
    desk.books.set("Y1", bids=[(0.49, 10)], asks=[(0.52, 100)])
    step(desk, Intent("mm", "c1", (quote(Side.BUY, 0.49, 10),)))
    desk.venue.on_market_event(TradePrint("Y1", p(0.49), 15 * SH, Side.SELL, desk.clock()))
    desk.settle()
    assert orders(desk)[0][-2:] == (5 * SH, "PARTIALLY_FILLED")
    assert desk.executor.state.totals("mm", "Y1").pending == 5 * SH


def test_withdrawing_never_cancels_imported_orders(desk: Desk) -> None:
    desk.books.set("Y1", bids=[(0.40, 100)], asks=[(0.60, 100)])
    step(desk, Intent("mm", "c1", (quote(Side.BUY, 0.45, 10),)))
    desk.executor.applier.import_order(VenueOrder("elsewhere", "c1", "Y1", Side.BUY, p(0.41), 10 * SH, 0,
                                                  VenueOrderStatus.LIVE, 1))
    desk.executor.withdraw()  # as stop, pause and kill do
    desk.run(desk.executor.reconcile())
    desk.settle()
    statuses = dict(desk.rows("SELECT strategy, status FROM orders"))
    assert statuses == {"mm": "CANCELED", "imported": "LIVE"}


class OutageVenue:
    """Wraps the paper venue through an outage: a placement's answer never comes back (it
    reaches the venue only if `delivers`), and lookups fail until `answers` is set."""

    def __init__(self, inner, *, delivers: bool):
        self.inner = inner
        self.delivers = delivers
        self.answers = False

    def __getattr__(self, name):
        return getattr(self.inner, name)

    async def submit(self, prepared):
        if self.delivers:
            sink, self.inner.sink = self.inner.sink, lambda event: None  # the user channel is down too
            try:
                await self.inner.submit(prepared)
            finally:
                self.inner.sink = sink
        raise VenueUnavailable("timed out")

    async def get_order(self, venue_order_id):
        if not self.answers:
            raise VenueUnavailable("503 service unavailable")
        return await self.inner.get_order(venue_order_id)


def _place_into_outage(desk: Desk, *, delivers: bool) -> tuple[OutageVenue, Intent]:
    desk.books.set("Y1", bids=[(0.40, 100)], asks=[(0.60, 100)])
    venue = OutageVenue(desk.executor.venue, delivers=delivers)
    desk.executor.venue = venue
    intent = Intent("mm", "c1", (quote(Side.BUY, 0.45, 10),))
    step(desk, intent)
    assert [o[-1] for o in orders(desk)] == ["PENDING_SUBMIT"]
    return venue, intent


def test_a_lookup_that_fails_past_the_grace_period_never_marks_the_order_lost(desk: Desk) -> None:
    venue, intent = _place_into_outage(desk, delivers=True)
    desk.clock.advance(desk.executor.config.lost_grace_ms + 10_000)
    step(desk, intent)  # the venue still does not answer: nothing is known, so nothing is written off
    assert [o[-1] for o in orders(desk)] == ["PENDING_SUBMIT"]
    assert len(desk.executor.state.orders) == 1  # still mirrored: exposure, stop and kill still see it
    assert desk.rows("SELECT COUNT(*) FROM alerts") == [(0,)]
    venue.answers = True
    desk.clock.advance(10_000)
    step(desk, intent)  # the venue is back and reports the order resting there
    assert [o[-1] for o in orders(desk)] == ["LIVE"]


def test_an_order_the_venue_answers_it_does_not_have_is_lost_after_the_grace_period(desk: Desk) -> None:
    venue, intent = _place_into_outage(desk, delivers=False)
    venue.answers = True
    desk.clock.advance(desk.executor.config.lost_grace_ms + 10_000)
    step(desk, intent)
    assert desk.rows("SELECT status, flags FROM orders") == [("LOST", "lost")]
    assert desk.rows("SELECT code FROM alerts") == [("ORDER_LOST",)]
    assert desk.executor.state.orders == {}


def _mirror(state: ExecutionState) -> tuple:
    return (state.orders, state.by_venue, dict(state.by_key), state.positions, state.position_market, state.cash)


def test_a_failing_event_in_a_drain_is_skipped_and_the_database_and_mirror_agree(tmp_path: Path) -> None:
    desk = _desk_with_orders(tmp_path / "d.db")
    good = _stream()
    # An unknown order's report without a fill amount: importing it touches the mirror, then it fails.
    malformed = OrderEvent(VenueOrder("ghost", "c1", "Y1", Side.BUY, p(0.5), 20 * SH, None,  # type: ignore[arg-type]  # a malformed report, on purpose
                                      VenueOrderStatus.LIVE, 1))
    for event in good[:5] + [malformed] + good[5:]:
        desk.executor.events.put_nowait(event)
    assert desk.executor.drain() == len(good)
    from_db = ExecutionState("paper")
    with desk.db.read() as conn:
        from_db.load(conn)
    assert _mirror(desk.executor.state) == _mirror(from_db)
    assert "ghost" not in desk.executor.state.by_venue
    # The failed import's own ORDER_IMPORTED alert rolled back with it (FILL_FAILED is the stream's ghost).
    assert desk.rows("SELECT code FROM alerts ORDER BY id") == [("EVENT_FAILED",), ("FILL_FAILED",)]
    # The events on both sides of the failure were applied, as if it had never been there.
    reference = _desk_with_orders(tmp_path / "reference.db")
    for event in good:
        reference.executor.applier.apply(event)
    assert _ledger(desk) == _ledger(reference)


def test_a_batch_that_meets_a_locked_database_waits_and_counts_nothing_twice(tmp_path: Path) -> None:
    desk = _desk_with_orders(tmp_path / "d.db")
    good = _stream()
    apply, failed = desk.executor.applier.apply, list[Any]()

    class Flaky:  # the sixth event fails once (say, a busy database), then applies
        def apply(self, event: VenueEvent) -> None:
            if event is good[5] and not failed:
                failed.append(event)
                raise OperationalError("UPDATE", {}, Exception("database is locked"))
            apply(event)

    desk.executor.inbox.applier = Flaky()
    for event in good:
        desk.executor.events.put_nowait(event)
    assert desk.executor.drain() == 0 and failed  # locked: every event waits, in order, none skipped
    assert desk.executor.drain() == len(good)
    from_db = ExecutionState("paper")
    with desk.db.read() as conn:
        from_db.load(conn)
    assert _mirror(desk.executor.state) == _mirror(from_db)  # the first five were not mirrored twice
    assert desk.rows("SELECT code FROM alerts ORDER BY id") == [("FILL_FAILED",)]  # nothing was skipped
    reference = _desk_with_orders(tmp_path / "reference.db")
    for event in good:
        reference.executor.applier.apply(event)
    assert _ledger(desk) == _ledger(reference)


def test_a_pass_plans_again_only_what_changed(desk: Desk) -> None:
    """The executor reuses a key's last plan while the intent, the orders and the holdings it
    was planned from are the same (the planner is pure), and plans afresh when any changes: a plan
    made afresh is a new one, a reused one the same (the executor compiled calls the planner directly,
    so the test reads the plan it keeps instead of wrapping the planner)."""
    desk.books.set("Y1", bids=[(0.48, 100)], asks=[(0.52, 100)])
    plans: list[object] = []  # each plan the executor keeps for the key, counted when it is a new one

    def planned(intent: Intent) -> int:
        step(desk, intent)
        kept = desk.executor._planned[("mm", "c1")][5]  # (market, keep_within, quotes, holdings, working, plan, …)
        if not plans or plans[-1] is not kept:
            plans.append(kept)
        return len(plans)

    bid = Intent("mm", "c1", (quote(Side.BUY, 0.47, 10),))
    assert planned(bid) == 1  # planned, placed
    assert planned(bid) == 2  # the order now works: planned against it
    assert planned(Intent("mm", "c1", (quote(Side.BUY, 0.47, 10),))) == 2  # an equal intent, same order: reused
    moved = Intent("mm", "c1", (quote(Side.BUY, 0.46, 10),))
    assert planned(moved) == 3  # moved: planned, replaced
    assert planned(moved) == 4  # the orders changed: planned
    assert planned(moved) == 4  # nothing changed: reused
    desk.executor.state.set_position("mm", "N1", "c1", Outcome.NO,
                                     store.PositionTotals(settled=5 * SH, cost=2 * SH))
    desk.venue.wallet.shares["N1"] = 5 * SH  # the paper wallet holds them too (it checks a SELL's shares)
    assert planned(moved) == 5  # holdings changed: planned
    # The last plan acted on the new holdings: the held NO is sold first (reduce first).
    assert ("N1", "SELL", p(0.54), 5 * SH, "LIVE") in [(o[1], o[2], o[3], o[4], o[-1]) for o in orders(desk)]


def test_a_gtd_out_of_bounds_is_refused_before_its_row_exists(desk: Desk) -> None:
    """2**63 seconds overflowed SQLite in the paper venue after the order's row was written: an
    internal error and an orphan PENDING_SUBMIT later marked LOST. Now the executor refuses it
    first, with its reason, whatever placed it (a strategy, a ticket)."""
    from engine.execution.bus import PlacementRefused

    refused: list[tuple[str, str]] = []
    desk.executor.bus.subscribe(PlacementRefused, lambda event: refused.append((event.reason, event.detail)))
    desk.books.set("Y1", bids=[(0.48, 100)], asks=[(0.52, 100)])
    now_s = desk.clock() // 1000
    for expires in (2**63, now_s + 150, (now_s + 3_600) * 1000):
        step(desk, Intent("s", "c1", (replace(quote(Side.BUY, 0.45, 10, Tif.GTD), expires_at_s=expires),)))
    assert orders(desk) == []
    assert [reason for reason, _ in refused] == ["INVALID_EXPIRY"] * 3
    assert "365 days" in refused[0][1] and "180 s" in refused[1][1] and "milliseconds" in refused[2][1]
    step(desk, Intent("s", "c1", (replace(quote(Side.BUY, 0.45, 10, Tif.GTD), expires_at_s=now_s + 600),)))
    assert [o[-1] for o in orders(desk)] == ["LIVE"]


def test_each_approval_in_one_placement_pass_counts_for_the_next(desk: Desk) -> None:
    """The placement check sees the orders open now plus those approved earlier in the same
    pass: with room for two more orders, a pass of four new quotes places two, not four."""
    seen: list[int] = []

    def room_for_two(strategy: str, market: object, spec: object, open_now: int) -> str | None:
        seen.append(open_now)
        return "MAX_OPEN_ORDERS" if open_now >= 2 else None

    desk.executor.placement_check = room_for_two
    desk.books.set("Y1", bids=[(0.48, 100)], asks=[(0.52, 100)])
    step(desk, Intent("s", "c1", (quote(Side.BUY, 0.45, 10), quote(Side.BUY, 0.44, 10),
                                  quote(Side.BUY, 0.43, 10), quote(Side.BUY, 0.42, 10))))
    assert [o[-1] for o in orders(desk)] == ["LIVE", "LIVE"]
    assert seen == [0, 1, 2, 2]  # a refused quote takes no slot


def test_a_reconcile_of_some_keys_plans_those_and_leaves_the_others_as_they_are(desk: Desk) -> None:
    """An event's decision plans only the (strategy, market) keys it changed (what it costs is what
    changed); the other keys' intents stay in force, planned at the next pass that plans them."""
    desk.books.set("Y1", bids=[(0.48, 100)], asks=[(0.52, 100)])
    desk.books.set("Y2", bids=[(0.38, 100)], asks=[(0.42, 100)])
    desk.executor.set_intents([Intent("mm", "c1", (quote(Side.BUY, 0.49, 10),)),
                               Intent("mm", "c2", (quote(Side.BUY, 0.39, 10),))])
    desk.run(desk.executor.reconcile(only={("mm", "c1")}))
    desk.settle()
    assert [(o[1], o[-1]) for o in orders(desk)] == [("Y1", "LIVE")]  # c2's want waits
    desk.run(desk.executor.reconcile())
    desk.settle()
    assert sorted((o[1], o[-1]) for o in orders(desk)) == [("Y1", "LIVE"), ("Y2", "LIVE")]
