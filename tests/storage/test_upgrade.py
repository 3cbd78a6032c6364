"""A database made by an older release, with a row in every table it has, upgrades in place to
today's schema with every row kept (the columns it had hold what they held), and then matches the
typed table classes. Each of the last migrations is taken as the release before it."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest
from sqlite_utils import Database as UtilsDatabase
from sqlmodel import SQLModel

from contracts import tables  # noqa: F401  (the classes in SQLModel's metadata)
from storage.sqlite.lite import raw_connection
from storage.sqlite.migrations import known_names, m, migrate
from tests.storage.test_tables import _migrated, differences

RELEASES_BACK = 6  # how many of the latest migrations a release before may lack
# Columns a migration dropped after moving what they held elsewhere (each with its own upgrade test).
DROPPED = {("engine_state", column) for column in ("paper_lane_state", "paper_lane_reason", "paper_lane_peak",
                                                   "paper_lane_day_start", "paper_lane_day_at",  # 0090
                                                   "kalshi_mode", "kalshi_host", "kalshi_key")}  # 0099


def _older_release(path: Path, stop_before: str) -> None:
    conn = raw_connection(path, synchronous="FULL")
    try:
        m.apply(UtilsDatabase(conn), stop_before=stop_before)
    finally:
        conn.close()


def _allowed(create_sql: str) -> dict[str, object]:
    """Each column's first allowed value where the table checks `column IN (...)`."""
    found: dict[str, object] = {}
    for column, values in re.findall(r"(\w+)\s+\w+[^,]*?CHECK\s*\(\s*\1\s+IN\s*\(([^)]*)\)", create_sql):
        first = values.split(",")[0].strip()
        found[column] = first.strip("'") if first.startswith("'") else int(first)
    return found


def _value(kind: str, column: str, n: int, allowed: dict[str, object]) -> object:
    if column in allowed:
        return allowed[column]
    return n if kind == "INTEGER" else f"{column}-{n}"


def _fill(path: Path) -> dict[str, tuple[list[str], list[tuple[object, ...]]]]:
    """One row in every table, with an allowed value where a column lists them (the other checks
    off: the point is that rows survive, not what they say); returns each table's rows as
    inserted, with its column names in order."""
    kept: dict[str, tuple[list[str], list[tuple[object, ...]]]] = {}
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA ignore_check_constraints = ON")
        conn.execute("PRAGMA foreign_keys = OFF")
        names = [n for (n,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' "
                                            "AND name NOT LIKE 'sqlite_%' AND name != '_sqlite_migrations'")]
        for n, name in enumerate(names, start=7):
            columns = [(col, kind) for _, col, kind, _, _, _ in conn.execute(f"PRAGMA table_info({name})")]
            (create,) = conn.execute("SELECT sql FROM sqlite_master WHERE name = ?", (name,)).fetchone()
            conn.execute(f"DELETE FROM {name}")  # a seeded row (the engine row) is replaced by ours
            row = tuple(_value(kind, col, n, _allowed(create)) for col, kind in columns)
            conn.execute(f"INSERT INTO {name} ({', '.join(c for c, _ in columns)}) "
                         f"VALUES ({', '.join('?' * len(columns))})", row)
            kept[name] = ([c for c, _ in columns], [row])
    return kept


@pytest.mark.parametrize("back", range(1, RELEASES_BACK + 1))
def test_an_older_database_upgrades_in_place_with_every_row_kept(tmp_path: Path, back: int) -> None:
    path = tmp_path / "old.db"
    stop_before = known_names()[-back]
    _older_release(path, stop_before)
    before = _fill(path)
    applied = migrate(path)
    assert applied and applied[0] == stop_before  # it really was older, and was upgraded
    with sqlite3.connect(path) as conn:
        for name, (columns, rows) in before.items():
            now_columns = {c[1] for c in conn.execute(f"PRAGMA table_info({name})")}
            gone = {(name, column) for column in columns if column not in now_columns}
            assert gone <= DROPPED, gone  # a column goes only when a migration moved what it held
            still = [i for i, column in enumerate(columns) if column in now_columns]
            kept = conn.execute(f"SELECT {', '.join(columns[i] for i in still)} FROM {name}").fetchall()
            expected = {tuple(row[i] for i in still) for row in rows}
            assert expected <= set(kept), name  # (a trigger may have added rows of its own)
    assert differences(_migrated(path), dict(SQLModel.metadata.tables)) == []
