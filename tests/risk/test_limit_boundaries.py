"""Every limit at its boundary value: a breaker trips when the value reaches its limit (not only
past it), a sizing limit lets through exactly what it allows, and one unit on the safe side of
each boundary changes nothing. A comparison turned from `>=` into `>` (or back) fails here."""

from __future__ import annotations

from decimal import Decimal

from contracts.domain import Outcome, Side, Tif
from contracts.limits import Limits, defaults
from contracts.strategy_limits import DEFAULTS
from engine.execution.planner import OrderSpec
from engine.execution.portfolio import StrategyBook
from engine.risk.breakers import evaluate
from engine.risk.gate import Exposure, Reason, RiskGate, TradingState
from engine.risk.strategy_risk import DAILY_LOSS, DRAWDOWN, Memory, verdict
from tests.risk.test_gate import MARKET, buy, check, ctx, reasons

SH = 1_000_000


def desk_limits(**values: str) -> Limits:
    return Limits({**defaults().values, **{k: Decimal(v) for k, v in values.items()}})


def strategy_limits(**values: str) -> Limits:
    return Limits({**DEFAULTS.values, **{k: Decimal(v) for k, v in values.items()}})


# -- the desk's breakers ----------------------------------------------------------------------


def test_the_daily_loss_breaker_trips_at_exactly_its_limit() -> None:
    lim = desk_limits(max_daily_loss="100")
    at = evaluate(lim, equity=900 * SH, peak=900 * SH, day_start=1000 * SH, errors=0)
    below = evaluate(lim, equity=900 * SH + 1, peak=900 * SH + 1, day_start=1000 * SH, errors=0)
    assert (at.target, at.reason) == (TradingState.REDUCING, "DAILY_LOSS")
    assert below.target is TradingState.ACTIVE


def test_the_drawdown_breaker_trips_at_exactly_its_limit() -> None:
    # Fractions a float holds exactly (a quarter, a half), so "at the limit" is exact.
    lim = desk_limits(max_drawdown="25", max_daily_loss="100000", kill_switch_drawdown="50")
    at = evaluate(lim, equity=750 * SH, peak=1000 * SH, day_start=750 * SH, errors=0)
    below = evaluate(lim, equity=750 * SH + 1, peak=1000 * SH, day_start=750 * SH + 1, errors=0)
    assert (at.target, at.reason) == (TradingState.REDUCING, "DRAWDOWN")
    assert below.target is TradingState.ACTIVE


def test_the_kill_switch_trips_at_exactly_its_drawdown() -> None:
    lim = desk_limits(kill_switch_drawdown="50", max_drawdown="0", max_daily_loss="100000")
    at = evaluate(lim, equity=500 * SH, peak=1000 * SH, day_start=500 * SH, errors=0)
    below = evaluate(lim, equity=500 * SH + 1, peak=1000 * SH, day_start=500 * SH + 1, errors=0)
    assert at.kill and at.target is TradingState.HALTED
    assert not below.kill and below.target is TradingState.ACTIVE


def test_the_error_rate_breaker_trips_at_exactly_its_count() -> None:
    lim = desk_limits(error_rate_breaker="10")
    assert evaluate(lim, equity=SH, peak=SH, day_start=SH, errors=10).reason == "ERROR_RATE"
    assert evaluate(lim, equity=SH, peak=SH, day_start=SH, errors=9).target is TradingState.ACTIVE


# -- a strategy's own breakers -----------------------------------------------------------------


def test_a_strategys_daily_loss_reduces_it_at_exactly_its_limit() -> None:
    lim = strategy_limits(max_daily_loss="50")
    day = Memory(day_start_pnl=0)
    assert verdict(lim, day, StrategyBook(realized=-50 * SH))[:2] == (TradingState.REDUCING, DAILY_LOSS)
    assert verdict(lim, day, StrategyBook(realized=-50 * SH + 1))[0] is TradingState.ACTIVE


def test_a_strategys_drawdown_halts_it_at_exactly_its_limit() -> None:
    lim = strategy_limits(allocation="500", max_drawdown="25")
    peaked = Memory(peak_equity=800 * SH)
    assert verdict(lim, peaked, StrategyBook(realized=100 * SH))[:2] == (TradingState.HALTED, DRAWDOWN)  # 600: 25 %
    assert verdict(lim, peaked, StrategyBook(realized=100 * SH + 1))[0] is TradingState.ACTIVE


