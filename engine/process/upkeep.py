"""The database keeps itself (issue 91): the engine's scheduled upkeep and the `upkeep` command.

Every CHECK_S a job on the scheduler's thread pool (never the trading loop's thread) asks whether an
upkeep is due (`db_upkeep_minutes` since the last began) and runs it: PRAGMA optimize, the audit rows
older than a year moved to the archive beside the database, the free pages given back past
`db_reclaim_free_pct` (storage/engine_stores/db_upkeep.py: each step a short transaction of its own,
so the loop's writes, a kill's among them, wait a few milliseconds at most, and the dashboard reads
on). The operator's `upkeep` command (the Settings page, `python -m engine upkeep`) starts one at once
on a thread of its own and answers: the command queue never waits for it. One run at a time.

At the engine's start, before trading, a database made before incremental vacuum whose free share is
past the setting is converted by one full VACUUM: the one step that holds the write lock for the
whole file, so only where no loop waits for it.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from apscheduler.triggers.interval import IntervalTrigger

from contracts.command_refusal import CommandRejected
from contracts.runtime_settings import RuntimeConfig
from engine.trading.passes.jobs import Job
from storage.desk.audit import raise_alert
from storage.engine_stores import config_reads, db_upkeep
from storage.sqlite.db import Database

log = logging.getLogger("engine.process.upkeep")
CHECK_S = 15  # how often the schedule is looked at (a run is due every `db_upkeep_minutes`)


class DbUpkeep:
    def __init__(self, db: Database):
        self.db = db
        self._busy = threading.Lock()

    def config(self) -> RuntimeConfig:
        with self.db.read() as conn:
            return config_reads.load_runtime_config(conn)

    def job(self) -> Job:
        return Job("db_upkeep", self.scheduled, IntervalTrigger(seconds=CHECK_S))

    def scheduled(self) -> None:
        config = self.config()
        conn = db_upkeep.connect(self.db.path)
        try:
            due = db_upkeep.due(conn, config.db_upkeep_minutes * 60_000)
        finally:
            conn.close()
        if due:
            self.run("schedule", config)

    def run(self, trigger: str, config: RuntimeConfig, *, full_vacuum: bool = False) -> dict[str, Any] | None:
        """One upkeep now, unless one is under way (None then)."""
        if not self._busy.acquire(blocking=False):
            return None
        try:
            done = db_upkeep.run(self.db.path, trigger, config.db_reclaim_free_pct, full_vacuum=full_vacuum)
        finally:
            self._busy.release()
        log.info("database upkeep", extra={k: done[k] for k in ("trigger", "freed_pages", "archived_rows",
                                                                 "size_before", "size_after", "note", "error")})
        if done["error"]:
            with self.db.write() as conn:
                raise_alert(conn, level="warning", source="engine", code="DB_UPKEEP_FAILED", subject="database",
                            message=f"the database's upkeep ({trigger}) stopped at a step: {done['error']}; it is "
                                    "tried again at its next run (Settings page: Database)")
        return done

    async def command(self, payload: dict[str, Any], actor: str) -> dict[str, Any]:
        """The `upkeep` command: started now on a thread of its own; its result is its row in db_upkeep."""
        if self._busy.locked():
            raise CommandRejected("the database's upkeep is already under way: its result shows on the Settings "
                                  "page (Database) when it is done")
        config = self.config()
        threading.Thread(target=self.run, args=(f"command:{actor}", config), name="db-upkeep", daemon=True).start()
        return {"started": True, "reclaim_free_pct": config.db_reclaim_free_pct}

    def at_start(self) -> None:
        """Before trading: the one full VACUUM a database made before incremental vacuum needs, when its free
        pages are past the setting (nothing else writes yet; the dashboard reads on)."""
        config = self.config()
        conn = db_upkeep.connect(self.db.path)
        try:
            found = db_upkeep.facts(conn, self.db.path)
        finally:
            conn.close()
        if not found.incremental and found.free_share * 100 >= config.db_reclaim_free_pct:
            log.warning("converting the database to incremental vacuum before trading (one full VACUUM)",
                        extra={"size_bytes": found.size_bytes, "free_pages": found.free_pages})
            self.run("start", config, full_vacuum=True)

