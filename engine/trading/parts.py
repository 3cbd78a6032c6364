"""What the trading core needs of its market-data source (the live feed, or a backtest's replay
of recorded data, engine/backtest/replay.py) and of a place it trades (a ledger,
engine/trading/passes/ledger.py), as protocols."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from contracts.domain import Book
    from contracts.settings import Settings
    from engine.execution.executor import Executor
    from engine.feeds.books import BookCache
    from engine.feeds.catalog import MarketCatalog
    from engine.venues.latency import LatencyModel
    from engine.venues.settlement import SettlementVenue
    from storage.sqlite.db import Database


class Feed(Protocol):
    """What the core needs of a market-data source (the live MarketFeed, or a replay)."""

    async def start(self) -> None: ...

    async def close(self) -> None: ...

    def subscribe(self, token_ids: Any) -> None: ...

    def unsubscribe(self, token_ids: Any) -> None: ...

    def subscribed(self) -> set[str]: ...

    def frozen_since(self) -> int | None:
        """Since when the source has sent no book data while the venue's books moved (None: it delivers)."""


class ReplaySource(Protocol):
    seed: int
    latency: LatencyModel | None  # None: the desk's setting
    pairs: Mapping[str, tuple[str, bool]]  # priced from their paired venue's replayed books (ledgers/references.py)


    def feed(self, books: BookCache) -> Feed: ...


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
