"""What a venue's adapter offers the desk (each venue's in its package, engine/venues/<venue>/adapter.py,
registered in engine/venues/registry.py): the live `Venue` its orders go to, the `SettlementVenue` its
resolved positions end in cash through, its rules on paper, and what arming it reads (the account and
the host the engine holds, and what its keys need), and, for a venue whose books reach the desk neither
over the desk's market feed nor through the operator's pairs, its own feed (`feed`).

Live clients are imported inside their builders: one takes a second to import (signing, web3), which
a paper desk or a backtest never needs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from contracts.settings import Settings
from engine.feeds.books import BookCache
from engine.feeds.catalog import MarketCatalog
from engine.venues.base import Venue
from engine.venues.paper_rules import PaperRules
from engine.venues.settlement import SettlementVenue


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
