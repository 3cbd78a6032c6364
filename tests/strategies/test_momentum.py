"""Momentum and mean reversion on scripted mid sequences (tick 0.01, times in seconds)."""

from __future__ import annotations

import math

from contracts.domain import Book, Intent, Quote, Side, Tif, fmt
from engine.strategies.momentum import Momentum
from tests.strategies.builders import book, order, px, sh, snap, state, view

S = 1_000  # ms


def around(mid: str, bid_size: float = 100, ask_size: float = 100) -> Book:
    """A one-cent-wide book centred on `mid` (two decimals + 0.005)."""
    m = px(mid)
    return book(bids=[(fmt(m - 5_000), bid_size)], asks=[(fmt(m + 5_000), ask_size)])


def step(strategy: Momentum, mid: str, t_s: int, position: float = 0, **kw: float) -> Intent:
    [intent] = strategy.decide(snap(view(yes=around(mid, **kw))), state(positions={"c1": position}), t_s * S)
    return intent


def momentum(**params: object) -> Momentum:
    base = {"mode": "momentum", "fast_seconds": 10, "slow_seconds": 100, "threshold": 0.005,
            "warmup_seconds": 10, "position_size": 20}
    return Momentum("mo", {**base, **params})


def test_momentum_follows_a_move_then_reverses() -> None:
    strategy = momentum()
    # t=0: first sample initialises fast = slow = 0.505; still warming up
    first = step(strategy, "0.505", 0)
    assert first.quotes == () and "warming" in first.reason
    # t=10s: mid 0.605. fast weight 1 - e^-1 = 0.632 -> 0.5682; slow 1 - e^-0.1 = 0.0952 -> 0.5145;
    # gap 0.0537 > 0.005 -> long. Target +20, flat -> BUY 20 at the 0.61 ask
    up = step(strategy, "0.605", 10)
    assert up.quotes == (Quote(Side.BUY, px("0.61"), sh(20), Tif.FAK),)
    fast = 0.505 + (0.605 - 0.505) * (1 - math.exp(-1))
    assert math.isclose(strategy.signals["c1"].fast.value, fast * 1e6)
    # holding 20: nothing to do
    assert step(strategy, "0.605", 11, position=20).quotes == ()
    # t=21s: mid 0.405. fast ~ 0.4668, slow ~ 0.5028 -> gap -0.036 -> short. Target -20 from +20:
    # SELL 40, capped by the 30 shares bid at 0.40
    down = step(strategy, "0.405", 21, position=20, bid_size=30)
    assert down.quotes == (Quote(Side.SELL, px("0.40"), sh(30), Tif.FAK),)


def test_momentum_deadband_keeps_the_previous_signal() -> None:
    strategy = momentum(threshold=0.05)
    step(strategy, "0.505", 0)
    # a 0.02 move gives a gap of ~0.011 < 0.05: no signal yet, target 0
    assert "at target" in step(strategy, "0.525", 10).reason
    assert strategy.signals["c1"].signal == 0
    strategy.signals["c1"].signal = 1  # as if an earlier breakout had set it
    step(strategy, "0.525", 12, position=20)
    assert strategy.signals["c1"].signal == 1  # inside the deadband it holds


def test_warm_up_blocks_trading() -> None:
    strategy = momentum(warmup_seconds=60)
    step(strategy, "0.505", 0)
    assert step(strategy, "0.705", 30).quotes == ()  # strong signal, but only 30 s observed
    assert step(strategy, "0.705", 60).quotes[0].side is Side.BUY


def test_no_mid_is_not_sampled_and_not_traded() -> None:
    strategy = momentum()
    one_sided = view(yes=book(bids=[("0.50", 10)]))
    [intent] = strategy.decide(snap(one_sided), state(), 0)
    assert intent.quotes == () and "no mid" in intent.reason
    assert "c1" not in strategy.signals
    [intent] = strategy.decide(snap(view(yes=None)), state(), 0)
    assert intent.quotes == ()


def test_in_flight_orders_silence_but_still_sample() -> None:
    strategy = momentum()
    st = state(orders=[order("c1", Side.BUY, "0.51", 20)])
    assert strategy.decide(snap(view(yes=around("0.505"))), st, 0) == []
    assert strategy.signals["c1"].samples == 1


def test_a_market_is_forgotten_when_it_leaves_not_when_a_decision_leaves_it_out() -> None:
    """Memory stays bounded by its markets: a market decided alone keeps the others' records (a decision on
    one market's event), and a market that left it (`left`, from the engine) is forgotten."""
    strategy = momentum()
    markets = [f"m{n}" for n in range(50)]
    for t in range(2_000):
        cid = markets[t % 50]  # one market a decision, the others undecided
        strategy.decide(snap(view(cid, yes=around("0.505"))), state(), t * S)
    assert set(strategy.signals) == set(markets) and strategy.signals["m0"].samples == 40
    strategy.left(frozenset(markets[10:]))
    assert set(strategy.signals) == set(markets[:10])


def mean_reversion() -> Momentum:
    return Momentum("mr", {"mode": "mean_reversion", "lookback_seconds": 100, "entry_z": 2,
                           "exit_z": 0.5, "warmup_seconds": 0, "position_size": 20})


def test_mean_reversion_fades_a_jump_and_exits() -> None:
    strategy = mean_reversion()
    for t in range(0, 50, 10):
        step(strategy, "0.505", t)  # flat history: mean 0.505, variance 0
    # jump to 0.555: std 0 is floored at one tick (0.01): z = 0.05 / 0.01 = 5 > 2 -> short 20:
    # SELL 20 at the 0.55 bid
    assert step(strategy, "0.555", 50).quotes == (Quote(Side.SELL, px("0.55"), sh(20), Tif.FAK),)
    # back at 0.505 ten seconds later: alpha = 1 - e^-0.1 = 0.0952 put the mean at 0.50976 and the
    # variance at (1 - a) * a * 0.05^2 = 0.000215 (std 0.01467): z = -0.00476 / 0.01467 = -0.32,
    # inside exit_z 0.5 -> flat: BUY back the 20 at the 0.51 ask
    assert step(strategy, "0.505", 60, position=-20).quotes == (Quote(Side.BUY, px("0.51"), sh(20), Tif.FAK),)


def test_param_cross_checks() -> None:
    _, errors = Momentum.validate({"fast_seconds": 100, "slow_seconds": 100, "entry_z": 1, "exit_z": 1})
    assert set(errors) == {"fast_seconds", "exit_z"}
