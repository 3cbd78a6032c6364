"""The paper venue's trades read by the time they matched (migration 0100): its rebates over a span
(a backtest asks at each reward sample, ten thousand times over a week) and its trades since a time
search that span, not every trade the venue ever made."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

from sqlalchemy import Connection

from storage.engine_stores import paper_book
from storage.sqlite.db import Database


def _plans(db: Database, read: Callable[[Connection], object]) -> list[str]:
    """The query plan of each statement `read(conn)` runs (sqlite3 traces them with their values)."""
    statements: list[str] = []
    with db.read() as conn:
        raw: sqlite3.Connection = conn.connection.driver_connection  # type: ignore[assignment]  # sqlite3's, as storage/sqlite/sql.py uses it
        raw.set_trace_callback(statements.append)
        try:
            read(conn)
        finally:
            raw.set_trace_callback(None)
        return [" ".join(str(step[-1]) for step in raw.execute("EXPLAIN QUERY PLAN " + sql).fetchall())
                for sql in statements if sql.lstrip().upper().startswith("SELECT")]


def test_rebates_over_a_span_and_trades_since_a_time_search_the_trades_by_time(db: Database) -> None:
    for read in (lambda conn: paper_book.maker_fills(conn, 1_000, 61_000),
                 lambda conn: paper_book.trades_since(conn, 1_000, "polymarket")):
        plans = _plans(db, read)
        assert plans and all("USING INDEX ix_paper_trades_matched" in plan for plan in plans), plans
