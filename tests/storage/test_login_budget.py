"""The password-guess budget is one token bucket for the whole desk, taken atomically before a
password is checked: 48 sessions (threads, on two database handles as two dashboard processes
would be) submitting together get at most the bucket's guesses, never one each as a lock
expires; afterwards one guess per REFILL_S for everyone, and nobody waits longer than that, even
under a flood of attempts every millisecond or faster, each read from and written to the stored row
(issue 86: its level was cut to whole thousandths of a guess at every attempt, so attempts every
10 ms or faster kept it from ever refilling)."""

from __future__ import annotations

import math
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from storage.desk.login_budget import (
    BURST,
    CAPACITY,
    FULL_MS,
    REFILL_S,
    BudgetState,
    DatabaseBudget,
    MemoryBudget,
    admit,
    failed,
    row_of,
    state_of,
)
from storage.sqlite.db import Database
from storage.sqlite.migrations import migrate

NOW = 1_790_000_000.0


@pytest.fixture
def handles(tmp_path: Path) -> Iterator[list[Database]]:
    migrate(tmp_path / "d.db")
    dbs = [Database(tmp_path / "d.db"), Database(tmp_path / "d.db")]
    yield dbs
    for db in dbs:
        db.dispose()


def _burst(budgets: list[DatabaseBudget] | list[MemoryBudget], sessions: int, now: float) -> int:
    barrier = threading.Barrier(sessions)
    allowed: list[bool] = []

    def guess(budget: DatabaseBudget | MemoryBudget) -> None:
        barrier.wait()
        allowed.append(budget.take(now).allowed)

    threads = [threading.Thread(target=guess, args=(budgets[i % len(budgets)],)) for i in range(sessions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(allowed) == sessions
    return sum(allowed)


def test_many_sessions_at_once_get_the_bucket_and_no_more(handles: list[Database]) -> None:
    budgets = [DatabaseBudget(db) for db in handles]
    assert _burst(budgets, 48, NOW) == CAPACITY
    assert _burst(budgets, 48, NOW + 1) == 0  # a second later: nothing has refilled yet
    assert _burst(budgets, 48, NOW + REFILL_S) == 1  # one guess per REFILL_S, for all of them together
    assert _burst(budgets, 48, NOW + 45) == 3  # 45 s: 4.5 guesses' worth in all, 1 used: 3 whole


def test_memory_budget_keeps_the_same_rule() -> None:
    assert _burst([MemoryBudget()], 48, NOW) == CAPACITY


@given(st.lists(st.floats(min_value=0, max_value=30), min_size=1, max_size=200))
def test_guesses_over_time_never_beat_the_rate_and_nobody_waits_longer_than_a_refill(gaps: list[float]) -> None:
    state, now, allowed = BudgetState(), NOW, 0
    for gap in gaps:
        now += gap
        state, answer = admit(state, now)
        allowed += answer.allowed
        assert answer.allowed or 0 < answer.wait_s <= REFILL_S
    assert allowed <= CAPACITY + (now - NOW) / REFILL_S + 1e-9


def test_a_burst_of_failures_alerts_once_per_window() -> None:
    state, alerts = BudgetState(), 0
    for i in range(3 * BURST):
        state, answer = admit(state, NOW + i)
        if answer.allowed:
            state, answer = failed(state, NOW + i)
        alerts += answer.alert
    assert alerts == 1


def test_failures_older_than_the_window_are_forgotten() -> None:
    """Misses count over WINDOW_S only: BURST - 1 failures, then as many again once the window has
    passed, never make a burst; the same failures inside one window do."""
    from storage.desk.login_budget import WINDOW_S

    def fail_times(times: list[float]) -> tuple[int, int]:
        state, alerts, answer = BudgetState(), 0, None
        for now in times:
            state, answer = failed(state, now)
            alerts += answer.alert
        assert answer is not None
        return alerts, answer.misses

    first = [NOW + i for i in range(BURST - 1)]
    later = [NOW + WINDOW_S + BURST + i for i in range(BURST - 1)]
    assert fail_times(first + later) == (0, BURST - 1)  # the old ones no longer count
    inside = [NOW + (WINDOW_S - BURST) + i for i in range(BURST - 1)]
    assert fail_times(first + inside) == (1, 2 * BURST - 2)  # within one window they do


# -- a flood of attempts (issue 86, item 2): the budget refills one guess every REFILL_S whatever comes ----

FLOOD_S = 30.0


def _drained() -> BudgetState:
    state = BudgetState()
    for _ in range(CAPACITY):
        state, answer = admit(state, NOW)
        assert answer.allowed
    return state


def _as_stored(state: BudgetState) -> BudgetState:
    """The state as the `login_budget` row gives it back (what every attempt of DatabaseBudget reads)."""
    return state_of(*row_of(state))


def _refills(every_ms: float, seconds: float) -> list[int]:
    """The first attempt at or after each REFILL_S since the bucket emptied at NOW: the ones a budget that
    refills as documented lets through (ms since NOW)."""
    steps = [round(i * every_ms, 6) for i in range(1, int(seconds * 1000 / every_ms) + 1)]
    due = [k * REFILL_S * 1000 for k in range(1, int(seconds // REFILL_S) + 1)]
    return [math.floor(next(t for t in steps if t >= at)) for at in due if at <= steps[-1]]


@pytest.mark.parametrize("every_ms", [0.5, 1, 3, 5, 7, 10, 20])
def test_a_flood_of_attempts_never_starves_the_refill(every_ms: float) -> None:
    """Attempts every `every_ms`, each read from and written back to the stored row: one is let through
    every REFILL_S, exactly when the guess has refilled, and each refused one is told the true wait."""
    state, admitted = _as_stored(_drained()), []
    for i in range(1, int(FLOOD_S * 1000 / every_ms) + 1):
        at_ms = round(i * every_ms, 6)
        state, answer = admit(state, NOW + at_ms / 1000)
        state = _as_stored(state)
        if answer.allowed:
            admitted.append(math.floor(at_ms))
        else:
            refill = REFILL_S * 1000 * (len(admitted) + 1)
            assert answer.wait_s * 1000 == pytest.approx(refill - math.floor(at_ms), abs=1e-6), at_ms
    assert admitted == _refills(every_ms, FLOOD_S)


@pytest.mark.parametrize("every_ms", [5, 10])
def test_a_flood_through_the_database_row_refills_as_documented(handles: list[Database], every_ms: float) -> None:
    """The same flood through the desk's row (two handles, as two dashboard processes), 20.5 s of it."""
    budgets = [DatabaseBudget(db) for db in handles]
    for _ in range(CAPACITY):
        assert budgets[0].take(NOW).allowed
    admitted, seconds = [], 20.5
    for i in range(1, int(seconds * 1000 / every_ms) + 1):
        if budgets[i % 2].take(NOW + i * every_ms / 1000).allowed:
            admitted.append(i * every_ms)
    assert admitted == _refills(every_ms, seconds)


def test_the_stored_row_holds_a_level_exactly() -> None:
    """Thousandths of a guess in the row, the milliseconds of refill beyond them in its date."""
    for level in (0, 1, 9, 10, 11, 12_345, FULL_MS - 1, FULL_MS):
        state = BudgetState(level_ms=level, at_ms=1_790_000_000_123, window_start_ms=5, misses=3, alerted_at_ms=None)
        stored = _as_stored(state)
        later = 1_790_000_000_200
        assert _refilled_level(stored, later) == _refilled_level(state, later) == min(FULL_MS, level + 77)


def _refilled_level(state: BudgetState, now_ms: int) -> int:
    return min(FULL_MS, state.level_ms + max(0, now_ms - state.at_ms))
