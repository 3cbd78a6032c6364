"""What the trading core needs of a backtest's replay of recorded data (engine/backtest/replay.py; its books
come over a `BookFeed` as live's come over the desk venue's channel, engine/venues/market_data.py) and of a
place it trades (a ledger, engine/trading/passes/ledger.py), as protocols."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from contracts.domain import Book
    from contracts.settings import Settings
    from engine.execution.executor import Executor
    from engine.feeds.books import BookCache
    from engine.feeds.catalog import MarketCatalog
    from engine.venues.latency import LatencyModel
    from engine.venues.market_data import BookFeed
    from engine.venues.settlement import SettlementVenue
    from storage.sqlite.db import Database


class ReplaySource(Protocol):
    seed: int
    latency: LatencyModel | None  # None: the desk's setting
    pairs: Mapping[str, tuple[str, bool]]  # priced from their paired venue's replayed books (ledgers/references.py)


    def feed(self, books: BookCache) -> BookFeed: ...


class TradingSite(Protocol):
    """One ledger trading through one executor (engine/trading/passes/ledger.py: the desk's, or any
    other). Exits, sales, settlement of resolved markets, collections and arbitrage legs work on any."""

    settings: Settings
    db: Database
    clock: Callable[[], int]
    mode: str
    live: bool  # its venue is connected
    catalog: MarketCatalog
    books: BookCache
    executor: Executor
    settlement: SettlementVenue

    @property
    def replay(self) -> ReplaySource | None: ...

    def marks(self, token_id: str) -> Book | None: ...

    async def connect(self) -> None:
        """Its venue connected if it is not yet."""
