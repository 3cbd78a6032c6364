"""A real engine keeps its database (issue 91): on its own schedule (`db_upkeep_minutes`, here 1) it
optimizes, moves the audit rows older than a year to the archive beside the database and gives the
free pages back; `python -m engine upkeep` runs one now through the running engine's command (the
CLI prints what it did), and, the engine stopped, in the CLI itself; each run is recorded."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from storage.engine_stores import db_upkeep
from storage.sqlite.db import now_ms
from storage.sqlite.migrations import migrate
from tests.helpers import EngineProcess, isolated_env, run_cli, wait_until

pytestmark = pytest.mark.slow
BLOB = "x" * 3000


def _runs(path: Path) -> list[dict]:
    conn = sqlite3.connect(path)
    try:
        return list(reversed(db_upkeep.last_runs(conn, 50)))
    finally:
        conn.close()


def _a_year_of_desk(path: Path) -> None:
    """Audit rows of two years, and pages a pruned table left free, on a desk whose upkeep runs each minute."""
    migrate(path)
    now = now_ms()
    with sqlite3.connect(path) as conn:
        conn.executemany("INSERT INTO audit_log (at, actor, action, entity, after) VALUES (?, 'dashboard', "
                         "'settings.update', 'settings:x', '{}')", [(now - days * 86_400_000,) for days in
                                                                       (700, 500, 400, 30, 1)])
        conn.executemany("INSERT INTO decisions (at, mode, strategy, condition_id, side, price, requested, approved, "
                         "action, reason, detail) VALUES (?, 'paper', 's', 'c', 'BUY', 1, 1, 0, 'deny', 'R', ?)",
                         [(i, BLOB) for i in range(3000)])
        conn.execute("INSERT INTO settings (key, value, version, updated_at, updated_by) "
                     "VALUES ('db_upkeep_minutes', '1', 1, ?, 'test')", (now,))
    with sqlite3.connect(path) as conn:
        conn.execute("DELETE FROM decisions")


def test_the_engine_keeps_its_database_on_schedule_and_on_demand(tmp_path: Path) -> None:
    env = isolated_env(tmp_path, SIMULATOR_PORT="9")
    path = Path(env["TRADER_DB"])
    _a_year_of_desk(path)
    engine = EngineProcess(tmp_path, env).start()
    try:
        first = wait_until(lambda: next((r for r in _runs(path) if r["trigger"] == "schedule" and r["finished_at"]),
                                        None), 90, 0.5, "the first scheduled upkeep")
        assert first["error"] is None and first["optimized"] == 1, first
        assert first["archived_rows"] == 3 and first["freed_pages"] > 0 and first["size_after"] < first["size_before"]
        with sqlite3.connect(db_upkeep.archive_path(path)) as conn:
            assert conn.execute("SELECT COUNT(*) FROM audit_log").fetchone() == (3,)

        done = run_cli(["upkeep", "--json"], env, timeout=180)
        assert done.returncode == 0, done.stderr
        by_command = json.loads(done.stdout)
        assert by_command["trigger"].startswith("command:cli") and by_command["error"] is None
        assert "the engine is running" in done.stderr

        # The schedule goes on: the next run one interval after the last one began.
        second = wait_until(lambda: [r for r in _runs(path) if r["trigger"] == "schedule" and r["finished_at"]][1:],
                            180, 1.0, "the second scheduled upkeep")[0]
        assert second["started_at"] - by_command["started_at"] >= 60_000
        assert not engine.status().heartbeat_stale  # the loop beat on throughout
    finally:
        engine.terminate()
        engine.cleanup()
    stopped = run_cli(["upkeep"], env, timeout=180)
    assert stopped.returncode == 0, stopped.stderr
    assert "audit rows older than a year moved to" in stopped.stdout
    assert _runs(path)[-1]["trigger"] == "cli"
