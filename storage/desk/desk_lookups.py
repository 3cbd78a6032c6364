"""Small lookups for the fast command line and the Telegram bot, read with sqlite3 alone (like
storage/desk/desk_status.py and desk_lists.py, so neither imports SQLAlchemy): which alerts wait for
acknowledgement, a strategy's version and whether it is enabled, the strategies' names.
"""

from __future__ import annotations

import sqlite3

from storage.desk.desk_status import one, rows

STRATEGY_NAMES_SHOWN = 30


def unacked_alert_ids(conn: sqlite3.Connection) -> list[int]:
    """Every alert not acknowledged yet (what `alerts --ack all` acknowledges)."""
    return [int(r["id"]) for r in rows(conn, "SELECT id FROM alerts WHERE acked_at IS NULL")]


def strategy_version(conn: sqlite3.Connection, name: str) -> tuple[int, bool] | None:
    """(version, enabled) of the strategy `name`; None when there is none."""
    row = one(conn, "SELECT version, enabled FROM strategies WHERE name = ? AND deleted_at IS NULL", (name,))
    return None if row is None else (int(row["version"]), bool(row["enabled"]))


def strategy_names(conn: sqlite3.Connection) -> list[str]:
    """The strategies' names in order, the first STRATEGY_NAMES_SHOWN (what fits a phone's list)."""
    return [r["name"] for r in rows(conn, "SELECT name FROM strategies WHERE deleted_at IS NULL ORDER BY name LIMIT ?",
                                    (STRATEGY_NAMES_SHOWN,))]
