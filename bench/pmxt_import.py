"""What importing one market-day of the PMXT archive costs: time, peak memory and disk.

Builds a day of hourly files in the archive's v2 layout (sorted by market, then token, then
time; row groups of 1,048,576 rows, the archive's own) holding each market's stream at the
density of a busy archive market (a book per token every five minutes, ~1,100 rows an hour)
among OTHERS rows of other markets an hour, whose ids sort on both sides of the asked ones, so
the asked markets' rows sit inside a row group of ~1 M rows of other markets; then imports the
markets with `import_pmxt` (row groups the statistics rule out skipped, the others read in
slices, the rows sorted by time in a scratch file, the one session import). The baseline is
the same ticks imported as a session file (the desk's own import path, without reading Parquet).
A real archive hour holds ~24 M rows: reading scales with the row groups the market's rows touch,
not with the file, because the archive is sorted by market. Last, a market-making backtest of the
imported day runs in a process of its own: its time and peak memory.

    .venv/bin/python bench/pmxt_import.py [--markets 1] [--others 1500000] [--rounds 3]
    .venv/bin/python bench/pmxt_import.py --markets 20 --rounds 1    # the issue's day of 20 markets: <= 500 MB
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from _common import ROOT, report

from engine.venues.polymarket.pmxt_import import import_pmxt
from storage.research.session_files import export_session, import_session
from storage.sqlite.db import Database
from storage.sqlite.migrations import migrate

DAY0 = datetime(2026, 4, 17, tzinfo=UTC)
ROW_GROUP = 1_048_576  # the archive's own row-group size
MEMORY_BOUND_MIB = 500  # what a day of 20 markets may take to import, and to backtest (issue 59)
OTHER_MARKETS = 5_000
SCHEMA = pa.schema([
    ("timestamp_received", pa.timestamp("ms", tz="UTC")), ("timestamp", pa.timestamp("ms", tz="UTC")),
    ("market", pa.binary(66)), ("event_type", pa.string()), ("asset_id", pa.string()), ("bids", pa.string()),
    ("asks", pa.string()), ("price", pa.decimal128(9, 4)), ("size", pa.decimal128(18, 6)), ("side", pa.string()),
    ("best_bid", pa.decimal128(9, 4)), ("best_ask", pa.decimal128(9, 4)), ("fee_rate_bps", pa.uint16()),
    ("transaction_hash", pa.string()), ("old_tick_size", pa.decimal128(9, 4)), ("new_tick_size", pa.decimal128(9, 4))])


def market(n: int) -> dict[str, Any]:
    """The n-th bench market's row (ids that sort among the other markets' rows)."""
    return {"condition_id": "0x" + f"{0xab0000 + n:064x}", "question": f"Will bench market {n} resolve YES?",
            "yes_token": f"{1000 + n}" * 18, "no_token": f"{2000 + n}" * 18, "tick": 10_000, "min_size": 5_000_000,
            "neg_risk": 0, "tags": "[]", "outcomes": '["Yes", "No"]'}


def _row(at: datetime, market: str, event: str, asset: str, **fields: Any) -> dict[str, Any]:
    return {"timestamp_received": at, "timestamp": at, "market": market.encode(), "event_type": event,
            "asset_id": asset, "bids": None, "asks": None, "price": None, "size": None, "side": None,
            "best_bid": None, "best_ask": None, "fee_rate_bps": None, "transaction_hash": None,
            "old_tick_size": None, "new_tick_size": None, **fields}


LEVELS = ("0.47", "0.48", "0.49", "0.51", "0.52", "0.53")
TRADES_AN_HOUR = 31  # a token's public trades an hour (its level changes are 500, its snapshots 12)


SNAPSHOT = ([("0.48", "100"), ("0.47", "200")], [("0.52", "100"), ("0.53", "150")])  # (bids, asks)


def _market_hour(start: datetime, rng: random.Random, row: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    cid = row["condition_id"]
    bids, asks = (json.dumps([list(level) for level in side]) for side in SNAPSHOT)
    for token in (row["yes_token"], row["no_token"]):
        for second in range(0, 3600, 300):
            rows.append(_row(start + timedelta(seconds=second), cid, "book", token, bids=bids, asks=asks))
        for _ in range(500):
            at = start + timedelta(milliseconds=rng.randrange(300_000, 3_600_000))
            price = Decimal(rng.choice(LEVELS))
            rows.append(_row(at, cid, "price_change", token, price=price, size=Decimal(rng.randrange(0, 300)),
                             side="BUY" if price < Decimal("0.5") else "SELL"))
        for _ in range(TRADES_AN_HOUR):  # takers on both sides, so a maker's quotes on either token can fill
            at = start + timedelta(milliseconds=rng.randrange(300_000, 3_600_000))
            price = Decimal(rng.choice(LEVELS))
            rows.append(_row(at, cid, "last_trade_price", token, price=price, size=Decimal(rng.randrange(5, 60)),
                             side="SELL" if price < Decimal("0.5") else "BUY", fee_rate_bps=0,
                             transaction_hash=f"0x{rng.getrandbits(256):064x}"))
    return _with_best_prices(rows)


def _with_best_prices(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each level change with the token's best bid and ask after it, as the archive's rows carry them
    (Polymarket's price_change message; the archive writes an empty side's as 0 or 1): the import
    records each row's mid from them."""
    book: dict[str, dict[Decimal, Decimal]] = {}
    for row in sorted(rows, key=lambda r: (r["asset_id"], r["timestamp_received"])):
        if row["event_type"] == "book":
            book = {side: {Decimal(p): Decimal(s) for p, s in levels}
                    for side, levels in zip(("BUY", "SELL"), SNAPSHOT, strict=True)}
        elif row["event_type"] == "price_change":
            levels = book[row["side"]]
            levels[row["price"]] = row["size"]
            if not row["size"]:
                del levels[row["price"]]
            row["best_bid"] = max((p for p in book["BUY"]), default=Decimal(0))
            row["best_ask"] = min((p for p in book["SELL"]), default=Decimal(1))
    return rows


