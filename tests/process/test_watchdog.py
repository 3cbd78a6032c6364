"""The watchdog reports what a dead engine cannot: under the project's real supervisord.conf, a
SIGKILLed engine is reported down through NOTIFY_URLS (a JSON webhook on 127.0.0.1) and, once
its heartbeat is fresh again, back; once per outage. Its rules by hand beside: a stalled
heartbeat, supervisord giving up, other programs ignored, a bad threshold refused."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from engine.watchdog import Watch, stale_after
from storage.dashboard_queries import status_queries as queries
from storage.sqlite.db import Database
from tests.helpers import isolated_env, run_cli, wait_until
from tests.notify.test_notify_process import Receiver
from tests.supervisor_harness import Supervisor, relocated_conf


class Ages:
    """A heartbeat age the test sets."""

    def __init__(self) -> None:
        self.age: float | None = 5.0

    def __call__(self) -> float | None:
        return self.age


def _titles(messages: list[tuple[str, str, str]]) -> list[str]:
    return [title for title, _, _ in messages]


def test_one_outage_is_reported_once_and_its_end_once() -> None:
    ages = Ages()
    watch = Watch(120, ages)
    assert watch.on_event("TICK_60", {"when": "1"}) == []  # fresh: nothing to say
    exited = watch.on_event("PROCESS_STATE_EXITED", {"processname": "engine", "expected": "0", "pid": "42"})
    assert _titles(exited) == ["Desk engine down"] and "pid 42" in exited[0][1] and "unexpectedly" in exited[0][1]
    ages.age = 300
    assert watch.on_event("TICK_60", {}) == []  # the stall that follows is the same outage
    assert _titles(watch.on_event("PROCESS_STATE_FATAL", {"processname": "engine"})) == ["Desk engine: supervisord "
                                                                                          "gave up"]
    assert watch.on_event("PROCESS_STATE_FATAL", {"processname": "engine"}) == []
    ages.age = 3
    back = watch.on_event("TICK_60", {})
    assert _titles(back) == ["Desk engine back"] and back[0][2] == "info"
    assert watch.on_event("TICK_60", {}) == []


def test_a_frozen_engine_is_reported_by_its_heartbeat_and_other_programs_are_ignored() -> None:
    ages = Ages()
    watch = Watch(120, ages)
    assert watch.on_event("PROCESS_STATE_EXITED", {"processname": "dashboard", "expected": "0"}) == []
    ages.age = 121
    stalled = watch.on_event("TICK_60", {})
    assert _titles(stalled) == ["Desk engine down"] and "121 s old" in stalled[0][1]
    ages.age = None  # a database no engine ever ran on: nothing to say, in either direction
    assert Watch(120, ages).on_event("TICK_60", {}) == []


def test_the_threshold_is_checked() -> None:
    assert stale_after(None) == 120 and stale_after("45") == 45
    for bad in ("soon", "5", "99999"):
        with pytest.raises(ValueError, match="WATCHDOG_HEARTBEAT_S"):
            stale_after(bad)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


def _said(receiver: Receiver, title: str) -> list[dict]:
    return [m for m in list(receiver.messages) if m.get("title") == title]


@pytest.mark.slow
def test_a_killed_engine_is_reported_down_then_back(tmp_path: Path, receiver: Receiver) -> None:
    env = isolated_env(tmp_path, SIMULATOR_PORT="9", NOTIFY_URLS=f"json://127.0.0.1:{receiver.port}/hook",
                       CRASH_LOOP_MAX_RESTARTS="50")
    assert run_cli(["init"], env).returncode == 0
    # The project's conf, with the minute's tick made five seconds so the test waits less.
    overrides = {"program:engine": {"startsecs": "1"}, "eventlistener:watchdog": {"events": "PROCESS_STATE,TICK_5"}}
    conf = relocated_conf(tmp_path, {"engine", "watchdog"}, overrides)
    sup = Supervisor(conf, env)
    try:
        sup.wait_running("watchdog")
        pid = sup.wait_running("engine")
        db = Database(Path(env["TRADER_DB"]))
        wait_until(lambda: db.exists() and queries.engine_status(db).pid == pid
                   and not queries.engine_status(db).heartbeat_stale, 30, what="the engine's heartbeat")
        os.kill(pid, signal.SIGKILL)
        down = receiver.wait_for(lambda m: m.get("title") == "Desk engine down", 30, "the engine reported down")
        assert "exited unexpectedly" in down["message"] and f"pid {pid}" in down["message"]
        new_pid = sup.wait_running("engine", not_pid=pid)
        wait_until(lambda: queries.engine_status(db).pid == new_pid, 30, what="the restarted engine's heartbeat")
        receiver.wait_for(lambda m: m.get("title") == "Desk engine back", 30, "the engine reported back")
        assert len(_said(receiver, "Desk engine down")) == 1 and len(_said(receiver, "Desk engine back")) == 1
    finally:
        sup.shutdown()
    log = (tmp_path / "var" / "log" / "watchdog.log").read_text()
    assert "watchdog listening" in log and "hook" not in log.split("listening", 1)[1].split("\n", 1)[0]