# -- the gate's sizing and placement limits -----------------------------------------------------


def test_an_order_of_exactly_the_max_order_size_passes_whole() -> None:
    intent, decisions = check([buy(0.50, 120)], ctx(limits={"max_order_size": "120"}))
    assert decisions == [] and [q.size for q in intent.quotes] == [120 * SH]
    trimmed, why = check([buy(0.50, 120.01)], ctx(limits={"max_order_size": "120"}))
    assert [q.size for q in trimmed.quotes] == [120 * SH] and reasons(why)[0][0] == "MAX_ORDER_SIZE"


def test_an_order_worth_exactly_the_min_order_value_passes() -> None:
    intent, decisions = check([buy(0.20, 5)], ctx(limits={"min_order_value": "1"}))
    assert decisions == [] and len(intent.quotes) == 1
    refused, why = check([buy(0.19, 5)], ctx(limits={"min_order_value": "0.96"}))
    assert refused.quotes == () and reasons(why) == [("MIN_ORDER_VALUE", "deny", 0)]


def test_an_order_costing_exactly_the_room_left_passes_whole() -> None:
    # 10 pUSD of room; 20 shares at 0.50 cost exactly 10.
    intent, decisions = check([buy(0.50, 20)], ctx(limits={"max_total_exposure": "110"},
                                                   exposure=Exposure(total=100 * SH)))
    assert decisions == [] and [q.size for q in intent.quotes] == [20 * SH]
    trimmed, why = check([buy(0.50, 20.02)], ctx(limits={"max_total_exposure": "110"},
                                                 exposure=Exposure(total=100 * SH)))
    assert [q.size for q in trimmed.quotes] == [20 * SH] and reasons(why)[0][0] == "MAX_TOTAL_EXPOSURE"


def test_a_take_exactly_the_max_slippage_from_the_mid_passes() -> None:
    # The mid is 0.50: a take at 0.55 is exactly 0.05 away, one at 0.56 is past it.
    intent, decisions = check([buy(0.55, 10, Tif.FAK)], ctx(limits={"max_slippage": "0.05"}))
    assert decisions == [] and len(intent.quotes) == 1
    refused, why = check([buy(0.56, 10, Tif.FAK)], ctx(limits={"max_slippage": "0.05"}))
    assert refused.quotes == () and reasons(why) == [("MAX_SLIPPAGE", "deny", 0)]


def test_a_book_exactly_the_max_data_age_old_is_still_fresh() -> None:
    intent, decisions = check([buy(0.48, 10)], ctx(limits={"max_data_age": "5"}, age_ms=5_000))
    assert decisions == [] and len(intent.quotes) == 1
    stale, why = check([buy(0.48, 10)], ctx(limits={"max_data_age": "5"}, age_ms=5_001))
    assert stale.quotes == () and {d.reason for d in why} == {Reason.STALE_DATA}


def test_the_open_order_limit_leaves_exactly_its_count_of_slots() -> None:
    quotes = [buy(0.48, 10), buy(0.47, 10), buy(0.46, 10)]
    intent, decisions = check(quotes, ctx(limits={"max_open_orders": "5"}, open_orders=2))
    assert len(intent.quotes) == 3 and decisions == []
    fuller, why = check(quotes, ctx(limits={"max_open_orders": "5"}, open_orders=3))
    assert len(fuller.quotes) == 2 and reasons(why) == [("MAX_OPEN_ORDERS", "deny", 0)]


def test_the_order_rate_allows_exactly_its_count_in_a_minute() -> None:
    gate = RiskGate()
    context = ctx(limits={"max_order_rate": "2", "max_data_age": "3600"})
    spec = OrderSpec("Y", Outcome.YES, Side.BUY, 480_000, 10 * SH)
    start = context.now_ms
    assert gate.check_placement(context, "s", MARKET, spec, now_ms=start) is None
    assert gate.check_placement(context, "s", MARKET, spec, now_ms=start + 1) is None
    assert gate.check_placement(context, "s", MARKET, spec, now_ms=start + 2) is Reason.MAX_ORDER_RATE
    # The first placement leaves the window exactly 60 s later: one more may go then, not before.
    assert gate.check_placement(context, "s", MARKET, spec, now_ms=start + 60_000) is Reason.MAX_ORDER_RATE
    assert gate.check_placement(context, "s", MARKET, spec, now_ms=start + 60_001) is None
