"""The bootstrap over fills (contracts/bootstrap.py): where the interval stands, how it grows with
the spread, and that a seed fixes it."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contracts.bootstrap import MIN_UNITS, sum_interval, sum_intervals

RESAMPLES = 200  # enough to place a 95 % interval; keeps each example cheap
centres = st.floats(min_value=-100, max_value=100, allow_nan=False)
spreads = st.lists(st.floats(min_value=0, max_value=50, allow_nan=False), min_size=3, max_size=30)


@settings(max_examples=100, deadline=None)
@given(centre=centres, spread=spreads, seed=st.integers(0, 2**32))
def test_the_interval_of_symmetric_fills_holds_their_total(centre: float, spread: list[float], seed: int) -> None:
    values = [centre + d for d in spread] + [centre - d for d in spread]
    found = sum_interval(values, resamples=RESAMPLES, seed=seed)
    assert found is not None
    total, slack = centre * len(values), 1e-9 * (1 + abs(centre) + max(spread)) * len(values)
    assert found.low - slack <= total <= found.high + slack
    assert found.estimate == pytest.approx(total, abs=slack)


@settings(max_examples=100, deadline=None)
@given(centre=centres, spread=spreads, seed=st.integers(0, 2**32), wider=st.floats(1.5, 10))
def test_more_spread_widens_the_interval(centre: float, spread: list[float], seed: int, wider: float) -> None:
    def width(scale: float) -> float:
        values = [centre + scale * d for d in spread] + [centre - scale * d for d in spread]
        found = sum_interval(values, resamples=RESAMPLES, seed=seed)
        assert found is not None
        return found.high - found.low

    narrow, wide = width(1.0), width(wider)
    assert wide >= narrow - 1e-9 * (1 + abs(centre)) * len(spread)
    if narrow > 1e-6:
        assert wide > narrow


@settings(max_examples=50, deadline=None)
@given(values=st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=MIN_UNITS, max_size=40),
       seed=st.integers(0, 2**32))
def test_the_same_seed_gives_the_same_interval(values: list[float], seed: int) -> None:
    assert sum_interval(values, resamples=RESAMPLES, seed=seed) == sum_interval(values, resamples=RESAMPLES, seed=seed)


def test_another_seed_draws_other_fills() -> None:
    values = [float(v) for v in range(-20, 31)]
    assert sum_interval(values, seed=1) != sum_interval(values, seed=2)


def test_a_total_far_from_zero_has_a_small_p_value_and_one_near_zero_a_large_one() -> None:
    earning = sum_interval([1.0 + (i % 7) / 10 for i in range(40)], seed=3)
    assert earning is not None and earning.excludes_zero() and earning.p_value < 0.01
    balanced = sum_interval([(-1.0) ** i * (1 + i % 5) for i in range(40)], seed=3)
    assert balanced is not None and not balanced.excludes_zero() and balanced.p_value > 0.5
    nothing = sum_interval([0.0] * 10, seed=3)
    assert nothing is not None and (nothing.low, nothing.high, nothing.p_value) == (0.0, 0.0, 1.0)


def test_columns_share_their_draws_and_an_offset_shifts_the_total() -> None:
    fills = [float(v) for v in (3, -1, 4, -1, 5, -9, 2, 6, -5, 3)]
    single, double = sum_intervals([fills, [2 * v for v in fills]], offsets=[0.0, 7.0], seed=5)
    assert single is not None and double is not None
    assert double.estimate == pytest.approx(2 * single.estimate + 7)
    assert (double.low, double.high) == (pytest.approx(2 * single.low + 7), pytest.approx(2 * single.high + 7))


def test_too_few_fills_have_no_interval_and_bad_input_is_refused() -> None:
    assert sum_interval([1.0] * (MIN_UNITS - 1)) is None
    assert sum_intervals([[], []]) == [None, None]
    with pytest.raises(ValueError, match="lengths differ"):
        sum_intervals([[1.0] * 6, [1.0] * 7])
    with pytest.raises(ValueError, match="level"):
        sum_interval([1.0] * 6, level=1.0)
