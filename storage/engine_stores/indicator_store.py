"""The SQL of streaming indicators: their values once a minute (`indicator_values`, micro-units of
their own unit); the Markets page reads them through storage/dashboard_queries/chart_queries.py."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import text

from storage.sqlite.db import Database
from storage.sqlite.sql import in_list, run_many


def record(db: Database, now: int, values: Mapping[str, Mapping[str, float]]) -> None:
    with db.write() as conn:
        run_many(conn, "INSERT INTO indicator_values (condition_id, variant, at, value) VALUES (?, ?, ?, ?)",
                 [(cid, name, now, round(value * 1e6)) for cid, by_name in values.items()
                  for name, value in by_name.items()])


def prune(db: Database, before: int) -> int:
    with db.write() as conn:
        return int(conn.execute(text("DELETE FROM indicator_values WHERE at < :t"), {"t": before}).rowcount)


def recorded_mids(db: Database, token_id: str, since: int, until: int) -> list[tuple[int, int]]:
    """(at, mid) the recorder wrote for `token_id` from `since` to `until`, oldest first: a new
    indicator's window filled from what the desk saw before it started (engine/trading/hosting/indicator_host.py)."""
    with db.read() as conn:
        rows = conn.execute(text("""SELECT at, mid FROM ticks WHERE token_id = :t AND at BETWEEN :s AND :u
                                    AND mid IS NOT NULL AND kind != 'trade' ORDER BY at, rowid"""),
                            {"t": token_id, "s": since, "u": until}).all()
    return [(int(at), int(mid)) for at, mid in rows]


def recorded_trades(db: Database, token_ids: list[str], since: int, until: int) -> list[tuple[int, int]]:
    """(at, size) of the trade prints recorded for these tokens from `since` to `until`, oldest first."""
    tokens, params = in_list("t", token_ids)
    with db.read() as conn:
        rows = conn.execute(text(f"""SELECT at, size FROM ticks WHERE kind = 'trade' AND at BETWEEN :s AND :u
                                     AND size IS NOT NULL AND token_id IN {tokens} ORDER BY at, rowid"""),
                            {"s": since, "u": until, **params}).all()
    return [(int(at), int(size)) for at, size in rows]
