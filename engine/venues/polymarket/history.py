"""Importing /prices-history into `price_history`, resumably, through py-clob-client-v2.

The range is fetched in windows (one request each); after each window the points are
written and `import_progress.done_until` moves forward in the same transaction
(storage/research/history_store.py), so an interrupted import continues where it stopped and a finished
one does nothing again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

from py_clob_client_v2.client import ClobClient
from py_clob_client_v2.clob_types import PricesHistoryParams

from contracts.domain import to_micros
from storage.research import history_store
from storage.sqlite.db import Database

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


async def import_history(db: Database, clob_host: str, chain_id: int, token: str, from_ms: int, to_ms: int, *,
                         fidelity: int = 1, progress: Callable[[int, int], None] | None = None) -> ImportReport:
    if to_ms <= from_ms:
        raise HistoryError("the end of the range must be after its start")
    client = ClobClient(clob_host, chain_id)
    resumed = done = history_store.resume_mark(db, token, from_ms, to_ms)
    windows = points = 0
    total = to_ms - from_ms
    while done < to_ms:
        end = min(to_ms, done + WINDOW_MS)
        fetched = await asyncio.to_thread(_fetch, client, token, done, end, fidelity)
        in_range = [(at, p) for at, p in fetched if from_ms <= at <= to_ms]
        added = history_store.store_window(db, token, from_ms, to_ms, in_range, end)
        windows, points, done = windows + 1, points + added, end
        if progress is not None:
            progress(done - from_ms, total)
    return ImportReport(token, windows, points, resumed, done)
