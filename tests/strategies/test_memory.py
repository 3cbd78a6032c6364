"""Strategies that remember (issue 61, item 5): a strategy's warm state handed out as JSON and taken
back decides exactly as the instance that kept running (momentum's windows and signals, market
making's pulls, copy trading's copies made); a stored document read back is checked, never trusted:
garbage of any shape is left out without raising, its readable parts kept."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest

from contracts.domain import CopiedTrade, Side
from engine.strategies.base import MemoryUnreadable
from engine.strategies.copy_trading import CopyTrading
from engine.strategies.market_making import MarketMaking
from engine.strategies.momentum import Momentum
from tests.strategies.builders import book, px, sh, snap, state, view
from tests.strategies.test_momentum import S, around, momentum, step


def _roundtrip(memory: dict[str, Any] | None) -> dict[str, Any]:
    """Through storage as the engine keeps it: JSON text and back."""
    assert memory is not None
    return json.loads(json.dumps(memory, allow_nan=False))


def test_momentum_remembers_its_windows_and_resumes_warm() -> None:
    kept = momentum(warmup_seconds=60)
    for t, mid in ((0, "0.505"), (10, "0.515"), (30, "0.555"), (61, "0.605")):
        step(kept, mid, t)
    restarted = momentum(warmup_seconds=60)
    restarted.recall(_roundtrip(kept.memory()))
    cold = momentum(warmup_seconds=60)
    # The same next sample: the restarted one decides exactly as the one that kept running; a cold one warms up.
    assert step(restarted, "0.625", 70) == step(kept, "0.625", 70)
    assert step(restarted, "0.625", 70).quotes  # warm, long: it buys
    assert "warming up" in step(cold, "0.625", 70).reason


def test_market_makings_pulls_outlive_a_restart() -> None:
    params = {"half_spread": 0.02, "size": 10, "pull_move": 0.03, "pull_window_s": 10, "pull_cooldown_s": 60}
    kept = MarketMaking("mm", params)
    quiet, swept = book(bids=[("0.49", 50)], asks=[("0.51", 50)]), book(bids=[("0.45", 50)], asks=[("0.51", 50)])
    kept.decide(snap(view(yes=quiet), now_ms=0), state(), 0)
    [pulled] = kept.decide(snap(view(yes=swept), now_ms=2 * S), state(), 2 * S)
    assert pulled.quotes == () and "sweep" in pulled.reason
    restarted = MarketMaking("mm", params)
    restarted.recall(_roundtrip(kept.memory()))
    [still] = restarted.decide(snap(view(yes=swept), now_ms=20 * S), state(), 20 * S)
    assert still.quotes == () and "pulled for 42 s more" in still.reason  # the cool-down kept its clock
    [cold] = MarketMaking("mm", params).decide(snap(view(yes=swept), now_ms=20 * S), state(), 20 * S)
    assert cold.quotes  # without the memory it quotes into the sweep it never saw
    assert MarketMaking("plain", {"half_spread": 0.02, "size": 10}).memory() is None  # nothing to keep


def test_copy_trading_never_copies_a_trade_twice_across_a_restart() -> None:
    params = {"scale": 1, "delay_s": 0, "max_shares": 50, "slippage": 0.02}
    trade = CopiedTrade("w:tx1", "whale", Side.BUY, px("0.50"), sh(10), 0)
    market = replace(view(yes=around("0.505")), copies=(trade,))
    kept = CopyTrading("copy", params)
    [first] = kept.decide(snap(market), state(), 1 * S)
    assert first.quotes
    restarted = CopyTrading("copy", params)
    restarted.recall(_roundtrip(kept.memory()))
    [again] = restarted.decide(snap(market), state(), 2 * S)
    assert again.quotes == () and again.reason == "nothing to copy"
    [cold] = CopyTrading("copy", params).decide(snap(market), state(), 2 * S)
    assert cold.quotes  # without it, the same trade would be copied again


@pytest.mark.parametrize("garbage", [
    {"signals": {"c1": {"fast": [1, 2], "slow": "x", "stats": None, "signal": 7, "first_ms": -1, "samples": 2}}},
    {"signals": {"c1": {"fast": [float("inf"), 0, 0, 1]}}},
    {"signals": {"c1": {"fast": [0.5, 10, 0, 1], "slow": [0.5, 10, 0, 1], "stats": [0.5, -1, 10, 0, 1],
                        "signal": 1, "first_ms": 0, "samples": 2}}},
    {"signals": {"c1": {"fast": [0.5, 10, 0, 1], "slow": [0.5, 10, 0, 1], "stats": [0.5, 0, 10, 0, 1],
                        "signal": True, "first_ms": 0, "samples": 2}}},
    {"signals": {"c1": [1, 2, 3], 7: {}}},
])
def test_a_stored_memory_is_checked_never_trusted(garbage: dict[str, Any]) -> None:
    strategy = momentum()
    strategy.recall(garbage)  # never raises for a part it cannot read
    assert strategy.signals == {}
    assert "warming" in step(strategy, "0.505", 0).reason
    for hopeless in ({}, {"signals": "x"}):
        with pytest.raises(MemoryUnreadable):
            momentum().recall(hopeless)
    with pytest.raises(MemoryUnreadable):
        CopyTrading("c", {"scale": 1}).recall({"done": "everything"})


def test_readable_markets_are_kept_beside_unreadable_ones() -> None:
    kept = momentum()
    step(kept, "0.505", 0)
    memory = _roundtrip(kept.memory())
    memory["signals"]["c2"] = {"fast": "broken"}
    fresh: Momentum = momentum()
    fresh.recall(memory)
    assert set(fresh.signals) == {"c1"}
