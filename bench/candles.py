"""What the kept candles cost in storage, per market-day: a market's two tokens recorded for whole
UTC days, rolled into 1-minute, 5-minute, 1-hour and 1-day candles (contracts/candles.py) and merged
into the `candles` table by the recorder's own writer (storage/engine_stores/candle_store.py), a
flush a simulated minute. The table's pages are counted with SQLite's dbstat (what the file holds for
it, its key included: the table is WITHOUT ROWID; and the tokens' keys), divided by the market-days
written. Token ids are 77-digit strings, as Polymarket's are.

Two markets shapes: a busy one (its book moves every 2 s and it prints every 30 s, every minute of
the day: every bucket holds a candle, the most a market-day can take) and a quiet one (one minute in
ten sees anything). Candles are never pruned: this is what each market-day the recorder watches adds
for good.

    python bench/candles.py [--markets 10] [--days 2]
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import tempfile
from pathlib import Path

import _common  # noqa: F401  (the project root on the path)

from contracts.candles import MINUTE_MS, CandleRoll, rolled_up
from storage.engine_stores.candle_store import merge_candles
from storage.sqlite.db import raw_connection
from storage.sqlite.migrations import migrate

DAY_MS = 86_400_000
T0 = 1_767_225_600_000  # 2026-01-01 00:00 UTC
BOOK_EVERY_MS = 2_000
PRINT_EVERY_MS = 30_000


def record(path: Path, markets: int, days: int, active_minutes: float, seed: int) -> int:
    """Roll `markets` markets' two tokens over `days` days into the table; returns the candle rows."""
    rng = random.Random(seed)
    conn = raw_connection(path, synchronous="NORMAL")
    try:
        # Token ids as Polymarket's are: decimal strings of some 77 digits.
        mids = {str(rng.randrange(10**76, 10**77)): 500_000 for _ in range(2 * markets)}
        for minute in range(days * DAY_MS // MINUTE_MS):
            roll = CandleRoll()
            start = T0 + minute * MINUTE_MS
            for token in mids:
                if rng.random() >= active_minutes:
                    continue
                for at in range(start, start + MINUTE_MS, BOOK_EVERY_MS):
                    mids[token] = min(990_000, max(10_000, mids[token] + rng.choice((-1_000, 0, 1_000))))
                    roll.book(token, at + rng.randrange(BOOK_EVERY_MS), mids[token], rng.choice((10_000, 20_000)))
                for at in range(start, start + MINUTE_MS, PRINT_EVERY_MS):
                    roll.trade(token, at + rng.randrange(PRINT_EVERY_MS), rng.randrange(1, 500) * 1_000_000)
            merge_candles(conn, rolled_up(roll.take()))
        return int(conn.execute("SELECT COUNT(*) FROM candles").fetchone()[0])
    finally:
        conn.close()


def table_bytes(path: Path) -> int:
    """What the file holds for the candles and their tokens' keys (their pages, as dbstat counts them)."""
    with sqlite3.connect(path) as conn:
        try:
            return int(conn.execute("SELECT SUM(pgsize) FROM dbstat WHERE name IN ('candles', 'candle_tokens') "
                                    "OR name LIKE 'sqlite_autoindex_candle_tokens%'").fetchone()[0] or 0)
        except sqlite3.OperationalError as exc:  # a SQLite built without dbstat
            raise SystemExit(f"this SQLite has no dbstat table ({exc}): the table's pages cannot be counted") from None


def case(name: str, markets: int, days: int, active_minutes: float) -> None:
    with tempfile.TemporaryDirectory(prefix="candles-") as tmp:
        path = Path(tmp) / "candles.db"
        migrate(path)
        rows = record(path, markets, days, active_minutes, seed=7)
        size = table_bytes(path)
    market_days = markets * days
    print(f"{name:<44} {rows / market_days:7.0f} rows  {size / market_days / 1024:7.1f} KiB a market-day "
          f"({size / max(1, rows):5.1f} bytes a row; {markets} markets x {days} days)", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--markets", type=int, default=10)
    parser.add_argument("--days", type=int, default=2)
    args = parser.parse_args()
    case("busy market (every minute: both tokens)", args.markets, args.days, 1.0)
    case("quiet market (one minute in ten)", args.markets, args.days, 0.1)


if __name__ == "__main__":
    main()
