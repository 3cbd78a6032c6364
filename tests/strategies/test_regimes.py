"""Regime control of the market maker: the reference feed's staleness and realised volatility,
carried in the market view, choose the parameter set; the intent names the regime. Prices in
the comments are probabilities; tick 0.01; times in ms."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from contracts.domain import MarketView
from engine.strategies.market_making import MarketMaking
from engine.strategies.regimes import CALM, FAST, STALE, read_regime, realised_volatility
from tests.strategies.builders import book, px, sh, snap, state, view

NOW = 1_000_000
WIDE = book(bids=[("0.45", 100)], asks=[("0.55", 100)])  # mid 0.50
REGIMES: dict[str, Any] = dict(regime_control=True, regime_window_s=60, fast_volatility=0.02, stale_after_s=10,
               half_spread=0.01, size=10, fast_half_spread=0.03, fast_size=4, stale_half_spread=0.04,
               stale_size=0, skew_per_share=0)


def with_reference(prices: list[tuple[int, str]]) -> MarketView:
    """A view whose reference received `prices` as (ms before NOW, price), oldest first."""
    history = tuple((NOW - ago, px(price)) for ago, price in prices)
    last_at, last = history[-1]
    return replace(view(yes=WIDE), reference=last, reference_at=last_at, reference_history=history)


def test_realised_volatility_is_the_root_of_the_squared_moves_in_the_window() -> None:
    history = ((NOW - 120_000, px("0.40")), (NOW - 50_000, px("0.43")), (NOW - 40_000, px("0.47")),
               (NOW - 1_000, px("0.47")))
    # the window starts at the last price before it (0.40): moves 0.03, 0.04, 0 -> 0.05
    assert realised_volatility(history, NOW, 60_000) == px("0.05")
    assert realised_volatility(history, NOW, 45_000) == px("0.04")  # from 0.43: one move of 0.04
    assert realised_volatility(history, NOW + 600_000, 60_000) == 0  # nothing in the window moved
    assert realised_volatility((), NOW, 60_000) == 0


def test_the_regime_is_stale_without_a_fresh_reference_fast_on_big_moves_calm_otherwise() -> None:
    def regime(v: MarketView) -> str:
        return read_regime(v, NOW, window_ms=60_000, fast_volatility=px("0.02"), stale_ms=10_000).regime

    assert regime(view(yes=WIDE)) == STALE  # no reference at all
    assert regime(with_reference([(30_000, "0.50")])) == STALE  # 30 s old
    assert regime(with_reference([(30_000, "0.50"), (2_000, "0.505")])) == CALM
    assert regime(with_reference([(30_000, "0.50"), (2_000, "0.53")])) == FAST


def test_each_regime_quotes_with_its_own_parameter_set() -> None:
    strategy = MarketMaking("mm", REGIMES)
    calm = with_reference([(30_000, "0.50"), (2_000, "0.505")])
    fast = with_reference([(30_000, "0.50"), (2_000, "0.53")])
    stale = with_reference([(30_000, "0.50")])
    [c], [f], [s] = (strategy.decide(snap(v, now_ms=NOW), state(), NOW) for v in (calm, fast, stale))
    # calm: mid 0.50 +- 0.01, 10 shares; fast: +- 0.03, 4 shares; stale: size 0, nothing
    assert [(q.price, q.size) for q in c.quotes] == [(px("0.49"), sh(10)), (px("0.51"), sh(10))]
    assert [(q.price, q.size) for q in f.quotes] == [(px("0.47"), sh(4)), (px("0.53"), sh(4))]
    assert s.quotes == ()
    assert (c.regime, f.regime, s.regime) == (CALM, FAST, STALE)
    assert c.reason.startswith("regime calm: reference 2.0 s old, volatility 0.005; quoting")
    assert f.reason.startswith("regime fast: reference 2.0 s old, volatility 0.03")
    assert s.reason == "regime stale: reference 30.0 s old, volatility 0; quoting nothing in this regime"


def test_a_stale_regime_with_a_size_still_quotes_wider() -> None:
    strategy = MarketMaking("mm", {**REGIMES, "stale_size": 2})
    [intent] = strategy.decide(snap(view(yes=WIDE), now_ms=NOW), state(), NOW)
    assert [(q.price, q.size) for q in intent.quotes] == [(px("0.46"), sh(2)), (px("0.54"), sh(2))]
    assert intent.regime == STALE and intent.reason.startswith("regime stale: no reference price")


def test_without_regime_control_the_reference_age_changes_nothing() -> None:
    strategy = MarketMaking("mm", {**REGIMES, "regime_control": False})
    [intent] = strategy.decide(snap(with_reference([(30_000, "0.50")]), now_ms=NOW), state(), NOW)
    assert [q.price for q in intent.quotes] == [px("0.49"), px("0.51")] and intent.regime == ""
