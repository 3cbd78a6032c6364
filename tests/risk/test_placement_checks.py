"""The last check before an order leaves, through the real risk monitor: an order that would
match a live order of the desk's (any strategy's, the same token or the complement) is refused
with SELF_TRADE; one in a market the volatility breaker halted, with VOLATILITY_HALTED; and a
refused take holds the strategy's takes there until the book changes."""

from __future__ import annotations

from pathlib import Path

from contracts.domain import Intent, MarketInfo, Outcome, Quote, Side, Tif
from contracts.order_status import OrderStatus
from engine.execution.planner import OrderSpec
from engine.execution.state import ExecutionState
from engine.execution.store import OrderRow
from engine.feeds.catalog import MarketCatalog
from engine.risk.gate import TradingState
from tests.risk.test_breakers import SH, T0, monitor_on
from tests.risk.test_volatility_monitor import MARKETS, _views

C1 = MARKETS["c1"]


def _resting(state: ExecutionState, strategy: str, outcome: Outcome, side: Side, price: int,
             market: MarketInfo = C1) -> None:
    n = len(state.orders) + 1
    token = market.yes_token if outcome is Outcome.YES else market.no_token
    state.track(OrderRow(n, f"c{n}", f"v{n}", "paper", strategy, market.condition_id, token, outcome, side, price,
                         10 * SH, 0, Tif.GTC, False, OrderStatus.LIVE, "", T0, T0))


def _spec(outcome: Outcome, side: Side, price: int, tif: Tif = Tif.GTC) -> OrderSpec:
    return OrderSpec(C1.yes_token if outcome is Outcome.YES else C1.no_token, outcome, side, price, 10 * SH, tif)


def test_an_order_that_would_match_the_desks_own_is_refused_at_placement(tmp_path: Path) -> None:
    monitor = monitor_on(tmp_path)
    state = ExecutionState("paper")
    _resting(state, "mm", Outcome.NO, Side.BUY, 450_000)  # a YES ask at 0.55, in YES space
    monitor.new_tick(T0, state, MarketCatalog(MARKETS.values()), _views({"c1": 500_000}, T0))
    assert monitor.check_placement("vb", C1, _spec(Outcome.YES, Side.BUY, 550_000), 1) == "SELF_TRADE"  # minted
    assert monitor.check_placement("vb", C1, _spec(Outcome.YES, Side.BUY, 540_000), 1) is None
    assert monitor.check_placement("vb", C1, _spec(Outcome.NO, Side.SELL, 450_000), 1) == "SELF_TRADE"  # same token
    assert monitor.check_placement("vb", C1, _spec(Outcome.NO, Side.SELL, 460_000), 1) is None


def test_an_order_in_a_market_the_volatility_breaker_halted_is_refused_at_placement(tmp_path: Path) -> None:
    monitor = monitor_on(tmp_path)
    state = ExecutionState("paper")
    monitor.volatility.breaker.states["c1"] = TradingState.HALTED  # (as a spike left it; not judged again yet)
    monitor.new_tick(T0, state, MarketCatalog(MARKETS.values()), _views({"c1": 500_000, "c2": 300_000}, T0))
    assert monitor.check_placement("vb", C1, _spec(Outcome.YES, Side.BUY, 480_000), 0) == "VOLATILITY_HALTED"
    assert monitor.check_placement("vb", MARKETS["c2"], OrderSpec(MARKETS["c2"].yes_token, Outcome.YES, Side.BUY,
                                                                  480_000, 10 * SH), 0) != "VOLATILITY_HALTED"


def test_a_refused_take_holds_that_strategys_takes_there_until_the_book_changes(tmp_path: Path) -> None:
    monitor = monitor_on(tmp_path)
    state, catalog = ExecutionState("paper"), MarketCatalog(MARKETS.values())
    take = Quote(Side.BUY, 520_000, 10 * SH, Tif.FAK)
    monitor.new_tick(T0, state, catalog, _views({"c1": 500_000}, T0))
    monitor.placement_refused("arb", C1, _spec(Outcome.YES, Side.BUY, 520_000, Tif.FAK), "VENUE_REFUSED", "no match")
    held = monitor.check([Intent("arb", "c1", (take,)), Intent("other", "c1", (take,))], T0 + 1_000)
    assert [len(i.quotes) for i in held] == [0, 1]
    monitor.new_tick(T0 + 2_000, state, catalog, _views({"c1": 510_000}, T0 + 2_000))  # the book moved
    assert [len(i.quotes) for i in monitor.check([Intent("arb", "c1", (take,))], T0 + 2_000)] == [1]


def test_the_desks_orders_in_other_markets_hold_back_nothing_and_its_own_market_s_do(tmp_path: Path) -> None:
    """The gate reads only the decided markets' orders (`ExecutionState.open_in`): another strategy's
    ask at 0.45 in c2 crosses nothing in c1, while the same ask in c1 holds the bid back, at the gate
    and at placement; the orders it reads are every strategy's there, oldest first."""
    monitor, c2 = monitor_on(tmp_path), MARKETS["c2"]
    state, catalog = ExecutionState("paper"), MarketCatalog(MARKETS.values())
    _resting(state, "other", Outcome.YES, Side.SELL, 450_000, c2)
    _resting(state, "mm", Outcome.YES, Side.BUY, 300_000)
    bid = Quote(Side.BUY, 460_000, 10 * SH)
    monitor.new_tick(T0, state, catalog, _views({"c1": 500_000, "c2": 500_000}, T0))
    assert [len(i.quotes) for i in monitor.check([Intent("mm", "c1", (bid,))], T0)] == [1]
    assert monitor.check_placement("mm", C1, _spec(Outcome.YES, Side.BUY, 460_000), 1) is None
    _resting(state, "other", Outcome.YES, Side.SELL, 450_000)
    assert [o.id for o in state.open_in({"c1"})] == [2, 3] and [o.id for o in state.open_in({"c2", "c1"})] == [1, 2, 3]
    assert [len(i.quotes) for i in monitor.check([Intent("mm", "c1", (bid,))], T0)] == [0]
    assert monitor.check_placement("mm", C1, _spec(Outcome.YES, Side.BUY, 460_000), 1) == "SELF_TRADE"
