"""APScheduler jobs for periodic work, with a listener so errors and misses are logged.

APScheduler swallows job exceptions; without the listener a failing reconcile or snapshot
job would fail silently forever. Jobs are registered in code (MemoryJobStore), each with
coalescing, one instance at a time, and a grace period suited to a busy event loop.

A job that finds the database locked by another process (a long dashboard read, a backup, an
open sqlite3 shell) is not an error the operator can act on: it is retried quietly within its
run, then left to its next run; only a job locked out run after run (LOCKED_RUNS_ALERT in a
row) is told, once, through `on_stuck`, with what to do; and once more when it writes again.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC
from typing import Any

from apscheduler.events import (
    EVENT_JOB_ERROR,
    EVENT_JOB_MAX_INSTANCES,
    EVENT_JOB_MISSED,
    JobExecutionEvent,
)
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from engine.trading.passes.jobs import Job
from storage.sqlite.db import is_locked

log = logging.getLogger("engine.process.scheduler")
LOCK_RETRIES = 3  # tries within one run, a short pause apart
LOCK_PAUSE_S = 0.2
LOCKED_RUNS_ALERT = 5  # runs in a row locked out before the operator is told
Stuck = Callable[[str, bool], None]  # (job id, stuck: True when it keeps failing, False when it clears)


@dataclass
class LockWatch:
    """Runs in a row each job found the database locked; tells `on_stuck` when one keeps failing."""

    on_stuck: Stuck | None = None
    runs: dict[str, int] = field(default_factory=dict)

    def locked(self, job_id: str) -> None:
        self.runs[job_id] = self.runs.get(job_id, 0) + 1
        log.info("scheduled job found the database locked; it runs again at its next time",
                 extra={"job": job_id, "runs_in_a_row": self.runs[job_id]})
        if self.runs[job_id] == LOCKED_RUNS_ALERT and self.on_stuck is not None:
            self.on_stuck(job_id, True)

    def wrote(self, job_id: str) -> None:
        if self.runs.pop(job_id, 0) >= LOCKED_RUNS_ALERT and self.on_stuck is not None:
            self.on_stuck(job_id, False)


def lock_tolerant(job: Job, watch: LockWatch) -> Callable[[], Any]:
    """The job's function, retried quietly while the database is locked (see the docstring)."""
    func = job.func
    if inspect.iscoroutinefunction(func):
        async def run_async() -> Any:
            for attempt in range(LOCK_RETRIES):
                try:
                    result = await func()
                except Exception as exc:
                    if not is_locked(exc):
                        raise
                    await asyncio.sleep(LOCK_PAUSE_S * (attempt + 1))
                else:
                    watch.wrote(job.id)
                    return result
            watch.locked(job.id)
            return None
        return run_async

    def run_sync() -> Any:  # APScheduler runs a plain function in its thread pool: sleeping is fine
        for attempt in range(LOCK_RETRIES):
            try:
                result = func()
            except Exception as exc:
                if not is_locked(exc):
                    raise
                time.sleep(LOCK_PAUSE_S * (attempt + 1))
            else:
                watch.wrote(job.id)
                return result
        watch.locked(job.id)
        return None
    return run_sync


def _listener(event: JobExecutionEvent) -> None:
    if event.code == EVENT_JOB_ERROR:
        log.error("scheduled job failed", extra={"job": event.job_id, "error": repr(event.exception),
                                                  "trace": event.traceback})
    elif event.code == EVENT_JOB_MISSED:
        log.warning("scheduled job missed its run time", extra={"job": event.job_id})
    else:
        log.warning("scheduled job skipped: previous run still going", extra={"job": event.job_id})


def build_scheduler(jobs: list[Job], *, on_stuck: Stuck | None = None) -> AsyncIOScheduler:
    """A scheduler holding `jobs`; call `.start()` inside the running event loop. `on_stuck`:
    told when a job keeps finding the database locked, and when it writes again."""
    scheduler = AsyncIOScheduler(timezone=UTC)
    scheduler.add_listener(_listener, EVENT_JOB_ERROR | EVENT_JOB_MISSED | EVENT_JOB_MAX_INSTANCES)
    watch = LockWatch(on_stuck)
    for job in jobs:
        scheduler.add_job(
            lock_tolerant(job, watch), job.trigger, id=job.id, replace_existing=True,
            coalesce=True, max_instances=1, misfire_grace_time=job.misfire_grace_s,
        )
    return scheduler
