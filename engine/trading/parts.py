"""What the operator's actions, resolution, arbs and exits need of the trading core: its
parts, not the core itself. `TradingCore` (core.py) has them all; depending on this protocol
instead of the class keeps those modules below the core (the core imports them, never the
reverse)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from engine.contracts.limits import Limits
    from engine.execution.executor import Executor
    from engine.feeds.books import BookCache
    from engine.risk.monitor import RiskMonitor
    from engine.feeds.catalog import MarketCatalog
    from engine.trading.exit_book import ExitBook
    from engine.trading.strategy_host import StrategyHost
    from storage.db import Database
    from engine.contracts.settings import Settings


class Feed(Protocol):
    """What the core needs of a market-data source (the live MarketFeed, or a replay)."""

    async def start(self) -> None: ...

    async def close(self) -> None: ...

    def subscribe(self, token_ids: Any) -> None: ...

    def unsubscribe(self, token_ids: Any) -> None: ...

    def subscribed(self) -> set[str]: ...


class ReplaySource(Protocol):
    seed: int

    def feed(self, books: BookCache) -> Feed: ...


class CoreParts(Protocol):
    settings: Settings
    db: Database
    replay: ReplaySource | None  # a backtest's recorded data; None when trading live or paper
    books: BookCache
    catalog: MarketCatalog
    feed: Feed
    host: StrategyHost
    risk: RiskMonitor
    executor: Executor
    exits: ExitBook  # the stop losses and take profits under way
    deciding: bool  # a decision pass is running (its quotes are being placed)

    def clock(self) -> int: ...

    @property
    def limits(self) -> Limits: ...

    async def open_venue(self) -> None:
        """Connect the venue (and start its reconciliation) if it is not connected yet."""

    async def ensure_fees(self, condition_ids: list[str] | None = None) -> None:
        """Read the fee schedules not known yet (of `condition_ids`, or of every market traded)."""
