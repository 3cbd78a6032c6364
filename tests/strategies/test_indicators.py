"""Incremental indicators against a naive recomputation over the whole history."""

from __future__ import annotations

import math
import random
import sys

import pytest

from engine.strategies.indicators import Ema, EwmStats, decay_weight


def naive_weights(times: list[int], tau_ms: float) -> list[float]:
    """Weight of each sample in the final average: the first sample starts at weight 1, and
    each later sample i takes alpha_i of the total while shrinking all earlier ones by (1 - alpha_i)."""
    alphas = [1.0] + [1 - math.exp(-max(b - a, 0) / tau_ms) for a, b in zip(times, times[1:], strict=False)]
    weights = []
    for i, alpha in enumerate(alphas):
        w = alpha
        for later in alphas[i + 1:]:
            w *= 1 - later
        weights.append(w)
    return weights


def series(n: int, seed: int) -> tuple[list[int], list[float]]:
    rng = random.Random(seed)
    times, t = [], 1_000
    for _ in range(n):
        t += rng.choice([0, 1, 50, 400, 1_000, 7_000])  # includes repeated timestamps
        times.append(t)
    return times, [rng.uniform(0.05, 0.95) for _ in range(n)]


@pytest.mark.parametrize("seed", range(5))
def test_ema_matches_naive_weighted_sum(seed: int) -> None:
    times, xs = series(200, seed)
    ema = Ema(tau_ms=3_000)
    for t, x in zip(times, xs, strict=False):
        ema.update(x, t)
    weights = naive_weights(times, 3_000)
    assert math.isclose(sum(weights), 1.0, rel_tol=1e-9)
    assert math.isclose(ema.value, sum(w * x for w, x in zip(weights, xs, strict=False)), rel_tol=1e-9)


@pytest.mark.parametrize("seed", range(5))
def test_ewm_stats_match_naive_weighted_mean_and_variance(seed: int) -> None:
    times, xs = series(200, seed)
    stats = EwmStats(tau_ms=5_000)
    for t, x in zip(times, xs, strict=False):
        stats.update(x, t)
    weights = naive_weights(times, 5_000)
    mean = sum(w * x for w, x in zip(weights, xs, strict=False))
    var = sum(w * (x - mean) ** 2 for w, x in zip(weights, xs, strict=False))
    assert math.isclose(stats.mean, mean, rel_tol=1e-9)
    assert math.isclose(stats.var, var, rel_tol=1e-7, abs_tol=1e-15)
    assert math.isclose(stats.zscore(0.5, 1e-9), (0.5 - mean) / math.sqrt(var), rel_tol=1e-6)


def test_first_sample_repeats_and_backward_clock() -> None:
    ema = Ema(tau_ms=1_000)
    assert ema.update(0.4, 10_000) == 0.4
    assert ema.update(0.9, 10_000) == 0.4  # same timestamp: zero weight
    assert ema.update(0.9, 9_000) == 0.4  # clock stepped back: zero weight, last time kept
    assert ema.last_ms == 10_000
    # one time constant later the gap closes by 1 - 1/e
    assert math.isclose(ema.update(0.9, 11_000), 0.4 + 0.5 * (1 - math.exp(-1)))
    assert decay_weight(0, 1_000) == 0.0


def test_z_score_floor_on_a_flat_history() -> None:
    stats = EwmStats(tau_ms=1_000)
    for t in range(10):
        stats.update(0.5, t * 1_000)
    assert stats.var == 0.0
    assert stats.zscore(0.51, 0.01) == pytest.approx(1.0)


def test_bad_time_constant_is_a_programming_error() -> None:
    with pytest.raises(ValueError):
        Ema(0)
    with pytest.raises(ValueError):
        EwmStats(-1)


def test_memory_is_bounded_over_100k_updates() -> None:
    ema, stats = Ema(60_000), EwmStats(60_000)
    assert not hasattr(ema, "__dict__") and not hasattr(stats, "__dict__")  # fixed slots only
    rng = random.Random(7)
    for i in range(1_000):
        ema.update(rng.random(), i * 100)
        stats.update(rng.random(), i * 100)
    sizes = (sys.getsizeof(ema), sys.getsizeof(stats))
    blocks = sys.getallocatedblocks()
    for i in range(1_000, 101_000):
        x = rng.random()
        ema.update(x, i * 100)
        stats.update(x, i * 100)
    assert sys.getallocatedblocks() - blocks < 100  # no history kept: nothing accumulates
    assert (sys.getsizeof(ema), sys.getsizeof(stats)) == sizes
    assert ema.count == stats.count == 101_000
