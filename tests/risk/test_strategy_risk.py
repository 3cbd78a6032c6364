"""Each strategy's own limits: its breakers move only it (REDUCING on its daily loss, HALTED on
its drawdown) and end their own way; the gate applies its state, its allocation and its exit
cooldown to it alone; its exits trigger on the mark's move or on PnL."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from pathlib import Path

from contracts.domain import Book, Intent, Level, MarketInfo, Outcome, Quote, Side, Tif
from contracts.limits import Limits
from contracts.order_status import OrderStatus
from contracts.strategy_limits import DEFAULTS
from engine.execution.ledger import PositionTotals
from engine.execution.portfolio import StrategyBook
from engine.execution.state import ExecutionState
from engine.execution.store import OrderRow
from engine.risk.gate import Reason, RiskGate, TradingState
from engine.risk.strategy_risk import DAILY_LOSS, DRAWDOWN, StrategyRisk
from engine.trading.exits.strategy_exits import find_exits, stale_orders
from storage.sqlite.db import Database
from storage.sqlite.migrations import migrate
from tests.risk.test_gate import ctx

SH = 1_000_000
DAY = 86_400_000
NOW = 1_800_000_000_000 - 1_800_000_000_000 % DAY + 3_600_000  # 01:00 UTC


def limits(**values: str) -> Limits:
    return Limits({**DEFAULTS.values, **{k: Decimal(v) for k, v in values.items()}})


def test_a_strategys_daily_loss_reduces_only_it_until_midnight(tmp_path: Path) -> None:
    migrate(tmp_path / "r.db")
    risk = StrategyRisk(Database(tmp_path / "r.db"), "paper", lambda: NOW)
    risk.set_limits({"a": limits(max_daily_loss="50"), "b": limits(max_daily_loss="50")})
    risk.after_tick({"a": StrategyBook(), "b": StrategyBook()}, NOW)
    risk.after_tick({"a": StrategyBook(realized=-60 * SH), "b": StrategyBook(realized=-10 * SH)}, NOW + 1000)
    assert risk.states() == {"a": TradingState.REDUCING} and risk.memory["a"].reason == DAILY_LOSS
    risk.after_tick({"a": StrategyBook(realized=-20 * SH), "b": StrategyBook()}, NOW + 2000)
    assert risk.states() == {"a": TradingState.REDUCING}  # a daily loss waits for the next day...
    risk.set_limits({"a": limits(max_daily_loss="100"), "b": limits(max_daily_loss="50")})
    risk.after_tick({"a": StrategyBook(realized=-60 * SH), "b": StrategyBook()}, NOW + 3000)
    assert risk.states() == {}  # ...or a raised limit
    risk.set_limits({"a": limits(max_daily_loss="50"), "b": limits(max_daily_loss="50")})
    risk.after_tick({"a": StrategyBook(realized=-120 * SH), "b": StrategyBook()}, NOW + 4000)
    assert risk.states() == {"a": TradingState.REDUCING}
    risk.after_tick({"a": StrategyBook(realized=-120 * SH), "b": StrategyBook()}, NOW + DAY)
    assert risk.states() == {}  # a new UTC day: a new reference


def test_a_strategys_drawdown_halts_only_it_and_ends_when_equity_recovers(tmp_path: Path) -> None:
    migrate(tmp_path / "r.db")
    db = Database(tmp_path / "r.db")
    risk = StrategyRisk(db, "paper", lambda: NOW)
    risk.set_limits({"a": limits(allocation="500", max_drawdown="10")})
    risk.after_tick({"a": StrategyBook(realized=100 * SH)}, NOW)  # peak 600
    risk.after_tick({"a": StrategyBook(realized=100 * SH, unrealized=-70 * SH)}, NOW + 1)  # 530: 11.7 % down
    assert risk.states() == {"a": TradingState.HALTED} and risk.memory["a"].reason == DRAWDOWN
    risk.after_tick({"a": StrategyBook(realized=100 * SH, unrealized=-30 * SH)}, NOW + 2)  # 570: 5 % down
    assert risk.states() == {}
    with db.read() as conn:
        codes = [r[0] for r in conn.exec_driver_sql("SELECT code FROM alerts ORDER BY id")]
        memory = conn.exec_driver_sql("SELECT trading_state, peak_equity FROM strategy_risk").one()
    assert codes == [DRAWDOWN, f"{DRAWDOWN}_CLEARED"] and tuple(memory) == ("ACTIVE", 600 * SH)
    restarted = StrategyRisk(db, "paper", lambda: NOW)
    with db.read() as conn:
        restarted.load(conn, "paper")
    assert restarted.memory["a"].peak_equity == 600 * SH  # the peak survives a restart


def quote(side: Side, price: float, size: float) -> Quote:
    return Quote(side, round(price * SH), round(size * SH), Tif.GTC)


def test_the_gate_applies_a_strategys_state_allocation_and_cooldown_to_it_alone() -> None:
    base = ctx()
    halted = replace(base, strategy_states={"s": TradingState.HALTED})
    intent, why = RiskGate().check_intent(Intent("s", "c1", (quote(Side.BUY, 0.48, 10),)), halted)
    assert intent.quotes == () and why[0].reason is Reason.STRATEGY_HALTED
    other, _ = RiskGate().check_intent(Intent("t", "c1", (quote(Side.BUY, 0.48, 10),)), halted)
    assert len(other.quotes) == 1
    reducing = replace(base, strategy_states={"s": TradingState.REDUCING})
    intent, why = RiskGate().check_intent(Intent("s", "c1", (quote(Side.BUY, 0.48, 10),)), reducing)
    assert intent.quotes == () and why[0].reason is Reason.STRATEGY_REDUCING
    cooling = replace(base, cooldowns={("s", "c1"): base.now_ms + 1})
    intent, why = RiskGate().check_intent(Intent("s", "c1", (quote(Side.BUY, 0.48, 10),)), cooling)
    assert intent.quotes == () and why[0].reason is Reason.EXIT_COOLDOWN
    capped = replace(base, strategy_caps={"s": 3 * SH})  # an allocation of 3 pUSD
    intent, why = RiskGate().check_intent(Intent("s", "c1", (quote(Side.BUY, 0.50, 10),)), capped)
    assert intent.quotes[0].size == 6 * SH and why[0].reason is Reason.MAX_STRATEGY_EXPOSURE


MARKET = MarketInfo("c1", "?", "Y", "N", tick=10_000, min_size=5 * SH)


def _state(cost_per_share: float, size: float = 20) -> ExecutionState:
    state = ExecutionState("paper")
    state.positions[("s", "Y")] = PositionTotals(round(size * SH), 0, round(cost_per_share * size * SH))
    state.position_market[("s", "Y")] = ("c1", Outcome.YES)
    return state


def _book(mid: float) -> Book:
    return Book("Y", (Level(round((mid - 0.01) * SH), 100 * SH),), (Level(round((mid + 0.01) * SH), 100 * SH),), 0)


def test_exits_trigger_on_the_marks_move_or_on_pnl() -> None:
    state = _state(0.50)
    stop = {"s": limits(stop_loss_move="0.10")}
    assert find_exits(state, lambda t: _book(0.41), stop) == []
    (hit,) = find_exits(state, lambda t: _book(0.40), stop)
    assert (hit.reason, hit.shares, hit.mid) == (Reason.STOP_LOSS, 20 * SH, 400_000)
    profit = {"s": limits(take_profit_pnl="3")}  # 20 shares: +0.15 is +3 pUSD
    assert find_exits(state, lambda t: _book(0.64), profit) == []
    assert find_exits(state, lambda t: _book(0.65), profit)[0].reason is Reason.TAKE_PROFIT
    assert find_exits(state, lambda t: None, stop) == []  # no mark: never invented
    assert find_exits(state, lambda t: _book(0.10), {}) == []  # exits off by default
    manual = _state(0.50)
    manual.positions[("manual", "Y")] = manual.positions.pop(("s", "Y"))
    manual.position_market[("manual", "Y")] = manual.position_market.pop(("s", "Y"))
    assert find_exits(manual, lambda t: _book(0.10), {"manual": limits(stop_loss_move="0.1")}) == []


def test_a_stop_loss_sells_settled_shares_never_pending_ones() -> None:
    """A position half settled, half still pending (matched, not mined) past its stop loss: the
    exit counts all it holds but offers to sell only the settled half; nothing settled, nothing
    to sell; a pending sell's shares are promised already."""
    stop = {"s": limits(stop_loss_move="0.10")}
    state = _state(0.50)
    state.positions[("s", "Y")] = PositionTotals(10 * SH, 10 * SH, 10 * SH)
    (hit,) = find_exits(state, lambda t: _book(0.40), stop)
    assert (hit.shares, hit.held) == (10 * SH, 20 * SH)
    state.positions[("s", "Y")] = PositionTotals(0, 20 * SH, 10 * SH)
    (waiting,) = find_exits(state, lambda t: _book(0.40), stop)
    assert (waiting.shares, waiting.held) == (0, 20 * SH)
    state.positions[("s", "Y")] = PositionTotals(20 * SH, -5 * SH, 7_500_000)
    (promised,) = find_exits(state, lambda t: _book(0.30), stop)
    assert (promised.shares, promised.held) == (15 * SH, 15 * SH)