def _others(start: datetime, count: int) -> pa.Table:
    """`count` rows of other markets' level changes, built as columns (a list of dicts of this many rows
    would take more memory than the import measured): ids spread over OTHER_MARKETS markets that sort on
    both sides of the bench markets' ids, so theirs fall inside a row group of others."""
    index = np.arange(count)
    ids = pa.array([("0x" + f"{k * 4_500:064x}").encode() for k in range(OTHER_MARKETS)], pa.binary(66))
    assets = pa.array([str(k) for k in range(2 * OTHER_MARKETS)])
    at = pa.array(int(start.timestamp() * 1000) + index % 3_600_000, pa.int64()).cast(pa.timestamp("ms", tz="UTC"))
    zeros = pa.array(np.zeros(count, dtype=np.int64))
    columns = {"timestamp_received": at, "timestamp": at, "market": ids.take(pa.array(index % OTHER_MARKETS)),
               "event_type": pa.array(["price_change"]).take(zeros),
               "asset_id": assets.take(pa.array(index % (2 * OTHER_MARKETS))),
               "price": pa.array([Decimal("0.5")], pa.decimal128(9, 4)).take(zeros),
               "size": pa.array([Decimal("1")], pa.decimal128(18, 6)).take(zeros),
               "side": pa.array(["BUY"]).take(zeros)}
    return pa.table([columns.get(f.name, pa.nulls(count, f.type)) for f in SCHEMA], schema=SCHEMA)


def build_day(folder: Path, others: int, markets: int, day: datetime = DAY0) -> None:
    """A day of hourly files from `day` (each day's rows drawn from its own seed)."""
    rng = random.Random(7 + (day - DAY0).days)
    for hour in range(24):
        start = day + timedelta(hours=hour)
        rows = [r for n in range(markets) for r in _market_hour(start, rng, market(n))]
        table = pa.concat_tables([pa.Table.from_pylist(rows, schema=SCHEMA), _others(start, others)])
        table = table.sort_by([("market", "ascending"), ("asset_id", "ascending"), ("timestamp_received", "ascending")])
        pq.write_table(table, folder / f"polymarket_orderbook_{start:%Y-%m-%dT%H}.parquet", row_group_size=ROW_GROUP,
                       compression="zstd")


