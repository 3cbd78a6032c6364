"""Intents per second through the planner + reconciler: 100 markets x 2 sides.

The executor's planning pass runs on its in-memory mirror (no I/O), so this measures the
hot path that decides what to keep, cancel and place. Two cases: steady quotes (every
order kept: the common tick) and moving quotes (every order replaced). Baseline, in this
process: building the same intents and handing them over (set_intents) without planning.
Target: >= 5 k intents/s.
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

from _common import report

from contracts.domain import Intent, MarketInfo, Outcome, Quote, Side, Tif
from contracts.order_status import OrderStatus
from engine.execution import store
from engine.execution.executor import Executor
from engine.feeds.catalog import MarketCatalog
from storage.sqlite.db import Database
from storage.sqlite.migrations import migrate

MARKETS = 100
ROUNDS = 200
SH = 1_000_000


def build(path: Path) -> tuple[Executor, list[MarketInfo]]:
    migrate(path)
    db = Database(path)
    markets = [MarketInfo(f"c{i}", "?", f"y{i}", f"n{i}", tick=10_000, min_size=5 * SH) for i in range(MARKETS)]
    planning_only = SimpleNamespace(events=asyncio.Queue())  # the venue is never called: planning is measured
    ex = Executor(db, venue=planning_only, catalog=MarketCatalog(markets), mode="paper")
    with db.write() as conn:  # one working bid (YES) and one working ask (as a NO bid) per market
        for i, m in enumerate(markets):
            for token, outcome, price in ((m.yes_token, Outcome.YES, 480_000), (m.no_token, Outcome.NO, 480_000)):
                row = store.insert_order(conn, client_id=f"{token}-{i}", venue_order_id=f"v-{token}", mode="paper",
                                         strategy="mm", condition_id=m.condition_id, token_id=token, outcome=outcome,
                                         side=Side.BUY, price=price, size=10 * SH, tif=Tif.GTC, post_only=True,
                                         payload=None, reason=None, now=1, status=OrderStatus.LIVE)
                ex.state.track(row)
    return ex, markets


def intents(markets: list[MarketInfo], shift: int) -> list[Intent]:
    return [Intent("mm", m.condition_id, (Quote(Side.BUY, 480_000 + shift, 10 * SH, Tif.GTC, True),
                                          Quote(Side.SELL, 520_000 - shift, 10 * SH, Tif.GTC, True)))
            for m in markets]


def per_intent_ms(run, rounds: int) -> list[float]:
    samples = []
    for r in range(rounds):
        began = time.perf_counter()
        run(r)
        samples.append((time.perf_counter() - began) * 1000 / MARKETS)
    return samples


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        ex, markets = build(Path(tmp) / "bench.db")
        baseline = per_intent_ms(lambda r: ex.set_intents(intents(markets, 0)), ROUNDS)

        def steady(r: int) -> None:
            ex.set_intents(intents(markets, 0))
            places, cancels, _ = ex.plan_all()
            assert not places and not cancels

        def moving(r: int) -> None:
            ex.set_intents(intents(markets, 10_000 * (1 + r % 3)))
            places, cancels, _ = ex.plan_all()
            assert len(places) == 2 * MARKETS and len(cancels) == 2 * MARKETS

        for name, run in (("steady quotes (kept)", steady), ("moving quotes (replaced)", moving)):
            samples = per_intent_ms(run, ROUNDS)
            figures = report(f"planner+reconciler, {name}", samples, baseline, target=">= 5 k intents/s",
                             baseline_name="set_intents only")
            print(f"    -> {1000 / statistics.median(samples):,.0f} intents/s "
                  f"({1000 / figures['p99_ms']:,.0f} at p99)")


if __name__ == "__main__":
    main()
