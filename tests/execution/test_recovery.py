"""Recovery on a paper desk: a restart over the same file reconciles with the venue."""

from __future__ import annotations

from pathlib import Path

from contracts.domain import Intent, Quote, Side
from engine.execution.recovery import recover
from engine.feeds.market_data_events import TradePrint
from engine.venues.base import OrderRequest
from tests.desk import Desk, make_desk
from tests.execution.fakes import SH, p


def restart(path: Path) -> Desk:
    desk = make_desk(path)
    desk.executor.config.lost_grace_ms = 0
    return desk


def test_unsent_intent_becomes_lost_not_resubmitted(tmp_path: Path) -> None:
    first = make_desk(tmp_path / "d.db")
    prepared = first.run(first.venue.prepare(OrderRequest("lonely", "c1", "Y1", Side.BUY, p(0.4), 10 * SH)))
    from contracts.domain import Outcome, Tif
    from engine.execution import store

    with first.db.write() as conn:  # committed as the executor does, then the process "dies"
        store.insert_order(conn, client_id="lonely", venue_order_id=prepared.venue_order_id, mode="paper",
                           strategy="s", condition_id="c1", token_id="Y1", outcome=Outcome.YES, side=Side.BUY,
                           price=p(0.4), size=10 * SH, tif=Tif.GTC, post_only=False, payload=prepared.payload,
                           reason=None, now=first.clock())
    second = restart(tmp_path / "d.db")
    report = second.run(recover(second.executor))
    assert report.lost == 1
    assert second.rows("SELECT status, flags FROM orders") == [("LOST", "lost")]
    assert second.rows("SELECT COUNT(*) FROM paper_orders") == [(0,)]  # never sent
    assert second.rows("SELECT code FROM alerts") == [("ORDER_LOST",)]


def test_an_acknowledged_order_the_venue_forgot_while_down_is_closed_not_lost(tmp_path: Path) -> None:
    """It reached the venue, and the venue forgets finished orders: it ended while the engine was
    away (a missed cancellation), so it is closed as its fills say, with a warning (nobody knew how
    it ended), never marked LOST (which says it never reached the venue)."""
    first = make_desk(tmp_path / "d.db")
    first.books.set("Y1", bids=[(0.40, 100)], asks=[(0.60, 100)])
    first.executor.set_intents([Intent("s", "c1", (Quote(Side.BUY, p(0.45), 10 * SH),))])
    first.run(first.executor.reconcile())
    first.settle()
    assert first.rows("SELECT status FROM orders") == [("LIVE",)]
    with first.db.write() as conn:  # the venue ended it and forgot it while the engine was down
        conn.exec_driver_sql("DELETE FROM paper_orders")
    second = restart(tmp_path / "d.db")
    report = second.run(recover(second.executor))
    assert (report.gone, report.lost) == (1, 0)
    assert second.rows("SELECT status, flags FROM orders") == [("CANCELED", "")]
    assert second.rows("SELECT code FROM alerts") == [("ORDER_GONE",)]


def test_sent_but_unacknowledged_order_is_adopted(tmp_path: Path) -> None:
    first = make_desk(tmp_path / "d.db")
    first.books.set("Y1", bids=[(0.40, 100)], asks=[(0.60, 100)])
    first.executor.set_intents([Intent("s", "c1", (Quote(Side.BUY, p(0.45), 10 * SH),))])
    first.run(first.executor.reconcile())  # events are never applied: the process "died" first
    with first.db.write() as conn:  # roll the local row back to how a crash before the ack leaves it
        conn.exec_driver_sql("UPDATE orders SET status='PENDING_SUBMIT', status_rank=0, acked_at=NULL")
    second = restart(tmp_path / "d.db")
    report = second.run(recover(second.executor))
    assert (report.updated, report.lost) == (1, 0)
    assert second.rows("SELECT status FROM orders") == [("LIVE",)]


def test_fill_while_down_is_recovered(tmp_path: Path) -> None:
    first = make_desk(tmp_path / "d.db")
    first.books.set("Y1", bids=[(0.45, 10)], asks=[(0.60, 100)])
    first.executor.set_intents([Intent("s", "c1", (Quote(Side.BUY, p(0.45), 10 * SH),))])
    first.run(first.executor.reconcile())
    first.settle()
    first.venue.on_market_event(TradePrint("Y1", p(0.44), 10 * SH, Side.SELL, first.clock()))
    # The trade events are never applied locally: lost with the process.
    second = restart(tmp_path / "d.db")
    report = second.run(recover(second.executor))
    assert report.trades_seen == 1
    assert second.rows("SELECT filled, status FROM orders") == [(10 * SH, "FILLED")]
    assert second.rows("SELECT settled + pending FROM positions") == [(10 * SH,)]


