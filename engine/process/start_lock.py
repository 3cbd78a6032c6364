"""A write lock another process holds while the engine starts is waited for, not an error (issue 86
item 8): each start-up write that finds SQLite's "database is locked" (the engine's writes wait at most
ENGINE_BUSY_TIMEOUT_MS, so its loop never freezes behind another writer) is tried again after a growing
pause, logged each time, until `budget_s` (START_LOCK_WAIT_SECONDS) has passed: only a lock lasting
longer is an error (the engine then comes up ERROR, as for any failed start, and the operator's Start
tries again). What a start waited is said once it goes ahead (`Waited`: the log, and an alert for
`engine status`).

Each step retried is one whose write either committed whole or not at all (BEGIN IMMEDIATE fails
before it writes anything), or, for the trading core's start, what the operator's Start runs again
after a failed one.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar, overload

from storage.sqlite.db import is_locked

log = logging.getLogger("engine.process.control")
T = TypeVar("T")
FIRST_PAUSE_S = 0.1
LONGEST_PAUSE_S = 2.0


@dataclass
class Waited:
    """What the start-up's writes waited for locks so far."""

    tries: int = 0
    seconds: float = 0.0

    def said(self) -> str:
        return (f"the engine's start waited {self.seconds:.1f} s for a write lock another process held on the "
                f"database ({self.tries} retries), then went ahead")


class _Tries:
    """One step's tries: the pause before the next, until the budget is spent."""

    def __init__(self, what: str, budget_s: float, waited: Waited, clock: Callable[[], float]) -> None:
        self.what, self.budget_s, self.waited, self.clock = what, budget_s, waited, clock
        self.began, self.pause = clock(), FIRST_PAUSE_S

    def pause_after(self, exc: Exception) -> float | None:
        """The pause before trying again after `exc`, or None: not a lock, or the budget spent."""
        spent = self.clock() - self.began
        if not is_locked(exc) or spent + self.pause > self.budget_s:
            return None
        pause, self.pause = self.pause, min(LONGEST_PAUSE_S, self.pause * 2)
        self.waited.tries += 1
        self.waited.seconds += pause
        log.warning("the database is locked by another process at start: trying again",
                    extra={"step": self.what, "retry": self.waited.tries, "in_s": pause, "waited_s": round(spent, 1),
                           "up_to_s": self.budget_s})
        return pause


@overload
async def patiently(step: Callable[[], Awaitable[T]], what: str, budget_s: float, waited: Waited) -> T: ...


@overload
async def patiently(step: Callable[[], T], what: str, budget_s: float, waited: Waited) -> T: ...


async def patiently(step: Callable[[], Any], what: str, budget_s: float, waited: Waited) -> Any:
    """`step()` (a function, or a coroutine function), tried again while it finds the database locked by
    another process, after pauses growing from FIRST_PAUSE_S to LONGEST_PAUSE_S, until `budget_s` has
    passed since its first try; then the lock's error is raised."""
    tries = _Tries(what, budget_s, waited, asyncio.get_running_loop().time)
    while True:
        try:
            result = step()
            return await result if inspect.isawaitable(result) else result
        except Exception as exc:
            pause = tries.pause_after(exc)
            if pause is None:
                raise
        await asyncio.sleep(pause)


def patiently_now(step: Callable[[], T], what: str, budget_s: float, waited: Waited) -> T:
    """`patiently` before the event loop runs (the migrations at start): the same pauses, slept."""
    tries = _Tries(what, budget_s, waited, time.monotonic)
    while True:
        try:
            return step()
        except Exception as exc:
            pause = tries.pause_after(exc)
            if pause is None:
                raise
        time.sleep(pause)
