from __future__ import annotations

from storage.sqlite.migrations.common import UtilsDatabase, ddl, now_ms


def up(db: UtilsDatabase) -> None:
    """`candles`: each recorded token's book and prints rolled into 1-minute, 5-minute, 1-hour and 1-day
    UTC buckets (contracts/candles.py), written by the recorder beside its ticks and never pruned: the
    price charts read them where the ticks are gone or the range is wide. The mid's OHLC and when its
    first and last mid were seen (so partial candles merge in any order), the spread's sum and count,
    the prints' volume (micro-shares) and count. A token is keyed by a small number (`candle_tokens`):
    its id (some 77 digits on Polymarket) in every row's key would double what a market-day keeps.
    WITHOUT ROWID: the key is the only index a read needs. `candle_backfill`: the ticks recorded
    before now were never rolled into candles; retention rolls them before it prunes them, and notes
    how far it got (engine/marketdata/candle_backfill.py)."""
    ddl(
        db,
        """
        CREATE TABLE candle_tokens (
            id INTEGER PRIMARY KEY,
            token_id TEXT NOT NULL UNIQUE
        );
        CREATE TABLE candles (
            token_key INTEGER NOT NULL REFERENCES candle_tokens (id),
            width_ms INTEGER NOT NULL,
            start_at INTEGER NOT NULL,
            mid_open INTEGER,
            mid_high INTEGER,
            mid_low INTEGER,
            mid_close INTEGER,
            first_at INTEGER,
            last_at INTEGER,
            spread_sum INTEGER NOT NULL DEFAULT 0,
            spreads INTEGER NOT NULL DEFAULT 0,
            volume INTEGER NOT NULL DEFAULT 0,
            trades INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (token_key, width_ms, start_at)
        ) WITHOUT ROWID;
        CREATE TABLE candle_backfill (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            before_at INTEGER NOT NULL,
            rolled_until INTEGER
        )
        """,
    )
    db.execute("INSERT INTO candle_backfill (id, before_at) VALUES (1, ?)", [now_ms()])
