"""Bad command-line input gets a clear message and the right exit code, never a traceback, and
nothing is written or fetched for it (issue 12, item 8); plus `alerts` and `tail`."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from storage.command_queue.commands import post_command
from storage.desk.audit import raise_alert
from storage.sqlite.db import Database
from storage.sqlite.migrations import migrate
from tests.helpers import ROOT, isolated_env, run_cli, wait_until

MARKET = "0x" + "ab" * 32


@pytest.fixture
def desk_env(tmp_path: Path) -> dict[str, str]:
    # A closed port for the CLOB: an import that fetched anything would fail loudly, not slowly.
    env = isolated_env(tmp_path, CLOB_HOST="http://127.0.0.1:9", ENGINE_LOG_FILE=str(tmp_path / "engine.log"))
    path = Path(env["TRADER_DB"])
    migrate(path)
    with sqlite3.connect(path) as conn:
        conn.execute("""INSERT INTO markets (condition_id, question, slug, yes_token, no_token, tick, min_size,
                            first_seen_at, updated_at) VALUES (?, 'Q?', 'q', 'y1', 'n1', 10000, 5000000, 0, 0)""",
                     (MARKET,))
    return env


def _count(env: dict[str, str], table: str) -> int:
    with sqlite3.connect(env["TRADER_DB"]) as conn:
        return int(conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])


def _clean(result: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in result.stderr + result.stdout, result.stderr


@pytest.mark.parametrize("args, says", [
    (["--from", "99999-01-01", "--to", "2026-01-01"], "is not a time"),
    (["--from", "1970-01-01", "--to", "2026-01-01"], "before 2020"),
    (["--from", "2026-01-01", "--to", "99999999999999999999"], "far too large"),
    (["--from", "2026-01-01", "--to", "2100-01-01"], "after 2099"),
    (["--from", "2026-01-01", "--to", "2026-01-02", "--seed", "-1"], "seed must be between"),
    (["--from", "2026-01-01", "--to", "2026-01-02", "--seed", "99999999999999999999999"], "seed must be between"),
    (["--from", "1732000000", "--to", "2026-01-02"], "epoch seconds"),
    (["--run-id", "-1"], "run id must be between"),
])
def test_backtest_refuses_out_of_range_input_as_a_usage_error(desk_env: dict[str, str], args: list[str],
                                                              says: str) -> None:
    result = run_cli(["backtest", "--strategy", "market_making", *args], desk_env)
    _clean(result)
    assert result.returncode == 2 and says in result.stderr
    assert _count(desk_env, "strategy_runs") == 0


def test_backtest_of_an_unknown_run_says_so(desk_env: dict[str, str]) -> None:
    result = run_cli(["backtest", "--run-id", "999"], desk_env)
    _clean(result)
    assert result.returncode == 1 and "no backtest run 999" in result.stderr


@pytest.mark.parametrize("args, code, says", [
    (["--from", "1970-01-01", "--to", "2099-01-01"], 2, "before 2020"),
    (["--from", "2020-01-01", "--to", "2099-12-31"], 1, "import at most 366 days"),
    (["--from", "2020-01-01", "--to", "2025-06-01"], 1, "import at most 366 days"),
    (["--from", "2025-01-02", "--to", "2025-01-01"], 1, "--to must be after --from"),
    (["--from", "2025-01-01", "--to", "2025-01-02", "--fidelity", "0"], 2, "fidelity"),
    (["--from", "2025-01-01", "--to", "2025-01-02", "--fidelity", "-5"], 2, "fidelity"),
    (["--from", "2025-01-01", "--to", "2025-01-02", "--fidelity", "1e9"], 2, "fidelity"),
])
def test_import_history_refuses_absurd_ranges_before_fetching(desk_env: dict[str, str], args: list[str], code: int,
                                                              says: str) -> None:
    result = run_cli(["import-history", "--market", MARKET, *args], desk_env, timeout=30)
    _clean(result)
    assert result.returncode == code and says in result.stderr
    assert _count(desk_env, "import_progress") == 0  # not a single window was started


@pytest.mark.parametrize("timeout", ["nan", "inf", "-1", "0", "abc", "1e9"])
def test_command_timeout_must_be_a_sane_number_of_seconds(desk_env: dict[str, str], timeout: str) -> None:
    result = run_cli(["command", "pause", "--timeout", timeout], desk_env)
    _clean(result)
    assert result.returncode == 2 and "--timeout" in result.stderr
    assert _count(desk_env, "commands") == 0


@pytest.mark.parametrize("args, says", [
    (["bogus"], "unknown command kind 'bogus'"),
    (["kill_everything", "{}"], "unknown command kind"),
    (["pause", '{"reason": news}'], "not valid JSON"),
    (["pause", "[1, 2]"], "must be a JSON object"),
    (["set_mode", '{"mode": "yolo"}'], "must be one of paper, live"),
    (["set_venue_mode", '{"venue": "polymarket", "mode": "live"}'], "must be one of kalshi"),
    (["set_venue_mode", '{"venue": "kalshi"}'], "mode"),
    (["start", json.dumps({"reason": "x" * 100_000})], "too large"),
])
def test_refused_commands_are_refused_at_once_and_nothing_is_posted(desk_env: dict[str, str], args: list[str],
                                                                   says: str) -> None:
    result = run_cli(["command", *args], desk_env)
    _clean(result)
    assert result.returncode == 2 and says in result.stderr
    assert "warning: the engine is not running" not in result.stderr  # refused before looking for it
    assert _count(desk_env, "commands") == 0 and _count(desk_env, "audit_log") == 0


def test_the_audit_row_of_a_command_does_not_copy_a_long_payload(desk_env: dict[str, str]) -> None:
    db = Database(Path(desk_env["TRADER_DB"]))
    try:
        payload = {"condition_id": "c" * 100, "outcome": "YES", "side": "BUY", "size": 5, "price": 0.5,
                   "reason": "r" * 500}
        row = post_command(db, "place_order", payload, actor="test")
        short = post_command(db, "kill", {"reason": "news"}, actor="test")
    finally:
        db.dispose()
    with sqlite3.connect(desk_env["TRADER_DB"]) as conn:
        audits = dict(conn.execute("SELECT entity, after FROM audit_log WHERE action = 'command.post'").fetchall())
    long_audit = json.loads(audits[f"command:{row.id}"])
    assert len(row.payload) > 600 and "r" * 500 not in audits[f"command:{row.id}"]
    assert long_audit["payload_chars"] == len(row.payload) and long_audit["kind"] == "place_order"
    # The payload as JSON inside the row's JSON, not as escaped JSON text.
    assert json.loads(audits[f"command:{short.id}"]) == {"kind": "kill", "payload": {"reason": "news"}}
    assert "\\\"" not in audits[f"command:{short.id}"]


def test_status_into_a_closed_pipe_ends_without_a_traceback(desk_env: dict[str, str]) -> None:
    """`engine status | head`: the reader goes away before the output is written."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        result = subprocess.run([sys.executable, "-m", "engine", "status"], cwd=ROOT, env=desk_env,
                                stdout=write_end, stderr=subprocess.PIPE, text=True, timeout=60)
    finally:
        os.close(write_end)
    assert "Traceback" not in result.stderr and "BrokenPipeError" not in result.stderr, result.stderr
    assert result.returncode == 1


