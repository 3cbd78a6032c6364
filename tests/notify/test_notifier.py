"""The notifier's steps on a real SQLite file, one at a time, with a recording sender in place of
apprise (the end-to-end test with a real receiver is test_notify_process.py): flapping alerts
are capped and counted, nothing is missed or repeated across a restart, retries back off and
reach only the destinations that failed, a final failure raises one NOTIFY_FAILED per run of
failures, the queue is bounded, the daily summary goes out once."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy import text

from contracts.settings import load_settings
from engine.notify import policy
from engine.notify.notifier import QUEUE_MAX, Notifier
from engine.notify.sender import Outcome
from storage.desk.audit import raise_alert
from storage.sqlite.db import Database
from storage.sqlite.migrations import migrate

START = 1_800_000_000_000


@dataclass
class Clock:
    now: int = START

    def __call__(self) -> int:
        return self.now


@dataclass
class RecordingSender:
    """Stands in for apprise: remembers each attempt and answers from a script (default: ok)."""

    usable: list[int] = field(default_factory=lambda: [0])
    script: list[Outcome] = field(default_factory=list)
    sent: list[tuple[str, str, list[int] | None]] = field(default_factory=list)

    def send(self, title: str, body: str, level: str, targets: list[int] | None, timeout_s: float) -> Outcome:
        self.sent.append((title, body, targets))
        return self.script.pop(0) if self.script else Outcome(list(targets or self.usable))


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    path = tmp_path / "n.db"
    migrate(path)
    database = Database(path)
    yield database
    database.dispose()


def _notifier(db: Database, clock: Clock, urls: str = "json://127.0.0.1:9/hook") -> Notifier:
    settings = load_settings({"TRADER_DB": str(db.path), "TRADER_ENV_FILE": str(db.path) + ".env",
                              "NOTIFY_URLS": urls})
    return Notifier(settings, db, clock=clock)


def _alert(db: Database, code: str, message: str, level: str = "critical", at: int | None = None,
           subject: str | None = None) -> None:
    with db.write() as conn:
        raise_alert(conn, level=level, source="test", code=code, message=message,  # type: ignore[arg-type]  # levels from the test's table
                    subject=subject)
        if at is not None:
            conn.execute(text("UPDATE alerts SET created_at = :at WHERE id = (SELECT MAX(id) FROM alerts)"), {"at": at})


def _set(db: Database, **values: object) -> None:
    with db.write() as conn:
        for key, value in values.items():
            conn.execute(text("""INSERT INTO settings (key, value, version, updated_at, updated_by)
                                 VALUES (:k, :v, 1, 0, 't') ON CONFLICT (key) DO UPDATE SET value = excluded.value"""),
                         {"k": key, "v": json.dumps(value)})


def _rows(db: Database, sql: str) -> list[tuple]:
    with db.read() as conn:
        return [tuple(r) for r in conn.execute(text(sql)).all()]


def _drain(notifier: Notifier, sender: RecordingSender) -> None:
    notifier._take_alerts()
    notifier._take_events()
    notifier._flush_digests()
    while notifier._deliver_next(sender):
        pass


def test_a_flapping_condition_is_capped_into_a_digest_and_repeats_are_counted_in_the_next_message(
        db: Database) -> None:
    clock, sender = Clock(), RecordingSender()
    _set(db, notify_max_per_hour=3, notify_dedup_minutes=10)
    notifier = _notifier(db, clock)
    for i in range(10):  # the same condition, flapping: down, up, down, ...
        _alert(db, "FEED_DOWN", "market feed down for 30 s", at=clock.now)
        _alert(db, "VENUE_DOWN", f"venue unreachable ({i})", at=clock.now)
    _drain(notifier, sender)
    # One FEED_DOWN (its repeats are duplicates), then VENUE_DOWN until the cap of 3 an hour.
    assert [title.split(" ·")[0] for title, _, _ in sender.sent] == [
        "CRITICAL FEED_DOWN", "CRITICAL VENUE_DOWN", "CRITICAL VENUE_DOWN"]
    assert "Held back since the last message: 1 alert (1 FEED_DOWN)" in sender.sent[2][1]
    # The 8 VENUE_DOWN over the cap are not dropped: one digest says so once 15 min have passed.
    clock.now += 15 * 60_000 - 1
    _drain(notifier, sender)
    assert len(sender.sent) == 3
    clock.now += 1
    _drain(notifier, sender)
    title, body, _ = sender.sent[-1]
    assert title.startswith("8 more alerts in the last 15 min")
    assert "latest: CRITICAL VENUE_DOWN: venue unreachable (9)" in body
    assert _rows(db, "SELECT COUNT(*) FROM notify_digest") == [(0,)]
    clock.now += policy.HOUR_MS + 1
    _alert(db, "VENUE_UP", "venue reachable again", "warning", at=clock.now)
    _drain(notifier, sender)
    title, body, _ = sender.sent[-1]
    assert title.startswith("WARNING VENUE_UP")
    assert "Held back since the last message: 8 alerts (8 FEED_DOWN)" in body
    assert _rows(db, "SELECT suppressed FROM notifier_state") == [("{}",)]


def test_nothing_is_missed_or_sent_twice_across_a_restart(db: Database) -> None:
    clock, sender = Clock(), RecordingSender()
    for i in range(5):
        _alert(db, "ORDER_REFUSED", f"refusal {i}", at=clock.now)
    first = _notifier(db, clock)
    first._take_alerts()
    assert first._deliver_next(sender) and first._deliver_next(sender)
    # The process dies here: three messages queued, cursor past all five alerts.
    _alert(db, "KILLED", "kill: news", at=clock.now)
    second = _notifier(db, clock)
    _drain(second, sender)
    bodies = [body.split("\n")[0] for _, body, _ in sender.sent]
    assert bodies == ["refusal 0", "refusal 1", "refusal 2", "refusal 3", "refusal 4", "kill: news"]
    assert _rows(db, "SELECT status, COUNT(*) FROM notifications GROUP BY status") == [("sent", 6)]


def test_a_failed_attempt_is_retried_after_a_back_off_to_the_failing_destination_only(db: Database) -> None:
    clock = Clock()
    sender = RecordingSender(usable=[0, 1], script=[Outcome([0], {1: "JSON json://127.0.0.1:9/b: failure"}),
                                                    Outcome([], {1: "JSON json://127.0.0.1:9/b: timeout"})])
    notifier = _notifier(db, clock, "json://127.0.0.1:9/a json://127.0.0.1:9/b")
    _alert(db, "KILLED", "kill: news", at=clock.now)
    _drain(notifier, sender)
    assert len(sender.sent) == 1 and sender.sent[0][2] is None  # first: every destination
    clock.now += 1_999
    assert not notifier._deliver_next(sender)  # the 2 s back-off is not over
    clock.now += 1
    assert notifier._deliver_next(sender) and sender.sent[1][2] == [1]  # only the one that failed
    clock.now += 3_999
    assert not notifier._deliver_next(sender)  # now 4 s
    clock.now += 1
    assert notifier._deliver_next(sender) and sender.sent[2][2] == [1]
    assert _rows(db, "SELECT status, attempts, targets FROM notifications") == [("sent", 3, "")]


def test_a_message_that_keeps_failing_raises_one_notify_failed_per_run_of_failures(db: Database) -> None:
    clock = Clock()
    failing = Outcome([], {0: "JSON json://127.0.0.1:9/hook: failure (A Connection error occurred)"})
    sender = RecordingSender(script=[failing] * (2 * policy.ATTEMPTS))
    notifier = _notifier(db, clock)
    _alert(db, "KILLED", "kill: one", at=clock.now)
    _alert(db, "KILLED", "kill: two", at=clock.now)
    for _ in range(3 * policy.ATTEMPTS):
        notifier._take_alerts()
        notifier._deliver_next(sender)
        clock.now += int(policy.BACKOFF_CAP_S * 1000)
    assert _rows(db, "SELECT status, attempts FROM notifications ORDER BY id") == [
        ("failed", policy.ATTEMPTS), ("failed", policy.ATTEMPTS)]
    failed = _rows(db, "SELECT level, message FROM alerts WHERE code = 'NOTIFY_FAILED'")
    assert len(failed) == 1 and failed[0][0] == "warning" and "A Connection error occurred" in failed[0][1]
    assert _rows(db, "SELECT COUNT(*) FROM notifications WHERE title LIKE '%NOTIFY_FAILED%'") == [(0,)]
    # A delivery gets through (the run of failures ends); the next failure is news again.
    _alert(db, "KILLED", "kill: three", at=clock.now)
    _drain(notifier, sender)
    sender.script = [failing] * policy.ATTEMPTS
    _alert(db, "KILLED", "kill: four", at=clock.now)
    for _ in range(policy.ATTEMPTS + 1):
        _drain(notifier, sender)
        clock.now += int(policy.BACKOFF_CAP_S * 1000)
    assert _rows(db, "SELECT COUNT(*) FROM alerts WHERE code = 'NOTIFY_FAILED'") == [(2,)]


def test_the_queue_is_bounded_and_waiting_alerts_stay_in_the_alerts_table(db: Database) -> None:
    clock = Clock()
    _set(db, notify_max_per_hour=1000)
    notifier = _notifier(db, clock)
    for i in range(QUEUE_MAX + 20):  # each about its own order: the alerts' burst limit does not fold them
        _alert(db, "ORDER_REFUSED", f"refusal {i}", at=clock.now, subject=f"order {i}")
    notifier._take_alerts()
    assert _rows(db, "SELECT COUNT(*) FROM notifications") == [(QUEUE_MAX,)]
    assert _rows(db, "SELECT alert_cursor FROM notifier_state") == [(QUEUE_MAX,)]  # the rest wait, unread
    notifier._take_alerts()
    assert _rows(db, "SELECT COUNT(*) FROM notifications") == [(QUEUE_MAX,)]
    sender = RecordingSender()
    for _ in range(3):
        _drain(notifier, sender)
    assert len(sender.sent) == QUEUE_MAX + 20
    assert [body.split("\n")[0] for _, body, _ in sender.sent] == [f"refusal {i}" for i in range(QUEUE_MAX + 20)]


def test_old_alerts_found_at_start_up_are_counted_not_sent(db: Database) -> None:
    clock, sender = Clock(), RecordingSender()
    for i in range(3):
        _alert(db, "ORDER_REFUSED", f"refusal {i}", at=clock.now - policy.STALE_MS - 60_000)
    _alert(db, "CRASH_LOOP", "crash loop: 5 unclean restarts", at=clock.now)
    _drain(_notifier(db, clock), sender)
    assert len(sender.sent) == 1
    assert "3 older than an hour when read" in sender.sent[0][1]


def test_the_daily_summary_goes_out_once_at_its_time(db: Database) -> None:
    clock = Clock(START)
    slot = policy.summary_slot(START, "07:00")
    assert slot is not None
    clock.now = slot - 1_000
    _set(db, notify_summary_utc="07:00")
    with db.write() as conn:  # the notifier sent yesterday's
        conn.execute(text("UPDATE notifier_state SET summary_at = :at, suppressed = '{\"FEED_DOWN\": 2}'"),
                     {"at": slot - policy.DAY_MS})
    notifier, sender = _notifier(db, clock), RecordingSender()
    notifier.check_summary()
    assert _rows(db, "SELECT COUNT(*) FROM notifications") == [(0,)]
    clock.now = slot + 1_000
    notifier.check_summary()
    notifier.check_summary()
    _drain(notifier, sender)
    assert len(sender.sent) == 1 and sender.sent[0][0].startswith("Daily summary")
    assert "2 FEED_DOWN" in sender.sent[0][1]
    assert _rows(db, "SELECT summary_at, suppressed FROM notifier_state") == [(slot, "{}")]


def test_a_repeat_is_held_back_within_the_repeat_window_and_sent_again_after_it(db: Database) -> None:
    clock, sender = Clock(), RecordingSender()
    _set(db, notify_dedup_minutes=10)
    notifier = _notifier(db, clock)
    _alert(db, "FEED_DOWN", "market feed down for 30 s", at=clock.now)
    _drain(notifier, sender)
    clock.now += 9 * 60_000  # within the 10 minutes: a duplicate
    _alert(db, "FEED_DOWN", "market feed down for 30 s", at=clock.now)
    _drain(notifier, sender)
    assert len(sender.sent) == 1
    clock.now += 60_000 + 1  # 10 minutes after the first went out, and a moment: news again
    _alert(db, "FEED_DOWN", "market feed down for 30 s", at=clock.now)
    _drain(notifier, sender)
    assert [title.split(" ·")[0] for title, _, _ in sender.sent] == ["CRITICAL FEED_DOWN", "CRITICAL FEED_DOWN"]
    assert "Held back since the last message: 1 alert (1 FEED_DOWN)" in sender.sent[1][1]
