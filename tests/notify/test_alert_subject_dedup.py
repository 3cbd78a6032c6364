"""Repeats are de-duplicated by what an alert is about (issue 27): the same TAKE_PROFIT (or
STOP_LOSS) alert about one strategy's exit of one token, raised again and again while nothing
sellable can be placed, carries a different mark in each message, so de-duplicating by the
message let every one through (10+ a minute). With a subject, the notifier sends it once per
de-duplication window; an alert about another position, or with no subject, is judged as before."""

from __future__ import annotations

import pytest

from engine.trading.exits.strategy_exits import exit_subject
from storage.desk import audit
from storage.desk.audit import raise_alert
from storage.sqlite.db import Database
from tests.notify.test_notifier import (
    Clock,
    RecordingSender,
    _alert,
    _drain,
    _notifier,
    _rows,
    _set,
    db,  # noqa: F401  (the fixture: a migrated database)
)


def _exit_alert(db: Database, strategy: str, token: str, mark: float, at: int) -> None:
    with db.write() as conn:
        raise_alert(conn, level="warning", source="risk", code="TAKE_PROFIT",
                    message=f"strategy '{strategy}' take profit: mark {mark:.2f} is {mark - 0.5:.2f} above the "
                            "entry 0.50; nothing sent; not sold: no bid within the max slippage",
                    subject=exit_subject((strategy, token)))
        conn.exec_driver_sql("UPDATE alerts SET created_at = ? WHERE id = (SELECT MAX(id) FROM alerts)", (at,))


def test_the_same_exit_alert_with_a_moving_price_is_sent_once(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    clock, sender = Clock(), RecordingSender()
    monkeypatch.setattr(audit, "now_ms", clock)  # the alerts' own burst limit reads the same clock
    _set(db, notify_dedup_minutes=10, notify_max_per_hour=100)
    notifier = _notifier(db, clock)
    for i in range(12):  # a minute and a half of repeats, each at another mark (under the alerts' burst limit)
        clock.now += 7_000
        _exit_alert(db, "mm", "Y1", 0.60 + i / 100, clock.now)
        _drain(notifier, sender)
    _exit_alert(db, "mm", "Y2", 0.61, clock.now)  # another position: its own news
    _drain(notifier, sender)
    assert [title.split(" ·")[0] for title, _, _ in sender.sent] == ["WARNING TAKE_PROFIT", "WARNING TAKE_PROFIT"]
    assert "mark 0.60" in sender.sent[0][1] and "mark 0.61" in sender.sent[1][1]
    assert "Held back since the last message: 11 alerts (11 TAKE_PROFIT)" in sender.sent[1][1]  # counted, not lost
    assert _rows(db, "SELECT COUNT(*), COUNT(DISTINCT subject) FROM alerts") == [(13, 2)]  # all kept, for the page
    clock.now += 10 * 60_000 + 1  # past the window: a reminder goes out
    _exit_alert(db, "mm", "Y1", 0.70, clock.now)
    _drain(notifier, sender)
    assert len(sender.sent) == 3 and "mark 0.70" in sender.sent[2][1]


def test_alerts_without_a_subject_are_still_told_apart_by_message(db: Database) -> None:
    clock, sender = Clock(), RecordingSender()
    _set(db, notify_dedup_minutes=10, notify_max_per_hour=100)
    notifier = _notifier(db, clock)
    for message in ("venue unreachable (1)", "venue unreachable (2)", "venue unreachable (2)"):
        _alert(db, "VENUE_DOWN", message, at=clock.now)
        _drain(notifier, sender)
    assert len(sender.sent) == 2


def test_an_exit_subject_names_the_strategy_and_the_token() -> None:
    assert exit_subject(("mm", "123")) == "exit:mm:123" != exit_subject(("mm", "124"))
