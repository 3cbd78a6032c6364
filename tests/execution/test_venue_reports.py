"""What the venue's reports do to the ledger (engine/execution/event_applier.py), on a real SQLite
file: an order the venue has and we never recorded is imported, flagged and alerted; a trade that
arrives before its order's report waits for it (or, when the venue does not know the order, is kept
as an imported order's fill); a cancel the venue confirms closes the order; the venue's reason for
ending an order is kept; each new fill is announced once, with what a markout needs; a fill the
chain reversed and a fee that could not be read are told to the operator; and a resolved market's
positions become claims for what they pay."""

from __future__ import annotations

from pathlib import Path

import pytest

from contracts.domain import Outcome, Side, Tif
from contracts.order_status import OrderStatus
from contracts.payouts import Payouts
from engine.execution import store
from engine.execution.bus import FillApplied
from engine.execution.ledger import PositionTotals
from engine.venues.base import OrderEvent, TradeEvent, TradeStatus, VenueOrder, VenueOrderStatus, VenueTrade
from tests.desk import Desk, make_desk
from tests.execution.fakes import SH, p


@pytest.fixture
def desk(tmp_path: Path) -> Desk:
    return make_desk(tmp_path / "d.db")


def _order(desk: Desk, vid: str, *, tif: Tif = Tif.GTC, token: str = "Y1", outcome: Outcome = Outcome.YES,
           size: int = 10 * SH, status: OrderStatus = OrderStatus.LIVE, strategy: str = "s") -> None:
    with desk.db.write() as conn:
        row = store.insert_order(conn, client_id=f"c-{vid}", venue_order_id=vid, mode="paper", strategy=strategy,
                                 condition_id="c1", token_id=token, outcome=outcome, side=Side.BUY, price=p(0.4),
                                 size=size, tif=tif, post_only=False, payload=None, reason=None, now=1,
                                 status=status)
    desk.executor.state.track(row)


def _trade(tid: str, vid: str, *, size: int = 4 * SH, status: TradeStatus = TradeStatus.MATCHED, token: str = "Y1",
           fee: int = 1_000, fee_known: bool = True) -> VenueTrade:
    return VenueTrade(tid, vid, "c1", token, Side.BUY, p(0.4), size, fee, status, "TAKER", 77, fee_known=fee_known)


def _report(vid: str, status: VenueOrderStatus, *, size: int = 10 * SH, filled: int = 0, token: str = "Y1",
            reason: str | None = None) -> VenueOrder:
    return VenueOrder(vid, "c1", token, Side.BUY, p(0.4), size, filled, status, reason=reason)


def _alerts(desk: Desk) -> list[tuple]:
    return desk.rows("SELECT level, source, code, message FROM alerts ORDER BY id")


def test_an_order_found_only_at_the_venue_is_imported_flagged_and_alerted(desk: Desk) -> None:
    desk.executor.applier.apply(OrderEvent(_report("v-no", VenueOrderStatus.LIVE, token="N1")))
    desk.executor.applier.apply(OrderEvent(_report("v-odd", VenueOrderStatus.LIVE, token="T-unknown")))
    assert desk.rows("SELECT client_id, strategy, flags, token_id, outcome, side, price, size, tif, post_only, reason, "
                     "status FROM orders ORDER BY id") == [
        ("imported:v-no", "imported", "imported", "N1", "NO", "BUY", p(0.4), 10 * SH, "GTC", 0,
         "found at the venue, unknown locally", "LIVE"),
        ("imported:v-odd", "imported", "imported", "T-unknown", "YES", "BUY", p(0.4), 10 * SH, "GTC", 0,
         "found at the venue, unknown locally", "LIVE")]
    assert _alerts(desk)[0] == (
        "warning", "executor", "ORDER_IMPORTED", "order v-no found at the venue but not locally: imported and "
        "flagged (strategy 'imported'); cancel it from Orders if unwanted")


def test_a_trade_before_its_orders_report_waits_for_it_and_is_then_booked_once(desk: Desk) -> None:
    asked: list[str] = []
    desk.executor.applier.request_lookup = asked.append
    cash = desk.executor.state.cash
    desk.executor.applier.apply(TradeEvent(_trade("t1", "v1")))
    assert asked == ["v1"] and desk.rows("SELECT COUNT(*) FROM fills") == [(0,)]
    desk.executor.applier.apply(OrderEvent(_report("v1", VenueOrderStatus.LIVE, filled=4 * SH)))
    assert desk.rows("SELECT trade_id, size FROM fills") == [("t1", 4 * SH)]
    assert desk.executor.state.cash == cash - 4 * p(0.4) - 1_000
    desk.executor.applier.apply(OrderEvent(_report("v1", VenueOrderStatus.LIVE, filled=4 * SH)))
    assert desk.rows("SELECT COUNT(*) FROM fills") == [(1,)]


