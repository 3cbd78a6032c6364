"""The migrations are the schema; the SQLModel classes must mirror them exactly."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import UniqueConstraint, create_engine, inspect
from sqlmodel import SQLModel

import storage.models  # noqa: F401  (registers the tables)
from storage.migrations import (
    SchemaTooNew,
    applied_names,
    is_migrated,
    known_names,
    migrate,
)


def _reflect(path: Path) -> dict[str, dict]:
    insp = inspect(create_engine(f"sqlite:///{path}"))
    out: dict[str, dict] = {}
    for table in insp.get_table_names():
        if table.startswith("_sqlite"):
            continue
        pk = set(insp.get_pk_constraint(table)["constrained_columns"])
        out[table] = {
            "columns": {
                c["name"]: (str(c["type"]), bool(c["nullable"]) and c["name"] not in pk)
                for c in insp.get_columns(table)
            },
            "pk": pk,
            "indexes": {
                (i["name"], tuple(i["column_names"]), bool(i["unique"]))
                for i in insp.get_indexes(table)
            },
            "unique": {tuple(u["column_names"]) for u in insp.get_unique_constraints(table)},
        }
    return out


def _models() -> dict[str, dict]:
    out: dict[str, dict] = {}
    for table in SQLModel.metadata.sorted_tables:
        pk = {c.name for c in table.primary_key.columns}
        unique = {
            tuple(c.name for c in con.columns)
            for con in table.constraints
            if isinstance(con, UniqueConstraint)
        } | {(c.name,) for c in table.columns if c.unique}
        out[table.name] = {
            "columns": {
                c.name: (str(c.type.compile()), bool(c.nullable) and c.name not in pk)
                for c in table.columns
            },
            "pk": pk,
            "indexes": {
                (i.name, tuple(c.name for c in i.columns), bool(i.unique)) for i in table.indexes
            },
            "unique": unique,
        }
    return out


def test_empty_to_head_matches_models(tmp_path: Path) -> None:
    db = tmp_path / "t.db"
    applied = migrate(db)
    assert applied == known_names()
    reflected, models = _reflect(db), _models()
    assert set(reflected) == set(models)
    for table in models:
        assert reflected[table] == models[table], table


def test_migrate_is_idempotent_and_uses_wal(tmp_path: Path) -> None:
    db = tmp_path / "t.db"
    migrate(db)
    assert migrate(db) == []
    assert is_migrated(db)
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("SELECT state, mode FROM engine_state").fetchall() == [("IDLE", "paper")]


def test_database_newer_than_code_is_refused(tmp_path: Path) -> None:
    db = tmp_path / "t.db"
    migrate(db)
    conn = sqlite3.connect(db)
    conn.execute(
        "INSERT INTO _sqlite_migrations (migration_set, name, applied_at) VALUES ('trader', '9999_future', 'x')"
    )
    conn.commit()
    conn.close()
    with pytest.raises(SchemaTooNew, match="9999_future"):
        migrate(db)
    conn = sqlite3.connect(db)
    assert "9999_future" in applied_names(conn)


def test_failed_migration_leaves_nothing_applied(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from storage import migrations

    db = tmp_path / "t.db"

    def boom(_db) -> None:
        _db.execute("CREATE TABLE half_done (x INTEGER)")
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(migrations.m, "_migrations", [*migrations.m._migrations, migrations.m._Migration("9000_boom", boom)])
    with pytest.raises(RuntimeError, match="disk on fire"):
        migrate(db)
    conn = sqlite3.connect(db)
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert "half_done" not in tables and "engine_state" not in tables


def test_old_database_keeps_its_rows_when_migrated(tmp_path: Path) -> None:
    from sqlite_utils import Database as UtilsDatabase

    from storage import migrations

    db = tmp_path / "old.db"
    conn = sqlite3.connect(db, isolation_level=None)
    migrations.m.apply(UtilsDatabase(conn), stop_before="0002_markets")
    conn.execute("UPDATE engine_state SET state='KILLED', kill_latched=1, kill_reason='old'")
    conn.execute("INSERT INTO strategies (name, kind, params, enabled, created_at, updated_at, updated_by) "
                 "VALUES ('mm1', 'market_making', '{}', 1, 1, 1, 'me')")
    conn.close()
    assert "0002_markets" in migrate(db)
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT state, kill_latched, kill_reason, trading_state FROM engine_state").fetchone() == (
        "KILLED", 1, "old", "ACTIVE")
    assert conn.execute("SELECT name, enabled, status FROM strategies").fetchall() == [("mm1", 1, "ok")]


def test_fills_learn_matched_not_broadcasted_and_keep_their_rows(tmp_path: Path) -> None:
    """0017 rebuilds fills for the venue's MATCHED_NOT_BROADCASTED: every row (its id too) survives,
    RETRYING takes its new rank, the new status is accepted where it was refused before, and the
    notifier's trigger on new fills (0014) still fires."""
    from sqlite_utils import Database as UtilsDatabase

    from storage import migrations

    db = tmp_path / "old.db"
    conn = sqlite3.connect(db, isolation_level=None)
    migrations.m.apply(UtilsDatabase(conn), stop_before="0017_fill_status_not_broadcasted")
    conn.execute("INSERT INTO orders (id, client_id, mode, strategy, condition_id, token_id, outcome, side, price, "
                 "size, tif, status, status_rank, created_at, updated_at) VALUES (7, 'c', 'live', 's', 'm', 't', "
                 "'YES', 'BUY', 500000, 10000000, 'GTC', 'FILLED', 100, 1, 1)")
    fill = ("INSERT INTO fills (id, trade_id, order_id, mode, strategy, condition_id, token_id, outcome, side, price, "
            "size, liquidity, status, status_rank, matched_at, updated_at) VALUES (?, ?, 7, 'live', 's', 'm', 't', "
            "'YES', 'BUY', 500000, 10000000, 'MAKER', ?, ?, 1, 1)")
    conn.execute(fill, (3, "a", "RETRYING", 15))
    conn.execute(fill, (4, "b", "CONFIRMED", 30))
    with pytest.raises(sqlite3.IntegrityError):
        conn.execute(fill, (5, "c", "MATCHED_NOT_BROADCASTED", 5))
    conn.close()
    assert "0017_fill_status_not_broadcasted" in migrate(db)
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT id, trade_id, status, status_rank FROM fills ORDER BY id").fetchall() == [
        (3, "a", "RETRYING", 25), (4, "b", "CONFIRMED", 30)]
    conn.execute(fill, (5, "c", "MATCHED_NOT_BROADCASTED", 5))
    indexes = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'fills'")}
    assert {"ix_fills_order", "ix_fills_market", "ix_fills_matched", "ix_fills_position"} <= indexes
    assert conn.execute("SELECT kind, ref FROM notify_events").fetchall() == [("fill", 3), ("fill", 4), ("fill", 5)]