def test_a_sell_settling_on_chain_is_not_a_balance_mismatch() -> None:
    from types import SimpleNamespace

    from engine.execution.ledger import PositionTotals
    from engine.execution.recovery import balance_mismatches
    from engine.venues.base import Balances

    sh = 1_000_000
    # 20 settled shares; a SELL of 20 matched but not mined: the venue already moved them.
    selling = SimpleNamespace(state=SimpleNamespace(positions={("mm", "T"): PositionTotals(20 * sh, -20 * sh)}))
    assert balance_mismatches(selling, Balances(0, {"T": 0})) == []  # type: ignore[arg-type]  # a stand-in state with only what it reads
    # A BUY still settling may or may not be in the venue's balance: either is fine.
    buying = SimpleNamespace(state=SimpleNamespace(positions={("mm", "T"): PositionTotals(20 * sh, 5 * sh)}))
    assert balance_mismatches(buying, Balances(0, {"T": 20 * sh})) == []  # type: ignore[arg-type]  # a stand-in state with only what it reads
    assert balance_mismatches(buying, Balances(0, {"T": 25 * sh})) == []  # type: ignore[arg-type]  # a stand-in state with only what it reads
    # Fewer than the settled shares not promised to a sell: a real mismatch.
    (problem,) = balance_mismatches(buying, Balances(0, {"T": 12 * sh}))  # type: ignore[arg-type]  # a stand-in state with only what it reads
    assert "at least 20.00 shares" in problem and "venue 12.00" in problem


def test_an_order_resting_at_the_venue_that_the_ledger_never_saw_is_imported_at_start(tmp_path: Path) -> None:
    """Recovery's third path: an open order the venue has and the ledger does not (placed by hand
    on the venue, or by a process whose row was lost) is imported, flagged and alerted."""
    first = make_desk(tmp_path / "d.db")
    first.books.set("Y1", bids=[(0.40, 100)], asks=[(0.60, 100)])
    prepared = first.run(first.venue.prepare(OrderRequest("by-hand", "c1", "Y1", Side.BUY, p(0.42), 10 * SH)))
    first.run(first.venue.submit(prepared))
    assert first.rows("SELECT COUNT(*) FROM orders") == [(0,)]
    second = restart(tmp_path / "d.db")
    report = second.run(recover(second.executor))
    assert report.imported == 1
    assert second.rows("SELECT strategy, side, price, size, status FROM orders") == [
        ("imported", "BUY", p(0.42), 10 * SH, "LIVE")]
    assert len(second.executor.state.orders) == 1  # the working order the desk now tracks (and a kill cancels)


def test_a_fill_while_down_on_an_order_the_venue_then_forgot_is_found_from_the_last_fill(tmp_path: Path) -> None:
    """Recovery's second path reaches back to the ledger's last fill, not only to its open orders:
    an order that filled and was forgotten by the venue while the engine was down for an hour has
    no open order left to date the search from."""
    first = make_desk(tmp_path / "d.db")
    first.books.set("Y1", bids=[(0.45, 4)], asks=[(0.60, 100)])
    first.executor.set_intents([Intent("s", "c1", (Quote(Side.BUY, p(0.45), 10 * SH),))])
    first.run(first.executor.reconcile())
    first.settle()
    first.venue.on_market_event(TradePrint("Y1", p(0.44), 4 * SH, Side.SELL, first.clock()))
    first.settle()  # 4 of 10 filled and booked: the ledger's last fill
    first.clock.advance(60_000)
    first.venue.on_market_event(TradePrint("Y1", p(0.44), 6 * SH, Side.SELL, first.clock()))
    with first.db.write() as conn:  # the rest filled while the engine was down; the venue forgot the order
        conn.exec_driver_sql("DELETE FROM paper_orders")
    second = restart(tmp_path / "d.db")
    second.clock.now = first.clock() + 3_600_000  # an hour later
    report = second.run(recover(second.executor))
    assert report.trades_seen >= 1
    assert second.rows("SELECT SUM(size) FROM fills") == [(10 * SH,)]
    assert second.rows("SELECT settled + pending FROM positions") == [(10 * SH,)]


def test_a_resolution_the_catalog_knows_is_settled_with_its_claim_before_positions_are_refolded(
        tmp_path: Path) -> None:
    """The desk heard the market resolve while this ledger was away (or crashed between recording the
    resolution and settling it): recovery settles what the ledger holds there, with the claim the
    venue's payment pays, rather than refolding the position closed at the payout owing nothing."""
    from contracts.domain import Outcome
    from contracts.payouts import Payouts

    first = make_desk(tmp_path / "d.db")
    first.books.set("Y1", bids=[(0.38, 100)], asks=[(0.40, 100)])
    first.executor.set_intents([Intent("s", "c1", (Quote(Side.BUY, p(0.40), 10 * SH),))])
    first.run(first.executor.reconcile())
    first.settle()
    assert first.rows("SELECT settled + pending FROM positions") == [(10 * SH,)]
    second = restart(tmp_path / "d.db")
    second.catalog.mark_resolved("c1", Payouts.won_by(Outcome.YES))  # heard, not yet settled on this ledger
    second.run(recover(second.executor))
    assert second.rows("SELECT amount, status FROM claims") == [(10 * SH, "open")]  # 1 a share, owed
    assert second.executor.state.redeemable == 10 * SH
    assert second.rows("SELECT settled + pending, realized FROM positions") == [(0, 10 * SH - 4 * SH)]
