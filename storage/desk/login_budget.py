"""The dashboard's password-guess budget, shared atomically by every session and process.

A token bucket: `CAPACITY` guesses at once (typos cost nothing), then one more every `REFILL_S`,
desk-wide. A guess takes its token *before* the password is checked, inside one write
transaction (BEGIN IMMEDIATE), so sessions that submit together cannot all slip through as a
lock expires: at most CAPACITY + t / REFILL_S guesses in any t seconds, whatever the number of
sessions or dashboard processes. Nobody waits longer than REFILL_S for the next token, the
operator included. Failed and refused attempts count toward a burst that is alerted once per
window.

The bucket lives in the `login_budget` row (`DatabaseBudget`); before the engine has created
the database the same rule runs in memory for the one dashboard process (`MemoryBudget`).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, replace

from sqlalchemy import text

from storage.sqlite.db import Database

CAPACITY = 5  # guesses at once: typos are free
REFILL_S = 10.0  # then one guess every 10 s, desk-wide
WINDOW_S = 300.0  # failed or refused attempts are counted over this window
BURST = 10  # that many in a window raise one alert


@dataclass(frozen=True)
class BudgetState:
    tokens: float = CAPACITY
    at_s: float = 0.0  # when `tokens` was last brought up to date
    window_start_s: float = 0.0
    misses: int = 0  # failed or refused attempts since window_start_s
    alerted_at_s: float | None = None


@dataclass(frozen=True)
class Admission:
    allowed: bool  # the password may be checked now
    wait_s: float  # when refused: until the next guess may be made
    alert: bool  # this attempt completes a burst worth an alert
    misses: int  # failed or refused attempts in the window


def _refilled(state: BudgetState, now_s: float) -> BudgetState:
    tokens = min(CAPACITY, state.tokens + max(0.0, now_s - state.at_s) / REFILL_S)
    if now_s - state.window_start_s > WINDOW_S:
        state = replace(state, window_start_s=now_s, misses=0)
    return replace(state, tokens=tokens, at_s=max(state.at_s, now_s))


def _miss(state: BudgetState, now_s: float) -> tuple[BudgetState, bool]:
    misses = state.misses + 1
    alert = misses >= BURST and (state.alerted_at_s is None or now_s - state.alerted_at_s > WINDOW_S)
    return replace(state, misses=misses, alerted_at_s=now_s if alert else state.alerted_at_s), alert


def admit(state: BudgetState, now_s: float) -> tuple[BudgetState, Admission]:
    """Take a guess's token, or refuse and say how long until the next one."""
    state = _refilled(state, now_s)
    if state.tokens >= 1:
        state = replace(state, tokens=state.tokens - 1)
        return state, Admission(True, 0.0, False, state.misses)
    wait = (1 - state.tokens) * REFILL_S
    state, alert = _miss(state, now_s)
    return state, Admission(False, wait, alert, state.misses)


def failed(state: BudgetState, now_s: float) -> tuple[BudgetState, Admission]:
    """A checked guess was wrong: it counts toward the burst (its token is already spent)."""
    state, alert = _miss(_refilled(state, now_s), now_s)
    return state, Admission(False, 0.0, alert, state.misses)


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

    def _step(self, rule, now_s: float) -> Admission:
        with self.db.write() as conn:
            row = conn.execute(text("""SELECT tokens_milli, at_ms, window_start_ms, misses, alerted_at_ms
                                       FROM login_budget WHERE id = 1""")).first()
            state = BudgetState() if row is None else BudgetState(
                row[0] / 1000, row[1] / 1000, row[2] / 1000, row[3], None if row[4] is None else row[4] / 1000)
            state, answer = rule(state, now_s)
            conn.execute(text("""INSERT INTO login_budget (id, tokens_milli, at_ms, window_start_ms, misses,
                                     alerted_at_ms) VALUES (1, :tokens, :at, :window, :misses, :alerted)
                                 ON CONFLICT (id) DO UPDATE SET tokens_milli = excluded.tokens_milli,
                                     at_ms = excluded.at_ms, window_start_ms = excluded.window_start_ms,
                                     misses = excluded.misses, alerted_at_ms = excluded.alerted_at_ms"""),
                         {"tokens": int(state.tokens * 1000), "at": int(state.at_s * 1000),
                          "window": int(state.window_start_s * 1000), "misses": state.misses,
                          "alerted": None if state.alerted_at_s is None else int(state.alerted_at_s * 1000)})
        return answer