def test_status_without_a_database_explains(tmp_path: Path) -> None:
    result = run_cli(["status"], isolated_env(tmp_path))
    _clean(result)
    assert result.returncode == 1 and "start the engine first" in result.stderr


# -- alerts and tail ------------------------------------------------------------------------------


def _raise(env: dict[str, str], code: str, message: str, level: str = "warning") -> None:
    db = Database(Path(env["TRADER_DB"]))
    try:
        with db.write() as conn:
            raise_alert(conn, level=level, source="test", code=code, message=message)  # type: ignore[arg-type]  # levels from the test's table
    finally:
        db.dispose()


def test_alerts_lists_and_acknowledges_with_an_audit_row(desk_env: dict[str, str]) -> None:
    _raise(desk_env, "FEED_DOWN", "market feed down for 45 s", "critical")
    _raise(desk_env, "ORDER_REFUSED", "12 refusals in a minute")
    listed = run_cli(["alerts"], desk_env)
    assert listed.returncode == 0 and "2 alerts not acknowledged" in listed.stdout
    assert "FEED_DOWN: market feed down for 45 s" in listed.stdout and "#1" in listed.stdout
    status = run_cli(["status"], desk_env)
    assert "2 not acknowledged" in status.stdout and "ORDER_REFUSED" in status.stdout

    acked = run_cli(["alerts", "--ack", "1"], desk_env)
    assert acked.returncode == 0 and "acknowledged 1 alert" in acked.stdout
    again = run_cli(["alerts", "--ack", "1", "77"], desk_env)
    _clean(again)
    assert again.returncode == 1 and "#1, #77" in again.stderr
    for garbage in (["one"], ["0"], ["2", "-3"]):
        refused = run_cli(["alerts", "--ack", *garbage], desk_env)
        _clean(refused)
        assert refused.returncode == 1 and "alert ids" in refused.stderr
    remaining = json.loads(run_cli(["alerts", "--json"], desk_env).stdout)
    assert remaining["unacked"] == 1 and remaining["alerts"][0]["code"] == "ORDER_REFUSED"
    assert run_cli(["alerts", "--ack", "all"], desk_env).returncode == 0
    with sqlite3.connect(desk_env["TRADER_DB"]) as conn:
        audited = conn.execute("SELECT entity, actor FROM audit_log WHERE action = 'alert.ack' ORDER BY id").fetchall()
    assert [e for e, _ in audited] == ["alert:1", "alert:2"] and all(a.startswith("cli") for _, a in audited)


