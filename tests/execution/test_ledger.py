"""The ledger's cash and share arithmetic, as pure units: a fill's effect on cash pays its fee on
either side, a ghost fill moves nothing, and only settled shares (less what pending sells
promised) may be sold."""

from __future__ import annotations

from contracts.domain import Side
from engine.execution.ledger import FillFact, PositionTotals, cash_effect, fold, merge_yes_price, restatus
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


def _fills(status: TradeStatus) -> list[FillFact]:
    return [FillFact(Side.BUY, 400_000, 10 * SH, 1_000, TradeStatus.CONFIRMED),
            FillFact(Side.BUY, 500_000, 4 * SH, 500, status), FillFact(Side.SELL, 600_000, 3 * SH, 300, status)]


def test_a_fill_changing_status_moves_its_shares_as_a_refold_would_both_ways() -> None:
    for before, after in ((TradeStatus.MATCHED, TradeStatus.MINED), (TradeStatus.MINED, TradeStatus.RETRYING)):
        totals = fold(_fills(before))
        buy, sell = _fills(after)[1:]
        half = restatus(totals, buy, before)
        assert half is not None
        assert restatus(half, sell, before) == fold(_fills(after))
    held = fold(_fills(TradeStatus.MINED))
    assert (held.settled, held.pending) == (11 * SH, 0)
    assert restatus(held, _fills(TradeStatus.CONFIRMED)[1], TradeStatus.MINED) is held  # settled either way
    assert restatus(held, _fills(TradeStatus.FAILED)[1], TradeStatus.MINED) is None  # a ghost: refold


def test_a_ghost_fill_changes_nothing_in_a_position() -> None:
    totals = fold(_fills(TradeStatus.MINED))
    assert fold([*_fills(TradeStatus.MINED), FillFact(Side.BUY, 500_000, 2 * SH, 1_000, TradeStatus.FAILED)]) == totals


def test_a_resolved_position_realizes_its_payout_less_its_cost() -> None:
    # 14 bought for 6.00; 3 sold at 0.60 realize 1.80 - 1.285714; the 11 left (4.714286) pay 0.50 each.
    resolved = fold(_fills(TradeStatus.MINED), payout=500_000)
    assert resolved == PositionTotals(0, 0, 0, (1_800_000 - 1_285_714) + (5_500_000 - 4_714_286), 1_800)


def test_a_merge_price_is_a_whole_micro_unit() -> None:
    third = PositionTotals(settled=3 * SH, cost=SH)  # 0.333333... a share
    two_thirds = PositionTotals(settled=3 * SH, cost=2 * SH)
    price = merge_yes_price(third, two_thirds)
    assert price == 333_333 and type(price) is int
    assert type(merge_yes_price(PositionTotals(), PositionTotals())) is int
