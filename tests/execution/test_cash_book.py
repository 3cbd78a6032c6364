"""The executor's book of cash and claims (engine/execution/cash_book.py) on a real SQLite file: a
paper ledger's opening deposit is booked once; a redemption or merge is recorded before it is sent
and keeps what the venue answered; a merge takes its sets out of the positions at once and a failed
one puts them back; Kalshi's net turns complete sets into cash in one step; a venue's refund of a
voided market is booked once, paid now or owed; and every change reaches the executor's mirror."""

from __future__ import annotations

from pathlib import Path

import pytest

from contracts.domain import MarketInfo, Outcome, Side, Tif
from contracts.order_status import OrderStatus
from engine.execution import store
from engine.execution.cash_book import Alert
from engine.execution.claims import MergeLeg, RefundLeg
from engine.venues.base import TradeEvent, TradeStatus, VenueTrade
from engine.venues.settlement import SettlementTx
from tests.desk import Desk, make_desk
from tests.execution.fakes import SH, p


@pytest.fixture
def desk(tmp_path: Path) -> Desk:
    """Strategy s holds 10 YES at 0.40 and 10 NO at 0.50 in c1."""
    desk = make_desk(tmp_path / "d.db")
    for token, outcome, price in (("Y1", Outcome.YES, p(0.4)), ("N1", Outcome.NO, p(0.5))):
        with desk.db.write() as conn:
            row = store.insert_order(conn, client_id=f"c-{token}", venue_order_id=f"v-{token}", mode="paper",
                                     strategy="s", condition_id="c1", token_id=token, outcome=outcome, side=Side.BUY,
                                     price=price, size=10 * SH, tif=Tif.GTC, post_only=False, payload=None,
                                     reason=None, now=1, status=OrderStatus.LIVE)
        desk.executor.state.track(row)
        desk.executor.applier.apply(TradeEvent(VenueTrade(f"t-{token}", f"v-{token}", "c1", token, Side.BUY, price,
                                                          10 * SH, 0, TradeStatus.CONFIRMED, "MAKER", 5)))
    return desk


def _c1(desk: Desk) -> MarketInfo:
    market = desk.catalog.get("c1")
    assert market is not None
    return market


def _sizes(desk: Desk) -> dict[str, int]:
    stored = {r[0]: r[1] for r in desk.rows("SELECT token_id, settled + pending FROM positions WHERE strategy = 's'")}
    assert stored == {t: desk.executor.state.totals("s", t).size for t in stored}  # the mirror says the same
    return stored


def _txs(desk: Desk) -> list[tuple]:
    return desk.rows("SELECT kind, condition_id, amount, state, ref, tx_hash, via, error, actor FROM settlement_txs "
                     "ORDER BY id")


def test_a_paper_ledgers_opening_deposit_is_booked_once_and_counted(desk: Desk) -> None:
    cash = desk.executor.state.cash
    desk.clock.advance(3)
    assert desk.executor.cash_book.opening_deposit(500 * SH)
    assert not desk.executor.cash_book.opening_deposit(700 * SH)
    assert desk.executor.state.cash == cash + 500 * SH
    assert desk.rows("SELECT mode, kind, ref, amount, note, venue, at FROM cash_ledger") == [
        ("paper", "deposit", "initial", 500 * SH, "paper starting cash", "polymarket", desk.clock())]


def test_a_redemption_is_recorded_before_it_is_sent_and_keeps_what_the_venue_answered(desk: Desk) -> None:
    book = desk.executor.cash_book
    sent = book.opened(kind="redeem", condition_id="c1", amount=4 * SH, actor="operator")
    unanswered = book.opened(kind="redeem", condition_id="c2", amount=SH, actor="engine")
    assert _txs(desk) == [("redeem", "c1", 4 * SH, "sending", None, None, None, None, "operator"),
                          ("redeem", "c2", SH, "sending", None, None, None, None, "engine")]
    book.moved(sent, SettlementTx("relay-1", "pending", tx_hash="0xabc", via="relayer"))
    book.paid_unanswered(unanswered)
    assert _txs(desk) == [
        ("redeem", "c1", 4 * SH, "pending", "relay-1", "0xabc", "relayer", None, "operator"),
        ("redeem", "c2", SH, "confirmed", None, None, None, "the venue never answered; its payment was reported and "
                                                            "booked", "engine")]


