"""The engine process: single-instance lock, migrate, recover, serve, stop on SIGTERM.

`python -m engine run` -> `run(settings)`. Tasks on one asyncio loop: the heartbeat, the
command processor, the scheduler's jobs and the trading core's own tasks. Nothing else
writes trading state, so one loop with short synchronous SQLite transactions is enough.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import os
import signal
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from contracts.command_kinds import Handler
from contracts.settings import Settings
from engine.execution.placement import OrderGate
from engine.news.poller import NewsPoller
from engine.notify.notifier import Notifier
from engine.process.commands import CommandProcessor
from engine.process.control import Controller
from engine.process.heap import freeze_startup_heap
from engine.process.scheduler import LOCKED_RUNS_ALERT, build_scheduler
from engine.process.start_lock import Waited, patiently, patiently_now
from engine.process.trading_seam import Trading
from engine.trading.passes.jobs import Job
from storage.command_queue import command_effects
from storage.command_queue import commands as queue
from storage.desk.audit import raise_alert
from storage.engine_stores import engine_state as state_store
from storage.engine_stores.retention import prune_history
from storage.sqlite.db import ENGINE_BUSY_TIMEOUT_MS, Database, is_locked, now_ms, touch_heartbeat
from storage.sqlite.migrations import SchemaTooNew, migrate

log = logging.getLogger("engine.process.runtime")
HEARTBEAT_S = 0.5
SHUTDOWN_BUDGET_S = 15.0
SUMMARY_CHECK_S = 5  # how often the daily summary's time is checked (it goes out at most this late)


class AlreadyRunning(RuntimeError):
    pass


@contextlib.contextmanager
def single_instance(lock_path: Path) -> Iterator[IO[str]]:
    """Hold an exclusive flock for the process lifetime; a second engine fails fast."""
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    handle = open(lock_path, "a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = handle.read().strip() or "unknown"
        handle.close()
        raise AlreadyRunning(
            f"another engine is already running on this database (pid {holder}, lock {lock_path})"
        ) from None
    handle.seek(0)
    handle.truncate()
    handle.write(str(os.getpid()))
    handle.flush()
    try:
        yield handle
    finally:
        handle.close()


TradingFactory = Callable[[Settings, Database, OrderGate], Trading]


def run(settings: Settings, trading_factory: TradingFactory) -> int:
    """Run the engine until SIGTERM/SIGINT. Returns the process exit code."""
    try:
        with single_instance(settings.lock_path):
            waited = Waited()  # a write lock another process holds at start is waited for (start_lock.py)
            applied = patiently_now(lambda: migrate(settings.db_path), "migrations", settings.start_lock_wait_s, waited)
            if applied:
                log.info("migrated", extra={"applied": applied, "db": str(settings.db_path)})
            db = Database(settings.db_path, writer_sync="FULL", busy_timeout_ms=ENGINE_BUSY_TIMEOUT_MS)
            gate = OrderGate()  # the desk's one order gate: the command path, the lifecycle and the executor share it
            trading = trading_factory(settings, db, gate)
            return asyncio.run(Runtime(settings, db, trading, gate).serve(waited))
    except (AlreadyRunning, SchemaTooNew) as exc:
        log.error(str(exc))
        print(f"engine: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:
        if not is_locked(exc):
            raise
        said = (f"the database stayed locked by another process past the {settings.start_lock_wait_s} s the engine's "
                "start waits for it (START_LOCK_WAIT_SECONDS): close whatever holds it (an sqlite3 shell, a backup, "
                "a long query); the engine is started again by its supervisor")
        log.error(said)
        print(f"engine: {said}", file=sys.stderr)
        return 1


class Runtime:
    def __init__(self, settings: Settings, db: Database, trading: Trading, gate: OrderGate):
        self.settings = settings
        self.db = db
        self.controller = Controller(settings, db, trading, gate)
        self.notifier = Notifier(settings, db)
        self.news = NewsPoller(db)  # its own thread: feeds never touch the loop
        self.trading = trading
        self.processor = CommandProcessor(db, self.controller, trading, gate,
                                          services={Handler.NOTIFIER: self.notifier.test})
        self.stopping = asyncio.Event()

    def request_stop(self, signame: str) -> None:
        log.info("shutdown requested", extra={"signal": signame})
        self.stopping.set()

    def _job_stuck(self, job_id: str, stuck: bool) -> None:
        """A scheduled job kept finding the database locked (engine/process/scheduler.py), or
        writes again: one alert each way, with what to do."""
        message = (f"the scheduled job {job_id} found the database locked by another process on each of its last "
                   f"{LOCKED_RUNS_ALERT} runs and did nothing: close whatever holds it (an sqlite3 shell, a "
                   "backup, a long query); the job runs again by itself" if stuck else
                   f"the scheduled job {job_id} writes to the database again")
        try:
            with self.db.write() as conn:
                raise_alert(conn, level="warning" if stuck else "info", source="engine",
                            code="JOB_LOCKED" if stuck else "JOB_LOCKED_CLEARED", message=message, subject=job_id)
        except Exception as exc:  # still locked: the log says it
            if not is_locked(exc):
                raise
            log.warning(message, extra={"job": job_id})

    async def serve(self, waited: Waited | None = None) -> int:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.request_stop, sig.name)
        heartbeat = asyncio.create_task(self._heartbeat())
        waited = waited or Waited()  # a write lock another process holds at start is waited for (start_lock.py)
        await self._expire_stale_claims(waited)
        self.notifier.start()  # before boot: a crash-loop halt at boot is news too
        self.news.start()
        await self.controller.boot(waited)
        scheduler = build_scheduler(self.jobs(), on_stuck=self._job_stuck)
        scheduler.start()
        freeze_startup_heap()  # once booted: what start-up built lives as long as the process
        processor = asyncio.create_task(self.processor.run(self.stopping))
        await self.stopping.wait()
        try:
            await asyncio.wait_for(self._shutdown(processor, scheduler), SHUTDOWN_BUDGET_S)
        except TimeoutError:
            log.error("shutdown took too long; exiting anyway")
        heartbeat.cancel()
        self.news.stop()
        self.notifier.stop()
        log.info("engine stopped", extra={"state": self.controller.state.value})
        return 0

    async def _shutdown(self, processor: asyncio.Task[None], scheduler: AsyncIOScheduler) -> None:
        await processor
        scheduler.shutdown(wait=False)
        await self.controller.shutdown()

    async def _expire_stale_claims(self, waited: Waited) -> None:
        """Commands a previous process claimed and never finished: done if they had taken effect
        (with what they did), expired if not. Never replayed."""
        def expire() -> tuple[list[tuple[int, str]], list[queue.CommandRow]]:
            with self.db.write() as conn:
                return command_effects.close_interrupted(conn, now_ms()), queue.expire_stale_claims(conn, now_ms())

        budget = self.settings.start_lock_wait_s
        applied, stale = await patiently(expire, "stale claims", budget, waited)
        for command_id, kind in applied:
            log.warning("a command a previous process had claimed took effect before it stopped: closed as done "
                        "with what it did", extra={"command_id": command_id, "kind": kind})
        for command in stale:
            log.warning("expired a command a previous process had claimed",
                        extra={"command_id": command.id, "kind": command.kind})
        if any(c.kind == "kill" for c in stale) or any(kind == "kill" for _, kind in applied):
            await patiently(self.controller.latch_from_interrupted_kill, "kill latch", budget, waited)

    async def _heartbeat(self) -> None:
        """Every beat touches the heartbeat file (it cannot be locked out) and writes the
        database's heartbeat, which waits for nobody: while another process holds the write
        lock that write is skipped, and the file still shows the engine alive."""
        locked_since: float | None = None
        while True:
            touch_heartbeat(self.db.path)
            try:
                data_age_ms, last_pass_at = self.trading.heartbeat_facts()
                state_store.heartbeat(self.db, data_age_ms=data_age_ms, last_pass_at=last_pass_at)
                if locked_since is not None:
                    log.warning("the database write lock was released", extra={
                        "locked_s": round(asyncio.get_running_loop().time() - locked_since, 1)})
                    locked_since = None
            except Exception as exc:
                if not is_locked(exc):
                    log.exception("heartbeat write failed")
                elif locked_since is None:
                    locked_since = asyncio.get_running_loop().time()
                    log.warning("another process holds the database write lock: writes wait until it is "
                                "released (the engine keeps running)")
            await asyncio.sleep(HEARTBEAT_S)

    def jobs(self) -> list[Job]:
        own = [Job("retention", lambda: prune_history(self.db), IntervalTrigger(hours=1)),
               # A plain function: APScheduler runs it on its thread pool, off the loop.
               Job("daily_summary", self.notifier.check_summary, IntervalTrigger(seconds=SUMMARY_CHECK_S))]
        return own + self.trading.jobs()
