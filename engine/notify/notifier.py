"""The notifier: alerts, trade events, digests, the daily summary and test messages, queued per
channel and delivered through apprise from a thread of its own, so a slow or dead destination
never touches the trading loop.

The durable queue is the `notifications` table; each message names its channel: `apprise`
(NOTIFY_URLS, delivered here) or `telegram` (delivered by the bot, engine/telegram_bot/, which
holds the token). The thread, about once a second:
- reads alerts and trade events past its cursors and queues what the operator chose, per
  channel (engine/notify/intake.py); the cursors move in the same transaction: after a crash
  nothing is missed and nothing is queued twice. What a channel's hourly cap holds back goes to
  its digest, sent once the first of it has waited `notify_digest_minutes`.
- delivers the oldest due apprise message: one attempt, with a time limit; a failed attempt is
  retried after a doubling back-off (to the destinations that failed only), and a message that
  fails ATTEMPTS times is marked failed with a NOTIFY_FAILED alert (one per run of failures; that
  alert is never itself notified).
- answers test requests (the `notify_test` command) first, with one attempt each.
The daily summary is queued by a scheduler job (`check_summary`, on APScheduler's thread pool).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import queue
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from contracts import notify_choices
from contracts.command_refusal import CommandRejected
from contracts.redaction import RedactingFilter
from contracts.settings import Settings, secret_values
from engine.notify import intake, policy
from engine.notify.intake import QUEUE_MAX as QUEUE_MAX
from engine.notify.intake import Intake
from engine.notify.policy import Rules
from storage.desk.audit import raise_alert
from storage.engine_stores import config_reads, notify_sources, notify_store
from storage.sqlite.db import Database, is_locked, now_ms

log = logging.getLogger("engine.notify")
T = TypeVar("T")

POLL_S = 1.0
BATCH = 200  # alerts (or trade events) judged per transaction
ATTEMPT_TIMEOUT_S = 15.0  # one delivery attempt, all destinations together
TEST_TIMEOUT_S = 8.0
TEST_WAIT_S = 10.0  # how long the notify_test command waits for its answer
PRUNE_EVERY_S = 3600.0
LOCK_RETRY_S = 0.2
LOCK_PATIENCE_S = 30.0  # the thread may wait for another process's write lock: it is off the loop


@dataclass
class TestRequest:
    message: str | None
    actor: str
    answer: concurrent.futures.Future[dict[str, Any]]


class Notifier:
    def __init__(self, settings: Settings, db: Database, *, clock: Callable[[], int] = now_ms,
                 poll_s: float = POLL_S):
        self.settings = settings
        self.db = db
        self.clock = clock
        self.poll_s = poll_s
        self.urls = [url.reveal() for url in settings.notify_urls]
        self.destinations = settings.notify_destinations()
        self.host = socket.gethostname()
        self._redactor = RedactingFilter(secret_values(settings))
        # The channels this process queues for: apprise with NOTIFY_URLS, the bot with its token.
        self.channels = frozenset(({"apprise"} if self.urls else set())
                                  | ({"telegram"} if settings.telegram is not None else set()))
        self.intake = Intake(self.channels, self.host, self._redactor.redact)
        self._tests: queue.Queue[TestRequest] = queue.Queue(maxsize=4)
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._cursor: int | None = None
        self._event_cursor: int | None = None
        self._failing = False  # a NOTIFY_FAILED alert is out for the current run of failures
        self._pruned_at = 0.0

    @property
    def enabled(self) -> bool:
        return bool(self.channels)

    # -- lifecycle (called on the event loop: nothing here blocks) -------------------------------------

    def start(self) -> None:
        if not self.enabled or self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name="notifier", daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = 2.0) -> None:
        """Stop after the attempt in flight (bounded: the thread is a daemon). What is still
        queued stays in the table for the next process."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout_s)

    def wake(self) -> None:
        self._wake.set()

    # -- the notify_test command (on the event loop) ---------------------------------------------------

    async def test(self, payload: dict[str, Any], actor: str) -> dict[str, Any]:
        """Send a test message now and answer with what each destination said."""
        if not self.urls:
            raise CommandRejected("NOTIFY_URLS is not set in .env: there is nowhere to send to "
                                  "(see docs/notifications.md), then restart the engine")
        request = TestRequest(payload.get("message"), actor, concurrent.futures.Future())
        try:
            self._tests.put_nowait(request)
        except queue.Full:
            raise CommandRejected("test messages are already waiting to be sent; try again in a moment") from None
        self.wake()
        try:
            return await asyncio.wait_for(asyncio.wrap_future(request.answer), TEST_WAIT_S)
        except TimeoutError:
            raise CommandRejected(f"no answer from the destinations within {TEST_WAIT_S:.0f} s; the delivery "
                                  "status on the Settings page shows how it ends") from None
        except NotDelivered as exc:
            raise CommandRejected(str(exc)) from None

    # -- the daily summary (a scheduler job, on APScheduler's thread pool) -----------------------------

    def check_summary(self) -> None:
        """Queue the daily summary once its time has come today and it has not gone out since."""
        if not self.enabled:
            return
        now = self.clock()

        def queue_summary() -> bool:
            with self.db.write() as conn:
                config = config_reads.load_runtime_config(conn)
                rules = Rules.from_config(config.values)
                choices = notify_choices.parse(config.notify_choices)
                state = notify_store.load_state(conn)
                slot = policy.summary_due(now, rules.summary_at, state.summary_at)
                if slot is None:
                    return False
                data = notify_sources.summary_data(conn, self.db.path, now)
                for channel in sorted(choices.any_channel("summary") & self.channels):
                    everyone = channel in choices.channels("summary")
                    lines = [s for s in data["strategies"]
                             if everyone or choices.covers("summary", channel, s["strategy"])]
                    title, body = policy.summary_message(data, self.host, state.held, lines)
                    notify_store.enqueue(conn, now, kind="summary", level="info", title=title,
                                  body=self._redactor.redact(body), channel=channel)
                notify_store.save_state(conn, now, summary_at=slot, held={})
                return True

        if self._patiently(queue_summary):
            log.info("daily summary queued")
            self.wake()

    # -- the thread ------------------------------------------------------------------------------------

    def _run(self) -> None:
        sender = self._sender() if self.urls else None
        if self.urls and sender is None:
            return
        self._patiently(lambda: self._write(notify_store.forget_partial_targets))
        log.info("notifier started", extra={"destinations": ", ".join(self.destinations),
                                            "channels": ", ".join(sorted(self.channels))})
        while not self._stop.is_set():
            busy = False
            try:
                if sender is not None:
                    self._answer_tests(sender)
                self._take_alerts()
                self._take_events()
                self._flush_digests()
                busy = sender is not None and self._deliver_next(sender)
                self._prune()
            except Exception as exc:
                if not is_locked(exc):
                    log.exception("notifier step failed; it tries again")
            if not busy:
                self._wake.wait(self.poll_s)
                self._wake.clear()

    def _sender(self) -> Any:
        logging.getLogger("apprise").setLevel(logging.WARNING)  # one INFO line per send is noise
        try:
            from engine.notify.sender import Sender

            sender = Sender(self.urls, self._redactor.redact)
        except Exception as exc:  # apprise itself failed to load: say so, and stop
            log.exception("notifications cannot start")
            self._alert("NOTIFY_CONFIG", f"notifications cannot start: {type(exc).__name__}: {exc}")
            return None
        for problem in sender.problems:
            self._alert("NOTIFY_CONFIG", problem)
        return sender

    def _answer_tests(self, sender: Any) -> None:
        while True:
            try:
                request = self._tests.get_nowait()
            except queue.Empty:
                return
            if request.answer.cancelled():
                continue
            now = self.clock()
            title, body = policy.probe_message(self.host, request.actor, request.message, now)
            outcome = sender.send(title, body, "info", None, TEST_TIMEOUT_S)
            error = None if outcome.ok else outcome.error()

            def record(conn: Any, now: int = now, title: str = title, body: str = body,
                       sent: bool = outcome.ok, error: str | None = error) -> int:
                row = notify_store.enqueue(conn, now, kind="test", level="info", title=title, body=body)
                notify_store.record_attempt(conn, row, self.clock(), status="sent" if sent else "failed",
                                            attempts=1, error=error)
                return row

            row = self._patiently(lambda: self._write(record))
            try:  # the command may have stopped waiting (a kill interrupted it, or its time ran out)
                if outcome.ok:
                    request.answer.set_result({"delivered": len(outcome.delivered),
                                               "destinations": self.destinations, "notification_id": row})
                else:
                    request.answer.set_exception(NotDelivered(
                        f"not delivered to {len(outcome.failed)} of {len(sender.usable) or len(self.urls)} "
                        f"destination(s): {error}"))
            except concurrent.futures.InvalidStateError:
                pass

    def _take_alerts(self) -> None:
        """New alerts -> queued messages (or held back, counted), cursor moved, in one transaction."""
        self._cursor = self._take(self._cursor, notify_sources.newest_alert_id, "cursor", intake.take_alerts)

    def _take_events(self) -> None:
        """New trade events (fills, refusals, the venue's cancels) -> queued messages, cursor moved."""
        self._event_cursor = self._take(self._event_cursor, notify_sources.newest_event_id, "event_cursor",
                                        intake.take_events)

    def _take(self, known: int | None, newest: Callable[[Any], int], field: str,
              take: Callable[..., int]) -> int | None:
        if known is not None:
            with self.db.read() as conn:
                if newest(conn) <= known:
                    return known  # the common case: nothing new, and no write lock taken
        now = self.clock()
        with self.db.write() as conn:
            state = notify_store.load_state(conn)
            before = getattr(state, field)
            config = config_reads.load_runtime_config(conn)
            self.intake.held = dict(state.held)
            cursor = take(self.intake, conn, now, Rules.from_config(config.values),
                          notify_choices.parse(config.notify_choices), before, BATCH)
            if cursor != before:
                notify_store.save_state(conn, now, held=self.intake.held, **{field: cursor})
        return cursor

    def _flush_digests(self) -> None:
        now = self.clock()
        with self.db.read() as conn:
            if not any(notify_store.held(conn, channel) for channel in self.channels):
                return
        with self.db.write() as conn:
            config = config_reads.load_runtime_config(conn)
            wait_ms = config.notify_digest_minutes * 60_000
            intake.flush_digests(self.intake, conn, now, Rules.from_config(config.values), wait_ms)

    def _deliver_next(self, sender: Any) -> bool:
        now = self.clock()
        with self.db.read() as conn:
            message = notify_store.next_due(conn, now, "apprise")
        if message is None:
            return False
        outcome = sender.send(message.title, message.body, message.level, message.targets, ATTEMPT_TIMEOUT_S)
        attempts = message.attempts + 1
        done = self.clock()
        if outcome.ok:
            fields: dict[str, Any] = {"status": "sent"}
        elif attempts >= policy.ATTEMPTS:
            fields = {"status": "failed", "error": outcome.error()}
        else:
            retry_at = done + int(policy.backoff_s(attempts) * 1000)
            fields = {"status": "queued", "error": outcome.error(), "next_at": retry_at,
                      "targets": sorted(outcome.failed)}

        def record(conn: Any) -> None:
            notify_store.record_attempt(conn, message.id, done, attempts=attempts, **fields)
            if fields["status"] == "failed" and not self._failing:
                raise_alert(conn, level="warning", source="notifier", code="NOTIFY_FAILED",
                            message=f"a {message.kind} notification ({message.title}) was not delivered after "
                                    f"{attempts} attempts: {fields['error']}. Further failures are listed on the "
                                    "Settings page until a message gets through.")

        self._patiently(lambda: self._write(record))
        if fields["status"] == "failed":
            self._failing = True
            log.warning("notification not delivered", extra={"notification_id": message.id,
                                                             "error": fields["error"]})
        elif outcome.ok:
            self._failing = False
        return True

    def _prune(self) -> None:
        if time.monotonic() - self._pruned_at >= PRUNE_EVERY_S:
            self._pruned_at = time.monotonic()
            self._write(lambda conn: notify_store.prune(conn, self.clock()))

    # -- helpers ---------------------------------------------------------------------------------------

    def _write(self, step: Callable[[Any], T]) -> T:
        with self.db.write() as conn:
            return step(conn)

    def _patiently(self, step: Callable[[], T]) -> T:
        """Run `step`, waiting out another process's write lock (this thread may wait; the
        trading loop never does). Anything else raises at once."""
        deadline = time.monotonic() + LOCK_PATIENCE_S
        while True:
            try:
                return step()
            except Exception as exc:
                if not is_locked(exc) or time.monotonic() > deadline or self._stop.is_set():
                    raise
            time.sleep(LOCK_RETRY_S)

    def _alert(self, code: str, message: str) -> None:
        try:
            self._patiently(lambda: self._write(lambda conn: raise_alert(
                conn, level="warning", source="notifier", code=code, message=message)))
        except Exception:
            log.exception("could not raise a notifier alert", extra={"code": code})


class NotDelivered(Exception):
    """A test message reached none or only some of the destinations; the message says why."""
