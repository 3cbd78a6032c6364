"""Axis ticks that read (pure: no streamlit, no plotly): every label different from its
neighbours however small the range ("0.00 %" three times on a drawdown of 0.01 % told nothing),
whole numbers where only whole numbers exist (trial 2.2 does not), and a little room around
data that would otherwise touch the frame."""

from __future__ import annotations

import math
from collections.abc import Sequence

NICE_STEPS = (1.0, 2.0, 2.5, 5.0, 10.0)


def nice_step(span: float, ticks: int = 4) -> float:
    """A round step (1, 2, 2.5 or 5 × 10^k) giving about `ticks` intervals over `span`."""
    if not math.isfinite(span) or span <= 0:
        return 1.0
    raw = span / max(1, ticks)
    power = 10 ** math.floor(math.log10(raw))
    return next(step * power for step in NICE_STEPS if step * power >= raw * 0.999)


def decimals_for(step: float) -> int:
    """Decimals that tell ticks `step` apart (2.5 × 10^k needs one more than 10^k)."""
    if step <= 0 or not math.isfinite(step):
        return 0
    places = max(0, -math.floor(math.log10(step) + 1e-9))
    scaled = step * 10**places
    return places + (0 if abs(scaled - round(scaled)) < 1e-6 else 1)


def nice_ticks(low: float, high: float, ticks: int = 4, *, min_places: int = 0) -> tuple[list[float], list[str]]:
    """Tick values covering [low, high] on a round step, and labels that all differ (with at
    least `min_places` decimals: cents on a money axis)."""
    if not (math.isfinite(low) and math.isfinite(high)):
        return [], []
    if high < low:
        low, high = high, low
    if high == low:
        high = low + (abs(low) * 0.1 or 1.0)
    step = nice_step(high - low, ticks)
    first = math.floor(low / step + 1e-9) * step
    values: list[float] = []
    value = first
    while value <= high + step * 1e-6 and len(values) < 50:
        values.append(round(value, 12))
        value += step
    places = max(min_places, decimals_for(step))
    labels = [f"{0.0 if abs(v) < step * 1e-9 else v:,.{places}f}" for v in values]
    return values, labels


def whole_dtick(count: int, most_ticks: int = 8) -> int:
    """A whole-number tick step for an axis of `count` consecutive integers (trials, levels)."""
    return max(1, math.ceil(max(1, count) / most_ticks))


def padded(values: Sequence[float], share: float = 0.08, least: float = 0.0) -> tuple[float, float] | None:
    """[min, max] of `values` widened by `share` of the span on each side (at least `least`;
    a single value gets ±10 % of itself, or ±1 when it is 0). None without finite values."""
    finite = [float(v) for v in values if v is not None and math.isfinite(float(v))]
    if not finite:
        return None
    low, high = min(finite), max(finite)
    span = high - low
    pad = max(span * share, least) if span > 0 else max(abs(low) * 0.1, least) or 1.0
    return low - pad, high + pad
