"""Streaming window indicators, checked by hand: a time-weighted average of a step function, the
change over a window per minute, the short window's flow against the long one's; each silent until
it has watched long enough; memory bounded."""

from __future__ import annotations

import pytest

from engine.analytics.windows import MAX_SAMPLES, TimeWeighted, Velocity, VolumeSurge


def test_the_time_weighted_average_integrates_the_held_values_over_the_window() -> None:
    twap = TimeWeighted(60_000)
    twap.update(0.40, 0)
    assert twap.value == 0.40
    twap.update(0.50, 30_000)  # 0.40 for 30 s, then 0.50
    twap.update(0.50, 60_000)
    assert twap.value == pytest.approx(0.45)
    twap.update(0.60, 90_000)  # window 30..90 s: 0.50 for 60 s
    assert twap.value == pytest.approx(0.50)
    twap.update(0.60, 120_000)  # window 60..120: 0.50 for 30 s, 0.60 for 30 s
    assert twap.value == pytest.approx(0.55)
    assert len(twap.closed) == 1  # the 0.40 segment left the window and the memory


def test_velocity_is_the_change_over_its_window_per_minute_once_watched_that_long() -> None:
    speed = Velocity(120_000)
    speed.update(0.40, 0)
    speed.update(0.44, 60_000)
    assert speed.value is None  # not watched for two minutes yet
    speed.update(0.46, 120_000)
    assert speed.value == pytest.approx(0.03)  # 0.06 over two minutes


def test_a_volume_surge_compares_the_short_windows_flow_with_the_usual() -> None:
    surge = VolumeSurge(60_000, 600_000)
    surge.update(0, 0)  # watched from 0
    for minute in range(1, 10):
        surge.update(10, minute * 60_000)  # ten shares a minute
        assert surge.value is None  # not watched for the long window yet
    surge.update(10, 600_000)
    assert surge.value == pytest.approx(1.0)  # 10 in the last minute; 100 in ten minutes: 10 a minute
    surge.update(40, 630_000)  # a burst: the last minute holds 10 + 40; the ten, 140
    assert surge.value == pytest.approx(50 / 14)


def test_memory_is_bounded_whatever_the_rate() -> None:
    surge = VolumeSurge(60_000, 86_400_000)
    for t in range(MAX_SAMPLES + 500):
        surge.update(1, t)
    assert len(surge.trades) == MAX_SAMPLES
