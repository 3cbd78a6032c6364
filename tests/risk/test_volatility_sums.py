"""MidSeries keeps its window and baseline sums as time moves instead of walking every change
on each reading: its readings equal the sums taken afresh over the changes, whatever the
order of observations, prunes, settings changes, a clock stepping back, or the cap on changes."""

from __future__ import annotations

import math
import random

import pytest

from engine.risk import volatility
from engine.risk.volatility import MidSeries, Reading, Settings


def _fresh(series: MidSeries, now: int, s: Settings) -> Reading | None:
    """The reading by definition: every remembered change summed into its span."""
    history = min(s.baseline_ms, now - series.first_ms)
    if history < s.warmup_ms:
        return None
    short = sum(sq for at, sq in series.changes if at > now - s.window_ms)
    base = sum(sq for at, sq in series.changes if now - history < at <= now - s.window_ms)
    return Reading(math.sqrt(short), max(math.sqrt(base * s.window_ms / (history - s.window_ms)), float(s.floor)))


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_kept_sums_read_as_the_changes_summed_afresh(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(volatility, "MAX_CHANGES", 300)  # the cap drops changes from inside the spans too
    rng = random.Random(seed)
    spans = [Settings(5_000, 60_000, 3.0, 6.0, 1.5, 100), Settings(2_000, 20_000, 3.0, 6.0, 1.5, 100)]
    s = spans[0]
    series, now, mid, readings, kept = MidSeries(0), 0, 500_000, 0, 0
    for _ in range(6_000):
        now += rng.randrange(0, 400)
        if rng.random() < 0.001:
            now -= rng.randrange(1, 3_000)  # a clock stepping back (a live wall clock can)
        if rng.random() < 0.002:
            s = rng.choice(spans)  # the operator changed the limits
        mid += rng.choice((-2, -1, 0, 0, 1, 2)) * 10_000
        series.observe(mid, now)
        if rng.random() < 0.3:
            series.prune(now, max(s.baseline_ms, 2 * s.window_ms))
            got = series.reading(now, s)
            assert got == _fresh(series, now, s)
            readings += got is not None
            kept += got is not None and series._spans is not None  # read from the kept sums
    assert readings > 1_000 and kept > 500 and len(series.changes) <= 300
