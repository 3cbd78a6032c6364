"""One question for every part of a pass that reads the clock: when do you next change?

A timed pass (engine/trading/core.py `TradingCore.tick`) reads the books, the ledger and the time.
With nothing new since a pass that decided nothing (no market data it reads, no write, no venue
report), the next pass can differ from it only where some part of it reads the clock past a
threshold of its own: a book growing stale, a refusal written again after a minute, a breaker's
window closing, a hold ending, a paper trade's settlement step, the day's rollover. Each such part
answers the same question, `next_due(now, before)`:

- a time in (`now`, `before`): the first instant it may act differently with nothing new;
- None (or `before` or later): nothing of it is due before `before`;
- `now` or earlier: it cannot tell (an order waiting on the venue, a strategy that reads the clock,
  an exit under way), so every pass runs.

Earlier is always safe (a pass that runs and finds nothing to do costs time, never a result); later
is a bug, which `engine backtest --verify-quiet-passes` finds on any recording. `before` lets a part
whose answer takes a search (the volatility breaker follows its readings forward) stop at what is
due already.

The pass registers its parts (`engine/trading/passes/ledger_pass.py` `clock_parts` for each ledger's,
`TradingCore.clock_parts` for the pass as a whole) and a backtest takes the earliest of their
answers (`soonest`) to skip the passes before it (engine/backtest/quiet_passes.py), as hftbacktest's
processors each answer their earliest timestamp and its loop steps to the least.
`tests/backtest/test_clock_parts.py` holds every class that reads the clock in a pass to it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol, runtime_checkable

NEVER = 2**62  # later than any clock (epoch ms)


@runtime_checkable
class Due(Protocol):
    def next_due(self, now: int, before: int) -> int | None:
        """The first instant after `now`, and before `before`, at which this part may act
        differently with nothing new; None when nothing of it is due before `before`; `now` (or
        earlier) when it cannot tell."""


def soonest(parts: Iterable[Due], now: int, before: int = NEVER) -> int:
    """The earliest answer of `parts` after `now` (`before` when none is due before it; `now` as
    soon as one cannot tell). Each part is asked with the earliest answer so far as its bound."""
    for part in parts:
        due = part.next_due(now, before)
        if due is not None and due < before:
            if due <= now:
                return now
            before = due
    return before


def earliest(*times: int | None) -> int | None:
    """The earliest of `times` that is known (None: none is): how a part joins its own thresholds."""
    known = [t for t in times if t is not None]
    return min(known) if known else None
