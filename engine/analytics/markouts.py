"""Markouts: what the mid did after each fill. Pure functions, hand-checkable; the live and
paper desk (engine/analytics/markout_job.py) and the backtest (engine/backtest/runner.py) both
compute with them, so a backtest's markouts are the desk's markouts on the same mids.

Sign convention: a positive markout means the fill earned against the later mid.
- BUY at price p, mid m later: (m - p) x size; SELL: (p - m) x size.
- Units: micro-pUSD over the fill's size (price in micro-units x shares in micro-units / 1e6).
  In bps: markout / notional x 10,000, notional = p x size (the fill's cost in pUSD).
- Horizons: 1 s, 10 s and 60 s after the fill's match time, and at resolution, when the later
  "mid" is what the token paid (1 for the winner, 0 for the loser).
- The mid at a time is the last mid the desk saw at or before it (the mid history is a step
  function): a horizon with no mid before it has no markout (None), never a guess.
- Fees are not in a markout: it measures the price, not the cost of trading (fees are shown
  beside it).

A negative average is adverse selection: the desk's fills are followed by prices moving
against them (a resting quote picked off by someone who knew more).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass

from contracts.domain import MICRO, ONE, Side

# (name, milliseconds after the fill); "resolution" has no fixed time.
HORIZONS: tuple[tuple[str, int], ...] = (("1s", 1_000), ("10s", 10_000), ("60s", 60_000))
RESOLUTION = "resolution"
HORIZON_NAMES: tuple[str, ...] = (*(name for name, _ in HORIZONS), RESOLUTION)
MidPath = Sequence[tuple[int, int]]  # (time ms, mid micro-units), in time order


@dataclass(frozen=True)
class FillPoint:
    """What a markout needs of a fill."""

    side: Side
    price: int  # micro-units per share
    size: int  # micro-shares
    at: int  # match time, epoch ms


def markout(fill: FillPoint, later_mid: int) -> int:
    """The fill's markout against `later_mid`, micro-pUSD, positive when the fill earned."""
    move = later_mid - fill.price if fill.side is Side.BUY else fill.price - later_mid
    return move * fill.size // MICRO if move >= 0 else -(-move * fill.size // MICRO)


def resolution_value(payout: int) -> int:
    """The token's value at resolution, as a mid: what it pays (1 or 0, 0.5 in a 50/50)."""
    if not 0 <= payout <= ONE:
        raise ValueError(f"a share pays between 0 and 1, not {payout} micro-pUSD")
    return payout


def notional(fill: FillPoint) -> int:
    """The fill's cost in micro-pUSD (price x size)."""
    return fill.price * fill.size // MICRO


def bps(markout_micro: int, notional_micro: int) -> float | None:
    """A markout in basis points of the notional it was earned on (None without notional)."""
    return None if notional_micro <= 0 else markout_micro * 10_000 / notional_micro


def mid_at(path: MidPath, at: int) -> int | None:
    """The last mid at or before `at` on a time-ordered path (None if the path starts after)."""
    i = bisect_right(path, (at, float("inf")))
    return path[i - 1][1] if i else None


def horizon_markouts(fill: FillPoint, mid_at_time: Callable[[int], int | None], known_until: int,
                     done: Collection[str] = ()) -> dict[str, tuple[int | None, int | None]]:
    """(later mid, markout) at each fixed horizon not in `done` that `known_until` (how far
    the mid history is complete) has reached; a horizon past it is left out (not yet known),
    one without a mid is (None, None). `mid_at_time(t)` reads the history: the markout job
    reads the recorded ticks, a backtest the mids its replay saw, a test a scripted path."""
    found: dict[str, tuple[int | None, int | None]] = {}
    for name, after in HORIZONS:
        if name in done:
            continue
        due = fill.at + after
        if due > known_until:
            break  # the later horizons are further ahead still
        mid = mid_at_time(due)
        found[name] = (mid, None if mid is None else markout(fill, mid))
    return found


@dataclass(frozen=True)
class MarkoutSummary:
    """Fills' markouts summed per horizon (micro-pUSD) over the notional of the fills that
    have that horizon: a figure in bps compares fills of different sizes and prices."""

    fills: int
    notional: int
    totals: dict[str, int]  # horizon -> sum of markouts
    counted: dict[str, int]  # horizon -> fills with a markout there
    notional_counted: dict[str, int]  # horizon -> notional of those fills

    def usdc(self, horizon: str) -> float | None:
        return self.totals[horizon] / MICRO if self.counted.get(horizon) else None

    def in_bps(self, horizon: str) -> float | None:
        return bps(self.totals[horizon], self.notional_counted[horizon]) if self.counted.get(horizon) else None


def summarize(rows: Iterable[tuple[FillPoint, dict[str, int | None]]]) -> MarkoutSummary:
    """Sum fills' markouts (horizon -> markout) per horizon; a horizon missing or None for a
    fill is not counted."""
    totals = dict.fromkeys(HORIZON_NAMES, 0)
    counted = dict.fromkeys(HORIZON_NAMES, 0)
    notional_counted = dict.fromkeys(HORIZON_NAMES, 0)
    fills = total_notional = 0
    for fill, marks in rows:
        fills += 1
        cost = notional(fill)
        total_notional += cost
        for name, value in marks.items():
            if value is not None:
                totals[name] += value
                counted[name] += 1
                notional_counted[name] += cost
    return MarkoutSummary(fills, total_notional, totals, counted, notional_counted)
