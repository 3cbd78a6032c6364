"""The ledger rules for positions that end in cash: a resolved winning position is redeemable
(owed, part of equity) and becomes cash only when the venue pays, for exactly what it pays;
merged YES+NO sets leave the positions and are owed 1 a set; rebates are cash when paid. On a
real SQLite file with the paper venue; the paper venue's own redeem and merge path too."""

from __future__ import annotations

from pathlib import Path

import pytest

from contracts.domain import Intent, Outcome, Side, Tif
from contracts.payouts import Payouts
from engine.execution import claims
from engine.execution.credits import book_venue_credits
from engine.execution.ledger import PositionTotals, merge_yes_price
from engine.execution.portfolio import value
from engine.venues.base import VenueError
from engine.venues.paper import PaperConfig
from engine.venues.paper_settlement import PaperSettlement
from engine.venues.settlement import SettlementTx, VenueCredit
from storage.engine_stores import claims_store
from storage.sqlite.db import now_ms
from tests.desk import Desk, make_desk
from tests.execution.fakes import SH, p
from tests.execution.test_executor import quote, step


def _deposit(desk: Desk, amount: int = 1_000 * SH) -> None:
    """The desk's starting cash: credits before it are part of it."""
    with desk.executor.tx() as conn:
        from storage.engine_stores import execution_ledger

        execution_ledger.add_cash_entry(conn, mode="paper", kind="deposit", ref="initial", amount=amount, note=None,
                                        now=0, venue=desk.executor.venue_name)
    desk.executor.state.cash += amount


class ScriptedVenue:
    """What a venue paid, as a list (the credits a real one would report)."""

    def __init__(self, credits: list[VenueCredit]):
        self.paid = credits

    async def credits(self, since_ms: int) -> list[VenueCredit]:
        return [c for c in self.paid if c.at_ms >= since_ms]


def _owed_and_resolved(desk: Desk) -> None:
    desk.books.set("Y1", bids=[(0.38, 100)], asks=[(0.40, 100)])
    step(desk, Intent("a", "c1", (quote(Side.BUY, 0.40, 10, Tif.FAK),)))
    desk.executor.applier.settle_market("c1", Payouts.won_by(Outcome.YES))


def test_equity_is_unchanged_by_a_resolution_and_cash_only_moves_when_the_venue_pays(tmp_path: Path) -> None:
    desk = make_desk(tmp_path / "c.db")
    _deposit(desk)
    desk.books.set("Y1", bids=[(0.40, 100)], asks=[(0.40, 100)])
    step(desk, Intent("a", "c1", (quote(Side.BUY, 0.40, 10, Tif.FAK),)))
    before = value(desk.executor.state, lambda token: desk.books.book(token))
    desk.executor.applier.settle_market("c1", Payouts.won_by(Outcome.YES))
    after = value(desk.executor.state, lambda token: None)
    assert (after.cash, after.positions_value, after.redeemable) == (before.cash, 0, 10 * SH)
    assert after.equity == before.equity + 6 * SH  # marked at 0.40, now worth 1.00 a share

    paid = VenueCredit("redeem", 10 * SH, "0xabc", 1, "c1", 10 * SH)
    booked = desk.run(book_venue_credits(desk.executor, ScriptedVenue([paid])))
    assert [b.booking for b in booked] == [claims.Booking(True, 10 * SH, 10 * SH, 1)]
    state = desk.executor.state
    assert (state.cash, state.redeemable) == (after.cash + 10 * SH, 0)
    assert desk.rows("SELECT kind, amount, ref FROM cash_ledger WHERE kind = 'redemption'") == [
        ("redemption", 10 * SH, "0xabc:c1")]
    assert desk.rows("SELECT status, paid_by FROM claims") == [("paid", "0xabc")]
    # The venue's list repeats: booked once.
    assert desk.run(book_venue_credits(desk.executor, ScriptedVenue([paid]))) == []
    assert desk.executor.state.cash == after.cash + 10 * SH


def test_cash_is_what_the_venue_paid_and_a_difference_is_alerted(tmp_path: Path) -> None:
    desk = make_desk(tmp_path / "m.db")
    _deposit(desk)
    _owed_and_resolved(desk)
    cash = desk.executor.state.cash
    desk.run(book_venue_credits(desk.executor, ScriptedVenue([VenueCredit("redeem", 9_999_990, "0x1", 1, "c1")])))
    assert desk.executor.state.cash == cash + 9_999_990  # to the micro-unit
    assert desk.executor.state.redeemable == 0
    [(code, message)] = desk.rows("SELECT code, message FROM alerts WHERE code = 'REDEMPTION_MISMATCH'")
    assert "9.99999" in message and "10" in message


