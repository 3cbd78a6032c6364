"""The dashboard's password-guess budget, shared atomically by every session and process.

A token bucket: `CAPACITY` guesses at once (typos cost nothing), then one more every `REFILL_S`,
desk-wide. A guess takes its token *before* the password is checked, inside one write
transaction (BEGIN IMMEDIATE), so sessions that submit together cannot all slip through as a
lock expires: at most CAPACITY + t / REFILL_S guesses in any t seconds, whatever the number of
sessions or dashboard processes. Nobody is told to wait longer than REFILL_S for the next token,
the operator included. Failed and refused attempts count toward a burst that is alerted once per
window.

Exact, whatever the flood: the level is kept in whole milliseconds of refill (a guess is REFILL_MS),
the clock read in whole milliseconds, so an attempt, refused or not, neither adds nor loses a
fraction of a guess, and attempts every millisecond or faster still see one guess refill every
REFILL_S. (The row stores thousandths of a guess, REFILL_MS / 1000 ms each: what a level holds
beyond them is kept by dating the row that many milliseconds earlier.) The refilled guess goes to
whoever asks first: during a flood, most likely the flood, which the burst's alert says.

The bucket lives in the `login_budget` row (`DatabaseBudget`); before the engine has created
the database the same rule runs in memory for the one dashboard process (`MemoryBudget`).
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import NamedTuple

from sqlalchemy import text

from storage.sqlite.db import Database

CAPACITY = 5  # guesses at once: typos are free
REFILL_S = 10.0  # then one guess every 10 s, desk-wide
WINDOW_S = 300.0  # failed or refused attempts are counted over this window
BURST = 10  # that many in a window raise one alert
REFILL_MS, WINDOW_MS = int(REFILL_S * 1000), int(WINDOW_S * 1000)
FULL_MS = CAPACITY * REFILL_MS  # a full bucket, in milliseconds of refill
MS_PER_MILLI = REFILL_MS // 1000  # the row's thousandths of a guess, in milliseconds of refill (whole)


def to_ms(now_s: float) -> int:
    """The budget's clock: whole milliseconds, never ahead of the time given."""
    return math.floor(now_s * 1000)


@dataclass(frozen=True)
class BudgetState:
    level_ms: int = FULL_MS  # the guesses in hand at `at_ms`, in milliseconds of refill (a guess is REFILL_MS)
    at_ms: int = 0  # when `level_ms` was last brought up to date
    window_start_ms: int = 0
    misses: int = 0  # failed or refused attempts since window_start_ms
    alerted_at_ms: int | None = None


@dataclass(frozen=True)
class Admission:
    allowed: bool  # the password may be checked now
    wait_s: float  # when refused: until the next guess may be made
    alert: bool  # this attempt completes a burst worth an alert
    misses: int  # failed or refused attempts in the window


def _refilled(state: BudgetState, now: int) -> BudgetState:
    level = min(FULL_MS, state.level_ms + max(0, now - state.at_ms))
    if now - state.window_start_ms > WINDOW_MS:
        state = replace(state, window_start_ms=now, misses=0)
    return replace(state, level_ms=level, at_ms=max(state.at_ms, now))


def _miss(state: BudgetState, now: int) -> tuple[BudgetState, bool]:
    misses = state.misses + 1
    alert = misses >= BURST and (state.alerted_at_ms is None or now - state.alerted_at_ms > WINDOW_MS)
    return replace(state, misses=misses, alerted_at_ms=now if alert else state.alerted_at_ms), alert


def admit(state: BudgetState, now_s: float) -> tuple[BudgetState, Admission]:
    """Take a guess's token, or refuse and say how long until the next one."""
    now = to_ms(now_s)
    state = _refilled(state, now)
    if state.level_ms >= REFILL_MS:
        state = replace(state, level_ms=state.level_ms - REFILL_MS)
        return state, Admission(True, 0.0, False, state.misses)
    wait_s = (REFILL_MS - state.level_ms) / 1000
    state, alert = _miss(state, now)
    return state, Admission(False, wait_s, alert, state.misses)


def failed(state: BudgetState, now_s: float) -> tuple[BudgetState, Admission]:
    """A checked guess was wrong: it counts toward the burst (its token is already spent)."""
    now = to_ms(now_s)
    state, alert = _miss(_refilled(state, now), now)
    return state, Admission(False, 0.0, alert, state.misses)


class BudgetRow(NamedTuple):
    """The `login_budget` row's columns, in its order."""

    tokens: int  # tokens_milli
    at: int  # at_ms
    window: int  # window_start_ms
    misses: int
    alerted: int | None  # alerted_at_ms


def row_of(state: BudgetState) -> BudgetRow:
    """The `login_budget` row that holds `state` exactly: its level in whole thousandths of a guess, the
    milliseconds of refill left over kept by dating the row that much earlier."""
    spare = state.level_ms % MS_PER_MILLI
    return BudgetRow(state.level_ms // MS_PER_MILLI, state.at_ms - spare, state.window_start_ms, state.misses,
                     state.alerted_at_ms)


def state_of(tokens_milli: int, at_ms: int, window_start_ms: int, misses: int,
             alerted_at_ms: int | None) -> BudgetState:
    """The state a `login_budget` row holds (`row_of`'s inverse)."""
    return BudgetState(tokens_milli * MS_PER_MILLI, at_ms, window_start_ms, misses, alerted_at_ms)


class MemoryBudget:
    """The rule for one process, before the database exists."""

    def __init__(self) -> None:
        self._lock = threading.Lock()  # sessions run in their own threads
        self._state = BudgetState()

    def take(self, now_s: float) -> Admission:
        with self._lock:
            self._state, answer = admit(self._state, now_s)
        return answer

    def failed(self, now_s: float) -> Admission:
        with self._lock:
            self._state, answer = failed(self._state, now_s)
        return answer


class DatabaseBudget:
    """The rule for the whole desk: the bucket is the `login_budget` row, read and written in one
    IMMEDIATE transaction per attempt."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def take(self, now_s: float) -> Admission:
        return self._step(admit, now_s)

    def failed(self, now_s: float) -> Admission:
        return self._step(failed, now_s)

    def _step(self, rule: Callable[[BudgetState, float], tuple[BudgetState, Admission]], now_s: float) -> Admission:
        with self.db.write() as conn:
            row = conn.execute(text("""SELECT tokens_milli, at_ms, window_start_ms, misses, alerted_at_ms
                                       FROM login_budget WHERE id = 1""")).first()
            state, answer = rule(BudgetState() if row is None else state_of(*row), now_s)
            conn.execute(text("""INSERT INTO login_budget (id, tokens_milli, at_ms, window_start_ms, misses,
                                     alerted_at_ms) VALUES (1, :tokens, :at, :window, :misses, :alerted)
                                 ON CONFLICT (id) DO UPDATE SET tokens_milli = excluded.tokens_milli,
                                     at_ms = excluded.at_ms, window_start_ms = excluded.window_start_ms,
                                     misses = excluded.misses, alerted_at_ms = excluded.alerted_at_ms"""),
                         row_of(state)._asdict())
        return answer