def _log(path: Path, level: str, msg: str, **extra: object) -> None:
    with open(path, "a") as handle:
        handle.write(json.dumps({"ts": "2026-11-20T14:03:11.123Z", "level": level, "logger": "engine.trading.core",
                                 "msg": msg, **extra}) + "\n")


def test_tail_prints_readable_lines_masks_secrets_and_filters_levels(desk_env: dict[str, str]) -> None:
    secret_url = "tgram://123456789:SECRETtokenABC/55555555"
    env = {**desk_env, "NOTIFY_URLS": secret_url}
    log = Path(env["ENGINE_LOG_FILE"])
    _log(log, "INFO", "tick done", ms=3)
    _log(log, "WARNING", "delivery failed", url=secret_url)
    shown = run_cli(["tail", "--no-follow"], env)
    assert shown.returncode == 0, shown.stderr
    assert "2026-11-20T14:03:11.123Z INFO engine.trading.core  tick done  ms=3" in shown.stdout
    assert "SECRETtoken" not in shown.stdout and "delivery failed" in shown.stdout
    warnings = run_cli(["tail", "--no-follow", "--level", "warning"], env)
    assert "tick done" not in warnings.stdout and "delivery failed" in warnings.stdout
    missing = run_cli(["tail", "--no-follow"], {**env, "ENGINE_LOG_FILE": str(log) + ".nope"})
    _clean(missing)
    assert missing.returncode == 1 and "no engine log" in missing.stderr


def test_tail_follows_through_a_rotation_and_ends_cleanly_on_ctrl_c(desk_env: dict[str, str]) -> None:
    log = Path(desk_env["ENGINE_LOG_FILE"])
    _log(log, "INFO", "before start")
    # Started with SIGINT ignored, as a shell's background job is (and as a test runner's worker may
    # pass on): Ctrl-C must still end it.
    proc = subprocess.Popen([sys.executable, "-m", "engine", "tail", "-n", "1"], cwd=ROOT, env=desk_env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
    seen: list[str] = []
    try:
        reader = threading.Thread(target=lambda: seen.extend(proc.stdout or []), daemon=True)
        reader.start()

        def saw(text: str) -> bool:
            return any(text in line for line in list(seen))

        wait_until(lambda: saw("before start"), 15, 0.05, "the last line shown first")
        _log(log, "INFO", "appended later")
        wait_until(lambda: saw("appended later"), 15, 0.05, "a new line followed")
        log.rename(log.with_suffix(".log.1"))  # what supervisord's rotation does (the follower knows it by inode)
        _log(log, "ERROR", "after rotation")
        wait_until(lambda: saw("after rotation"), 15, 0.05, "the new file followed")
        proc.send_signal(signal.SIGINT)
        code = proc.wait(30)  # bounded, with room for a loaded machine
        stderr = proc.stderr.read() if proc.stderr is not None else ""
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(5)
    assert code == 0 and "Traceback" not in stderr, stderr
    assert sum("before start" in line for line in seen) == 1  # shown once, not again after the rotation