def test_trades_of_an_order_the_venue_does_not_know_are_kept_as_an_imported_filled_order(desk: Desk) -> None:
    desk.executor.applier.request_lookup = lambda vid: None
    for trade in (_trade("t1", "gone", size=3 * SH), _trade("t1", "gone", size=3 * SH),  # a repeat counts once
                  _trade("t2", "gone", size=2 * SH)):
        desk.executor.applier.apply(TradeEvent(trade))
    desk.executor.applier.import_orphans_as_is("never-traded")  # nothing held for it: nothing imported
    desk.executor.applier.import_orphans_as_is("gone")
    desk.executor.applier.apply(TradeEvent(_trade("t3", "lone", size=SH)))  # one trade alone
    desk.executor.applier.import_orphans_as_is("lone")
    assert desk.rows("SELECT venue_order_id, strategy, token_id, side, price, size, filled, status FROM orders") == [
        ("gone", "imported", "Y1", "BUY", p(0.4), 5 * SH, 5 * SH, "FILLED"),
        ("lone", "imported", "Y1", "BUY", p(0.4), SH, SH, "FILLED")]
    assert desk.rows("SELECT trade_id, size FROM fills ORDER BY trade_id") == [("t1", 3 * SH), ("t2", 2 * SH),
                                                                                ("t3", SH)]
    assert desk.executor.state.totals("imported", "Y1").size == 6 * SH
    desk.executor.applier.import_orphans_as_is("gone")  # asked twice: imported once
    assert desk.rows("SELECT COUNT(*) FROM orders") == [(2,)]


def test_an_order_known_from_an_earlier_session_still_takes_its_late_reports(desk: Desk) -> None:
    _order(desk, "v1")
    desk.executor.applier.apply(TradeEvent(_trade("t1", "v1", size=10 * SH)))
    desk.executor.load()  # a restart: the filled order is in the table only
    assert desk.executor.state.closed == {}
    asked: list[str] = []
    desk.executor.applier.request_lookup = asked.append
    desk.executor.applier.apply(TradeEvent(_trade("t1", "v1", size=10 * SH, status=TradeStatus.CONFIRMED)))
    assert asked == [] and desk.rows("SELECT status FROM fills") == [("CONFIRMED",)]
    assert desk.rows("SELECT COUNT(*) FROM orders") == [(1,)]


def test_a_take_the_venue_matched_in_part_is_done_and_a_rest_is_still_working(desk: Desk) -> None:
    _order(desk, "fak", tif=Tif.FAK)
    _order(desk, "gtc")
    desk.executor.applier.apply(OrderEvent(_report("fak", VenueOrderStatus.MATCHED, filled=4 * SH)))
    desk.executor.applier.apply(OrderEvent(_report("gtc", VenueOrderStatus.MATCHED, filled=4 * SH)))
    assert desk.rows("SELECT venue_order_id, status, filled FROM orders ORDER BY id") == [
        ("fak", "FILLED", 4 * SH), ("gtc", "PARTIALLY_FILLED", 4 * SH)]


def test_the_venues_reason_is_kept_only_on_an_order_it_ended(desk: Desk) -> None:
    for vid in ("quiet", "said", "live"):
        _order(desk, vid, status=OrderStatus.PENDING_SUBMIT)
    desk.clock.advance(5)
    desk.executor.applier.apply(OrderEvent(_report("quiet", VenueOrderStatus.CANCELED)))
    desk.executor.applier.apply(OrderEvent(_report("said", VenueOrderStatus.CANCELED, reason="MARKET_CLOSED")))
    desk.executor.applier.apply(OrderEvent(_report("live", VenueOrderStatus.LIVE, reason="MARKET_CLOSED")))
    assert desk.rows("SELECT venue_order_id, status, error, acked_at FROM orders ORDER BY id") == [
        ("quiet", "CANCELED", None, desk.clock()),
        ("said", "CANCELED", "ended by the venue: MARKET_CLOSED", desk.clock()),
        ("live", "LIVE", None, desk.clock())]


def test_a_confirmed_cancel_closes_the_order_as_its_fills_say(desk: Desk) -> None:
    _order(desk, "rest")
    _order(desk, "fak", tif=Tif.FAK)
    _order(desk, "full")
    _order(desk, "untouched")
    desk.executor.applier.apply(TradeEvent(_trade("t1", "fak", size=2 * SH)))
    desk.executor.applier.apply(TradeEvent(_trade("t2", "rest", size=2 * SH)))
    desk.executor.applier.cancel_acknowledged([])
    desk.executor.applier.cancel_acknowledged(["rest", "fak", "not-ours"])
    assert desk.rows("SELECT venue_order_id, status, acked_at IS NOT NULL FROM orders ORDER BY id") == [
        ("rest", "CANCELED", 1), ("fak", "FILLED", 1), ("full", "LIVE", 0), ("untouched", "LIVE", 0)]
    assert set(desk.executor.state.by_venue) == {"full", "untouched"}
    assert desk.executor.state.reserved_buy_cash() == 2 * 10 * p(0.4)


