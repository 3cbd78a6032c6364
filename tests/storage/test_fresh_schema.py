"""An empty database is built from the migrations' snapshot (storage/sqlite/fresh_schema.py): the
snapshot is current, what it builds is what the migrations build, and a stale one is never used."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from storage.sqlite import fresh_schema, migrations

NOW_MS = 1_795_000_000_123


def test_the_snapshot_is_what_the_migrations_generate() -> None:
    assert fresh_schema.SNAPSHOT.read_text(encoding="utf-8") == fresh_schema.generate(), (
        "storage/sqlite/fresh_schema.sql is stale: run `.venv/bin/python -m storage.sqlite.fresh_schema` "
        "after changing the migrations")


def _contents(path: Path) -> dict[str, Any]:
    """Everything a database holds that the desk could read, but when its migrations ran."""
    conn = sqlite3.connect(path)
    try:
        schema = sorted(conn.execute("SELECT type, name, tbl_name, sql FROM sqlite_master").fetchall(),
                        key=repr)
        tables = [name for kind, name, _, _ in schema if kind == "table"]
        rows = {name: sorted(conn.execute(f'SELECT * FROM "{name}"').fetchall(), key=repr)
                for name in tables if name != fresh_schema.MIGRATIONS_TABLE}
        applied = conn.execute(
            f"SELECT migration_set, name FROM {fresh_schema.MIGRATIONS_TABLE} ORDER BY id").fetchall()
        pragmas = {p: conn.execute(f"PRAGMA {p}").fetchall() for p in ("journal_mode", "user_version",
                                                                        "foreign_key_check", "integrity_check")}
        return {"schema": schema, "rows": rows, "applied": applied, "pragmas": pragmas}
    finally:
        conn.close()


def test_a_database_built_from_the_snapshot_is_the_one_the_migrations_build(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(migrations, "now_ms", lambda: NOW_MS)
    assert migrations.migrate_one_by_one(tmp_path / "chain.db") == migrations.known_names()
    assert migrations.migrate(tmp_path / "snapshot.db") == migrations.known_names()
    chain, snapshot = _contents(tmp_path / "chain.db"), _contents(tmp_path / "snapshot.db")
    assert snapshot == chain
    # Rows a migration stamps with the time are stamped with the time of this build, not the snapshot's.
    assert (NOW_MS,) in [(row[-1],) for row in snapshot["rows"]["venue_risk"]]


def _forbid_one_by_one(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    ran: list[str] = []
    apply = migrations.m.apply

    def spy(db: Any, **kw: Any) -> None:
        ran.append("one by one")
        apply(db, **kw)

    monkeypatch.setattr(migrations.m, "apply", spy)
    return ran


def test_an_empty_database_is_built_from_the_snapshot(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ran = _forbid_one_by_one(monkeypatch)
    assert migrations.migrate(tmp_path / "new.db") == migrations.known_names()
    assert ran == []
    # Once built, a database is migrated as ever: nothing is pending, nothing runs again.
    assert migrations.migrate(tmp_path / "new.db") == []


def test_a_stale_snapshot_or_a_database_with_tables_runs_the_migrations(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ran = _forbid_one_by_one(monkeypatch)
    current = fresh_schema.read_snapshot()
    assert current is not None
    # A snapshot made before the newest migration (a new migration added, the snapshot not regenerated).
    stale = fresh_schema.Snapshot(current.migrations[:-1], current.statements)
    monkeypatch.setattr(fresh_schema, "read_snapshot", lambda: stale)
    assert migrations.migrate(tmp_path / "stale.db") == migrations.known_names()
    assert ran == ["one by one"]
    # A file that already holds a table of something else is never built over.
    monkeypatch.setattr(fresh_schema, "read_snapshot", lambda: current)
    other = tmp_path / "other.db"
    sqlite3.connect(other).execute("CREATE TABLE notes (x)").connection.close()
    assert migrations.migrate(other) == migrations.known_names()
    assert ran == ["one by one", "one by one"]


def test_a_missing_or_foreign_snapshot_file_is_no_snapshot(tmp_path: Path) -> None:
    assert fresh_schema.read_snapshot(tmp_path / "absent.sql") is None
    (tmp_path / "foreign.sql").write_text("CREATE TABLE x (y);\n", encoding="utf-8")
    assert fresh_schema.read_snapshot(tmp_path / "foreign.sql") is None
