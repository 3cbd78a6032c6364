"""The volatility-spike breaker's logic, exactly: realised volatility over the window against
its baseline, the floor, the warm-up, the hysteresis of each state, and the desk's pooled view.
The caller's clock is the `now` passed in."""

from __future__ import annotations

import math
from decimal import Decimal

import pytest

from contracts.limits import Limits, cross_problems, defaults
from engine.risk.gate import TradingState
from engine.risk.volatility import MidSeries, Reading, Settings, VolatilityBreaker, next_state, pooled

A, R, H = TradingState.ACTIVE, TradingState.REDUCING, TradingState.HALTED
S = Settings(window_ms=60_000, baseline_ms=1_800_000, reduce=3.0, halt=6.0, clear=1.5, floor=10_000)
CENT = 10_000


def test_the_settings_come_from_the_volatility_limits() -> None:
    values = dict(defaults().values)
    values.update(volatility_window=Decimal("30"), volatility_floor=Decimal("0.02"))
    s = Settings.of(Limits(values))
    assert s == Settings(window_ms=30_000, baseline_ms=1_800_000, reduce=3.0, halt=6.0, clear=1.5, floor=20_000)
    assert s.enabled and not Settings.of(Limits({**values, "volatility_reduce": Decimal("0")})).enabled


@pytest.mark.parametrize(("current", "ratio", "expected"), [
    (A, 2.99, A), (A, 3.0, R), (A, 5.99, R), (A, 6.0, H),
    (R, 3.0, R), (R, 1.51, R), (R, 1.5, A), (R, 6.0, H),
    (H, 6.0, H), (H, 3.0, H), (H, 2.99, R), (H, 1.5, A), (H, 0.0, A),
])
def test_each_state_moves_with_hysteresis(current: TradingState, ratio: float, expected: TradingState) -> None:
    assert next_state(current, ratio, S) is expected


def test_a_halt_ratio_of_zero_never_halts() -> None:
    s = Settings(60_000, 1_800_000, 3.0, 0.0, 1.5, CENT)
    assert next_state(A, 1000.0, s) is R and next_state(H, 1000.0, s) is H  # (a halt it did not set stays its own)


def _series_with_a_calm_baseline() -> MidSeries:
    """One cent up or down each minute from t=0 to t=540 s, on a mid of 0.50."""
    series = MidSeries(0)
    mid = 500_000
    series.observe(mid, 0)
    for k in range(1, 10):
        mid += CENT if k % 2 else -CENT
        series.observe(mid, k * 60_000)
    return series


def test_the_window_is_measured_against_the_history_before_it_scaled_to_one_window() -> None:
    series = _series_with_a_calm_baseline()
    series.observe(series.last_mid + 5 * CENT, 600_000)  # (the mid did not move between 540 s and now)
    reading = series.reading(600_000, S)
    # Baseline: 9 one-cent moves over 540 s = sqrt(9e8 * 60/540) = 1 cent per minute; window: 5 cents.
    assert reading == Reading(short=50_000.0, baseline=10_000.0)
    assert reading.ratio == 5.0


def test_the_baseline_is_never_below_the_floor() -> None:
    series = MidSeries(0)
    series.observe(500_000, 0)  # still for ten minutes, then three cents at once
    series.observe(530_000, 600_000)
    assert series.reading(600_000, S) == Reading(short=30_000.0, baseline=10_000.0)
    assert next_state(A, series.reading(600_000, S).ratio, S) is R


def test_a_market_is_not_judged_before_a_third_of_its_baseline_nor_two_windows() -> None:
    series = MidSeries(1_000)
    series.observe(500_000, 1_000)
    series.observe(900_000, 60_000)
    assert S.warmup_ms == 600_000  # a third of the half-hour baseline: its first news is not a spike
    assert series.reading(600_999, S) is None
    reading = series.reading(601_000, S)
    assert reading is not None and (reading.short, reading.baseline) == (0.0, pytest.approx(400_000.0 / 3))
    short = Settings(60_000, 150_000, 3.0, 6.0, 1.5, CENT)  # a third of it is less than two windows
    assert short.warmup_ms == 120_000
    assert series.reading(120_999, short) is None and series.reading(121_000, short) is not None


def test_the_baseline_reaches_back_no_further_than_its_length() -> None:
    s = Settings(60_000, 300_000, 3.0, 6.0, 1.5, CENT)
    series = MidSeries(0)
    series.observe(500_000, 0)
    series.observe(900_000, 10_000)  # a 40-cent jump 20 minutes ago: out of a 5-minute baseline
    now = 1_210_000
    series.prune(now, 300_000)
    assert list(series.changes) == []
    assert series.reading(now, s) == Reading(0.0, float(CENT))


def test_the_desk_pools_the_markets_it_judges() -> None:
    assert pooled([]) is None
    desk = pooled([Reading(60_000.0, 10_000.0), Reading(0.0, 10_000.0), Reading(0.0, 10_000.0),
                   Reading(0.0, 10_000.0)])
    assert desk is not None and math.isclose(desk.ratio, 3.0)  # one market at 6x among four: the desk at 3x


