"""Kalshi fill -> ledger latency: another trader fills part of the desk's resting Kalshi bid -> the fill
is in Kalshi's live ledger (the fills table, and the ledger's positions).

The trading core runs with Kalshi armed live on the in-process simulator's Kalshi side (one account,
one promoted strategy, a bid resting at Kalshi). Each run takes 0.37 of a contract of that bid and
times until that ledger holds it: Kalshi's `fill` channel streams it to the venue, the executor's
inbox writes it. Baseline: the same fills with the account's stream closed, heard from the REST
reconcile alone (a poll every second), as the desk heard every Kalshi fill before its streams.
Target: p50 <= 100 ms on the simulator.

    python bench/kalshi_fill_latency.py [--runs 60] [--baseline-runs 8] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from pathlib import Path

from _common import report

from contracts.domain import Intent, Quote, Side, Tif
from contracts.venues import KALSHI
from contracts.venues.kalshi import ids as kalshi_ids
from simulator.testing import approved_simulator
from tests.kalshi_desk import Desk, started, until

TAKE = 370_000  # 0.37 contract a run
BID = 40 * kalshi_ids.CONTRACT  # the resting bid: 0.37 a run, enough for a hundred runs


async def _measure(desk: Desk, runs: int, baseline_runs: int) -> tuple[list[float], list[float]]:
    core = desk.core()
    await started(core, desk.kalshi)
    ledger = core.ledgers.get(KALSHI)
    assert ledger is not None and ledger.mode == "live"
    yes = kalshi_ids.token_id(desk.ticker, "yes")
    await core.tick()  # the ledger's risk sees the book
    book = core.books.book(yes)
    assert book is not None and book.bids and book.asks
    price = book.bids[0].price + kalshi_ids.CENT  # the best bid, alone at its price
    assert price < book.asks[0].price
    ledger.executor.set_intents([Intent("kx", desk.kalshi, (Quote(Side.BUY, price, BID, Tif.GTC),))])
    await ledger.executor.reconcile()
    await until(lambda: desk.resting() == 1, "the bid resting at Kalshi")

    async def one() -> float:
        held = ledger.executor.state.totals("kx", yes).size
        began = time.perf_counter()
        await asyncio.to_thread(desk.taken, "ask", price, TAKE)
        while ledger.executor.state.totals("kx", yes).size == held:
            await asyncio.sleep(0.0005)
            if time.perf_counter() - began > 10:
                raise RuntimeError("a Kalshi fill never reached the ledger")
        return (time.perf_counter() - began) * 1000

    venue = ledger.executor.venue
    stream = getattr(venue, "stream", None)
    assert stream is not None
    await until(lambda: stream.stats.connected, "the account's stream")
    samples = [await one() for _ in range(runs)]
    await stream.close()  # the REST reconcile alone, as before the streams
    baseline = [await one() for _ in range(baseline_runs)]
    await core.stop()
    return samples, baseline


def measure(runs: int, baseline_runs: int) -> tuple[list[float], list[float]]:
    with tempfile.TemporaryDirectory() as tmp, approved_simulator(seed=31, agents=False, kalshi_markets=1) as sim:
        return asyncio.run(_measure(Desk(Path(tmp), sim), runs, baseline_runs))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=60)
    parser.add_argument("--baseline-runs", type=int, default=8)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    samples, baseline = measure(args.runs, args.baseline_runs)
    figures = report("Kalshi fill -> live ledger (streamed)", samples, baseline, target="p50 <= 100 ms",
                     baseline_name="REST reconcile alone")
    if args.json:
        print(json.dumps({**figures, "baseline_p50_ms": sorted(baseline)[len(baseline) // 2]}))


if __name__ == "__main__":
    main()
