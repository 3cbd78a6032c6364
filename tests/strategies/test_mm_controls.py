"""The market maker's own controls: toxicity from its own markouts (wider, smaller, back as it
fades), quotes pulled on a sweep or jump for a cool-down, reduce-only near the end date, and the
regime each intent names. Prices are probabilities; tick 0.01; times in ms."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from contracts.domain import OwnMarkout, Side, StrategyState
from contracts.params import ParamsError
from engine.strategies.market_making import MarketMaking, reducing
from engine.strategies.regimes import CALM, CLOSING, PULLED, REDUCE_ONLY, TOXIC
from engine.strategies.toxicity import shrunk, toxicity, widened
from tests.strategies.builders import book, info, px, sh, snap, state, view

NOW = 10_000_000
WIDE = book(bids=[("0.45", 100)], asks=[("0.55", 100)])  # mid 0.50
BASE: dict[str, Any] = dict(half_spread=0.01, size=10, skew_per_share=0, max_spread=0.2)
TOXIC_PARAMS: dict[str, Any] = dict(BASE, toxicity_control=True, toxicity_horizon="10s", toxicity_half_life_s=60,
                                    toxicity_min=0.002, toxicity_widen=1.0, toxicity_halt=0.05)


def picked_off(ago_ms: int, *, bought_at: str = "0.50", mid_after: str = "0.47", horizon_ms: int = 10_000,
               side: Side = Side.BUY) -> OwnMarkout:
    """A fill whose markout at `horizon_ms` became known `ago_ms` before NOW."""
    return OwnMarkout(NOW - ago_ms - horizon_ms, horizon_ms, side, px(bought_at), sh(10), px(mid_after))


def with_markouts(*marks: OwnMarkout, positions: dict[str, float] | None = None) -> StrategyState:
    return replace(state(positions=positions), markouts={"c1": tuple(marks)})


def quoted(strategy: MarketMaking, st: StrategyState, now: int = NOW, v: Any = None) -> Any:
    [intent] = strategy.decide(snap(v or view(yes=WIDE), now_ms=now), st, now)
    return intent


# -- the measure ------------------------------------------------------------------------------

def test_toxicity_is_the_decayed_mean_adverse_move_and_fades_when_fills_stop() -> None:
    two = [picked_off(0), picked_off(0, mid_after="0.49")]  # 0.03 and 0.01 against, both just known
    assert toxicity(two, NOW, horizon_ms=10_000, half_life_ms=60_000) == px("0.02")
    # one half-life later both weigh 1/2: their sum is 1, the mean still 0.02; two later it halves
    assert toxicity(two, NOW + 60_000, horizon_ms=10_000, half_life_ms=60_000) == px("0.02")
    assert toxicity(two, NOW + 120_000, horizon_ms=10_000, half_life_ms=60_000) == px("0.01")
    # a single picked-off fill fades from the start
    assert toxicity([picked_off(60_000)], NOW, horizon_ms=10_000, half_life_ms=60_000) == px("0.015")


def test_only_the_chosen_horizon_and_known_markouts_count_and_earning_fills_restore() -> None:
    other_horizon = picked_off(0, horizon_ms=60_000)
    not_yet = picked_off(-5_000)  # known 5 s from now
    assert toxicity([other_horizon, not_yet], NOW, horizon_ms=10_000, half_life_ms=60_000) == 0
    earned = picked_off(0, mid_after="0.53")  # the mid went our way by 0.03
    assert toxicity([picked_off(0), earned], NOW, horizon_ms=10_000, half_life_ms=60_000) == 0
    sold = picked_off(0, side=Side.SELL, bought_at="0.50", mid_after="0.52")  # sold, the mid rose: 0.02 against
    assert toxicity([sold], NOW, horizon_ms=10_000, half_life_ms=60_000) == px("0.02")


def test_size_shrinks_linearly_to_nothing_at_the_halt_and_the_spread_widens() -> None:
    assert shrunk(sh(10), px("0.01"), px("0.04"), 10_000) == sh("7.5")
    assert shrunk(sh(10), px("0.04"), px("0.04"), 10_000) == 0
    assert widened(px("0.01"), px("0.02"), px(2)) == px("0.05")
    assert widened(px("0.4"), px("0.3"), px(1)) == px("0.5")  # never a half-spread past one half


# -- the market maker ---------------------------------------------------------------------------

def test_toxic_fills_widen_and_shrink_the_quotes_and_they_come_back_as_it_fades() -> None:
    strategy = MarketMaking("mm", TOXIC_PARAMS)
    clean = quoted(strategy, with_markouts())
    assert [(q.price, q.size) for q in clean.quotes] == [(px("0.49"), sh(10)), (px("0.51"), sh(10))]
    assert clean.regime == CALM
    marks = (picked_off(0), picked_off(0, mid_after="0.49"))  # toxicity 0.02
    toxic = quoted(strategy, with_markouts(*marks))
    # half-spread 0.01 + 0.02 -> 0.47 / 0.53; size 10 x (0.05 - 0.02) / 0.05 = 6
    assert [(q.price, q.size) for q in toxic.quotes] == [(px("0.47"), sh(6)), (px("0.53"), sh(6))]
    assert toxic.regime == TOXIC and "toxicity 0.02: half-spread 0.03, size 6" in toxic.reason
    later = NOW + 10 * 60_000  # ten half-lives: 0.02 / 2**9 is below the 0.002 floor
    back = quoted(strategy, with_markouts(*marks), now=later)
    assert [(q.price, q.size) for q in back.quotes] == [(px("0.49"), sh(10)), (px("0.51"), sh(10))]
    assert back.regime == CALM


def test_toxicity_at_the_halt_quotes_nothing_and_without_the_control_nothing_changes() -> None:
    marks = (picked_off(0, mid_after="0.44"),) * 3  # 0.06 against: past the 0.05 halt
    halted = quoted(MarketMaking("mm", TOXIC_PARAMS), with_markouts(*marks))
    assert halted.quotes == () and halted.regime == TOXIC
    assert halted.reason.endswith("quoting nothing in this regime")
    off = quoted(MarketMaking("mm", BASE), with_markouts(*marks))
    assert [q.size for q in off.quotes] == [sh(10), sh(10)] and off.regime == ""


def test_a_sweep_pulls_the_quotes_for_the_cooldown_then_they_return() -> None:
    strategy = MarketMaking("mm", dict(BASE, pull_move=0.03, pull_window_s=5, pull_cooldown_s=30))
    assert quoted(strategy, state()).regime == CALM
    swept = book(bids=[("0.41", 100)], asks=[("0.55", 100)])  # the bid fell 0.04 in a second
    pulled = quoted(strategy, state(), now=NOW + 1_000, v=view(yes=swept))
    assert pulled.quotes == () and pulled.regime == PULLED
    assert "sweep: best bid fell from 0.45 to 0.41 within 5 s" in pulled.reason
    # the book is steady again, but the cool-down runs 30 s from the last sight of the move
    still = quoted(strategy, state(), now=NOW + 20_000, v=view(yes=swept))
    assert still.quotes == () and still.regime == PULLED and "pulled for 11 s more" in still.reason
    back = quoted(strategy, state(), now=NOW + 40_000, v=view(yes=swept))
    assert back.quotes and back.regime == CALM


def test_a_jump_of_the_mid_or_the_reference_pulls_too() -> None:
    params = dict(BASE, pull_move=0.03, pull_window_s=5, pull_cooldown_s=30)
    strategy = MarketMaking("mm", params)
    quoted(strategy, state())
    lifted = book(bids=[("0.50", 100)], asks=[("0.56", 100)])  # mid 0.50 -> 0.53, touch moved inward
    jumped = quoted(strategy, state(), now=NOW + 1_000, v=view(yes=lifted))
    assert jumped.regime == PULLED and "jump: the mid moved 0.03" in jumped.reason
    fresh = MarketMaking("mm", params)
    moving = replace(view(yes=WIDE), reference=px("0.54"), reference_at=NOW,
                     reference_history=((NOW - 3_000, px("0.50")), (NOW, px("0.54"))))
    by_reference = quoted(fresh, state(), v=moving)
    assert by_reference.regime == PULLED and "reference jump: it moved 0.04" in by_reference.reason
    calm_reference = replace(moving, reference_history=((NOW - 60_000, px("0.50")), (NOW, px("0.54"))))
    assert quoted(MarketMaking("mm", params), state(), v=calm_reference).regime == CALM  # outside the window


def test_near_the_end_only_the_reducing_side_is_quoted_for_at_most_the_position() -> None:
    params = dict(BASE, reduce_only_before_end_s=3600)
    ending = view(yes=WIDE, market=info(end_ms=NOW + 1_800_000))
    long_four = quoted(MarketMaking("mm", params), state(positions={"c1": 4}), v=ending)
    assert [(q.side, q.price, q.size) for q in long_four.quotes] == [(Side.SELL, px("0.51"), sh(4))]
    assert long_four.regime == REDUCE_ONLY and "reduce-only: the market ends in 0 h 30 min" in long_four.reason
    short = quoted(MarketMaking("mm", params), state(positions={"c1": -20}), v=ending)
    assert [(q.side, q.size) for q in short.quotes] == [(Side.BUY, sh(10))]
    flat = quoted(MarketMaking("mm", params), state(), v=ending)
    assert flat.quotes == () and flat.regime == REDUCE_ONLY
    far = view(yes=WIDE, market=info(end_ms=NOW + 7_200_000))
    assert len(quoted(MarketMaking("mm", params), state(), v=far).quotes) == 2


def test_reducing_caps_several_levels_together() -> None:
    from contracts.domain import Quote
    quotes = (Quote(Side.BUY, px("0.49"), sh(10)), Quote(Side.SELL, px("0.51"), sh(10)),
              Quote(Side.SELL, px("0.52"), sh(10)))
    assert [(q.price, q.size) for q in reducing(quotes, sh(15))] == [(px("0.51"), sh(10)), (px("0.52"), sh(5))]
    assert reducing(quotes, 0) == ()


def test_the_new_parameters_are_validated_like_the_others() -> None:
    with pytest.raises(ParamsError) as bad:
        MarketMaking("mm", dict(TOXIC_PARAMS, toxicity_halt=0.002))
    assert "toxicity_halt" in bad.value.errors
    _, errors = MarketMaking.validate(dict(BASE, toxicity_horizon="5s", pull_cooldown_s=0, toxicity_widen=-1))
    assert {"toxicity_horizon", "pull_cooldown_s", "toxicity_widen"} <= set(errors)


def test_quoting_stops_the_configured_seconds_before_the_close_before_anything_else() -> None:
    params = dict(BASE, stop_before_end_s=30, reduce_only_before_end_s=3600, pull_move=0.03)
    closing = view(yes=WIDE, market=info(end_ms=NOW + 20_000))
    intent = quoted(MarketMaking("mm", params), state(positions={"c1": 4}), v=closing)
    assert intent.quotes == () and intent.regime == CLOSING  # not even the reducing ask
    assert intent.reason == "closing: the market ends in 20 s, quoting stopped 30 s before"
    open_longer = view(yes=WIDE, market=info(end_ms=NOW + 40_000))
    assert quoted(MarketMaking("mm", params), state(positions={"c1": 4}), v=open_longer).regime == REDUCE_ONLY
