"""The notifications queue as the Telegram bot keeps it: what waited too long for its channel is
marked failed with the reason, and nothing else (other channels, sent messages, newer ones)."""

from __future__ import annotations

from sqlalchemy import text

from storage.engine_stores import notify_store
from storage.sqlite.db import Database

WHY = "older than an hour when the bot read it"


def _queue(db: Database, at: int, channel: str, status: str = "queued") -> int:
    with db.write() as conn:
        return notify_store.enqueue(conn, at, kind="event", level="info", title=f"t{at}", body="b", channel=channel,
                                    status=status)


def _statuses(db: Database) -> dict[int, tuple[str, str | None]]:
    with db.read() as conn:
        return {r.id: (r.status, r.error) for r in conn.execute(text("SELECT id, status, error FROM notifications"))}


def test_only_what_waited_too_long_for_the_channel_is_failed(db: Database) -> None:
    old = _queue(db, 100, "telegram")
    new = _queue(db, 500, "telegram")
    other = _queue(db, 100, "apprise")
    sent = _queue(db, 100, "telegram", status="sent")
    with db.read() as conn:
        assert notify_store.any_queued_before(conn, "telegram", 101) is True
        assert notify_store.any_queued_before(conn, "telegram", 100) is False
    with db.write() as conn:
        assert notify_store.fail_queued_before(conn, "telegram", 400, WHY) == 1
    assert _statuses(db) == {old: ("failed", WHY), new: ("queued", None), other: ("queued", None),
                             sent: ("sent", None)}
    with db.read() as conn:
        assert notify_store.any_queued_before(conn, "telegram", 400) is False
        due = notify_store.next_due(conn, 1_000, "telegram")
    assert due is not None and due.id == new
