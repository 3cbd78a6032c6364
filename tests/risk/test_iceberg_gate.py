"""The risk gate and an iceberg: the slice is checked as any order is, the whole remaining total
(`Quote.reserve`, the rest behind the slice) against the exposure limits as if it were shown; what
does not fit is trimmed from the rest first, said so, and the tick's budget is spent by the slice
alone (the rest is no order at the venue)."""

from __future__ import annotations

from dataclasses import replace

from contracts.domain import Intent, PositionView
from engine.execution.exposure import Exposure
from engine.risk.gate import Budget, RiskGate, TradingState
from tests.risk.test_gate import SH, buy, check, ctx, reasons, sell

WIDE = ("max_total_exposure", "max_market_exposure", "max_strategy_exposure", "max_event_exposure")


def test_a_whole_that_fits_passes_as_asked() -> None:
    intent, decisions = check([replace(buy(0.50, 10), reserve=30 * SH)], ctx(limits={"max_total_exposure": "100"}))
    assert decisions == [] and [(q.size, q.reserve) for q in intent.quotes] == [(10 * SH, 30 * SH)]


def test_the_rest_is_trimmed_to_the_room_the_slice_leaves() -> None:
    # 20 pUSD of room: the slice of 10 at 0.50 takes 5, so 30 of the rest fits and 70 does not.
    intent, decisions = check([replace(buy(0.50, 10), reserve=100 * SH)],
                              ctx(limits={"max_total_exposure": "120"}, exposure=Exposure(total=100 * SH)))
    assert [(q.size, q.reserve) for q in intent.quotes] == [(10 * SH, 30 * SH)]
    assert reasons(decisions) == [("MAX_TOTAL_EXPOSURE", "resize", 40 * SH)]
    assert decisions[0].requested == 110 * SH and "iceberg's whole" in decisions[0].detail


def test_the_max_order_size_holds_the_slice_not_the_whole() -> None:
    intent, decisions = check([replace(buy(0.50, 10), reserve=500 * SH)],
                              ctx(limits={"max_order_size": "20", **dict.fromkeys(WIDE, "1000")}))
    assert decisions == [] and [(q.size, q.reserve) for q in intent.quotes] == [(10 * SH, 500 * SH)]


def test_only_reducing_keeps_no_rest_that_adds_risk() -> None:
    # Holding 15 YES: selling a slice of 10 and a rest of 20 reduces only 15 of the 30.
    intent, decisions = check([replace(sell(0.50, 10), reserve=20 * SH)],
                              ctx(state=TradingState.REDUCING, position=PositionView("c1", yes=15 * SH)))
    assert [(q.size, q.reserve) for q in intent.quotes] == [(10 * SH, 5 * SH)]
    assert reasons(decisions) == [("TRADING_REDUCING", "resize", 15 * SH)]


def test_the_rest_spends_nothing_of_the_ticks_budget() -> None:
    context = ctx(limits={"max_total_exposure": "20"})
    budget = Budget.of(context.exposure, 0, {})
    gate = RiskGate()
    gate.check_intent(Intent("s", "c1", (replace(buy(0.50, 10), reserve=20 * SH),)), context, budget)
    assert budget.total == 5 * SH  # the slice's 10 at 0.50, not the rest's
