"""The database's upkeep on a real SQLite file (storage/engine_stores/db_upkeep.py): audit rows older
than a year move to the archive beside it (readable there, gone here, never lost between the two),
free pages past the share are given back in steps while another writer keeps writing between them
and a reader keeps its snapshot, a file made before incremental vacuum is converted only where a
full VACUUM is allowed, and each run is recorded."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import pytest

from storage.engine_stores import db_upkeep
from storage.sqlite.db import now_ms
from storage.sqlite.lite import raw_connection
from storage.sqlite.migrations import migrate

YEAR_MS = db_upkeep.YEAR_MS
BLOB = "x" * 3000  # a row about a page: deleting rows frees pages


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    path = tmp_path / "trader.db"
    migrate(path)
    return path


def _audit(path: Path, ages_days: list[int]) -> None:
    now = now_ms()
    with sqlite3.connect(path) as conn:
        conn.executemany("INSERT INTO audit_log (at, actor, action, entity, before, after) VALUES (?, 'dashboard', "
                         "'risk_limit.update', ?, '{\"value\": \"1\"}', '{\"value\": \"2\"}')",
                         [(now - days * 86_400_000, f"risk_limits:l{i}") for i, days in enumerate(ages_days)])


def _free_a_lot(path: Path, rows: int = 4000) -> None:
    """Rows written then deleted, as retention prunes: their pages are free in the file."""
    with sqlite3.connect(path) as conn:
        conn.executemany("INSERT INTO decisions (at, mode, strategy, condition_id, side, price, requested, approved, "
                         "action, reason, detail) VALUES (?, 'paper', 's', 'c', 'BUY', 1, 1, 0, 'deny', 'R', ?)",
                         [(i, BLOB) for i in range(rows)])
    with sqlite3.connect(path) as conn:
        conn.execute("DELETE FROM decisions")


def _facts(path: Path) -> db_upkeep.Facts:
    conn = sqlite3.connect(path)
    try:
        return db_upkeep.facts(conn, path)
    finally:
        conn.close()


def test_a_new_database_gives_space_back_in_steps(db_path: Path) -> None:
    assert _facts(db_path).incremental


def test_audit_rows_older_than_a_year_move_to_the_archive_and_stay_readable(db_path: Path) -> None:
    _audit(db_path, [800, 400, 366, 364, 10, 0])
    done = db_upkeep.run(db_path, "test", 20.0)
    assert done["archived_rows"] == 3 and done["error"] is None and done["optimized"] == 1
    archive = db_upkeep.archive_path(db_path)
    assert archive == db_path.with_name("trader-audit-archive.db")
    with sqlite3.connect(archive) as conn:  # any SQLite tool reads it: the same columns as the audit log
        kept = conn.execute("SELECT actor, action, entity, before, after FROM audit_log ORDER BY id").fetchall()
    assert [row[2] for row in kept] == ["risk_limits:l0", "risk_limits:l1", "risk_limits:l2"]
    assert kept[0][:2] == ("dashboard", "risk_limit.update") and kept[0][4] == '{"value": "2"}'
    with sqlite3.connect(db_path) as conn:
        left = [e for (e,) in conn.execute("SELECT entity FROM audit_log ORDER BY id")]
    assert left == ["risk_limits:l3", "risk_limits:l4", "risk_limits:l5"]
    assert db_upkeep.run(db_path, "test", 20.0)["archived_rows"] == 0  # nothing more is old enough


def test_the_planner_gets_statistics(db_path: Path) -> None:
    _audit(db_path, [10, 0])
    db_upkeep.run(db_path, "test", 20.0)
    with sqlite3.connect(db_path) as conn:
        analyzed = {t for (t,) in conn.execute("SELECT tbl FROM sqlite_stat1")}
    assert "audit_log" in analyzed  # (an empty table has nothing to count)


def test_a_row_copied_but_not_yet_deleted_is_archived_once(db_path: Path) -> None:
    """A crash between the archive's commit and the delete leaves the rows in both: the next run deletes
    them here and keeps one copy there."""
    _audit(db_path, [500, 500])
    archive = db_upkeep.archive_path(db_path)
    kept = raw_connection(archive)
    kept.executescript(db_upkeep.ARCHIVE_TABLE)
    with sqlite3.connect(db_path) as conn:
        rows = conn.execute("SELECT id, at, actor, action, entity, before, after FROM audit_log").fetchall()
    kept.executemany("INSERT INTO audit_log VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
    kept.close()
    assert db_upkeep.run(db_path, "test", 20.0)["archived_rows"] == 2
    with sqlite3.connect(archive) as conn:
        assert conn.execute("SELECT COUNT(*) FROM audit_log").fetchone() == (2,)
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("SELECT COUNT(*) FROM audit_log").fetchone() == (0,)


def test_free_pages_past_the_share_are_given_back_and_the_file_shrinks(db_path: Path) -> None:
    _free_a_lot(db_path)
    before = _facts(db_path)
    assert before.free_share > 0.5
    done = db_upkeep.run(db_path, "test", 20.0)
    after = _facts(db_path)
    assert done["freed_pages"] >= before.free_pages * 0.9 and after.free_pages < before.free_pages * 0.1
    assert done["size_after"] < done["size_before"] and done["free_pages_before"] == before.free_pages
    assert db_path.stat().st_size < before.pages * before.page_size / 2


def test_under_the_share_nothing_is_given_back(db_path: Path) -> None:
    _free_a_lot(db_path, rows=50)
    share = _facts(db_path).free_share
    done = db_upkeep.run(db_path, "test", 90.0)
    assert done["freed_pages"] == 0 and "nothing to give back" in done["note"] and share * 100 < 90
    assert _facts(db_path).free_pages > 0


def test_the_engine_writes_between_the_steps_and_the_dashboard_reads_its_snapshot(db_path: Path) -> None:
    """Another writer (the engine's loop; waiting here up to 2 s, a loaded machine's margin) keeps writing
    while a reclaim runs, and between its steps: the free pages it sees at its writes include counts
    between the first and the last (one VACUUM-like hold would show it only the before and the after).
    A reader holding a snapshot from before reads it on."""
    _free_a_lot(db_path, rows=8000)
    reader = sqlite3.connect(db_path, isolation_level=None)
    reader.execute("BEGIN")
    seen = reader.execute("SELECT COUNT(*) FROM audit_log").fetchone()
    free_seen: list[int] = []
    failed: list[str] = []
    stop = threading.Event()

    def write() -> None:
        conn = raw_connection(db_path, busy_timeout_ms=2000)
        while not stop.is_set():
            try:
                conn.execute("BEGIN IMMEDIATE")
                conn.execute("INSERT INTO alerts (created_at, level, source, code, message) "
                             "VALUES (?, 'info', 'test', 'T', 'beat')", (now_ms(),))
                free_seen.append(conn.execute("PRAGMA freelist_count").fetchone()[0])
                conn.execute("COMMIT")
            except sqlite3.OperationalError as exc:
                failed.append(str(exc))
            time.sleep(0.002)
        conn.close()

    before = _facts(db_path).free_pages
    writer = threading.Thread(target=write)
    writer.start()
    try:
        done = db_upkeep.run(db_path, "test", 20.0)
        assert reader.execute("SELECT COUNT(*) FROM audit_log").fetchone() == seen
    finally:
        stop.set()
        writer.join(10)
        reader.execute("COMMIT")
        reader.close()
    assert done["freed_pages"] > 4 * db_upkeep.RECLAIM_PAGES and failed == []
    between = {n for n in free_seen if 0 < n < before - db_upkeep.RECLAIM_PAGES // 2}
    assert len(between) >= 2, f"the writer never wrote between two steps (free pages it saw: {sorted(set(free_seen))})"


def test_a_file_made_before_is_converted_only_where_a_full_vacuum_may_run(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as conn:  # what a desk of an earlier release has: tables from before
        conn.execute("CREATE TABLE leftover (x)")
    migrate(path)
    assert not _facts(path).incremental
    _free_a_lot(path)
    running = db_upkeep.run(path, "schedule", 20.0)
    assert running["freed_pages"] == 0 and "python -m engine upkeep" in running["note"]
    assert not _facts(path).incremental
    stopped = db_upkeep.run(path, "cli", 20.0, full_vacuum=True)
    assert stopped["freed_pages"] > 0 and "converted" in stopped["note"]
    assert _facts(path).incremental and _facts(path).free_pages == 0


def test_each_run_is_recorded_and_the_schedule_reads_the_last(db_path: Path) -> None:
    conn = raw_connection(db_path)
    try:
        assert db_upkeep.due(conn, 3_600_000)  # never ran
        db_upkeep.run(db_path, "schedule", 20.0)
        assert not db_upkeep.due(conn, 3_600_000)
        assert db_upkeep.due(conn, 3_600_000, now=now_ms() + 3_600_000)
        (last,) = db_upkeep.last_runs(conn, 1)
        assert last["trigger"] == "schedule" and last["finished_at"] >= last["started_at"]
        found = db_upkeep.run_after(conn, last["started_at"])
        assert found is not None and found["id"] == last["id"]
    finally:
        conn.close()