def _fresh(path: Path) -> Database:
    path.unlink(missing_ok=True)
    migrate(path)
    return Database(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--others", type=int, default=1_500_000, help="rows of other markets in each hour's file")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--markets", type=int, default=1, help="markets imported (and backtested) together")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "archive"
        folder.mkdir()
        builder = multiprocessing.Process(target=build_day, args=(folder, args.others, args.markets))
        builder.start()  # in a process of its own, so the peak memory below is the imports' alone
        builder.join()
        if builder.exitcode != 0:
            raise SystemExit("building the archive day failed (above)")
        size = sum(f.stat().st_size for f in folder.iterdir())
        rows = sum(pq.ParquetFile(f).metadata.num_rows for f in folder.iterdir())
        print(f"a day of {rows:,} rows in 24 files, {size / 2**20:.1f} MiB; the market's rows among them: "
              f"{rows - 24 * args.others:,}")
        pmxt_ms, file_ms, ticks, grown = [], [], 0, 0
        for round_ in range(args.rounds):  # alternating: the PMXT import, then the session-file baseline
            db = _fresh(Path(tmp) / "desk.db")
            before = db.path.stat().st_size
            started = time.perf_counter()
            rows = [market(n) for n in range(args.markets)]
            _, ticks, _ = import_pmxt(db, folder, rows, actor="bench", name=f"pmxt day {round_}")
            pmxt_ms.append((time.perf_counter() - started) * 1000)
            grown = db.path.stat().st_size + Path(f"{db.path}-wal").stat().st_size - before
            export = Path(tmp) / "day.jsonl.gz"
            export_session(db, f"pmxt day {round_}", export)
            baseline = _fresh(Path(tmp) / "baseline.db")
            started = time.perf_counter()
            import_session(baseline, export, actor="bench", name="file day")
            file_ms.append((time.perf_counter() - started) * 1000)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        groups = sum(pq.ParquetFile(f).metadata.num_row_groups for f in folder.iterdir())
        print(f"{ticks:,} ticks imported from {groups} row groups of up to {ROW_GROUP:,} rows; the desk's database "
              f"grew {grown / 2**20:.1f} MiB; peak RSS {peak:.0f} MiB (the importing process; bound "
              f"{MEMORY_BOUND_MIB} MiB: {'within' if peak <= MEMORY_BOUND_MIB else 'OVER'})")
        report(f"pmxt import, a day of {args.markets} market(s)", pmxt_ms, file_ms,
               baseline_name="session-file import of its ticks")
        _backtest_memory(Path(tmp) / "desk.db", f"pmxt day {args.rounds - 1}")


# Run by a fresh interpreter whose only child is the backtest, so its children's peak is the
# backtest's alone (this process's other children, the archive builder, would count too).
MEASURE = """import resource, subprocess, sys
done = subprocess.run(sys.argv[1:], capture_output=True, text=True)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, done.returncode, done.stderr[-300:], sep="\\n")"""


def _backtest_memory(db_path: Path, session: str) -> None:
    """A market-making backtest over the imported day, in its own process: its wall time and peak RSS."""
    env = {**os.environ, "TRADER_DB": str(db_path), "TRADER_ENV_FILE": str(db_path.with_suffix(".env")),
           "DATA_SOURCE": "simulator"}
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", MEASURE, sys.executable, "-m", "engine", "backtest", "--session",
                           session, "--strategy", "market_making"], cwd=ROOT, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - started
    peak_kib, code, *said = done.stdout.split("\n")
    result = "ok" if code == "0" else f"failed: {' '.join(said).strip()}"
    peak = int(peak_kib) / 1024
    print(f"backtest of the imported day (market_making): {wall:.1f} s, peak RSS {peak:.0f} MiB (bound "
          f"{MEMORY_BOUND_MIB} MiB: {'within' if peak <= MEMORY_BOUND_MIB else 'OVER'}), {result}")


if __name__ == "__main__":
    main()
