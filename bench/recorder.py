"""Recording never slows order handling: placement latency with the recorder running flat out
against the same database, versus without it (the baseline, in this process).

A paper executor places and cancels orders in a loop while market data streams into the
book cache at ~2,000 updates/s; with the recorder on, every update is diffed, buffered and
written to `ticks` each second by the recorder's worker thread (its own connection). The
figure is the time of one reconcile pass that places (or replaces) two orders.
Target: no measurable slowdown (p50 ratio ~1.0).
A run writes ~1,500 rows, too few for the recorder's transactions to hold the database's write
lock against the engine for long; bench/reaction.py's `--flood` phase is where that contention shows.
"""

from __future__ import annotations

import asyncio
import random
import tempfile
import time
from pathlib import Path

from _common import report

from contracts.domain import Intent, MarketInfo, Quote, Side
from engine.execution.executor import Executor
from engine.feeds.books import BookCache
from engine.feeds.catalog import MarketCatalog
from engine.marketdata.recorder import Recorder
from engine.venues.latency import ZERO
from engine.venues.paper import PaperConfig, PaperVenue
from storage.sqlite.db import Database
from storage.sqlite.migrations import migrate

SH = 1_000_000
PASSES = 400


async def stream(books: BookCache, tokens: list[str], stop: asyncio.Event) -> None:
    rng = random.Random(3)
    while not stop.is_set():
        now = int(time.time() * 1000)
        for _ in range(20):
            token = rng.choice(tokens)
            change = (token, rng.random() < 0.5, rng.randrange(1, 40) * 10_000, rng.randrange(0, 500) * SH)
            books.apply_changes([change],
                                now)
        await asyncio.sleep(0.01)


async def measure(path: Path, record: bool) -> tuple[list[float], int]:
    migrate(path)
    db = Database(path, writer_sync="FULL")
    market = MarketInfo("c", "?", "y", "n", tick=10_000, min_size=5 * SH)
    books = BookCache()
    for token in ("y", "n"):
        books.apply_snapshot(token, [(400_000, 100 * SH)], [(600_000, 100 * SH)], int(time.time() * 1000))
    catalog = MarketCatalog([market])
    # Zero latency: the figure is the executor's own pass (with the paper venue's default latency
    # model each pass would wait ~200 ms for its trips, and the recorder's effect would vanish in it).
    venue = PaperVenue(db, books, catalog, config=PaperConfig(latency=ZERO))
    books.add_listener(venue.on_market_event)
    recorder = Recorder(path, books) if record else None
    if recorder is not None:
        books.add_listener(recorder.on_market_event)
        await recorder.start()
    executor = Executor(db, venue, catalog, mode="paper")
    await executor.start()
    executor.gate.unblock()
    stop = asyncio.Event()
    streamer = asyncio.create_task(stream(books, ["y", "n"], stop))
    samples = []
    for i in range(PASSES):
        bid = 300_000 + 10_000 * (i % 5)
        quotes = (Quote(Side.BUY, bid, 10 * SH), Quote(Side.SELL, bid + 400_000, 10 * SH))
        executor.set_intents([Intent("s", "c", quotes)])
        began = time.perf_counter()
        await executor.reconcile()
        samples.append((time.perf_counter() - began) * 1000)
        await asyncio.sleep(0.005)
    stop.set()
    await streamer
    written = 0
    if recorder is not None:
        await recorder.close()
        written = recorder.written
    await executor.close()
    db.dispose()
    return samples, written


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        baseline, _ = asyncio.run(measure(Path(tmp) / "plain.db", record=False))
        recorded, written = asyncio.run(measure(Path(tmp) / "recorded.db", record=True))
    report("reconcile pass with the recorder on", recorded, baseline, target="no measurable slowdown (ratio ~1)",
           baseline_name="recorder off")
    print(f"    the recorder wrote {written:,} ticks meanwhile")


if __name__ == "__main__":
    main()
