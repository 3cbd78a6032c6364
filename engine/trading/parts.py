"""What the trading core needs of its market-data source: the live feed, or a backtest's
replay of recorded data (engine/backtest/replay.py), as protocols."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from engine.feeds.books import BookCache
    from engine.venues.latency import LatencyModel


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


    def feed(self, books: BookCache) -> Feed: ...
