"""The notifier's own tables: its state (cursors over `alerts` and `notify_events`, what it held
back, when the last summary went out), the `notifications` queue with each message's delivery
status per channel, and `notify_digest`, what a channel's hourly cap held back.

Both the engine's notifier (channel `apprise`) and the Telegram bot (channel `telegram`) keep the
queue through these functions, so the two channels keep one table the same way. Each function
runs inside the caller's transaction (a connection from Database.read() or write()).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, text

DAY_MS = 86_400_000
MAX_BODY_CHARS = 4_000  # a message is a phone notification, not a report
RETENTION_MS = 30 * DAY_MS
DIGEST_LINE_CHARS = 200


@dataclass(frozen=True)
class State:
    cursor: int
    summary_at: int | None
    held: dict[str, int]
    event_cursor: int = 0


@dataclass(frozen=True)
class Queued:
    id: int
    kind: str
    level: str
    title: str
    body: str
    attempts: int
    targets: list[int] | None  # None: every destination


@dataclass(frozen=True)
class Held:
    """What a channel's digest holds of one event for one strategy."""

    event: str
    strategy: str
    count: int
    first_at: int
    last_at: int
    latest: str


def load_state(conn: Connection) -> State:
    row = conn.execute(text("""SELECT alert_cursor, summary_at, suppressed, event_cursor FROM notifier_state
                               WHERE id = 1""")).one()
    try:
        held = {str(k): int(v) for k, v in json.loads(row.suppressed or "{}").items()}
    except (ValueError, AttributeError, TypeError):
        held = {}
    return State(int(row.alert_cursor), row.summary_at, held, int(row.event_cursor))


def save_state(conn: Connection, now: int, *, cursor: int | None = None, summary_at: int | None = None,
               held: Mapping[str, int] | None = None, event_cursor: int | None = None) -> None:
    sets, params = ["updated_at = :now"], dict[str, Any](now=now)
    for column, value in (("alert_cursor", cursor), ("summary_at", summary_at), ("event_cursor", event_cursor)):
        if value is not None:
            sets.append(f"{column} = :{column}")
            params[column] = value
    if held is not None:
        sets.append("suppressed = :held")
        params["held"] = json.dumps(dict(held), sort_keys=True)
    conn.execute(text(f"UPDATE notifier_state SET {', '.join(sets)} WHERE id = 1"), params)


def queued_count(conn: Connection, channel: str = "apprise") -> int:
    return int(conn.execute(text("SELECT COUNT(*) FROM notifications WHERE status = 'queued' AND channel = :c"),
                            {"c": channel}).scalar_one())


def repeated(conn: Connection, key: str, since: int) -> bool:
    """Whether an alert message with this dedup key was queued since `since`."""
    return conn.execute(text("""SELECT 1 FROM notifications WHERE kind = 'alert' AND created_at >= :since
                                AND dedup_key = :key LIMIT 1"""), {"since": since, "key": key}).first() is not None


def sent_since(conn: Connection, since: int, channel: str = "apprise") -> int:
    """Alert and trade-event messages queued for `channel` since `since` (what the hourly cap counts)."""
    return int(conn.execute(text("""SELECT COUNT(*) FROM notifications WHERE channel = :c
                                    AND kind IN ('alert', 'event') AND created_at >= :since"""),
                            {"since": since, "c": channel}).scalar_one())


def enqueue(conn: Connection, now: int, *, kind: str, level: str, title: str, body: str,
            alert_id: int | None = None, dedup_key: str | None = None, status: str = "queued",
            channel: str = "apprise") -> int:
    return int(conn.execute(text("""INSERT INTO notifications (created_at, channel, kind, alert_id, dedup_key, level,
                                        title, body, status)
                                    VALUES (:now, :channel, :kind, :alert, :key, :level, :title, :body, :status)
                                    RETURNING id"""),
                            {"now": now, "channel": channel, "kind": kind, "alert": alert_id, "key": dedup_key,
                             "level": level, "title": title[:200], "body": body[:MAX_BODY_CHARS],
                             "status": status}).scalar_one())


def next_due(conn: Connection, now: int, channel: str = "apprise") -> Queued | None:
    row = conn.execute(text("""SELECT id, kind, level, title, body, attempts, targets FROM notifications
                               WHERE channel = :c AND status = 'queued'
                               AND (next_attempt_at IS NULL OR next_attempt_at <= :now)
                               ORDER BY id LIMIT 1"""), {"now": now, "c": channel}).first()
    if row is None:
        return None
    targets = [int(t) for t in row.targets.split(",") if t] if row.targets else None
    return Queued(row.id, row.kind, row.level, row.title, row.body, row.attempts, targets)


def record_attempt(conn: Connection, notification_id: int, now: int, *, status: str, attempts: int,
                   targets: list[int] | None = None, next_at: int | None = None, error: str | None = None) -> None:
    conn.execute(text("""UPDATE notifications SET status = :status, attempts = :attempts, last_attempt_at = :now,
                             next_attempt_at = :next_at, targets = :targets, error = :error WHERE id = :id"""),
                 {"status": status, "attempts": attempts, "now": now, "next_at": next_at,
                  "targets": ",".join(map(str, targets or [])), "error": error, "id": notification_id})


def any_queued_before(conn: Connection, channel: str, before: int) -> bool:
    """Whether a message for `channel` still waits that was queued before `before`."""
    return conn.execute(text("""SELECT 1 FROM notifications WHERE channel = :c AND status = 'queued'
                                AND created_at < :before LIMIT 1"""), {"c": channel, "before": before}).first() \
        is not None


def fail_queued_before(conn: Connection, channel: str, before: int, error: str) -> int:
    """Mark what waits for `channel` since before `before` failed with `error`; returns how many."""
    return int(conn.execute(text("""UPDATE notifications SET status = 'failed', error = :error
                                    WHERE channel = :c AND status = 'queued' AND created_at < :before"""),
                            {"c": channel, "before": before, "error": error}).rowcount or 0)


def forget_partial_targets(conn: Connection) -> None:
    """At start-up: which destinations a half-delivered message still lacked was counted against
    the previous NOTIFY_URLS; the next attempt goes to every destination again."""
    conn.execute(text("""UPDATE notifications SET targets = '' WHERE channel = 'apprise' AND status = 'queued'
                         AND targets != ''"""))


def prune(conn: Connection, now: int) -> int:
    return int(conn.execute(text("DELETE FROM notifications WHERE created_at < :cut AND status != 'queued'"),
                            {"cut": now - RETENTION_MS}).rowcount)


def hold(conn: Connection, *, channel: str, event: str, strategy: str, line: str, now: int) -> None:
    """Count one more held-back message in `channel`'s digest, keeping the latest one's line."""
    conn.execute(text("""INSERT INTO notify_digest (channel, event, strategy, count, first_at, last_at, latest)
                         VALUES (:c, :e, :s, 1, :now, :now, :line)
                         ON CONFLICT (channel, event, strategy) DO UPDATE SET count = count + 1,
                             last_at = excluded.last_at, latest = excluded.latest"""),
                 {"c": channel, "e": event, "s": strategy, "now": now, "line": line[:DIGEST_LINE_CHARS]})


def held(conn: Connection, channel: str) -> list[Held]:
    rows = conn.execute(text("""SELECT event, strategy, count, first_at, last_at, latest FROM notify_digest
                                WHERE channel = :c"""), {"c": channel}).all()
    return [Held(*row) for row in rows]


def clear_digest(conn: Connection, channel: str) -> None:
    conn.execute(text("DELETE FROM notify_digest WHERE channel = :c"), {"c": channel})
