"""Bounded growth: finished commands and acknowledged alerts are pruned after a while.

The audit log is never pruned: it is the record of who changed what. Each table is pruned in
batches, each its own short transaction with a pause after (storage/sqlite/db.py): a kill never
waits behind a prune. Retention also undoes a session import whose process died mid-way.
"""

from __future__ import annotations

import time

from sqlalchemy import text

from storage.research.import_jobs import undo_interrupted
from storage.sqlite.db import LONG_WRITE_BATCH, LONG_WRITE_PAUSE_S, Database, now_ms

DAY_MS = 86_400_000
COMMAND_RETENTION_DAYS = 30
ALERT_RETENTION_DAYS = 90
EVENT_RETENTION_DAYS = 2  # notify_events: the notifier reads them within seconds; older ones are history


# Each table's rows past retention (the table names and conditions are ours, never input).
PRUNED = {
    "commands": ("commands", "status IN ('done','failed','expired') AND created_at < :cut", COMMAND_RETENTION_DAYS),
    "alerts": ("alerts", "acked_at IS NOT NULL AND created_at < :cut", ALERT_RETENTION_DAYS),
    "notify_events": ("notify_events", "at < :cut", EVENT_RETENTION_DAYS),
}


def prune_history(db: Database, *, now: int | None = None) -> dict[str, int]:
    now = now_ms() if now is None else now
    removed = {name: _prune(db, table, where, now - days * DAY_MS) for name, (table, where, days) in PRUNED.items()}
    removed["interrupted_imports"] = undo_interrupted(db)
    return removed


def _prune(db: Database, table: str, where: str, cut: int) -> int:
    removed = 0
    while True:
        with db.write() as conn:
            gone = conn.execute(text(f"DELETE FROM {table} WHERE rowid IN (SELECT rowid FROM {table} WHERE {where} "
                                     "LIMIT :n)"), {"cut": cut, "n": LONG_WRITE_BATCH}).rowcount
        removed += gone
        if gone < LONG_WRITE_BATCH:
            return removed
        time.sleep(LONG_WRITE_PAUSE_S)