def test_a_merges_sets_leave_the_positions_at_once_and_come_back_when_it_fails(desk: Desk) -> None:
    market = _c1(desk)
    book = desk.executor.cash_book
    tx = book.merge_opened(market, [MergeLeg("s", 3 * SH, p(0.45))], actor="auto-merge",
                           payout=desk.catalog.payout)
    assert _sizes(desk) == {"Y1": 7 * SH, "N1": 7 * SH}
    assert _txs(desk) == [("merge", "c1", 3 * SH, "sending", None, None, None, None, "auto-merge")]
    assert desk.executor.state.redeemable == 3 * SH  # owed a pUSD a set
    book.failed(tx, "execution reverted", Alert("warning", "MERGE_FAILED", "the merge failed", subject="c1"),
                sets_back=True, payout=desk.catalog.payout)
    assert _sizes(desk) == {"Y1": 10 * SH, "N1": 10 * SH}
    assert desk.rows("SELECT state, error FROM settlement_txs") == [("failed", "execution reverted")]
    assert desk.rows("SELECT level, source, code, message, subject FROM alerts") == [
        ("warning", "venue", "MERGE_FAILED", "the merge failed", "c1")]


def test_a_failed_redemption_without_an_alert_leaves_the_positions_as_they_are(desk: Desk) -> None:
    book = desk.executor.cash_book
    tx = book.opened(kind="redeem", condition_id="c1", amount=SH, actor="engine")
    reloads = desk.executor.state.reloads
    book.failed(tx, "refused", None, sets_back=False, payout=desk.catalog.payout)
    assert desk.rows("SELECT state, error FROM settlement_txs") == [("failed", "refused")]
    assert desk.rows("SELECT COUNT(*) FROM alerts") == [(0,)] and desk.executor.state.reloads == reloads


def test_a_net_turns_complete_sets_into_cash_in_one_step(desk: Desk) -> None:
    market = _c1(desk)
    cash = desk.executor.state.cash
    desk.clock.advance(11)
    assert desk.executor.cash_book.netted(market, "s", [MergeLeg("s", 4 * SH, p(0.45))], venue="kalshi") == 4 * SH
    assert _sizes(desk) == {"Y1": 6 * SH, "N1": 6 * SH}
    assert desk.executor.state.cash == cash + 4 * SH
    assert desk.executor.state.redeemable == 0  # paid at once: nothing owed
    assert _txs(desk) == [("merge", "c1", 4 * SH, "confirmed", "kalshi-net-1", "kalshi-net-1", "kalshi", None,
                           "kalshi")]
    assert desk.rows("SELECT kind, amount, at FROM cash_ledger WHERE kind != 'deposit'") == [
        ("merge", 4 * SH, desk.clock())]


@pytest.mark.parametrize("paid_now", [True, False], ids=["paid at once", "owed until paid"])
def test_a_voided_markets_refund_is_booked_once(desk: Desk, paid_now: bool) -> None:
    cash = desk.executor.state.cash
    legs = [RefundLeg("s", "Y1", Outcome.YES, 10 * SH, p(0.5)), RefundLeg("s", "N1", Outcome.NO, 10 * SH, p(0.5))]
    alert = Alert("info", "MARKET_VOIDED", "c1 was voided: 10 pUSD refunded", subject="c1")
    book = desk.executor.cash_book
    assert book.refunded("c1", "void-c1", 10 * SH, legs, alert, venue="kalshi", paid_now=paid_now)
    assert not book.refunded("c1", "void-c1", 10 * SH, legs, alert, venue="kalshi", paid_now=paid_now)
    assert _sizes(desk) == {"Y1": 0, "N1": 0}
    assert _txs(desk) == [("redeem", "c1", 10 * SH, "confirmed", "void-c1", "void-c1", "kalshi", None, "kalshi")]
    assert desk.executor.state.cash == cash + (10 * SH if paid_now else 0)
    assert desk.executor.state.redeemable == (0 if paid_now else 10 * SH)
    assert desk.rows("SELECT status, amount FROM claims ORDER BY id") == [("paid" if paid_now else "open", 5 * SH)] * 2
    assert desk.rows("SELECT code, message FROM alerts") == [("MARKET_VOIDED", "c1 was voided: 10 pUSD refunded")]


def test_a_refund_of_no_shares_books_no_cash(desk: Desk) -> None:
    cash = desk.executor.state.cash
    alert = Alert("info", "MARKET_VOIDED", "nothing held")
    assert desk.executor.cash_book.refunded("c2", "void-c2", 0, [], alert, venue="kalshi", paid_now=True)
    assert desk.executor.state.cash == cash and desk.rows("SELECT COUNT(*) FROM cash_ledger") == [(0,)]


def test_positions_refold_at_their_markets_resolution(desk: Desk) -> None:
    resolved = {"c1": {Outcome.YES: SH, Outcome.NO: 0}}
    desk.executor.cash_book.refold_positions(lambda cid, outcome: resolved.get(cid, {}).get(outcome))
    assert _sizes(desk) == {"Y1": 0, "N1": 0}
    assert desk.executor.state.totals("s", "Y1").realized == 6 * SH
    assert desk.executor.state.totals("s", "N1").realized == -5 * SH
