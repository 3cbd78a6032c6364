"""What the desk reads of its own venue's markets beyond its orders, built by that venue's adapter
(`VenueAdapter.market_data`, engine/venues/registry.py `desk_market_data`): the channel its books come
over, its listing (into the `markets` table the catalog loads), each market's fee rate where the venue is
asked for it, its liquidity-reward programs, the payouts of its resolved markets, its short up/down series
and the wallets followed on it.

The trading layer calls these and names none of the venue's services (tests/test_venue_names.py); each
venue's are in its package (engine/venues/<venue>/). A venue that offers none of them answers as this
base class does: no books over a channel (its own feed brings them: `VenueAdapter.feed`), no listing,
fees, programs or payouts to read, no series and no wallets to follow.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from contracts.domain import MarketInfo
from contracts.followed_wallets import FollowedWallet
from contracts.payouts import Payouts
from contracts.runtime_settings import RuntimeConfig
from contracts.settings import Settings
from contracts.updown import Series
from engine.feeds.books import BookCache
from engine.feeds.catalog import MarketCatalog
from engine.feeds.plausible import Refusals
from engine.feeds.reference import ReferenceSource
from storage.sqlite.db import Database

# The followed wallets' jobs (engine/trading/passes/jobs.py): the venue's listing read to reconcile every
# FOLLOW_POLL_S, the stream's wallets and health looked at every FOLLOW_STREAM_CHECK_S.
FOLLOW_POLL_S = 15
FOLLOW_STREAM_CHECK_S = 1

class BookFeed(Protocol):
    """A market-data source the trading core follows (the desk venue's channel, or a backtest's replay):
    the books of the tokens it is subscribed to, kept in the desk's book cache."""

    async def start(self) -> None: ...

    async def close(self) -> None: ...

    def subscribe(self, token_ids: Any) -> None: ...

    def unsubscribe(self, token_ids: Any) -> None: ...

    def subscribed(self) -> set[str]: ...

    def frozen_since(self) -> int | None:
        """Since when the source has sent no book data while the venue's books moved (None: it delivers)."""


@dataclass(frozen=True)
class MarketDataParts:
    """What the desk venue's market data is built from: the settings that name its services, the database its
    listing goes to, the desk's catalog and book cache, and the desk's clock (books are stamped on it)."""

    settings: Settings
    db: Database
    catalog: MarketCatalog
    books: BookCache
    clock: Callable[[], int]


@dataclass(frozen=True)
class VenueResolution:
    """What the venue says of a market asked about among its closed ones."""

    condition_id: str
    payouts: Payouts | None  # what one share of each outcome pays; None: not final yet
    refused: str | None = None  # the venue reports a vector the desk cannot settle at: why it cannot
    reported: str = ""  # what the venue reported then, in its words (for the alert)


class UpDownSeries(Protocol):
    """A venue's short crypto up/down series: new windows found as they open, P(Up) of each from the price it
    settles on, each window's price to beat read and its pricing recorded."""

    async def start(self, config: RuntimeConfig, other: ReferenceSource | None) -> ReferenceSource | None:
        """The series' price streams (re)started for the settings in force; the reference of their windows
        (`other` prices every other market), None without series."""

    async def discover(self, series: Iterable[Series], now_s: float) -> list[str]:
        """The windows opened since the last pass, stored; their condition ids."""

    async def check(self, markets: Iterable[MarketInfo], now_ms: int) -> int:
        """Each open window's price to beat read and its pricing recorded; how many prices were read."""

    def refusals(self) -> dict[str, Refusals]:
        """The records each running stream refused, by how an alert names the stream."""

    async def close(self) -> None: ...


class WalletFollower(Protocol):
    """Wallets followed on the venue: their trades heard as it reports them and reconciled from its listing,
    kept in `followed_trades` for the copy strategies."""

    kept: int  # trades kept since the start (what wakes the copies)

    async def watch(self, wallets: Iterable[FollowedWallet]) -> bool:
        """The stream follows the wallets followed now; True when a read should reconcile at once."""

    async def poll(self, wallets: Iterable[FollowedWallet], now: int) -> int:
        """The wallets' trades read from the venue's listing; how many were new."""

    async def close(self) -> None: ...


class _NoWallets:
    """The follower of a venue with no wallets to follow: it keeps nothing."""

    kept = 0

    async def watch(self, wallets: Iterable[FollowedWallet]) -> bool:
        return False

    async def poll(self, wallets: Iterable[FollowedWallet], now: int) -> int:
        return 0

    async def close(self) -> None:
        return None


class _NoBooks:
    """The channel of a venue that has none (its own feed brings its books)."""

    def __init__(self) -> None:
        self.tokens: set[str] = set()

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        return None

    def subscribe(self, token_ids: Any) -> None:
        self.tokens |= set(token_ids)

    def unsubscribe(self, token_ids: Any) -> None:
        self.tokens -= set(token_ids)

    def subscribed(self) -> set[str]:
        return set(self.tokens)

    def frozen_since(self) -> int | None:
        return None


class MarketData:
    """The desk venue's market data (module docstring); each venue's subclass answers what it offers."""

    def __init__(self, parts: MarketDataParts) -> None:
        self.parts = parts

    def feed(self) -> BookFeed:
        """The channel the desk's books come over (the feed stamps them with the desk's clock)."""
        return _NoBooks()

    def refresh_job(self, traded: Callable[[], Iterable[str]]) -> Callable[[], Awaitable[Any]]:
        """The market refresh (an `async def`): the venue's listing into the `markets` table, then the fee
        schedules of the markets `traded()` names. Raises when the listing could not be read whole."""

        async def nothing() -> None:
            return None

        return nothing

    async def read_fees(self, condition_ids: list[str]) -> None:
        """The fee schedules of these markets read into their rows (a venue whose rates are asked per market:
        `VenuePolicy.fee_rates_asked`)."""

    async def reward_page(self, cursor: str) -> Any:
        """One page of the venue's current liquidity-reward programs (engine/trading/settlement/rewards.py)."""
        return {}

    async def resolutions(self, condition_ids: Sequence[str], *,
                          batch: int = 0) -> AsyncGenerator[VenueResolution, None]:
        """What the venue says of each of these markets among its closed ones: one request a market, or
        `batch` markets a request. Nothing for a market it does not list as closed."""
        return
        yield  # (an async generator that answers nothing)

    def up_down(self) -> UpDownSeries | None:
        """Its short up/down series (None: it has none)."""
        return None

    def follower(self) -> WalletFollower:
        """The wallets followed on it (a venue with none to follow keeps none)."""
        return _NoWallets()
