"""The exits under way: which strategy's position in which token is being sold off, how often
it was tried, when to try again and whether the operator was told it could not sell.

An exit that cannot act (no bids within the slippage cap, the venue holding orders back, a
position below the market's minimum) is a flapping condition: it is tried again with a growing
back-off, alerts once, and says when it clears. While an exit lasts, its strategy is kept out of
that market, so it does not re-place the ask that reserves the shares the exit must sell; so is
any other strategy whose order the sale would have traded with (withdrawn for the exit).
Pure state: the caller passes the time.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

BACKOFF_START_MS = 5_000  # the first retry of an exit that could not sell it all
BACKOFF_MAX_MS = 60_000  # a stop loss is never left untried for longer than this
WITHDRAW_WAIT_MS = 200  # a cancel the venue has not acknowledged yet: look again this soon

Key = tuple[str, str]  # (strategy, token)


@dataclass
class ExitState:
    condition_id: str
    reason: str  # STOP_LOSS or TAKE_PROFIT
    detail: str  # what triggered it, as first seen
    started_ms: int
    attempts: int = 0
    next_ms: int = 0
    sold: int = 0  # shares sold by its attempts so far
    why_not: str | None = None  # why its last attempt did not sell everything
    warned: bool = False  # the operator was told it could not sell
    # Other strategies' (strategy, market) whose orders the sale would have traded with: withdrawn
    # for it and kept out of that market while it lasts, so they do not re-place them.
    others: set[tuple[str, str]] = field(default_factory=set)

    def due(self, now: int) -> bool:
        return now >= self.next_ms


class ExitBook:
    def __init__(self) -> None:
        self.active: dict[Key, ExitState] = {}

    def next_due(self, now: int, before: int) -> int | None:
        """(contracts/due.py) An exit under way tries again with the time and reads the book as it sells:
        `now` (every pass runs) while one is; None when none is."""
        return now if self.active else None

    def begin(self, key: Key, condition_id: str, reason: str, detail: str, now: int) -> tuple[ExitState, bool]:
        """The exit of this position, started now if it is not under way; (state, whether new)."""
        found = self.active.get(key)
        if found is not None:
            return found, False
        self.active[key] = state = ExitState(condition_id, reason, detail, now)
        return state, True

    def tried(self, state: ExitState, now: int, sold: int, why_not: str | None) -> None:
        """One attempt is done; an incomplete one waits twice as long as the one before."""
        state.attempts += 1
        state.sold += sold
        state.why_not = why_not
        backoff = min(BACKOFF_MAX_MS, BACKOFF_START_MS * 2 ** max(0, state.attempts - 1))
        state.next_ms = now + (backoff if why_not else BACKOFF_START_MS)

    def wait_for_cancels(self, state: ExitState, now: int) -> None:
        state.next_ms = now + WITHDRAW_WAIT_MS

    def held_markets(self, still_held: Callable[[Key], bool]) -> set[tuple[str, str]]:
        """(strategy, market) pairs whose strategy is kept out while its exit sells: those whose
        position is still held (one sold out frees its market at once, ahead of `finish`)."""
        held = set()
        for key, state in self.active.items():
            if still_held(key):
                held |= {(key[0], state.condition_id)} | state.others
        return held

    def finish(self, still_past: set[Key]) -> list[tuple[Key, ExitState]]:
        """Exits whose position is no longer held or no longer past its threshold: they end."""
        done = [(key, state) for key, state in self.active.items() if key not in still_past]
        for key, _ in done:
            del self.active[key]
        return done
