"""The notifier: alerts, the daily summary and test messages, delivered through apprise from a
thread of its own, so a slow or dead destination never touches the trading loop.

The durable queue is the `notifications` table. The thread, about once a second:
- reads alerts past its cursor (alerts are written by the engine, the CLI and the dashboard),
  judges each against the operator's rules (level, muted codes, repeat window, hourly cap:
  engine/notify/policy.py) and queues the ones to send, moving the cursor in the same
  transaction: after a crash nothing is missed and nothing is queued twice. While the queue
  holds QUEUE_MAX messages it reads no more (they wait in `alerts`).
- delivers the oldest due message: one attempt, with a time limit; a failed attempt is retried
  after a doubling back-off (to the destinations that failed only), and a message that fails
  ATTEMPTS times is marked failed with a NOTIFY_FAILED alert (one per run of failures; that
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

from engine.contracts import runtime_settings as runtime_config
from engine.process.control import CommandRejected
from engine.contracts.redaction import RedactingFilter
from engine.notify import policy, store
from engine.notify.policy import Rules, Verdict
from storage.audit import raise_alert
from storage.db import Database, is_locked, now_ms
from storage.settings import Settings, secret_values

log = logging.getLogger("engine.notify")
T = TypeVar("T")

POLL_S = 1.0
QUEUE_MAX = 50  # messages waiting for delivery before the notifier stops reading alerts
BATCH = 200  # alerts judged per transaction
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
        self._tests: queue.Queue[TestRequest] = queue.Queue(maxsize=4)
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._cursor: int | None = None
        self._failing = False  # a NOTIFY_FAILED alert is out for the current run of failures
        self._pruned_at = 0.0

    @property
    def enabled(self) -> bool:
        return bool(self.urls)

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
        if not self.enabled:
            raise CommandRejected("NOTIFY_URLS is not set in .env: there is nowhere to send to "
                                  "(see README: Notifications), then restart the engine")
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
                rules = Rules.from_config(runtime_config.load(conn).values)
                state = store.load_state(conn)
                slot = policy.summary_due(now, rules.summary_at, state.summary_at)
                if slot is None:
                    return False
                data = store.summary_data(conn, self.db.path, now)
                title, body = policy.summary_message(data, self.host, state.held)
                store.enqueue(conn, now, kind="summary", level="info", title=title, body=body)
                store.save_state(conn, now, summary_at=slot, held={})
                return True

        if self._patiently(queue_summary):
            log.info("daily summary queued")
            self.wake()

    # -- the thread ------------------------------------------------------------------------------------

    def _run(self) -> None:
        logging.getLogger("apprise").setLevel(logging.WARNING)  # one INFO line per send is noise
        try:
            from engine.notify.sender import Sender

            sender = Sender(self.urls, self._redactor.redact)
        except Exception as exc:  # apprise itself failed to load: say so, and stop
            log.exception("notifications cannot start")
            self._alert("NOTIFY_CONFIG", f"notifications cannot start: {type(exc).__name__}: {exc}")
            return
        for problem in sender.problems:
            self._alert("NOTIFY_CONFIG", problem)
        self._patiently(lambda: self._write(store.forget_partial_targets))
        log.info("notifier started", extra={"destinations": ", ".join(self.destinations)})
        while not self._stop.is_set():
            busy = False
            try:
                self._answer_tests(sender)
                self._take_alerts()
                busy = self._deliver_next(sender)
                self._prune()
            except Exception as exc:
                if not is_locked(exc):
                    log.exception("notifier step failed; it tries again")
            if not busy:
                self._wake.wait(self.poll_s)
                self._wake.clear()

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

            def record(conn: Any) -> int:
                row = store.enqueue(conn, now, kind="test", level="info", title=title, body=body)
                store.record_attempt(conn, row, self.clock(), status="sent" if outcome.ok else "failed",
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
        if self._cursor is not None:
            with self.db.read() as conn:
                if store.newest_alert_id(conn) <= self._cursor:
                    return  # the common case: nothing new, and no write lock taken
        now = self.clock()
        with self.db.write() as conn:
            state = store.load_state(conn)
            self._cursor = state.cursor
            room = QUEUE_MAX - store.queued_count(conn)
            alerts = store.new_alerts(conn, state.cursor, BATCH) if room > 0 else []
            if not alerts:
                return
            rules = Rules.from_config(runtime_config.load(conn).values)
            held, cursor = dict(state.held), state.cursor
            for alert in alerts:
                key = policy.dedup_key(alert.code, alert.message)
                verdict = policy.judge(alert, rules, now=now, repeated=store.repeated(conn, key, now - rules.dedup_ms),
                                       sent_last_hour=store.alerts_sent_since(conn, now - policy.HOUR_MS))
                if verdict is Verdict.SEND:
                    if room == 0:
                        break  # the queue is full: this alert and the rest wait in `alerts`
                    title, body = policy.alert_message(alert, self.host, held)
                    store.enqueue(conn, now, kind="alert", level=alert.level, title=title, body=body,
                                  alert_id=alert.id, dedup_key=key)
                    held, room = {}, room - 1
                elif verdict in policy.HELD_BACK:
                    name = policy.held_back_key(alert, verdict)
                    held[name] = held.get(name, 0) + 1
                cursor = alert.id
            self._cursor = cursor
            store.save_state(conn, now, cursor=cursor, held=held)

    def _deliver_next(self, sender: Any) -> bool:
        now = self.clock()
        with self.db.read() as conn:
            message = store.next_due(conn, now)
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
            store.record_attempt(conn, message.id, done, attempts=attempts, **fields)
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
            self._write(lambda conn: store.prune(conn, self.clock()))

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
