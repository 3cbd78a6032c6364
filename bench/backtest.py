"""Backtest replay speed: >= 1 M recorded book events through the market-making strategy,
the risk gate, the executor and the paper fill model (the same code as live).

Prints events/s and peak memory. Baseline, in this process: reading the same events back
from SQLite and applying them to a bare book cache (no strategy, no executor), so the
ratio is the cost of running the whole trading core over the data.
Target: >= 200 k events/s.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import tempfile
import time
from pathlib import Path

from _common import ROOT  # noqa: F401  (puts the project on sys.path)
from _recording import write_recording

from engine.backtest.replay import apply, recorded_events
from engine.backtest.runner import BacktestSpec, run_sync
from engine.feeds.books import BookCache
from storage.settings import load_settings

PARAMS = {"size": 20, "half_spread": 0.01, "max_spread": 0.5}


def baseline(path: Path, tokens: list[str], start: int, end: int) -> tuple[int, float]:
    books = BookCache()
    began = time.perf_counter()
    count = 0
    for event in recorded_events(path, tokens, start, end):
        if event[2] != "decide":
            apply(books, event)
        count += 1
    return count, time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--markets", type=int, default=5)
    parser.add_argument("--events-per-decision", type=int, default=100,
                        help="market events between two recorded decisions (the engine decides every 500 ms: "
                             "100 is a busy desk at ~200 events/s)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "recorded.db"
        began = time.perf_counter()
        markets, start, end = write_recording(path, markets=args.markets, events=args.events,
                                              events_per_decision=args.events_per_decision)
        print(f"wrote a recording of {args.events:,} market events in {time.perf_counter() - began:.1f} s")
        import sqlite3

        with sqlite3.connect(path) as conn:
            tokens = [t for row in conn.execute("SELECT yes_token, no_token FROM markets") for t in row]
        base_count, base_s = baseline(path, tokens, start, end)
        settings = load_settings({"TRADER_ENV_FILE": os.devnull, "TRADER_DB": str(path)})
        spec = BacktestSpec("market_making", PARAMS, start, end, tuple(markets), seed=1)
        began = time.perf_counter()
        result = run_sync(spec, path, settings, work_dir=Path(tmp) / "work")
        elapsed = time.perf_counter() - began
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    rate, base_rate = result.events / elapsed, base_count / base_s
    print(f"backtest: {result.events:,} events ({result.decisions:,} decisions, {len(result.orders):,} orders, "
          f"{len(result.fills):,} fills) in {elapsed:.1f} s = {rate:,.0f} events/s | baseline (read + apply to a "
          f"book cache) {base_rate:,.0f} events/s, ratio {base_rate / rate:.1f}x | peak memory {peak_mb:,.0f} MB | "
          f"target >= 200,000 events/s")


if __name__ == "__main__":
    asyncio.set_event_loop_policy(None)
    main()
