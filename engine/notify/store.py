"""The notifier's reads and writes: its cursor over `alerts`, the `notifications` queue with each
message's delivery status, what it held back, and the figures of the daily summary.

Each function runs inside the caller's transaction (SQLAlchemy connection); storage/desk_status.py
supplies the figures the CLI's `status` shows, so the summary and `status` agree.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, text

from engine.notify.policy import DAY_MS, AlertRow
from storage import desk_status

MAX_BODY_CHARS = 4_000  # a message is a phone notification, not a report
RETENTION_MS = 30 * DAY_MS


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
    sets, params = ["updated_at = :now"], {"now": now}
    for column, value in (("alert_cursor", cursor), ("summary_at", summary_at), ("event_cursor", event_cursor)):
        if value is not None:
            sets.append(f"{column} = :{column}")
            params[column] = value
    if held is not None:
        sets.append("suppressed = :held")
        params["held"] = json.dumps(dict(held), sort_keys=True)
    conn.execute(text(f"UPDATE notifier_state SET {', '.join(sets)} WHERE id = 1"), params)


def newest_alert_id(conn: Connection) -> int:
    return int(conn.execute(text("SELECT COALESCE(MAX(id), 0) FROM alerts")).scalar_one())


def new_alerts(conn: Connection, cursor: int, limit: int) -> list[AlertRow]:
    rows = conn.execute(text("""SELECT id, created_at, level, source, code, message, subject FROM alerts
                                WHERE id > :cursor ORDER BY id LIMIT :limit"""), {"cursor": cursor, "limit": limit})
    return [AlertRow(*row) for row in rows]


def queued_count(conn: Connection, channel: str = "apprise") -> int:
    return int(conn.execute(text("SELECT COUNT(*) FROM notifications WHERE status = 'queued' AND channel = :c"),
                            {"c": channel}).scalar_one())


def repeated(conn: Connection, key: str, since: int) -> bool:
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


def forget_partial_targets(conn: Connection) -> None:
    """At start-up: which destinations a half-delivered message still lacked was counted against
    the previous NOTIFY_URLS; the next attempt goes to every destination again."""
    conn.execute(text("""UPDATE notifications SET targets = '' WHERE channel = 'apprise' AND status = 'queued'
                         AND targets != ''"""))


def prune(conn: Connection, now: int) -> int:
    return int(conn.execute(text("DELETE FROM notifications WHERE created_at < :cut AND status != 'queued'"),
                            {"cut": now - RETENTION_MS}).rowcount)


def summary_data(conn: Connection, db_path: Path, now: int) -> dict[str, Any]:
    """The last 24 hours in the current mode: equity and its change, fills, fees, alerts."""
    raw = conn.connection.driver_connection  # storage.desk_status reads with sqlite3
    status = desk_status.engine_status(raw, db_path, now=now)  # type: ignore[arg-type]
    mode, since = status.mode, now - DAY_MS
    snap = "SELECT equity, realized, fees FROM portfolio_snapshots WHERE mode = :m"
    latest = conn.execute(text(f"{snap} ORDER BY at DESC LIMIT 1"), {"m": mode}).first()
    base = (conn.execute(text(f"{snap} AND at <= :since ORDER BY at DESC LIMIT 1"), {"m": mode, "since": since}).first()
            or conn.execute(text(f"{snap} AND at > :since ORDER BY at LIMIT 1"), {"m": mode, "since": since}).first())
    fills = conn.execute(text("""SELECT COUNT(*), COALESCE(SUM(price * size / 1000000), 0), COALESCE(SUM(fee), 0)
                                 FROM fills WHERE mode = :m AND matched_at >= :since AND status != 'FAILED'"""),
                         {"m": mode, "since": since}).one()
    by_level = dict(conn.execute(text("SELECT level, COUNT(*) FROM alerts WHERE created_at >= :since GROUP BY level"),
                                 {"since": since}).all())
    codes = conn.execute(text("""SELECT code, COUNT(*) AS n FROM alerts WHERE created_at >= :since
                                 GROUP BY code ORDER BY n DESC, code LIMIT 5"""), {"since": since}).all()
    strategies = desk_status.per_strategy(raw, mode)  # type: ignore[arg-type]
    unacked, _ = desk_status.unacked_alerts(raw, limit=0)  # type: ignore[arg-type]
    micro = desk_status.MICRO

    def change(column: int) -> float | None:
        return None if latest is None or base is None else (latest[column] - base[column]) / micro

    return {
        "mode": mode, "state": status.state, "trading_state": status.trading_state,
        "kill_latched": status.kill_latched,
        "equity": None if latest is None else latest[0] / micro,
        "pnl_24h": change(0), "realized_24h": change(1), "fees_24h": change(2),
        "fills": int(fills[0]), "fill_volume": fills[1] / micro, "fill_fees": fills[2] / micro,
        "open_orders": sum(s["open_orders"] for s in strategies),
        "positions": sum(s["positions"] for s in strategies),
        "alerts_by_level": {str(k): int(v) for k, v in by_level.items()},
        "alert_codes": [(str(code), int(n)) for code, n in codes],
        "unacked_alerts": unacked,
        "strategies": strategies,
    }
