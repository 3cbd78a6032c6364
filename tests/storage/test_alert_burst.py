"""Alerts from one cause are bounded (issue 34): past a burst of one code and subject within a
window, the newest such alert counts the rest instead of a row each, and what a page and
`engine status` show of it says how many more there were. Another cause, or the same cause once
the window has passed, raises its own alert again."""

from __future__ import annotations

import sqlite3

import pytest

from storage.dashboard_queries import status_queries as queries
from storage.desk import audit, desk_status
from storage.sqlite.db import Database


class Clock:
    def __init__(self) -> None:
        self.ms = 1_800_000_000_000

    def __call__(self) -> int:
        return self.ms


def _raise(db: Database, code: str, message: str, subject: str | None = None) -> bool:
    with db.write() as conn:
        return audit.raise_alert(conn, level="warning", source="test", code=code, message=message, subject=subject)


def _rows(db: Database) -> list[tuple[str, str | None, int]]:
    with db.read() as conn:
        return [tuple(r) for r in conn.exec_driver_sql("SELECT code, subject, repeats FROM alerts ORDER BY id")]


def test_a_flood_from_one_cause_is_one_burst_of_alerts_and_a_count(db: Database, monkeypatch: pytest.MonkeyPatch,
                                                                    tmp_path) -> None:
    clock = Clock()
    monkeypatch.setattr(audit, "now_ms", clock)
    raised = [_raise(db, "TELEGRAM_STRANGER", f"the bot ignored a message from chat {n}") for n in range(2_000)]
    assert raised == [True] * audit.BURST + [False] * (2_000 - audit.BURST)
    rows = _rows(db)
    assert len(rows) == audit.BURST and rows[-1] == ("TELEGRAM_STRANGER", None, 2_000 - audit.BURST)

    assert _raise(db, "FEED_FROZEN", "the market channel is frozen")  # another cause: its own alert
    assert _raise(db, "TELEGRAM_STRANGER", "x", subject="chat 1")  # another subject of the code: its own too
    clock.ms += audit.WINDOW_MS  # the window has passed: the cause may alert again
    assert _raise(db, "TELEGRAM_STRANGER", "the bot ignored a message from chat 2001")

    shown = queries.alerts(db, limit=50)
    folded = shown[shown["message"].str.contains("more like it")]
    assert len(folded) == 1 and f"(and {2_000 - audit.BURST} more like it, the last at" in folded.iloc[0]["message"]
    with sqlite3.connect(tmp_path / "desk.db") as conn:
        conn.row_factory = sqlite3.Row
        count, newest = desk_status.unacked_alerts(conn, limit=50)
    assert count == audit.BURST + 3
    assert sum("more like it" in a["message"] for a in newest) == 1
