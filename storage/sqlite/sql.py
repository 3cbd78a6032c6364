"""Raw statements on the DBAPI connection of a SQLAlchemy transaction, for hot paths.

The executor's and the paper venue's per-order and per-fill statements run thousands of
times a minute (and millions of times in a backtest); going straight to sqlite3 inside the
transaction SQLAlchemy began (BEGIN IMMEDIATE, same connection) costs a fraction of
SQLAlchemy's statement machinery. Rows come back as sqlite3.Row (access by column name).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection

from storage.sqlite.write_behind import flush_before

Params = Mapping[str, Any] | Sequence[Any]


def _cursor(conn: Connection) -> sqlite3.Cursor:
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]  # SQLAlchemy types the DBAPI connection loosely; it is sqlite3's
    cursor.row_factory = sqlite3.Row
    return cursor


def run(conn: Connection, sql: str, params: Params = ()) -> sqlite3.Cursor:
    flush_before(conn, sql)  # a replay's rows held in memory are written first (storage/sqlite/write_behind.py)
    cursor = _cursor(conn)
    cursor.execute(sql, params)
    return cursor


def run_beside(conn: Connection, sql: str, params: Params = ()) -> sqlite3.Cursor:
    """`run` without writing a replay's held rows first: only for a statement that changes rows that are
    not held (storage/sqlite/write_behind.py), which the held ones cannot change."""
    cursor = _cursor(conn)
    cursor.execute(sql, params)
    return cursor


def run_many(conn: Connection, sql: str, rows: Iterable[Params]) -> sqlite3.Cursor:
    flush_before(conn, sql)
    cursor = _cursor(conn)
    cursor.executemany(sql, rows)
    return cursor


def scalar(conn: Connection, sql: str, params: Params = ()) -> Any:
    row = run(conn, sql, params).fetchone()
    return None if row is None else row[0]


def in_list(prefix: str, values: Sequence[Any]) -> tuple[str, dict[str, Any]]:
    """`(:p0, :p1, ...)` and its named parameters, for `column IN {sql}`; `(NULL)` when empty,
    which matches nothing (an empty `IN ()` is a syntax error in SQLite)."""
    names = [f"{prefix}{i}" for i in range(len(values))]
    sql = "(" + (", ".join(f":{name}" for name in names) or "NULL") + ")"
    return sql, dict(zip(names, values, strict=True))
