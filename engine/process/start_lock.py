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


@overload
async def patiently(step: Callable[[], Awaitable[T]], what: str, budget_s: float, waited: Waited) -> T: ...


@overload
async def patiently(step: Callable[[], T], what: str, budget_s: float, waited: Waited) -> T: ...


async def patiently(step: Callable[[], Any], what: str, budget_s: float, waited: Waited) -> Any:
    """`step()` (a function, or a coroutine function), tried again while it finds the database locked by
    another process, after pauses growing from FIRST_PAUSE_S to LONGEST_PAUSE_S, until `budget_s` has
    passed since its first try; then the lock's error is raised."""
    loop = asyncio.get_running_loop()
    began = loop.time()
    pause = FIRST_PAUSE_S
    while True:
        try:
            result = step()
            return await result if inspect.isawaitable(result) else result
        except Exception as exc:
            spent = loop.time() - began
            if not is_locked(exc) or spent + pause > budget_s:
                raise
            waited.tries += 1
            log.warning("the database is locked by another process at start: trying again",
                        extra={"step": what, "retry": waited.tries, "in_s": pause, "waited_s": round(spent, 1),
                               "up_to_s": budget_s})
        await asyncio.sleep(pause)
        waited.seconds += pause
        pause = min(LONGEST_PAUSE_S, pause * 2)


def patiently_now(step: Callable[[], T], what: str, budget_s: float, waited: Waited) -> T:
    """`patiently` before the event loop runs (the migrations at start): the same pauses, slept."""
    began = time.monotonic()
    pause = FIRST_PAUSE_S
    while True:
        try:
            return step()
        except Exception as exc:
            spent = time.monotonic() - began
            if not is_locked(exc) or spent + pause > budget_s:
                raise
            waited.tries += 1
            log.warning("the database is locked by another process at start: trying again",
                        extra={"step": what, "retry": waited.tries, "in_s": pause, "waited_s": round(spent, 1),
                               "up_to_s": budget_s})
        time.sleep(pause)
        waited.seconds += pause
        pause = min(LONGEST_PAUSE_S, pause * 2)
