"""The engine as a real subprocess on a temp database, driven exactly as the dashboard does."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from storage.command_queue import posting
from storage.command_queue.command_payloads import PayloadError
from storage.sqlite.db import now_ms
from storage.sqlite.migrations import migrate
from tests.helpers import ROOT, EngineProcess, decoded, post_raw, run_cli, wait_until


def test_commands_drive_the_lifecycle_and_are_acknowledged(engine: EngineProcess) -> None:
    engine.start()
    assert engine.status().state == "IDLE"

    start = engine.run("start")
    assert (start.status, decoded(start.result)["state"]) == ("done", "RUNNING")
    assert engine.status().desired_state == "RUNNING"

    assert engine.run("pause").status == "done" and engine.status().state == "PAUSED"
    assert engine.run("resume").status == "done" and engine.status().state == "RUNNING"
    again = engine.run("start")
    assert again.status == "done" and "already running" in again.result

    stop = engine.run("stop")
    assert stop.status == "done" and engine.status().state == "STOPPED"
    assert engine.status().desired_state == "STOPPED"
    assert stop.claimed_at is not None and stop.finished_at >= stop.claimed_at


def test_bad_input_fails_readably_and_the_engine_keeps_running(engine: EngineProcess) -> None:
    engine.start()
    engine.run("stop")
    # Rows a buggy client could write straight into the table: the engine refuses each itself.
    unknown = engine.wait_command(post_raw(engine.db_path, "launch_rockets", "{}"))
    assert unknown.status == "failed" and "unknown command kind 'launch_rockets'" in unknown.error
    malformed = engine.wait_command(post_raw(engine.db_path, "start", '{"reason": '))
    assert malformed.status == "failed" and "not valid JSON" in malformed.error
    not_object = engine.wait_command(post_raw(engine.db_path, "start", "[1, 2]"))
    assert not_object.status == "failed" and "JSON object" in not_object.error
    resume = engine.run("resume")
    assert resume.status == "failed" and "cannot resume while STOPPED" in resume.error
    bad_mode = engine.wait_command(post_raw(engine.db_path, "set_mode", '{"mode": "yolo"}'))
    assert bad_mode.status == "failed" and "must be one of paper, live" in bad_mode.error
    with pytest.raises(PayloadError, match="must be one of paper, live"):
        engine.post("set_mode", {"mode": "yolo"})  # the front ends refuse it before it is queued
    assert engine.status().state == "STOPPED" and not engine.status().kill_latched

    # Still alive and still obeying.
    assert engine.run("start").status == "done"
    assert engine.status().state == "RUNNING" and not engine.status().heartbeat_stale


def test_duplicate_idempotency_key_gives_one_command(engine: EngineProcess) -> None:
    engine.start()
    first = engine.post("start", idempotency_key="same-key")
    second = engine.post("start", idempotency_key="same-key")
    assert first.id == second.id
    with engine.db().read() as conn:
        count = conn.exec_driver_sql("SELECT COUNT(*) FROM commands WHERE idempotency_key='same-key'").scalar()
    assert count == 1
    assert engine.wait_command(first.id).status == "done"
    assert engine.status().state == "RUNNING"


def test_kill_queued_behind_starts_is_applied_first(engine: EngineProcess) -> None:
    migrate(engine.db_path)
    starts = [engine.post("start") for _ in range(3)]
    kill = engine.post("kill", {"reason": "queued last"})
    engine.start()
    for row in [*starts, kill]:
        engine.wait_command(row.id)
    with engine.db().read() as conn:
        order = [r[0] for r in conn.exec_driver_sql(
            "SELECT kind FROM commands ORDER BY claimed_at, id").fetchall()]
    assert order[0] == "kill"
    assert engine.status().state == "KILLED"
    rejected = [engine.wait_command(s.id) for s in starts]
    assert all(r.status == "failed" and "kill latch" in r.error for r in rejected)


def test_expired_command_is_not_applied(engine: EngineProcess) -> None:
    migrate(engine.db_path)
    # Posted 2 s ago with a 1 s time to live: the posting path's own clock, set back by hand.
    row = posting.prepare("start", None, actor="test", key="late-start", ttl_s=1, now=now_ms() - 2_000)
    with sqlite3.connect(engine.db_path, timeout=10) as conn:
        command_id = posting.insert(conn, row)["id"]
    engine.start()
    done = engine.wait_command(command_id)
    assert done.status == "expired" and done.claimed_at is None
    assert engine.status().state == "IDLE"


def test_stale_claims_are_expired_not_replayed_and_a_claimed_kill_latches(engine: EngineProcess) -> None:
    migrate(engine.db_path)
    db = engine.db()
    start = engine.post("start")
    kill = engine.post("kill", {"reason": "mid-flight"})
    with db.write() as conn:
        conn.exec_driver_sql("UPDATE commands SET status='claimed', claimed_at=1")
    engine.start()
    assert engine.wait_command(start.id).status == "expired"
    assert engine.wait_command(kill.id).status == "expired"
    status = engine.status()
    assert status.state == "KILLED" and status.kill_latched


def test_desired_state_and_latch_survive_a_crash(engine: EngineProcess) -> None:
    engine.start()
    engine.run("start")
    engine.crash()
    engine.start()
    status = engine.status()
    assert status.state == "RUNNING" and status.crash_count == 1

    engine.run("kill", {"reason": "latch me"})
    engine.crash()
    engine.start()
    status = engine.status()
    assert (status.state, status.kill_latched, status.kill_reason) == ("KILLED", True, "latch me")
    assert engine.run("start").status == "failed"
    assert engine.run("rearm").status == "done"
    status = engine.status()
    assert status.state == "STOPPED" and not status.kill_latched
    with engine.db().read() as conn:
        audit = conn.exec_driver_sql("SELECT actor, action FROM audit_log WHERE action='engine.rearm'").fetchall()
    assert audit == [("test", "engine.rearm")]


def test_paused_engine_comes_back_paused_after_a_crash(engine: EngineProcess) -> None:
    engine.start()
    engine.run("start")
    engine.run("pause")
    engine.crash()
    engine.start()
    assert engine.status().state == "PAUSED"


def test_sigterm_stops_gracefully_and_promptly(engine: EngineProcess) -> None:
    engine.start()
    engine.run("start")
    assert engine.terminate() == 0
    # Promptly: within the engine's own shutdown budget (runtime.SHUTDOWN_BUDGET_S), not by giving up on it
    # (a wall-clock bound here would measure the machine's load, not the engine).
    assert "shutdown took too long" not in engine.log()
    with sqlite3.connect(engine.db_path) as conn:
        clean, desired, state = conn.execute("SELECT clean_exit, desired_state, state FROM engine_state").fetchone()
    assert (clean, desired, state) == (1, "RUNNING", "STOPPED")
    # A clean stop is not a crash, and the operator's wish (RUNNING) is honoured.
    engine.start()
    assert engine.status().state == "RUNNING" and engine.status().crash_count == 0


def test_second_engine_on_the_same_db_exits_1(engine: EngineProcess) -> None:
    engine.start()
    second = subprocess.run([sys.executable, "-m", "engine", "run"], cwd=ROOT, env=engine.env,
                            capture_output=True, text=True, timeout=30)
    assert second.returncode == 1
    assert "another engine is already running" in second.stderr


def test_database_newer_than_code_is_refused(engine: EngineProcess) -> None:
    migrate(engine.db_path)
    with sqlite3.connect(engine.db_path) as conn:
        conn.execute("INSERT INTO _sqlite_migrations (migration_set, name, applied_at) "
                     "VALUES ('trader', '9999_from_the_future', 'x')")
    result = subprocess.run([sys.executable, "-m", "engine", "run"], cwd=ROOT, env=engine.env,
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 1
    assert "newer than this code" in result.stderr and "9999_from_the_future" in result.stderr


def test_heartbeat_is_at_least_once_a_second(engine: EngineProcess) -> None:
    engine.start()
    beats: set[int] = set()

    def seen() -> int:
        with engine.db().read() as conn:
            beat = conn.exec_driver_sql("SELECT heartbeat_at FROM engine_state").scalar()
        if beat is not None:
            beats.add(beat)
        return len(beats)

    # The beats as the engine stamped them (its clock, not this test's polling): a loaded machine
    # spaces some of them out, but an engine beating once a second or more often has two within a second.
    wait_until(lambda: seen() >= 4, 60, 0.05, "four engine heartbeats")
    stamps = sorted(beats)
    assert min(b - a for a, b in zip(stamps, stamps[1:], strict=False)) <= 1000, stamps


def test_cli_command_and_status(engine: EngineProcess) -> None:
    engine.start()
    ok = run_cli(["command", "start"], engine.env)
    assert ok.returncode == 0 and json.loads(ok.stdout)["state"] == "RUNNING"
    failed = run_cli(["command", "start", "{nope"], engine.env)
    assert failed.returncode == 2 and "not valid JSON" in failed.stderr  # a usage error: nothing queued
    with engine.db().read() as conn:
        assert conn.exec_driver_sql("SELECT COUNT(*) FROM commands WHERE payload LIKE '%nope%'").scalar() == 0
    usage = run_cli(["command"], engine.env)
    assert usage.returncode == 2
    queued = run_cli(["command", "pause", "--no-wait"], engine.env)
    assert queued.returncode == 0 and json.loads(queued.stdout)["status"] == "pending"
    engine.wait_command(json.loads(queued.stdout)["id"])
    status = run_cli(["status", "--json"], engine.env)
    summary = json.loads(status.stdout)
    assert summary["state"] == "PAUSED" and summary["engine_up"] is True and summary["mode"] == "paper"


def test_cli_without_engine_explains(tmp_path: Path, env: dict[str, str]) -> None:
    missing = run_cli(["status"], env)
    assert missing.returncode == 1 and "start the engine first" in missing.stderr
    migrate(Path(env["TRADER_DB"]))
    down = run_cli(["command", "start"], env)
    assert down.returncode == 1 and "not running" in down.stderr


def test_set_password_from_stdin_writes_env(tmp_path: Path, env: dict[str, str]) -> None:
    result = run_cli(["set-password"], env, input_text="a long enough secret\n")
    assert result.returncode == 0, result.stderr
    env_file = Path(env["TRADER_ENV_FILE"])
    text = env_file.read_text()
    assert text.startswith("DASHBOARD_PASSWORD_HASH=scrypt$") and "a long enough secret" not in text
    assert env_file.stat().st_mode & 0o777 == 0o600
    from contracts.passwords import verify_password

    stored = text.split("=", 1)[1].strip()
    assert verify_password("a long enough secret", stored) and not verify_password("wrong", stored)
    short = run_cli(["set-password"], env, input_text="short\n")
    assert short.returncode == 1 and "at least 8" in short.stderr
    assert env_file.read_text() == text
