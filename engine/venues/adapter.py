"""What a venue's adapter offers the desk (each venue's in its package, engine/venues/<venue>/adapter.py,
registered in engine/venues/registry.py): the live `Venue` its orders go to, the `SettlementVenue` its
resolved positions end in cash through, its rules on paper, and what arming it reads (the account and
the host the engine holds, and what its keys need); as the desk's own venue, its market data (`market_data`:
engine/venues/market_data.py); as the venue the operator's pairs link to, the pairs' feeds (`pairs`); and, for
a venue whose books reach the desk neither over the desk's market feed nor through the operator's pairs, its own
feed (`feed`).

Live clients are imported inside their builders: one takes a second to import (signing, web3), which
a paper desk or a backtest never needs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from contracts.settings import Settings
from engine.feeds.books import BookCache
from engine.feeds.catalog import MarketCatalog
from engine.feeds.exchange_state import ExchangeState
from engine.feeds.reference import ReferenceSource
from engine.venues.base import Venue
from engine.venues.market_data import MarketData, MarketDataParts
from engine.venues.paper_rules import PaperRules
from engine.venues.settlement import SettlementVenue
from storage.sqlite.db import Database


@dataclass(frozen=True)
class LiveParts:
    """What a live adapter is built from."""

    settings: Settings
    catalog: MarketCatalog
    heartbeat_s: float  # how often the desk tells the venue it is alive, where the venue asks


@dataclass(frozen=True)
class Live:
    venue: Venue
    lost_after_ms: int | None = None  # the venue answers a placement sooner than the desk's grace allows for


@dataclass(frozen=True)
class FeedParts:
    """What a venue's own feed is built from: where it writes its markets (the catalog) and books (the
    desk's book cache, which the strategies, the paper venue and the recorder read), on the desk's clock."""

    settings: Settings
    catalog: MarketCatalog
    books: BookCache
    clock: Callable[[], int]
    markets: Callable[[], list[str]]  # the markets the desk trades, holds or works now (it may follow only those)


class VenueFeed(Protocol):
    """A venue's own feed: its markets put in the catalog and its books kept in the book cache from `start`
    (called with each reading of the desk's catalog, at its start and each market refresh: it starts once
    and follows what changed) until `close`."""

    async def start(self) -> None: ...

    async def close(self) -> None: ...


@dataclass(frozen=True)
class PairParts:
    """What the pairs' feeds are built from: the settings, the desk's catalog and book cache (where the paired
    markets and their books go), the database the pairs are read from (None: a backtest, which reads none) and
    a backtest's pairs (condition id -> (the paired market, inverted)), priced from the books it replays."""

    settings: Settings
    catalog: MarketCatalog
    books: BookCache
    db: Database | None
    replayed_pairs: Mapping[str, tuple[str, bool]] | None = None


class PairFeeds(Protocol):
    """The feeds of the venue the operator's pairs link the desk's markets to (each paired market's mid, its
    exchange's status): what engine/trading/ledgers/references.py reads of them."""

    replayed_pairs: dict[str, tuple[str, bool]]
    paired: Any  # the paired markets' reference (None: no pairs)
    poller: Any
    exchange: Any

    def exchange_state(self) -> ExchangeState | None: ...

    def pairs(self) -> dict[str, tuple[str, bool]]: ...

    async def start(self, other: ReferenceSource | None) -> None: ...

    async def close(self) -> None: ...


def _none(settings: Settings) -> str | None:
    return None


@dataclass(frozen=True)
class VenueAdapter:
    reachable: Callable[[Settings], bool]  # the desk's settings name the venue (its live builders can run)
    live: Callable[[LiveParts], Live]
    settlement: Callable[[Settings, Callable[[str], bool]], SettlementVenue]  # (settings, resolved(cid))
    paper: Callable[[], PaperRules]  # its rules as the paper venue applies them (one per paper venue)
    # Its live keys are set: a live ledger of it can reach the venue (what a crash-loop halt cancels through).
    armable: Callable[[Settings], bool] = lambda settings: True
    # The account the settings hold, said without its secret, and the host it trades on (arming checks
    # that a passing preflight ran on both: storage/desk/arming.py); None: none.
    account: Callable[[Settings], str | None] = _none
    host: Callable[[Settings], str | None] = _none
    # What arming it live needs when it is not `armable` (the settings to set, and the check to run).
    arm_needs: str = ""
    # Its own feed (engine/venues/registry.py `venue_feeds`); None: its books come over the desk's market
    # feed (`VenuePolicy.desk_feed`) or the operator's pairs' feeds (`pair_feeds`).
    feed: Callable[[FeedParts], VenueFeed] | None = None
    # As the desk's own venue, what the desk reads of its markets (engine/venues/market_data.py; None: the base's
    # nothing, its books coming over its own `feed`).
    market_data: Callable[[MarketDataParts], MarketData] | None = None
    # As the venue the operator's pairs link to (`VenuePolicy.paired`), the pairs' feeds.
    pairs: Callable[[PairParts], PairFeeds] | None = None
    # The settings (`Settings` attributes) naming its services, its hosts: read only in its own packages
    # (engine/venues/<venue>/ and the like; tests/test_venue_names.py).
    services: tuple[str, ...] = ()
