from __future__ import annotations

from storage.sqlite.migrations.common import UtilsDatabase, ddl, now_ms


def up(db: UtilsDatabase) -> None:
    """Notifications (engine/notify/): each message queued for delivery through apprise (an alert,
    the daily summary, a test) with its delivery status, and the notifier's own progress: the
    last alert it has handled (so none is missed or repeated across restarts), when the last daily
    summary went out, and how many alerts the rate cap or de-duplication held back since the last
    message. Alerts already in the table are history: the cursor starts after them."""
    now = now_ms()
    ddl(
        db,
        f"""
        CREATE TABLE notifications (
            id INTEGER PRIMARY KEY,
            created_at INTEGER NOT NULL,
            kind TEXT NOT NULL CHECK (kind IN ('alert', 'summary', 'test')),
            alert_id INTEGER,
            dedup_key TEXT,
            level TEXT NOT NULL DEFAULT 'info' CHECK (level IN ('info', 'warning', 'critical')),
            title TEXT NOT NULL,
            body TEXT NOT NULL,
            status TEXT NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'sent', 'failed')),
            targets TEXT NOT NULL DEFAULT '',
            attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt_at INTEGER,
            last_attempt_at INTEGER,
            error TEXT
        );
        CREATE INDEX ix_notifications_queue ON notifications (status, next_attempt_at);
        CREATE INDEX ix_notifications_created ON notifications (created_at);
        CREATE TABLE notifier_state (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            alert_cursor INTEGER NOT NULL DEFAULT 0,
            summary_at INTEGER,
            suppressed TEXT NOT NULL DEFAULT '{{}}',
            updated_at INTEGER NOT NULL
        );
        INSERT INTO notifier_state (id, alert_cursor, summary_at, updated_at)
            SELECT 1, COALESCE(MAX(id), 0), {now}, {now} FROM alerts
        """,
    )
