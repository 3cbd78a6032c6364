"""Notifications from a real engine process to a real HTTP receiver on 127.0.0.1 (apprise's
`json://`): a posted kill, a HALTED breaker and the daily summary arrive; a receiver that never
answers costs the trading loop nothing (heartbeat age) and ends in one NOTIFY_FAILED alert; the
destination's token is never stored in SQLite or written to the log."""

from __future__ import annotations

import json
import socket
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from storage.sqlite.db import file_heartbeat_ms, now_ms
from storage.sqlite.migrations import migrate
from tests.helpers import EngineProcess, decoded, isolated_env, wait_until

pytestmark = pytest.mark.slow
TOKEN = "S3cretT0ken42"  # a path segment long enough to be treated as a credential


class Receiver:
    """A JSON webhook on 127.0.0.1 recording every message apprise posts to it."""

    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []
        received = self.messages

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers["Content-Length"]))
                received.append(json.loads(body))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait_for(self, predicate: Callable[[dict[str, Any]], bool], timeout: float, what: str) -> dict[str, Any]:
        return wait_until(lambda: next((m for m in list(self.messages) if predicate(m)), None), timeout, 0.1, what)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class BlackHole:
    """Accepts connections on 127.0.0.1 and never answers a byte."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(50)
        self.port = self.sock.getsockname()[1]
        self.held: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.held.append(conn)

    def close(self) -> None:
        self.sock.close()
        for conn in self.held:
            conn.close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


def _engine(tmp: Path, notify_urls: str | None, **settings: object) -> EngineProcess:
    # No venue is needed: a paper engine with no strategy trades nothing (port 9: nothing listens).
    extra = {"SIMULATOR_PORT": "9", **({"NOTIFY_URLS": notify_urls} if notify_urls else {})}
    env = isolated_env(tmp, **extra)
    migrate(Path(env["TRADER_DB"]))
    with sqlite3.connect(env["TRADER_DB"]) as conn:
        for key, value in settings.items():
            conn.execute("INSERT INTO settings (key, value, version, updated_at, updated_by) VALUES (?, ?, 1, 0, 't')",
                         (key, json.dumps(value)))
    return EngineProcess(tmp, env)


def _rows(engine: EngineProcess, sql: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(engine.db_path) as conn:
        return conn.execute(sql).fetchall()


def _stored_bytes(engine: EngineProcess) -> bytes:
    return b"".join(p.read_bytes() for p in engine.db_path.parent.glob(engine.db_path.name + "*") if p.is_file())


def test_kill_halt_and_daily_summary_reach_the_receiver(tmp_path: Path, receiver: Receiver) -> None:
    url = f"json://127.0.0.1:{receiver.port}/hook/{TOKEN}"
    # No daily summary (empty: off) until the kill and the halt are out; then the test sets its time.
    engine = _engine(tmp_path, url, notify_summary_utc="")
    try:
        engine.start()
        probe = engine.run("notify_test", {"message": "hello from the test"}, timeout=20)
        assert probe.status == "done" and decoded(probe.result)["delivered"] == 1, probe.error
        receiver.wait_for(lambda m: "hello from the test" in m["message"], 10, "the test message")

        assert engine.run("kill", {"reason": "news"}, timeout=20).status == "done"
        killed = receiver.wait_for(lambda m: "KILLED" in m["title"], 20, "the kill notified")
        assert killed["type"] == "failure" and "kill: news" in killed["message"]

        # A HALTED breaker: the kill switch trips on the first tick, equity being half its peak.
        assert engine.run("rearm").status == "done"
        with sqlite3.connect(engine.db_path) as conn:
            conn.execute("UPDATE engine_state SET peak_equity = 20000000000")
        assert engine.run("start", timeout=20).status == "done"
        halted = receiver.wait_for(lambda m: "HALTED" in m["message"], 30, "the HALTED breaker notified")
        assert "KILL_SWITCH" in halted["title"] and halted["type"] == "failure"

        # The summary's time set to now in the stored settings (the notifier reads them at each check):
        # due at once, it goes out at the next check.
        with sqlite3.connect(engine.db_path) as conn:
            conn.execute("UPDATE settings SET value = ?, version = version + 1 WHERE key = 'notify_summary_utc'",
                         (json.dumps(datetime.now(UTC).strftime("%H:%M:%S")),))
        summary = receiver.wait_for(lambda m: m["title"].startswith("Daily summary"), 60, "the daily summary")
        assert "Equity: 10,000.00 pUSD" in summary["message"] and "Alerts in 24 h:" in summary["message"]
        assert "KILLED" in summary["message"]
        # The receiver reads a message before the engine books it sent: wait for none to be queued.
        wait_until(lambda: not _rows(engine, "SELECT 1 FROM notifications WHERE status = 'queued'"), 20, 0.1,
                   "every notification delivered")
        assert _rows(engine, "SELECT DISTINCT status FROM notifications") == [("sent",)]
    finally:
        engine.terminate()
        engine.cleanup()
    assert TOKEN.encode() not in _stored_bytes(engine)
    assert TOKEN not in engine.log()


def test_a_dead_receiver_never_delays_a_tick_and_ends_in_one_notify_failed(tmp_path: Path) -> None:
    hole = BlackHole()
    engine = _engine(tmp_path, f"json://127.0.0.1:{hole.port}/hook/{TOKEN}?rto=1&cto=1")
    try:
        engine.start()
        started = engine.run("start", timeout=20)
        assert started.status == "done", (started.error, engine.log()[-3000:])
        with sqlite3.connect(engine.db_path) as conn:  # three alerts, written as another process would
            for code in ("FEED_DOWN", "ORDER_REFUSED", "VENUE_DOWN"):
                conn.execute("INSERT INTO alerts (created_at, level, source, code, message) "
                             "VALUES (?, 'critical', 'test', ?, ?)", (now_ms(), code, f"{code.lower()} for the test"))
        ages: list[float] = []
        answers: list[float] = []
        deadline = time.monotonic() + 90
        while not _rows(engine, "SELECT 1 FROM alerts WHERE code = 'NOTIFY_FAILED'"):
            assert time.monotonic() < deadline, "no NOTIFY_FAILED alert within 90 s"
            beat = file_heartbeat_ms(engine.db_path)
            ages.append((now_ms() - beat) / 1000 if beat else 99.0)
            began = time.monotonic()
            assert engine.run("pause" if len(answers) % 2 == 0 else "resume").status == "done"
            answers.append(time.monotonic() - began)
            time.sleep(0.3)
        assert len(ages) >= 10 and max(ages) < 1.5, ages  # the loop kept beating throughout
        assert max(answers) < 3.0, answers  # and kept answering commands
        probe = engine.run("notify_test", timeout=30)
        assert probe.status == "failed" and "not delivered" in probe.error and TOKEN not in probe.error
        wait_until(lambda: len(_rows(engine, "SELECT 1 FROM notifications WHERE status = 'failed'")) >= 4, 90,
                   0.2, "every message given up on")
        failed = _rows(engine, "SELECT message FROM alerts WHERE code = 'NOTIFY_FAILED'")
        assert len(failed) == 1 and TOKEN not in failed[0][0]
        errors = [e for (e,) in _rows(engine, "SELECT error FROM notifications")]
        assert all(e and "127.0.0.1" in e and TOKEN not in e for e in errors), errors
    finally:
        engine.terminate()
        engine.cleanup()
        hole.close()
    assert TOKEN.encode() not in _stored_bytes(engine)
    assert TOKEN not in engine.log()


def test_a_test_message_without_destinations_is_refused(tmp_path: Path) -> None:
    engine = _engine(tmp_path, None)
    try:
        engine.start()
        probe = engine.run("notify_test")
        assert probe.status == "failed" and "NOTIFY_URLS is not set" in probe.error
        assert not engine.status().heartbeat_stale
    finally:
        engine.cleanup()
