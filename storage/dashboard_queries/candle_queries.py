"""Reads of the kept candles (contracts/candles.py) for the price charts: a token's mid as the last
close of each chart bucket, from the widest candles no wider than the bucket, and where a token's
candles begin and end. Each read walks the table's key (token, width, start): a few index seeks."""

from __future__ import annotations

import pandas as pd

from contracts.candles import MINUTE_MS, WIDTH_NAMES, WIDTHS_MS
from storage.sqlite.db import Database
from storage.sqlite.frames import frame as _frame
from storage.sqlite.frames import scalar as _scalar
from storage.sqlite.frames import to_human, to_utc

# A token's candles are keyed by its small number (migration 0092).
_TOKEN = "token_key = (SELECT id FROM candle_tokens WHERE token_id = :t)"


def width_for(bucket_ms: int) -> int:
    """The widest candles no wider than a chart bucket of `bucket_ms` (a minute's, the finest kept,
    for a narrower one)."""
    return max([w for w in WIDTHS_MS if w <= bucket_ms], default=MINUTE_MS)


def bounds(db: Database, token_id: str) -> tuple[int, int] | None:
    """When the token's first minute candle starts and its last one ends (None: no candle)."""
    first = _scalar(db, f"SELECT start_at FROM candles WHERE {_TOKEN} AND width_ms = :w ORDER BY start_at LIMIT 1",
                    {"t": token_id, "w": MINUTE_MS})
    last = _scalar(db, f"SELECT start_at FROM candles WHERE {_TOKEN} AND width_ms = :w ORDER BY start_at DESC LIMIT 1",
                   {"t": token_id, "w": MINUTE_MS})
    return None if first is None or last is None else (int(first), int(last) + MINUTE_MS)


def series(db: Database, token_id: str, since_ms: int, until_ms: int, bucket_ms: int) -> pd.DataFrame:
    """The mid over [since, until] from candles, one row per chart bucket of `bucket_ms` that has one:
    the close of its last candle, timed at that candle's end. Columns: at (UTC), mid (probability);
    `attrs["source"]` names the candles read ("1 h candles")."""
    width = width_for(bucket_ms)
    data = _frame(
        db,
        f"""SELECT MAX(start_at) + :w AS at, mid_close AS mid FROM candles
           WHERE {_TOKEN} AND width_ms = :w AND start_at >= :since - :w AND start_at < :until
                 AND mid_close IS NOT NULL
           GROUP BY (start_at + :w - :since) / :b ORDER BY 1""",
        {"t": token_id, "w": width, "since": since_ms, "until": until_ms, "b": max(1, bucket_ms)},
    )
    data = to_utc(to_human(data, "mid"), "at")
    data.attrs["source"] = f"{WIDTH_NAMES[width]} candles"
    return data
