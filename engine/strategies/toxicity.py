"""Toxicity: how much a market maker's own recent fills were picked off (pure, hand-checkable).

Read from the strategy's own markouts at one horizon (StrategyState.markouts; engine/trading/
own_markouts.py measures them): each markout's adverse move per share (the later mid's move
against the fill: a bid filled at 0.50 with the mid at 0.47 ten seconds later is 0.03 adverse; a
favourable move counts negative), averaged with weights that halve every `half_life_ms` since
the markout became known:

    toxicity = sum(w_i * adverse_i) / max(1, sum(w_i)),    w_i = 2 ** (-age_i / half_life)

The `max(1, ...)` makes it fade: a run of picked-off fills reads their average, but once they
age (or after a single one) the weights sum below one and the toxicity decays toward zero at
the half-life, so a market maker widened by it comes back to its own quotes when fills stop
being toxic. Never below zero: fills that earned restore the quotes, they do not tighten them.
"""

from __future__ import annotations

from collections.abc import Iterable

from contracts.domain import ONE, OwnMarkout


def toxicity(markouts: Iterable[OwnMarkout], now_ms: int, *, horizon_ms: int, half_life_ms: int) -> int:
    """The decayed mean adverse move per share (micro-units of probability, >= 0) of the markouts
    at `horizon_ms` known by `now_ms`."""
    weighted = 0.0
    weights = 0.0
    for mark in markouts:
        if mark.horizon_ms != horizon_ms or mark.known_at > now_ms:
            continue
        weight = 2.0 ** (-(now_ms - mark.known_at) / half_life_ms)
        weighted += weight * -mark.per_share
        weights += weight
    return max(0, round(weighted / max(1.0, weights)))


def shrunk(size: int, level: int, halt: int, step: int) -> int:
    """`size` scaled down linearly as toxicity `level` grows toward `halt` (0 at and beyond it),
    rounded down to `step`."""
    if level >= halt:
        return 0
    scaled = size * (halt - level) // halt
    return scaled - scaled % step


def widened(half_spread: int, level: int, widen: int) -> int:
    """The half-spread plus `widen` (micros per one) times the toxicity, capped below 0.5."""
    return min(ONE // 2, half_spread + level * widen // ONE)
