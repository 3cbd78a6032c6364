"""The IN-list builder against real SQLite: values bind as parameters, an empty list matches nothing."""

from __future__ import annotations

import sqlite3

import pytest

from storage.sqlite.sql import in_list


@pytest.fixture
def conn() -> sqlite3.Connection:
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE t (v TEXT)")
    conn.executemany("INSERT INTO t VALUES (?)", [("a",), ("b",), ("c'); DROP TABLE t; --",)])
    return conn


def _matching(conn: sqlite3.Connection, values: list[str]) -> list[str]:
    names, params = in_list("v", values)
    return [row[0] for row in conn.execute(f"SELECT v FROM t WHERE v IN {names} ORDER BY v", params)]


def test_matches_exactly_the_values_given(conn: sqlite3.Connection) -> None:
    assert _matching(conn, ["b", "a", "zz"]) == ["a", "b"]


def test_values_are_bound_not_spliced(conn: sqlite3.Connection) -> None:
    assert _matching(conn, ["c'); DROP TABLE t; --"]) == ["c'); DROP TABLE t; --"]
    assert conn.execute("SELECT COUNT(*) FROM t").fetchone()[0] == 3


def test_empty_list_is_valid_sql_and_matches_nothing(conn: sqlite3.Connection) -> None:
    assert in_list("v", []) == ("(NULL)", {})
    assert _matching(conn, []) == []
