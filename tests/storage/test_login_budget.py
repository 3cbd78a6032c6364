"""The password-guess budget is one token bucket for the whole desk, taken atomically before a
password is checked: 48 sessions (threads, on two database handles as two dashboard processes
would be) submitting together get at most the bucket's guesses, never one each as a lock
expires; afterwards one guess per REFILL_S for everyone, and nobody waits longer than that."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from storage.desk.login_budget import (
    BURST,
    CAPACITY,
    REFILL_S,
    BudgetState,
    DatabaseBudget,
    MemoryBudget,
    admit,
    failed,
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
