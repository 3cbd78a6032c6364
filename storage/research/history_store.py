"""Imported price history: `price_history` points and the resume mark of each import
(`import_progress`), and the market lookup the import command starts from.

A window's points and the move of its resume mark are written in one transaction, so an
interrupted import continues where it stopped and a finished one does nothing again.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import text

from storage.sqlite.db import Database, now_ms


def market_tokens(db: Database, market: str) -> tuple[str, str] | None:
    """(YES token, NO token) of the market whose condition id or slug is `market`; None if unknown."""
    with db.read() as conn:
        row = conn.execute(text("SELECT yes_token, no_token FROM markets WHERE condition_id = :m OR slug = :m"),
                           {"m": market}).first()
    return None if row is None else (str(row[0]), str(row[1]))


def resume_mark(db: Database, token: str, from_ms: int, to_ms: int) -> int:
    """How far the import of `token` over [from_ms, to_ms] has got (its start when new)."""
    with db.write() as conn:
        conn.execute(text("""INSERT INTO import_progress (token_id, from_at, to_at, done_until, points, updated_at)
                             VALUES (:t, :f, :to, :f, 0, :now) ON CONFLICT DO NOTHING"""),
                     {"t": token, "f": from_ms, "to": to_ms, "now": now_ms()})
        return int(conn.execute(text("""SELECT done_until FROM import_progress WHERE token_id = :t AND from_at = :f
                                        AND to_at = :to"""), {"t": token, "f": from_ms, "to": to_ms}).scalar_one())


def store_window(db: Database, token: str, from_ms: int, to_ms: int, points: Sequence[tuple[int, int]],
                 until: int) -> int:
    """Write a window's (at, price) points and move the resume mark to `until`; returns the points
    actually added. Consecutive windows share their boundary instant and /prices-history includes
    both ends, so a point may already be stored: ON CONFLICT skips it, and it is not counted again."""
    with db.write() as conn:
        added = 0
        if points:
            added = conn.execute(text("INSERT INTO price_history (token_id, at, price) VALUES (:t, :at, :p) "
                                      "ON CONFLICT DO NOTHING"),
                                 [{"t": token, "at": at, "p": price} for at, price in points]).rowcount
        conn.execute(text("""UPDATE import_progress SET done_until = :u, points = points + :n, updated_at = :now
                             WHERE token_id = :t AND from_at = :f AND to_at = :to"""),
                     {"u": until, "n": added, "now": now_ms(), "t": token, "f": from_ms, "to": to_ms})
    return added
