"""The typed table classes (contracts/tables/) describe the schema the migrations make: every table
has a class, and a column added, dropped, renamed, retyped or made optional on one side only fails
here, with the difference named."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlalchemy import Integer, Table
from sqlmodel import Field, SQLModel

from contracts import tables
from storage.sqlite.migrations import migrate

RUNNER_TABLES = {"_sqlite_migrations"}  # sqlite-utils' own bookkeeping, not the desk's contract
Column = tuple[str, bool, bool]  # (type affinity, required, primary key)


def _migrated(path: Path) -> dict[str, dict[str, Column]]:
    with sqlite3.connect(path) as conn:
        names = [n for (n,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' "
                                            "AND name NOT LIKE 'sqlite_%'") if n not in RUNNER_TABLES]
        # A primary key counts as required on both sides.
        return {name: {col: (kind, bool(notnull) or bool(pk), bool(pk))
                       for _, col, kind, notnull, _, pk in conn.execute(f"PRAGMA table_info({name})")}
                for name in names}


def _declared(table: Table) -> dict[str, Column]:
    return {c.name: ("INTEGER" if isinstance(c.type, Integer) else "TEXT", not c.nullable, c.primary_key)
            for c in table.columns}


def differences(migrated: dict[str, dict[str, Column]], declared: dict[str, Table]) -> list[str]:
    """Every way the classes and the migrated schema disagree, in words."""
    found = [f"table {name}: no class" for name in sorted(migrated.keys() - declared.keys())]
    found += [f"class for {name}: no such table" for name in sorted(declared.keys() - migrated.keys())]
    for name in sorted(migrated.keys() & declared.keys()):
        stored, typed = migrated[name], _declared(declared[name])
        for col in sorted(stored.keys() | typed.keys()):
            if stored.get(col) != typed.get(col):
                found.append(f"{name}.{col}: migrated {stored.get(col)}, declared {typed.get(col)}")
    return found


def test_every_table_has_a_class_that_matches_it(tmp_path: Path) -> None:
    migrate(tmp_path / "t.db")
    migrated = _migrated(tmp_path / "t.db")
    assert len(migrated) >= 45 and len(tables.__all__) == len(migrated)  # the walk reads the whole schema
    assert differences(migrated, dict(SQLModel.metadata.tables)) == []


def test_the_check_names_each_kind_of_difference(tmp_path: Path) -> None:
    """A planted class that drifted: a retyped, an optional-made and a missing column, a stray
    column, and a table left without its class, each named."""
    migrate(tmp_path / "t.db")
    migrated = _migrated(tmp_path / "t.db")

    class DriftedEvent(SQLModel, table=True):
        __tablename__ = "drifted_events"
        __table_args__ = {"keep_existing": True}
        id: int = Field(primary_key=True)  # migrated as TEXT
        title: str | None = None  # migrated NOT NULL
        augmented: int
        stray: int  # no such column
        # updated_at and neg_risk_market_id missing

    planted = SQLModel.metadata.tables["drifted_events"]
    drifted = {**dict(SQLModel.metadata.tables), "market_events": planted}
    del drifted["ticks"], drifted["drifted_events"]
    found = differences(migrated, drifted)
    SQLModel.metadata.remove(planted)
    assert found == [
        "table ticks: no class",
        "market_events.id: migrated ('TEXT', True, True), declared ('INTEGER', True, True)",
        "market_events.neg_risk_market_id: migrated ('TEXT', False, False), declared None",
        "market_events.stray: migrated None, declared ('INTEGER', True, False)",
        "market_events.title: migrated ('TEXT', True, False), declared ('TEXT', False, False)",
        "market_events.updated_at: migrated ('INTEGER', True, False), declared None",
    ]
