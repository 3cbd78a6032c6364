"""The SQL of streaming indicators: their values once a minute (`indicator_values`, micro-units of
their own unit); the Markets page reads them through storage/dashboard_queries/chart_queries.py."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import text

from storage.sqlite.db import Database
from storage.sqlite.sql import run_many


def record(db: Database, now: int, values: Mapping[str, Mapping[str, float]]) -> None:
    with db.write() as conn:
        run_many(conn, "INSERT INTO indicator_values (condition_id, variant, at, value) VALUES (?, ?, ?, ?)",
                 [(cid, name, now, round(value * 1e6)) for cid, by_name in values.items()
                  for name, value in by_name.items()])


def prune(db: Database, before: int) -> int:
    with db.write() as conn:
        return int(conn.execute(text("DELETE FROM indicator_values WHERE at < :t"), {"t": before}).rowcount)