def test_orders_past_their_strategys_max_age_are_found() -> None:
    state = ExecutionState("paper")
    for i, (strategy, age_s) in enumerate([("s", 100), ("s", 10), ("t", 1000)]):
        state.track(OrderRow(i, f"c{i}", f"v{i}", "paper", strategy, "c1", "Y", Outcome.YES, Side.BUY, 480_000,
                             10 * SH, 0, Tif.GTC, False, OrderStatus.LIVE, "", NOW - age_s * 1000, NOW))
    assert stale_orders(state, {"s": limits(max_order_age="60")}, NOW) == [("s", 0)]


def test_an_arbitrage_group_is_approved_whole_at_one_size_or_not_at_all() -> None:
    from engine.risk.monitor import whole_group

    leg = Quote(Side.BUY, 300_000, 20 * SH, Tif.FAK, group="g")
    asked = [Intent("arb", f"c{i}", (leg,)) for i in range(3)]
    approved = [Intent("arb", "c0", (leg,)), Intent("arb", "c1", (replace(leg, size=12 * SH),)),
                Intent("arb", "c2", (leg,))]
    whole = whole_group(asked, approved, ctx().limits)
    assert whole is not None and {q.size for i in whole for q in i.quotes} == {12 * SH}
    one_refused = [approved[0], Intent("arb", "c1", ()), approved[2]]
    assert whole_group(asked, one_refused, ctx().limits) is None
    dust = [Intent("arb", f"c{i}", (replace(leg, size=SH),)) for i in range(3)]  # 1 x 0.30 < min value 1 pUSD
    assert whole_group(asked, dust, ctx().limits) is None
