"""A FULL writer's one unsynced transaction (storage/sqlite/db.py `write(synced=False)`): committed
as NORMAL (to the WAL, not waited on the disk for), and the writer is FULL again for every
transaction after it, whether it committed, rolled back or never began."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Connection, text

from storage.sqlite.db import Database
from storage.sqlite.migrations import migrate

NORMAL, FULL = 1, 2  # what PRAGMA synchronous reads


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    migrate(tmp_path / "desk.db")
    database = Database(tmp_path / "desk.db", writer_sync="FULL")
    yield database
    database.dispose()


def level(conn: Connection) -> int:
    return int(conn.execute(text("PRAGMA synchronous")).scalar_one())


def test_an_unsynced_transaction_commits_as_normal_and_the_writer_is_full_again(db: Database) -> None:
    with db.write(synced=False) as conn:
        assert level(conn) == NORMAL
        conn.execute(text("CREATE TABLE marks (id INTEGER PRIMARY KEY)"))
        conn.execute(text("INSERT INTO marks VALUES (1)"))
    with db.read() as conn:  # committed: another connection reads it
        assert conn.execute(text("SELECT count(*) FROM marks")).scalar_one() == 1
    with db.write() as conn:
        assert level(conn) == FULL


def test_the_writer_is_full_again_after_an_unsynced_transaction_rolls_back(db: Database) -> None:
    with pytest.raises(RuntimeError), db.write(synced=False) as conn:
        conn.execute(text("CREATE TABLE marks (id INTEGER PRIMARY KEY)"))
        raise RuntimeError("a write that failed half-way")
    with db.write() as conn:
        assert level(conn) == FULL
        assert conn.execute(text("SELECT count(*) FROM sqlite_master WHERE name = 'marks'")).scalar_one() == 0


def test_a_normal_writer_stays_normal_and_a_full_one_syncs_by_default(tmp_path: Path, db: Database) -> None:
    with db.write() as conn:
        assert level(conn) == FULL
    migrate(tmp_path / "other.db")
    other = Database(tmp_path / "other.db", writer_sync="NORMAL")
    try:
        with other.write(synced=False) as conn:
            assert level(conn) == NORMAL
        with other.write() as conn:
            assert level(conn) == NORMAL
    finally:
        other.dispose()
