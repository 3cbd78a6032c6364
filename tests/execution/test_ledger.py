"""The ledger's cash and share arithmetic, as pure units: a fill's effect on cash pays its fee on
either side, a ghost fill moves nothing, and only settled shares (less what pending sells
promised) may be sold."""

from __future__ import annotations

from contracts.domain import Side
from engine.execution.ledger import FillFact, PositionTotals, cash_effect
from engine.venues.base import TradeStatus

SH = 1_000_000


def test_a_buy_pays_its_notional_and_its_fee() -> None:
    fill = FillFact(Side.BUY, 400_000, 10 * SH, 12_345, TradeStatus.CONFIRMED)
    assert cash_effect(fill) == -4 * SH - 12_345


def test_a_sell_receives_its_notional_less_its_fee() -> None:
    fill = FillFact(Side.SELL, 600_000, 5 * SH, 7_000, TradeStatus.MINED)
    assert cash_effect(fill) == 3 * SH - 7_000


def test_a_pending_fill_moves_cash_as_a_settled_one_does_and_a_ghost_moves_nothing() -> None:
    pending = FillFact(Side.BUY, 500_000, 2 * SH, 1_000, TradeStatus.MATCHED)
    assert cash_effect(pending) == -SH - 1_000
    assert cash_effect(FillFact(Side.BUY, 500_000, 2 * SH, 1_000, TradeStatus.FAILED)) == 0


def test_only_settled_shares_less_pending_sells_are_sellable() -> None:
    assert PositionTotals(settled=10 * SH, pending=7 * SH).sellable == 10 * SH  # a pending buy is not yet ours
    assert PositionTotals(settled=10 * SH, pending=-4 * SH).sellable == 6 * SH  # a pending sell promised 4
    assert PositionTotals(settled=0, pending=9 * SH).sellable == 0
    assert PositionTotals(settled=3 * SH, pending=-5 * SH).sellable == 0  # never negative