def test_credits_from_before_the_desk_began_are_not_booked_and_rebates_are(tmp_path: Path) -> None:
    desk = make_desk(tmp_path / "r.db")
    early = VenueCredit("rebate", 2 * SH, "0xold", -5, None)
    assert desk.run(book_venue_credits(desk.executor, ScriptedVenue([early]))) == []  # no cash yet: nothing
    _deposit(desk)
    rebate = VenueCredit("rebate", 1_250_000, "0xnew", 10, None)
    desk.run(book_venue_credits(desk.executor, ScriptedVenue([early, rebate])))
    assert desk.rows("SELECT kind, amount FROM cash_ledger WHERE kind = 'rebate'") == [("rebate", 1_250_000)]
    assert desk.rows("SELECT code FROM alerts") == [("MAKER_REBATE",)]


def test_merged_sets_leave_the_positions_until_paid_and_return_if_the_merge_fails(tmp_path: Path) -> None:
    desk = make_desk(tmp_path / "g.db")
    _deposit(desk)
    desk.books.set("Y1", bids=[(0.44, 100)], asks=[(0.45, 100)])
    desk.books.set("N1", bids=[(0.51, 100)], asks=[(0.52, 100)])
    step(desk, Intent("arb", "c1", (quote(Side.BUY, 0.45, 10, Tif.FAK),)))
    step(desk, Intent("arb", "c1", (quote(Side.SELL, 0.48, 10, Tif.FAK),)))  # 10 NO at 0.52
    yes, no = desk.executor.state.totals("arb", "Y1"), desk.executor.state.totals("arb", "N1")
    price = merge_yes_price(yes, no)

    def merge(ref: str) -> int:
        with desk.executor.tx() as conn:
            tx = claims_store.new_tx(conn, mode="paper", kind="merge", condition_id="c1", amount=4 * SH, actor="t",
                               now=now_ms())
            claims.record_merge(conn, mode="paper", tx_id=tx, condition_id="c1", yes_token="Y1", no_token="N1",
                                legs=[claims.MergeLeg("arb", 4 * SH, price)], now=now_ms())
            claims.tx_moved(conn, tx, SettlementTx(ref, "pending", ref), now_ms())
        _refold(desk)
        return tx

    failed = merge("0xfail")
    assert desk.executor.state.totals("arb", "Y1").size == 6 * SH
    assert desk.executor.state.redeemable == 4 * SH
    with desk.executor.tx() as conn:
        claims_store.tx_failed(conn, failed, "execution reverted", now_ms())
    _refold(desk)
    assert desk.executor.state.totals("arb", "Y1") == yes and desk.executor.state.redeemable == 0

    merge("0xgood")
    cash = desk.executor.state.cash
    desk.run(book_venue_credits(desk.executor, ScriptedVenue([VenueCredit("merge", 4 * SH, "0xgood", 5, "c1")])))
    left_yes, left_no = desk.executor.state.totals("arb", "Y1"), desk.executor.state.totals("arb", "N1")
    assert (left_yes.size, left_no.size) == (6 * SH, 6 * SH)
    assert (desk.executor.state.cash, desk.executor.state.redeemable) == (cash + 4 * SH, 0)
    # Four sets bought for 0.45 + 0.52 and paid 1 each: 4 * 0.03 realized across the two legs.
    assert (left_yes.realized + left_no.realized) - (yes.realized + no.realized) == 4 * (SH - p(0.45) - p(0.52))
    assert desk.rows("SELECT status FROM position_conversions ORDER BY id") == [
        ("failed",), ("failed",), ("done",), ("done",)]


def _refold(desk: Desk) -> None:
    from engine.execution import store

    with desk.executor.tx() as conn:
        for strategy, token, cid, outcome in store.position_keys_from_fills(conn, "paper"):
            store.recompute_position(conn, mode="paper", strategy=strategy, token_id=token, condition_id=cid,
                                     outcome=outcome, payout=desk.catalog.payout(cid, outcome), now=now_ms())
        desk.executor.state.load_positions(conn)


