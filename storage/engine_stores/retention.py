"""Bounded growth: finished commands and acknowledged alerts are pruned after a while.

The audit log is never pruned: it is the record of who changed what.
"""

from __future__ import annotations

from sqlalchemy import text

from storage.sqlite.db import Database, now_ms

DAY_MS = 86_400_000
COMMAND_RETENTION_DAYS = 30
ALERT_RETENTION_DAYS = 90
EVENT_RETENTION_DAYS = 2  # notify_events: the notifier reads them within seconds; older ones are history


def prune_history(db: Database, *, now: int | None = None) -> dict[str, int]:
    now = now_ms() if now is None else now
    with db.write() as conn:
        commands = conn.execute(
            text("DELETE FROM commands WHERE status IN ('done','failed','expired') AND created_at < :cut"),
            {"cut": now - COMMAND_RETENTION_DAYS * DAY_MS},
        ).rowcount
        alerts = conn.execute(
            text("DELETE FROM alerts WHERE acked_at IS NOT NULL AND created_at < :cut"),
            {"cut": now - ALERT_RETENTION_DAYS * DAY_MS},
        ).rowcount
        events = conn.execute(text("DELETE FROM notify_events WHERE at < :cut"),
                              {"cut": now - EVENT_RETENTION_DAYS * DAY_MS}).rowcount
    return {"commands": commands, "alerts": alerts, "notify_events": events}
