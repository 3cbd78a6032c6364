"""Incremental indicators: O(1) work per update and a fixed handful of floats of memory.

Both indicators decay by elapsed time rather than by sample count, because a strategy is called
at irregular intervals (every book change, or every engine tick): a sample arriving `dt` ms
after the previous one gets weight alpha = 1 - exp(-dt / tau). Equal timestamps give alpha = 0
(a repeated sample adds nothing) and a clock that steps backwards is treated the same way.
The first sample initialises the value.

Floats are fine here: indicators are signals, never money. Each can hand out its state as a list
of numbers (`state`) and go back to one (`restore`: a list it cannot take leaves it as it was), so a
strategy's memory outlives a restart (engine/strategies/base.py).
"""

from __future__ import annotations

import math
from typing import Any


def decay_weight(dt_ms: int, tau_ms: float) -> float:
    """Weight of a new sample `dt_ms` after the last one, for time constant `tau_ms`."""
    if dt_ms <= 0:
        return 0.0
    return -math.expm1(-dt_ms / tau_ms)  # 1 - exp(-x), accurate for small x


def numbers(data: Any, count: int) -> list[float] | None:
    """`data` as `count` finite numbers, or None when it is not that."""
    if not isinstance(data, list) or len(data) != count:
        return None
    if not all(isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x) for x in data):
        return None
    return [float(x) for x in data]


def _times(last: float, first: float, count: float) -> tuple[int, int, int] | None:
    if count < 0 or first < 0 or last < first or count != int(count):
        return None
    return int(last), int(first), int(count)


class Ema:
    """Exponential moving average with time constant `tau_ms` (a 1/e memory)."""

    __slots__ = ("tau_ms", "value", "last_ms", "first_ms", "count")

    def __init__(self, tau_ms: float) -> None:
        if tau_ms <= 0:
            raise ValueError("tau_ms must be positive")
        self.tau_ms = float(tau_ms)
        self.value = 0.0
        self.last_ms = 0
        self.first_ms = 0
        self.count = 0

    def update(self, x: float, t_ms: int) -> float:
        if self.count == 0:
            self.value, self.first_ms, self.last_ms = float(x), t_ms, t_ms
        else:
            alpha = decay_weight(t_ms - self.last_ms, self.tau_ms)
            self.value += alpha * (x - self.value)
            self.last_ms = max(self.last_ms, t_ms)
        self.count += 1
        return self.value

    def state(self) -> list[float]:
        return [self.value, self.last_ms, self.first_ms, self.count]

    def restore(self, data: Any) -> bool:
        found = numbers(data, 4)
        times = None if found is None else _times(found[1], found[2], found[3])
        if found is None or times is None:
            return False
        self.value = found[0]
        self.last_ms, self.first_ms, self.count = times
        return True


class EwmStats:
    """Exponentially weighted mean and variance (West's incremental form).

    With d = x - mean_before and alpha the new sample's weight:
        mean += alpha * d
        var = (1 - alpha) * (var + alpha * d * d)
    which equals the weighted variance of all samples around the current weighted mean under
    the same exponential weights (the test checks it against that naive sum).
    """

    __slots__ = ("tau_ms", "mean", "var", "last_ms", "first_ms", "count")

    def __init__(self, tau_ms: float) -> None:
        if tau_ms <= 0:
            raise ValueError("tau_ms must be positive")
        self.tau_ms = float(tau_ms)
        self.mean = 0.0
        self.var = 0.0
        self.last_ms = 0
        self.first_ms = 0
        self.count = 0

    def update(self, x: float, t_ms: int) -> None:
        if self.count == 0:
            self.mean, self.var, self.first_ms, self.last_ms = float(x), 0.0, t_ms, t_ms
        else:
            alpha = decay_weight(t_ms - self.last_ms, self.tau_ms)
            d = x - self.mean
            self.mean += alpha * d
            self.var = (1.0 - alpha) * (self.var + alpha * d * d)
            self.last_ms = max(self.last_ms, t_ms)
        self.count += 1

    def state(self) -> list[float]:
        return [self.mean, self.var, self.last_ms, self.first_ms, self.count]

    def restore(self, data: Any) -> bool:
        found = numbers(data, 5)
        times = None if found is None else _times(found[2], found[3], found[4])
        if found is None or times is None or found[1] < 0:
            return False
        self.mean, self.var = found[0], found[1]
        self.last_ms, self.first_ms, self.count = times
        return True

    @property
    def std(self) -> float:
        return math.sqrt(max(self.var, 0.0))

    def zscore(self, x: float, min_std: float) -> float:
        """Distance of `x` from the mean in standard deviations, the deviation floored at
        `min_std` so a flat history does not turn a one-tick move into an extreme signal."""
        return (x - self.mean) / max(self.std, min_std)
