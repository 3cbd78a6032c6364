"""The change watch the engine's command poll looks at first (storage/sqlite/changes.py): it tells
a commit by any other connection, and nothing else, since its previous look."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from storage.sqlite.changes import ChangeWatch
from storage.sqlite.migrations import migrate


def test_it_tells_each_commit_by_another_connection_once(tmp_path: Path) -> None:
    path = tmp_path / "w.db"
    migrate(path)
    watch = ChangeWatch(path)
    assert watch.changed() is True  # its first look: nothing known yet
    assert watch.changed() is False
    with sqlite3.connect(path) as other:
        other.execute("SELECT count(*) FROM commands").fetchone()
    assert watch.changed() is False  # a read is no change
    with sqlite3.connect(path) as other:
        other.execute("UPDATE engine_state SET updated_at = updated_at + 1")
    assert watch.changed() is True
    assert watch.changed() is False
    watch.close()


def test_a_database_it_cannot_read_counts_as_changed(tmp_path: Path) -> None:
    watch = ChangeWatch(tmp_path / "absent.db")  # a reader never creates the file
    assert watch.changed() is True
    assert watch.changed() is True
    assert not (tmp_path / "absent.db").exists()
