"""Backtest replay speed: >= 1 M recorded book events through the market-making strategy,
the risk gate, the executor and the paper fill model (the same code as live).

The runner replays in chunks (1/200 of the events, decisions included) and reports progress
after each: the figure is the time per chunk (median, p99), with events/s and peak memory.
Baseline, in this process and timed the same way: reading the same events back from SQLite
in chunks of the same size and applying them to a bare book cache (no strategy, no
executor), so the ratio is the cost of running the whole trading core over the data.
The first chunk of each (start-up, first reads) and a shorter last one are left out.
Target: >= 200 k events/s.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import sqlite3
import tempfile
import time
from itertools import islice
from pathlib import Path

from _common import report
from _recording import write_recording

from engine.backtest.replay import apply, count_recorded, recorded_events
from engine.backtest.runner import BacktestResult, BacktestSpec, run_sync
from engine.feeds.books import BookCache
from storage.settings import load_settings

PARAMS = {"size": 20, "half_spread": 0.01, "max_spread": 0.5}
TARGET_EVENTS_PER_S = 200_000


def baseline_chunks(path: Path, tokens: list[str], start: int, end: int, chunk: int) -> list[float]:
    """Milliseconds per full chunk of `chunk` events, read back and applied to a bare book cache."""
    books = BookCache()
    events = recorded_events(path, tokens, start, end)
    samples = []
    while True:
        began = time.perf_counter()
        batch = list(islice(events, chunk))
        for event in batch:
            if event[2] != "decide":
                apply(books, event)
        if len(batch) < chunk:
            return samples[1:]
        samples.append((time.perf_counter() - began) * 1000)


def backtest_chunks(spec: BacktestSpec, path: Path, work_dir: Path,
                    chunk: int) -> tuple[BacktestResult, list[float], float]:
    """The run, milliseconds per full chunk (between two progress reports; the first chunk,
    which follows the start-up, has no earlier report) and the whole run's seconds."""
    settings = load_settings({"TRADER_ENV_FILE": os.devnull, "TRADER_DB": str(path)})
    marks: list[tuple[int, float]] = []

    def progress(done: int, total: int) -> None:
        marks.append((done, time.perf_counter()))

    began = time.perf_counter()
    result = run_sync(spec, path, settings, work_dir=work_dir, progress=progress)
    elapsed = time.perf_counter() - began
    samples = [(b - a) * 1000 for (before, a), (after, b) in zip(marks, marks[1:]) if after - before == chunk]
    return result, samples, elapsed


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
        with sqlite3.connect(path) as conn:
            tokens = [t for row in conn.execute("SELECT yes_token, no_token FROM markets") for t in row]
        recorded, decides = count_recorded(path, tokens, start, end)
        chunk = max(1, (recorded + decides) // 200)  # the runner's own chunk size
        base = baseline_chunks(path, tokens, start, end, chunk)
        spec = BacktestSpec("market_making", PARAMS, start, end, tuple(markets), seed=1)
        result, samples, elapsed = backtest_chunks(spec, path, Path(tmp) / "work", chunk)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    report(f"backtest, per chunk of {chunk:,} events", samples, base,
           target=f"p50 <= {chunk * 1000 / TARGET_EVENTS_PER_S:.1f} ms ({TARGET_EVENTS_PER_S:,} events/s)",
           baseline_name="read + apply to a book cache")
    print(f"    {result.events:,} events ({result.decisions:,} decisions, {len(result.orders):,} orders, "
          f"{len(result.fills):,} fills) in {elapsed:.1f} s = {result.events / elapsed:,.0f} events/s | "
          f"peak memory {peak_mb:,.0f} MB")


if __name__ == "__main__":
    asyncio.set_event_loop_policy(None)
    main()
