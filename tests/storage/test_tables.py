"""The typed table classes (contracts/tables.py) describe the schema the migrations make: a column
added, dropped, renamed or made optional on one side only fails here."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlmodel import SQLModel

from contracts import tables  # noqa: F401  (registers the classes in SQLModel's metadata)
from storage.sqlite.migrations import migrate


def test_every_table_class_matches_the_migrated_schema(tmp_path: Path) -> None:
    migrate(tmp_path / "t.db")
    with sqlite3.connect(tmp_path / "t.db") as conn:
        for table in SQLModel.metadata.sorted_tables:
            # (required, primary key); a primary key counts as required on both sides
            stored = {name: (bool(notnull) or bool(pk), bool(pk)) for _, name, _, notnull, _, pk in
                      conn.execute(f"PRAGMA table_info({table.name})")}
            declared = {c.name: (not c.nullable, c.primary_key) for c in table.columns}
            assert stored == declared, table.name
    assert {t.name for t in SQLModel.metadata.sorted_tables} >= {"market_events"}