def test_each_new_fill_is_announced_once_with_what_a_markout_needs(desk: Desk) -> None:
    _order(desk, "v1")
    heard: list[FillApplied] = []
    desk.executor.bus.subscribe(FillApplied, heard.append)
    desk.clock.advance(9)
    desk.executor.applier.apply(TradeEvent(_trade("t1", "v1")))
    desk.executor.applier.apply(TradeEvent(_trade("t1", "v1", status=TradeStatus.MINED)))  # a status, not a fill
    desk.executor.applier.apply(TradeEvent(_trade("t2", "v1", status=TradeStatus.FAILED)))  # reversed at once
    order_id = desk.executor.state.by_venue["v1"]
    assert heard == [FillApplied(order_id, "t1", "s", "c1", "Y1", Outcome.YES, Side.BUY, p(0.4), 4 * SH, 1_000,
                                 "TAKER", TradeStatus.MATCHED, 77, desk.clock())]


def test_a_reversed_fill_and_an_unread_fee_are_told_once_and_cash_is_restored(desk: Desk) -> None:
    _order(desk, "v1", size=10_000 * SH)
    cash = desk.executor.state.cash
    desk.executor.applier.apply(TradeEvent(_trade("t1", "v1", fee=0, fee_known=False)))
    desk.executor.applier.apply(TradeEvent(_trade("t1", "v1", status=TradeStatus.FAILED, fee=0, fee_known=False)))
    assert desk.executor.state.cash == cash
    assert _alerts(desk) == [
        ("critical", "executor", "FEE_UNKNOWN",
         "trade t1 (order c-v1, BUY 4 at 0.4 in c1…): the market's fee schedule could not be read from the venue, "
         "so this taker fill's fee is booked as 0 and cash may be overstated by it; the next start's wallet sync "
         "corrects cash, not PnL"),
        ("critical", "executor", "FILL_FAILED",
         "trade t1 FAILED on chain after matching: the fill of order c-v1 was reversed (position and cash restored)")]


def test_a_long_market_id_is_cut_to_twelve_characters_in_the_fee_alert(tmp_path: Path) -> None:
    desk = make_desk(tmp_path / "d.db")
    with desk.db.write() as conn:
        row = store.insert_order(conn, client_id="c-v", venue_order_id="v", mode="paper", strategy="s",
                                 condition_id="0x1234567890abcdef", token_id="Y1", outcome=Outcome.YES, side=Side.BUY,
                                 price=p(0.4), size=10 * SH, tif=Tif.GTC, post_only=False, payload=None, reason=None,
                                 now=1, status=OrderStatus.LIVE)
    desk.executor.state.track(row)
    desk.executor.applier.apply(TradeEvent(_trade("t1", "v", fee=0, fee_known=False)))
    assert "in 0x1234567890…)" in _alerts(desk)[0][3]


def test_a_resolved_markets_positions_become_claims_for_what_they_pay(desk: Desk) -> None:
    _order(desk, "a", size=10 * SH)
    _order(desk, "b", size=10 * SH, strategy="t")
    _order(desk, "n", token="N1", outcome=Outcome.NO, size=10 * SH)
    desk.executor.applier.apply(TradeEvent(_trade("t1", "a", size=3_333_333)))
    desk.executor.applier.apply(TradeEvent(_trade("t2", "b", size=2 * SH)))
    desk.executor.applier.apply(TradeEvent(_trade("t3", "n", size=2 * SH, token="N1")))
    before = desk.executor.state.market_version("c1")
    split = Payouts(600_000, 400_000)
    owed = desk.executor.applier.settle_market("c1", split)
    assert owed == 1_999_999 + 800_000 + 1_200_000 == desk.executor.state.redeemable  # each rounded down
    assert desk.rows("SELECT strategy, token_id, amount FROM claims ORDER BY strategy, token_id") == [
        ("s", "N1", 800_000), ("s", "Y1", 1_999_999), ("t", "Y1", 1_200_000)]
    assert desk.executor.state.market_version("c1") != before
    assert desk.executor.state.position_market[("s", "Y1")] == ("c1", Outcome.YES)
    assert desk.executor.applier.settle_market("c1", split) == 0  # each claim owed once
    # A fill the venue reports late, after the resolution, closes at it too.
    assert desk.executor.state.totals("s", "Y1") == PositionTotals(realized=666_666, fees=1_000)
    desk.executor.applier.apply(TradeEvent(_trade("t4", "a", size=SH)))
    assert desk.executor.state.totals("s", "Y1") == PositionTotals(realized=866_666, fees=2_000)
