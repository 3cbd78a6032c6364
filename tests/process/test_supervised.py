"""The engine under the project's real supervisord.conf: restarts, recovery, crash-loop guard."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from storage.command_queue.commands import post_command
from storage.dashboard_queries import status_queries as queries
from storage.sqlite.db import Database
from tests.helpers import isolated_env, wait_until
from tests.supervisor_harness import Supervisor, relocated_conf

pytestmark = pytest.mark.slow


def _db(env: dict[str, str]) -> Database:
    return Database(Path(env["TRADER_DB"]))


def _run(db: Database, kind: str, payload: dict | None = None) -> str:
    row = post_command(db, kind, payload or {}, actor="test")
    return wait_until(lambda: (queries.command_status(db, row.id) or {}).get("status") in ("done", "failed")
                      and (queries.command_status(db, row.id) or {})["status"], 15, what=kind)


def _alive_with_pid(db: Database, pid: int) -> bool:
    try:
        status = queries.engine_status(db)
    except Exception:  # the file exists before the engine has migrated it
        return False
    return status.pid == pid and not status.heartbeat_stale and status.state not in ("STARTING",)


def test_sigkilled_engine_is_restarted_and_recovers(tmp_path: Path) -> None:
    env = isolated_env(tmp_path, CRASH_LOOP_MAX_RESTARTS="50")
    conf = relocated_conf(tmp_path, {"engine"}, {"program:engine": {"startsecs": "1"}})
    sup = Supervisor(conf, env)
    try:
        pid = sup.wait_running("engine")
        db = _db(env)
        wait_until(lambda: db.exists() and _alive_with_pid(db, pid), 20, what="first heartbeat")
        assert _run(db, "start") == "done"

        os.kill(pid, signal.SIGKILL)
        new_pid = sup.wait_running("engine", not_pid=pid)
        wait_until(lambda: _alive_with_pid(db, new_pid), 20, what="heartbeats resume")
        status = queries.engine_status(db)
        assert status.state == "RUNNING" and status.desired_state == "RUNNING" and status.crash_count == 1

        assert _run(db, "kill", {"reason": "supervised"}) == "done"
        os.kill(new_pid, signal.SIGKILL)
        third = sup.wait_running("engine", not_pid=new_pid)
        wait_until(lambda: _alive_with_pid(db, third), 20, what="heartbeats after second crash")
        status = queries.engine_status(db)
        assert status.state == "KILLED" and status.kill_latched and status.kill_reason == "supervised"

        # supervisorctl stop -> SIGTERM -> clean exit recorded.
        sup.rpc().supervisor.stopProcess("engine")
        with db.read() as conn:
            clean = conn.exec_driver_sql("SELECT clean_exit, pid FROM engine_state").fetchone()
        assert clean is not None and tuple(clean) == (1, None)
    finally:
        sup.shutdown()


def test_crash_loop_guard_brings_the_engine_up_halted(tmp_path: Path) -> None:
    env = isolated_env(tmp_path, CRASH_LOOP_MAX_RESTARTS="3", CRASH_LOOP_WINDOW_MINUTES="10")
    conf = relocated_conf(tmp_path, {"engine"}, {"program:engine": {"startsecs": "1"}})
    sup = Supervisor(conf, env)
    try:
        pid = sup.wait_running("engine")
        db = _db(env)
        wait_until(lambda: db.exists() and _alive_with_pid(db, pid), 20, what="first heartbeat")
        assert _run(db, "start") == "done"
        for _ in range(3):
            os.kill(pid, signal.SIGKILL)
            pid = sup.wait_running("engine", not_pid=pid)
            wait_until(lambda: _alive_with_pid(db, pid), 20, what="restart")
        status = queries.engine_status(db)
        assert status.state == "STOPPED" and status.desired_state == "STOPPED"
        assert "crash loop" in (status.last_error or "")
        alerts = queries.alerts(db)
        assert "CRASH_LOOP" in set(alerts["code"])
        # The operator can start again deliberately.
        assert _run(db, "start") == "done"
        assert queries.engine_status(db).state == "RUNNING"
    finally:
        sup.shutdown()


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    try:  # a zombie (exited, not yet reaped by init) is gone too
        return Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z"
    except OSError:
        return True


def test_nothing_survives_supervisord_however_it_dies(tmp_path: Path) -> None:
    """`make run | tee log` then Ctrl-C once killed supervisord and left its programs running
    with their ports held. Now each program dies with supervisord, even on kill -9."""
    env = isolated_env(tmp_path, STREAMLIT_SERVER_PORT="0", DASHBOARD_PASSWORD_HASH="x")
    conf = relocated_conf(tmp_path, {"simulator", "engine", "dashboard"},
                          {"program:simulator": {"environment": 'SIMULATOR_PORT="0",PYTHONUNBUFFERED="1"'}})
    sup = Supervisor(conf, env)
    try:
        pids = [sup.wait_running(name, 60) for name in ("simulator", "engine", "dashboard")]
        os.kill(sup.proc.pid, signal.SIGKILL)
        sup.proc.wait(10)
        wait_until(lambda: all(_gone(pid) for pid in pids), 30, interval=0.2, what="every program gone")
    finally:
        for pid in pids if "pids" in locals() else []:
            if not _gone(pid):
                os.kill(pid, signal.SIGKILL)
