"""Importing /prices-history into `price_history`, resumably, through py-clob-client-v2.

The range is fetched in windows (one request each); after each window the points are
written and `import_progress.done_until` moves forward in the same transaction, so an
interrupted import continues where it stopped and a finished one does nothing again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

from py_clob_client_v2.client import ClobClient
from py_clob_client_v2.clob_types import PricesHistoryParams
from sqlalchemy import text

from engine.domain import to_micros
from storage.db import Database, now_ms

WINDOW_MS = 24 * 3_600_000  # one day of points per request


class HistoryError(ValueError):
    pass


@dataclass(frozen=True)
class ImportReport:
    token_id: str
    windows: int
    points: int
    resumed_from: int
    done_until: int


def _progress_row(db: Database, token: str, from_ms: int, to_ms: int) -> int:
    with db.write() as conn:
        conn.execute(text("""INSERT INTO import_progress (token_id, from_at, to_at, done_until, points, updated_at)
                             VALUES (:t, :f, :to, :f, 0, :now) ON CONFLICT DO NOTHING"""),
                     {"t": token, "f": from_ms, "to": to_ms, "now": now_ms()})
        return int(conn.execute(text("""SELECT done_until FROM import_progress WHERE token_id = :t AND from_at = :f
                                        AND to_at = :to"""), {"t": token, "f": from_ms, "to": to_ms}).scalar_one())


def _fetch(client: ClobClient, token: str, start_ms: int, end_ms: int, fidelity: int) -> list[tuple[int, int]]:
    raw = client.get_prices_history(PricesHistoryParams(market=token, start_ts=start_ms // 1000,
                                                        end_ts=end_ms // 1000, fidelity=fidelity))
    points = raw.get("history", []) if isinstance(raw, dict) else raw
    out = []
    for point in points or []:
        try:
            out.append((int(point["t"]) * 1000, to_micros(point["p"])))
        except (KeyError, TypeError, ValueError):
            continue  # a malformed point is skipped, never guessed
    return out


def _store(db: Database, token: str, from_ms: int, to_ms: int, points: list[tuple[int, int]], until: int) -> int:
    """Write a window's points and move the resume mark; returns the points actually added.

    Consecutive windows share their boundary instant and /prices-history includes both ends,
    so a point may already be stored: ON CONFLICT skips it, and it is not counted again."""
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


async def import_history(db: Database, clob_host: str, chain_id: int, token: str, from_ms: int, to_ms: int, *,
                         fidelity: int = 1, progress: Callable[[int, int], None] | None = None) -> ImportReport:
    if to_ms <= from_ms:
        raise HistoryError("the end of the range must be after its start")
    client = ClobClient(clob_host, chain_id)
    resumed = done = _progress_row(db, token, from_ms, to_ms)
    windows = points = 0
    total = to_ms - from_ms
    while done < to_ms:
        end = min(to_ms, done + WINDOW_MS)
        fetched = await asyncio.to_thread(_fetch, client, token, done, end, fidelity)
        in_range = [(at, p) for at, p in fetched if from_ms <= at <= to_ms]
        added = _store(db, token, from_ms, to_ms, in_range, end)
        windows, points, done = windows + 1, points + added, end
        if progress is not None:
            progress(done - from_ms, total)
    return ImportReport(token, windows, points, resumed, done)
