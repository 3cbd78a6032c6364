from __future__ import annotations

from storage.sqlite.migrations.common import UtilsDatabase, ddl

# Trade events for the notifier, written by triggers in the executor's own transaction, so no
# fill or order outcome is missed or seen twice and the trading code does not change for them:
# a new fill; an order the venue refused (REJECTED); a resting order (GTC/GTD) that ended
# CANCELED without our asking (our own cancels pass through CANCEL_PENDING; takes that end
# unfilled are not news).
EVENT_TRIGGERS = (
    """CREATE TRIGGER notify_fill AFTER INSERT ON fills WHEN NEW.status != 'FAILED'
       BEGIN INSERT INTO notify_events (at, kind, ref) VALUES (NEW.updated_at, 'fill', NEW.id); END""",
    """CREATE TRIGGER notify_refused_insert AFTER INSERT ON orders WHEN NEW.status = 'REJECTED'
       BEGIN INSERT INTO notify_events (at, kind, ref) VALUES (NEW.updated_at, 'refused', NEW.id); END""",
    """CREATE TRIGGER notify_refused AFTER UPDATE OF status ON orders
       WHEN NEW.status = 'REJECTED' AND OLD.status != 'REJECTED'
       BEGIN INSERT INTO notify_events (at, kind, ref) VALUES (NEW.updated_at, 'refused', NEW.id); END""",
    """CREATE TRIGGER notify_venue_cancel AFTER UPDATE OF status ON orders
       WHEN NEW.status = 'CANCELED' AND OLD.status IN ('LIVE', 'PARTIALLY_FILLED') AND NEW.tif IN ('GTC', 'GTD')
       BEGIN INSERT INTO notify_events (at, kind, ref) VALUES (NEW.updated_at, 'venue_cancel', NEW.id); END""",
)


def up(db: UtilsDatabase) -> None:
    """Notifications by channel and for trade events (engine/notify/, engine/telegram_bot/):
    each queued message names its channel (apprise, or the Telegram bot, which delivers its own);
    trade events (fills, refused orders, orders the venue cancelled) reach the notifier through
    `notify_events`; what the hourly cap held back waits in `notify_digest`, counted per channel,
    event and strategy, until it goes out as one digest. The table is rebuilt because SQLite
    cannot widen a CHECK constraint."""
    ddl(
        db,
        """
        CREATE TABLE notifications_new (
            id INTEGER PRIMARY KEY,
            created_at INTEGER NOT NULL,
            channel TEXT NOT NULL DEFAULT 'apprise' CHECK (channel IN ('apprise', 'telegram')),
            kind TEXT NOT NULL CHECK (kind IN ('alert', 'summary', 'test', 'event', 'digest')),
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
        INSERT INTO notifications_new (id, created_at, kind, alert_id, dedup_key, level, title, body, status,
                                       targets, attempts, next_attempt_at, last_attempt_at, error)
            SELECT id, created_at, kind, alert_id, dedup_key, level, title, body, status, targets, attempts,
                   next_attempt_at, last_attempt_at, error FROM notifications;
        DROP TABLE notifications;
        ALTER TABLE notifications_new RENAME TO notifications;
        CREATE INDEX ix_notifications_queue ON notifications (channel, status, next_attempt_at);
        CREATE INDEX ix_notifications_created ON notifications (created_at);
        CREATE TABLE notify_events (
            id INTEGER PRIMARY KEY,
            at INTEGER NOT NULL,
            kind TEXT NOT NULL CHECK (kind IN ('fill', 'refused', 'venue_cancel')),
            ref INTEGER NOT NULL
        );
        CREATE TABLE notify_digest (
            channel TEXT NOT NULL,
            event TEXT NOT NULL,
            strategy TEXT NOT NULL,
            count INTEGER NOT NULL,
            first_at INTEGER NOT NULL,
            last_at INTEGER NOT NULL,
            latest TEXT NOT NULL,
            PRIMARY KEY (channel, event, strategy)
        );
        ALTER TABLE notifier_state ADD COLUMN event_cursor INTEGER NOT NULL DEFAULT 0
        """,
    )
    for trigger in EVENT_TRIGGERS:  # one statement each: their bodies hold semicolons
        db.execute(trigger)
