"""Notification reads for the Settings page (re-exported by storage.dashboard_queries.status_queries): recent deliveries
with their status, the notifier's health, and the alert codes seen lately (what one might mute)."""

from __future__ import annotations

from typing import Any

import pandas as pd
from sqlalchemy import text

from contracts.jsonsafe import read_stored
from storage.sqlite.db import Database, now_ms
from storage.sqlite.frames import frame, to_utc

DAY_MS = 86_400_000


def notifications(db: Database, limit: int = 20) -> pd.DataFrame:
    """The newest messages: created_at, channel, kind, title, status, attempts, last_attempt_at, error."""
    data = frame(db, """SELECT id, created_at, channel, kind, title, status, attempts, last_attempt_at, error
                        FROM notifications ORDER BY id DESC LIMIT :limit""", {"limit": limit})
    return to_utc(data, "created_at", "last_attempt_at")


def notification_health(db: Database, *, now: int | None = None) -> dict[str, Any]:
    """The last attempt (when, what, ok or failed, why), what waits, what failed in 24 h, what the
    rate cap or repeat window held back since the last message, when the last summary went out."""
    now = now_ms() if now is None else now
    with db.read() as conn:
        last = conn.execute(text("""SELECT kind, title, status, last_attempt_at, error FROM notifications
                                    WHERE last_attempt_at IS NOT NULL ORDER BY last_attempt_at DESC, id DESC
                                    LIMIT 1""")).mappings().first()
        queued = conn.execute(text("SELECT COUNT(*) FROM notifications WHERE status = 'queued'")).scalar_one()
        failed = conn.execute(text("""SELECT COUNT(*) FROM notifications WHERE status = 'failed'
                                      AND created_at >= :since"""), {"since": now - DAY_MS}).scalar_one()
        state = conn.execute(text("SELECT summary_at, suppressed FROM notifier_state WHERE id = 1")).first()
        digest = {str(c): int(n) for c, n in conn.execute(text("SELECT channel, SUM(count) FROM notify_digest "
                                                               "GROUP BY channel")).all()}
    held, _ = read_stored(state.suppressed if state is not None else None,
                          what="the notifier's held-back codes")
    if not isinstance(held, dict):
        held = {}
    return {"last": None if last is None else dict(last), "queued": int(queued), "failed_24h": int(failed),
            "held_back": held, "digest": digest, "summary_at": None if state is None else state.summary_at}


def alert_codes_seen(db: Database, *, days: int = 30, now: int | None = None) -> list[str]:
    since = (now_ms() if now is None else now) - days * DAY_MS
    with db.read() as conn:
        return [c for (c,) in conn.execute(text("SELECT DISTINCT code FROM alerts WHERE created_at >= :since "
                                                "ORDER BY code"), {"since": since})]
