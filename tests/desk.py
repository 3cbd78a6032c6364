"""A paper desk for tests: real SQLite, PaperVenue and Executor, scripted books and clock."""

from __future__ import annotations

import asyncio
import dataclasses
from dataclasses import dataclass
from pathlib import Path

from engine.execution.executor import Executor
from engine.feeds.catalog import MarketCatalog
from engine.venues.latency import ZERO, LatencyModel
from engine.venues.paper import PaperConfig, PaperVenue
from storage.sqlite.db import Database, Synchronous
from storage.sqlite.migrations import migrate
from tests.execution.fakes import Clock, ScriptedBooks, market


@dataclass
class Desk:
    """A paper desk on a real SQLite file, with scripted books and a hand-driven clock."""

    db: Database
    clock: Clock
    books: ScriptedBooks
    catalog: MarketCatalog
    venue: PaperVenue
    executor: Executor
    loop: asyncio.AbstractEventLoop

    def run(self, coro):
        return self.loop.run_until_complete(coro)

    def settle(self) -> None:
        """Deliver every queued venue event to the executor."""
        self.executor.drain()

    def rows(self, sql: str) -> list[tuple]:
        with self.db.read() as conn:
            return [tuple(r) for r in conn.exec_driver_sql(sql).fetchall()]


def make_desk(path: Path, *, config: PaperConfig | None = None, fee_rate_ppm: int = 0,
              latency: LatencyModel = ZERO, writer_sync: Synchronous = "NORMAL",
              rebate_share_ppm: int | None = None, venue_class: type[PaperVenue] = PaperVenue) -> Desk:
    """Zero latency unless asked (chosen here, explicitly: most tests pin the fill model itself).
    `writer_sync`: the live engine's writer is FULL (engine/process/runtime.py). `venue_class`: a
    test's own PaperVenue (a subclass that scripts what happens during a call)."""
    migrate(path)
    config = dataclasses.replace(config or PaperConfig(), latency=latency)
    db = Database(path, writer_sync=writer_sync)
    clock = Clock()
    books = ScriptedBooks(clock)
    catalog = MarketCatalog([market(fee_rate_ppm=fee_rate_ppm, rebate_share_ppm=rebate_share_ppm),
                             market("c2", "Y2", "N2")])
    venue = venue_class(db, books, catalog, config=config, clock=clock)
    counter = iter(range(1, 10**9))
    executor = Executor(db, venue, catalog, mode="paper", clock=clock,
                        new_client_id=lambda: f"cid-{next(counter)}")
    loop = asyncio.new_event_loop()
    desk = Desk(db, clock, books, catalog, venue, executor, loop)
    desk.run(venue.start())
    executor.load()
    executor.gate.unblock()
    return desk