def _spike_run(breaker: VolatilityBreaker, markets: list[str]) -> list[tuple[int, list[tuple[str, str, str]], str]]:
    """Ten calm minutes (one cent a minute), a spike in the first market at 11 min, then calm."""
    log = []
    mids = {cid: 500_000 for cid in markets}
    desk = A
    for minute in range(0, 21):
        now = minute * 60_000
        for cid in markets:
            if minute:
                mids[cid] += CENT if minute % 2 else -CENT
        if minute == 11:
            mids[markets[0]] += 7 * CENT
        breaker.observe(dict(mids), now)
        changes, desk = breaker.evaluate(S, now, desk)
        log.append((minute, [(c.scope, c.before.value, c.after.value) for c in changes], desk.value))
    return log


def test_a_spike_halts_its_market_steps_down_and_clears_by_itself() -> None:
    breaker = VolatilityBreaker()
    log = _spike_run(breaker, ["m1", "m2", "m3", "m4"])
    moved = [(minute, changes) for minute, changes, _ in log if changes]
    # 8 cents in the window (1 + 7) against a 1-cent baseline: 8x, HALTED. A minute later the
    # window holds one cent again, but the baseline now carries the spike: back under clear.
    assert moved == [(11, [("m1", "ACTIVE", "HALTED")]), (12, [("m1", "HALTED", "ACTIVE")])]
    # The desk pools four markets: sqrt((64 + 3) / 4) = 4.1x, REDUCING (not HALTED), and clears with it.
    assert [desk for minute, _, desk in log if 10 <= minute <= 12] == ["ACTIVE", "REDUCING", "ACTIVE"]
    eight = VolatilityBreaker()
    log = _spike_run(eight, [f"m{k}" for k in range(1, 9)])
    assert {desk for _, _, desk in log} == {"ACTIVE"}  # one of eight: sqrt(71 / 8) = 2.98x, below 3


def test_the_desk_trips_when_every_market_spikes_and_clears_after() -> None:
    breaker = VolatilityBreaker()
    mids = {"m1": 500_000, "m2": 400_000}
    desk = A
    states = []
    for minute in range(0, 16):
        now = minute * 60_000
        step = 4 * CENT if minute == 11 else (CENT if minute % 2 else -CENT) if minute else 0
        mids = {cid: mid + step for cid, mid in mids.items()}
        breaker.observe(mids, now)
        _, desk = breaker.evaluate(S, now, desk)
        states.append(desk.value)
    assert states[10:13] == ["ACTIVE", "REDUCING", "ACTIVE"]  # 4x in both markets: the desk REDUCING, then clear
    assert breaker.states == {}


def test_switching_the_breaker_off_clears_every_market() -> None:
    breaker = VolatilityBreaker()
    _spike_run(breaker, ["m1"])
    breaker.states["m1"] = R
    off = Settings(60_000, 1_800_000, 0.0, 6.0, 1.5, CENT)
    changes, desk = breaker.evaluate(off, 1_300_000, R)
    assert [(c.scope, c.after) for c in changes] == [("m1", A)] and desk is A and breaker.states == {}


def test_a_market_no_longer_watched_leaves_with_its_state() -> None:
    breaker = VolatilityBreaker()
    breaker.observe({"m1": 500_000}, 0)
    breaker.states["m1"] = R
    changes, _ = breaker.evaluate(S, 1_800_001, A)
    assert [(c.scope, c.after) for c in changes] == [("m1", A)] and breaker.series == {} and breaker.states == {}


def test_a_book_without_a_mid_is_not_a_move() -> None:
    breaker = VolatilityBreaker()
    breaker.observe({"m1": 500_000}, 0)
    breaker.observe({"m1": None}, 60_000)
    breaker.observe({"m1": 500_000}, 120_000)
    assert list(breaker.series["m1"].changes) == []


def test_limits_that_only_make_sense_together() -> None:
    values = dict(defaults().values)
    assert cross_problems(values) == {}
    bad = {**values, "volatility_window": Decimal("1000"), "volatility_halt": Decimal("2"),
           "volatility_clear": Decimal("3")}
    assert sorted(cross_problems(bad)) == ["volatility_baseline", "volatility_clear", "volatility_halt"]
    assert "twice the volatility window (2000 seconds)" in cross_problems(bad)["volatility_baseline"]
    off = {**values, "volatility_reduce": Decimal("0"), "volatility_halt": Decimal("0")}
    assert cross_problems(off) == {}


@pytest.mark.parametrize(("cents", "expected"), [(3, A), (8, A), (10, R), (20, H)])
def test_under_the_default_limits_news_is_not_a_spike_and_a_spike_still_is(cents: int, expected: TradingState) -> None:
    """A still market 10 minutes in (past the warm-up) moving `cents` in a minute: a quiet market's news
    (up to the 3-cent floor and more) leaves it trading; ten cents reduces it, twenty halts it."""
    s = Settings.of(defaults())
    series = MidSeries(0)
    series.observe(500_000, 0)
    series.observe(500_000 + cents * CENT, s.warmup_ms)
    reading = series.reading(s.warmup_ms, s)
    assert reading is not None and next_state(A, reading.ratio, s) is expected
