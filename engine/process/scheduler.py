"""APScheduler jobs for periodic work, with a listener so errors and misses are logged.

APScheduler swallows job exceptions; without the listener a failing reconcile or snapshot
job would fail silently forever. Jobs are registered in code (MemoryJobStore), each with
coalescing, one instance at a time, and a grace period suited to a busy event loop.
"""

from __future__ import annotations

import logging
from datetime import UTC

from apscheduler.events import (
    EVENT_JOB_ERROR,
    EVENT_JOB_MAX_INSTANCES,
    EVENT_JOB_MISSED,
    JobExecutionEvent,
)
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from engine.trading.jobs import Job

log = logging.getLogger("engine.process.scheduler")


def _listener(event: JobExecutionEvent) -> None:
    if event.code == EVENT_JOB_ERROR:
        log.error("scheduled job failed", extra={"job": event.job_id, "error": repr(event.exception),
                                                  "trace": event.traceback})
    elif event.code == EVENT_JOB_MISSED:
        log.warning("scheduled job missed its run time", extra={"job": event.job_id})
    else:
        log.warning("scheduled job skipped: previous run still going", extra={"job": event.job_id})


def build_scheduler(jobs: list[Job]) -> AsyncIOScheduler:
    """A scheduler holding `jobs`; call `.start()` inside the running event loop."""
    scheduler = AsyncIOScheduler(timezone=UTC)
    scheduler.add_listener(_listener, EVENT_JOB_ERROR | EVENT_JOB_MISSED | EVENT_JOB_MAX_INSTANCES)
    for job in jobs:
        scheduler.add_job(
            job.func, job.trigger, id=job.id, replace_existing=True,
            coalesce=True, max_instances=1, misfire_grace_time=job.misfire_grace_s,
        )
    return scheduler