def test_a_merge_splits_a_sets_dollar_by_cost() -> None:
    yes = PositionTotals(settled=10 * SH, cost=4_500_000)  # 0.45 a share
    no = PositionTotals(settled=10 * SH, cost=5_200_000)  # 0.52 a share
    price = merge_yes_price(yes, no)
    assert price == SH * 450_000 // 970_000 and 0 < price < SH
    assert merge_yes_price(PositionTotals(), PositionTotals()) == SH // 2


def test_the_paper_venue_redeems_and_merges_what_it_holds(tmp_path: Path) -> None:
    desk = make_desk(tmp_path / "p.db", config=PaperConfig(mined_after_ms=0, confirmed_after_ms=0))
    desk.books.set("Y1", bids=[(0.44, 100)], asks=[(0.45, 100)])
    desk.books.set("N1", bids=[(0.51, 100)], asks=[(0.52, 100)])
    step(desk, Intent("arb", "c1", (quote(Side.BUY, 0.45, 10, Tif.FAK),)))
    step(desk, Intent("arb", "c1", (quote(Side.SELL, 0.48, 6, Tif.FAK),)))  # 6 NO
    paper = PaperSettlement(desk.db, desk.catalog, clock=desk.clock, delay_ms=1000)

    async def scenario() -> None:
        with pytest.raises(VenueError, match="result for condition not received yet"):
            await paper.redeem("c1", False)
        too_many = await paper.merge("c1", False, 7 * SH)
        merged = await paper.merge("c1", False, 6 * SH)
        assert (await paper.transaction(merged.ref)).state == "pending"
        desk.clock.advance(1000)
        assert (await paper.transaction(too_many.ref)).state == "failed"
        assert (await paper.transaction(merged.ref)).state == "confirmed"
        desk.catalog.mark_resolved("c1", Payouts.won_by(Outcome.YES))
        redeemed = await paper.redeem("c1", False)
        desk.clock.advance(1000)
        assert (await paper.transaction(redeemed.ref)).state == "confirmed"
        credits = await paper.credits(0)
        assert [(c.kind, c.amount) for c in credits] == [("merge", 6 * SH), ("redeem", 4 * SH)]
        balances = await desk.venue.balances(["Y1", "N1"])
        assert balances.tokens == {"Y1": 0, "N1": 0}
        assert balances.collateral == desk.venue.config.starting_cash - 4_500_000 - 3_120_000 + 10 * SH

    desk.run(scenario())


def test_the_paper_venue_pays_its_maker_rebates_at_the_days_end_once_over_the_minimum(tmp_path: Path) -> None:
    from contracts.venue_rules import taker_fee
    from engine.feeds.market_data_events import TradePrint
    from engine.venues.paper_settlement import DAY_MS

    # r = 0.25; its listing names a 15 % rebate share (a sports market's in late 2026): that share is paid.
    desk = make_desk(tmp_path / "rb.db", fee_rate_ppm=250_000, rebate_share_ppm=150_000)
    paper = PaperSettlement(desk.db, desk.catalog, clock=desk.clock)
    desk.books.set("Y1", bids=[(0.48, 100)], asks=[(0.52, 100)])

    def maker_fill(shares: int) -> int:
        """A resting BUY at 0.49 traded through by a seller; returns the fee that taker paid."""
        step(desk, Intent("mm", "c1", (quote(Side.BUY, 0.49, shares),)))
        desk.venue.on_market_event(TradePrint("Y1", p(0.49), 10_000 * SH, Side.SELL, desk.clock()))
        desk.settle()
        step(desk, Intent("mm", "c1", ()))
        return taker_fee(p(0.49), shares * SH, 250_000, 1)

    first = maker_fill(10)  # 10 * 0.25 * 0.2499 = 0.62475: a rebate of 0.0937 owed, under the minimum
    desk.clock.advance(DAY_MS)
    assert desk.run(paper.credits(0)) == []
    second = maker_fill(100)  # 6.2475 more in fees: 1.03 owed in all, paid
    desk.clock.advance(DAY_MS)
    [rebate] = desk.run(paper.credits(0))
    assert rebate.kind == "rebate" and rebate.amount == (first + second) * 15 // 100  # the listed share
    assert rebate.at_ms % DAY_MS == 0  # paid as the day ended
    cash_from_trades = desk.venue.config.starting_cash - round(0.49 * 110 * SH)
    assert desk.run(desk.venue.balances([])).collateral == cash_from_trades + rebate.amount
