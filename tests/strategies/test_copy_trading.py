"""copy_trading copies each followed trade once: after its delay, while young enough, scaled and
capped, as a fill-and-kill within its slippage; a sell only as a sale of what it holds unless it
mirrors; never below the market's minimum."""

from __future__ import annotations

from contracts.domain import CopiedTrade, MarketInfo, MarketView, PositionView, Side, Snapshot, StrategyState, Tif
from contracts.strategy_kinds import validate_params
from engine.strategies.copy_trading import CopyTrading

SH = 1_000_000
MARKET = MarketInfo("c1", "?", "Y", "N", tick=10_000, min_size=5 * SH)


def _decide(strategy: CopyTrading, copies: tuple[CopiedTrade, ...], now: int, held: int = 0) -> list:
    view = MarketView(MARKET, None, None, copies=copies)
    positions = {"c1": PositionView("c1", yes=held)} if held else {}
    [intent] = strategy.decide(Snapshot(now, {"c1": view}), StrategyState("copy", positions=positions), now)
    return [(q.side, q.price, q.size, q.tif) for q in intent.quotes]


def buy(key: str = "k1", at: int = 0, size: int = 200 * SH) -> CopiedTrade:
    return CopiedTrade(key, "whale", Side.BUY, 420_000, size, at)


def test_a_buy_is_copied_once_after_its_delay_scaled_capped_and_within_slippage() -> None:
    strategy = CopyTrading("copy", {"scale": 0.1, "delay_s": 5, "max_shares": 15, "slippage": 0.02})
    assert _decide(strategy, (buy(),), now=4_000) == []  # before the delay
    assert _decide(strategy, (buy(),), now=5_000) == [(Side.BUY, 440_000, 15 * SH, Tif.FAK)]  # 20 capped at 15
    assert _decide(strategy, (buy(),), now=6_000) == []  # once


def test_too_old_too_small_and_unheld_sells_are_not_copied() -> None:
    strategy = CopyTrading("copy", {"scale": 0.1, "delay_s": 0, "max_age_s": 60})
    assert _decide(strategy, (buy(at=0),), now=61_000) == []  # seen too late
    assert _decide(strategy, (buy("k2", at=0, size=30 * SH),), now=1_000) == []  # 3 shares: under the minimum
    sell = CopiedTrade("k3", "whale", Side.SELL, 600_000, 100 * SH, 0)
    assert _decide(strategy, (sell,), now=1_000) == []  # nothing held: close copies no sell
    sell_again = CopiedTrade("k4", "whale", Side.SELL, 600_000, 100 * SH, 0)
    assert _decide(strategy, (sell_again,), now=1_000, held=7 * SH) == [(Side.SELL, 580_000, 7 * SH, Tif.FAK)]
    mirror = CopyTrading("m", {"scale": 0.1, "delay_s": 0, "sells": "mirror"})
    assert _decide(mirror, (CopiedTrade("k5", "w", Side.SELL, 600_000, 100 * SH, 0),), now=1_000) == [
        (Side.SELL, 580_000, 10 * SH, Tif.FAK)]


def test_its_params_are_validated_like_the_others() -> None:
    _, errors = validate_params("copy_trading", {"scale": 0, "delay_s": -1, "sells": "hold"})
    assert set(errors) == {"scale", "delay_s", "sells"}
