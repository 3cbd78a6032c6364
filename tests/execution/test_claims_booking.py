"""Booking what the venue pays into claims (engine/execution/claims.py), called as the collector
and the Kalshi void path call it, on a real SQLite ledger: a payment settles only its own market's
(and outcome's) claims, a merge paid by an unknown transaction pays the oldest claims it covers, a
voided market's refund is owed at what the venue paid back, and every credit is booked once, on its
venue's ledger, with a note a trader can read. Written against mutations the mutation run
(`make mutation`) found surviving."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Connection

from contracts.domain import Outcome
from engine.execution import claims
from engine.venues.settlement import SettlementTx, VenueCredit
from storage.engine_stores import claims_store
from tests.desk import Desk, make_desk
from tests.execution.fakes import SH

KALSHI_MARKET = "kalshi:KXTEST-26-A"


def _claim(conn: Connection, cid: str, amount: int, ref: str, *, kind: str = "redeem", token: str | None = None,
           tx_id: int | None = None) -> None:
    claims_store.add_claim(conn, mode="paper", kind=kind, condition_id=cid, strategy="s", token_id=token,
                           amount=amount, ref=ref, now=1, tx_id=tx_id)


def _book(desk: Desk, credit: VenueCredit) -> claims.Booking:
    with desk.executor.tx() as conn:
        return claims.book_credit(conn, "paper", credit, 5)


def _claims(desk: Desk) -> list[tuple]:
    return desk.rows("SELECT ref, status, paid_by FROM claims ORDER BY id")


def _settled_at(desk: Desk) -> list[tuple]:
    return desk.rows("SELECT settled_at FROM claims ORDER BY id")


def test_a_redemption_pays_only_its_own_markets_claims(tmp_path: Path) -> None:
    desk = make_desk(tmp_path / "own.db")
    with desk.executor.tx() as conn:
        _claim(conn, "c1", 10 * SH, "r1")
        _claim(conn, "c2", 7 * SH, "r2")
    booking = _book(desk, VenueCredit("redeem", 10 * SH, "0xaa", 2, "c1", 10 * SH))
    assert booking == claims.Booking(True, 10 * SH, 10 * SH, 1)
    assert _claims(desk) == [("r1", "paid", "0xaa"), ("r2", "open", None)]
    assert _settled_at(desk) == [(5,), (None,)]
    assert desk.rows("SELECT kind, amount, ref, venue, note FROM cash_ledger") == [
        ("redemption", 10 * SH, "0xaa:c1", "polymarket", "redemption paid in c1…: 10 pUSD (venue tx 0xaa…)")]


def test_a_redemption_of_one_outcome_pays_only_that_outcomes_claims(tmp_path: Path) -> None:
    desk = make_desk(tmp_path / "outcome.db")
    with desk.executor.tx() as conn:
        _claim(conn, "c1", 4 * SH, "yes", token="Y1")
        _claim(conn, "c1", 6 * SH, "no", token="N1")
    assert _book(desk, VenueCredit("redeem", 6 * SH, "0xbb", 2, "c1", 6 * SH, token_id="N1")) == claims.Booking(
        True, 6 * SH, 6 * SH, 1)
    assert _claims(desk) == [("yes", "open", None), ("no", "paid", "0xbb")]
    # The same transaction's other outcome is a credit of its own, not a repeat of the first.
    assert _book(desk, VenueCredit("redeem", 4 * SH, "0xbb", 2, "c1", 4 * SH, token_id="Y1")).booked
    assert desk.rows("SELECT ref FROM cash_ledger ORDER BY id") == [("0xbb:c1:N1",), ("0xbb:c1:Y1",)]


def test_a_credit_is_booked_once_and_a_repeat_says_so(tmp_path: Path) -> None:
    desk = make_desk(tmp_path / "once.db")
    rebate = VenueCredit("rebate", 1_250_000, "0xcc", 2, None)
    assert _book(desk, rebate) == claims.Booking(True, 1_250_000)
    assert _book(desk, rebate) == claims.Booking(False)
    reward = VenueCredit("reward", 3 * SH, "0x" + "ab" * 32, 3, None)
    assert _book(desk, reward) == claims.Booking(True, 3 * SH)
    assert desk.rows("SELECT kind, amount, ref, note FROM cash_ledger ORDER BY id") == [
        ("rebate", 1_250_000, "0xcc", "maker rebate paid: 1.25 pUSD (venue tx 0xcc…)"),
        ("reward", 3 * SH, reward.tx_hash, "liquidity rewards paid: 3 pUSD (venue tx 0xabababababab…)")]


def test_a_kalshi_credit_is_booked_on_kalshis_ledger(tmp_path: Path) -> None:
    desk = make_desk(tmp_path / "kalshi.db")
    with desk.executor.tx() as conn:
        _claim(conn, KALSHI_MARKET, 3 * SH, "k")
    _book(desk, VenueCredit("redeem", 3 * SH, "settle-1", 2, KALSHI_MARKET, 3 * SH))
    assert desk.rows("SELECT venue, ref, note FROM cash_ledger") == [
        ("kalshi", f"kalshi:settle-1:{KALSHI_MARKET}",
         "redemption paid in kalshi:KXTEST-…: 3 pUSD (venue tx settle-1…)")]
    assert _claims(desk) == [("k", "paid", "settle-1")]


def test_a_merge_pays_its_own_transactions_claims_else_the_oldest_it_covers(tmp_path: Path) -> None:
    desk = make_desk(tmp_path / "merge.db")
    with desk.executor.tx() as conn:
        txs = [claims.tx_opened(conn, mode="paper", kind="merge", condition_id="c1", amount=a, actor="t", now=1)
               for a in (2 * SH, 3 * SH, SH)]
        claims.tx_moved(conn, txs[1], SettlementTx("ref-2", "pending", "0xsecond"), 2)
        for tx, amount in zip(txs, (2 * SH, 3 * SH, SH), strict=True):
            _claim(conn, "c1", amount, f"m{tx}", kind="merge", tx_id=tx)
    # Paid by the second transaction's hash: its claim only, though the oldest-first rule would
    # have paid the first and the third (2 + 1).
    assert _book(desk, VenueCredit("merge", 3 * SH, "0xsecond", 3, "c1", 3 * SH)).claimed == 3 * SH
    assert [status for _, status, _ in _claims(desk)] == ["open", "paid", "open"]
    assert desk.rows("SELECT note FROM cash_ledger") == [("complete sets merged in c1…: 3 pUSD (venue tx 0xsecond…)",)]
    # A hash the desk never sent: the oldest open claims, each while what is left still covers it whole.
    assert _book(desk, VenueCredit("merge", 2 * SH, "0xunknown", 4, "c1", 2 * SH)).claims == 1
    assert [status for _, status, _ in _claims(desk)] == ["paid", "paid", "open"]
    with desk.executor.tx() as conn:
        _claim(conn, "c1", SH, "late", kind="merge", tx_id=txs[2])
    paid = _book(desk, VenueCredit("merge", 2 * SH, "0xother", 5, "c1", 2 * SH))
    assert (paid.claimed, paid.claims) == (2 * SH, 2)
    assert desk.rows("SELECT state FROM settlement_txs ORDER BY id") == [("confirmed",)] * 3


def test_a_voided_market_is_owed_what_the_venue_paid_back_rounded_down(tmp_path: Path) -> None:
    desk = make_desk(tmp_path / "void.db")
    legs = [claims.RefundLeg("a", "Y1", Outcome.YES, 3 * SH, 333_333),
            claims.RefundLeg("b", "N1", Outcome.NO, 2_500_000, 666_667)]
    with desk.executor.tx() as conn:
        assert not claims.recorded(conn, "paper", "void-1")
        tx = claims.tx_opened(conn, mode="paper", kind="redeem", condition_id="c1", amount=2_666_666, actor="kalshi",
                              now=1)
        claims.tx_moved(conn, tx, SettlementTx("void-1", "confirmed", tx_hash="void-1", via="kalshi"), 2)
        owed = claims.record_refund(conn, mode="paper", tx_id=tx, condition_id="c1", legs=legs, now=3)
        assert claims.recorded(conn, "paper", "void-1") and not claims.recorded(conn, "live", "void-1")
    assert owed == 999_999 + 1_666_667  # each leg's shares at its price, rounded down
    assert desk.rows("SELECT kind, condition_id, strategy, token_id, amount, status, ref, tx_id FROM claims") == [
        ("redeem", "c1", "a", "Y1", 999_999, "open", f"refund:{tx}:a:Y1", tx),
        ("redeem", "c1", "b", "N1", 1_666_667, "open", f"refund:{tx}:b:N1", tx)]
    assert desk.rows("SELECT strategy, condition_id, token_id, outcome, shares, price, tx_id, status "
                     "FROM position_conversions ORDER BY id") == [
        ("a", "c1", "Y1", "YES", 3 * SH, 333_333, tx, "done"), ("b", "c1", "N1", "NO", 2_500_000, 666_667, tx, "done")]
    assert desk.rows("SELECT kind, condition_id, amount, ref, tx_hash, via, state, error, actor "
                     "FROM settlement_txs") == [
        ("redeem", "c1", 2_666_666, "void-1", "void-1", "kalshi", "confirmed", None, "kalshi")]


def test_a_settlement_transaction_keeps_what_the_venue_said_of_it(tmp_path: Path) -> None:
    desk = make_desk(tmp_path / "tx.db")
    with desk.executor.tx() as conn:
        tx = claims.tx_opened(conn, mode="paper", kind="redeem", condition_id="c1", amount=SH, actor="op", now=1)
        claims.tx_moved(conn, tx, SettlementTx("relay-1", "pending", "0xdd", via="relayer"), 2)
        claims.tx_moved(conn, tx, SettlementTx("", "failed", None, error="execution reverted"), 3)
        unanswered = claims.tx_opened(conn, mode="paper", kind="redeem", condition_id="c2", amount=SH, actor="op",
                                      now=1)
        claims.tx_paid_unanswered(conn, unanswered, 4)
        refused = claims.tx_opened(conn, mode="paper", kind="merge", condition_id="c2", amount=SH, actor="op", now=1)
        claims.tx_failed(conn, refused, "not enough sets", 5)
    assert desk.rows("SELECT condition_id, ref, tx_hash, via, state, error, updated_at FROM settlement_txs "
                     "ORDER BY id") == [
        ("c1", "relay-1", "0xdd", "relayer", "failed", "execution reverted", 3),
        ("c2", None, None, None, "confirmed", "the venue never answered; its payment was reported and booked", 4),
        ("c2", None, None, None, "failed", "not enough sets", 5)]


def test_a_redemption_reported_without_its_market_pays_no_claim(tmp_path: Path) -> None:
    desk = make_desk(tmp_path / "nomarket.db")
    with desk.executor.tx() as conn:
        _claim(conn, "c1", SH, "r1")
    assert _book(desk, VenueCredit("redeem", SH, "0xee", 2, None, SH)) == claims.Booking(True, SH)
    assert _claims(desk) == [("r1", "open", None)]  # which claims it pays is unknown: none are closed
