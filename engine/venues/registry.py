"""Which adapter the desk builds for a venue, by its name: the registry of adapters beside the registry of
venues (contracts/venues/__init__.py), one entry per registered venue, each written in its venue's package
(engine/venues/<venue>/adapter.py; engine/venues/adapter.py says what an adapter offers): the desk's own
venue's market data and the feeds of the operator's pairs come from the adapters of the venues in those roles.

The trading layer asks here (`adapter_of(venue)`, `desk_market_data(...)`, `pair_feeds(...)`, `venue_feeds(...)`)
and reads the venue's policy (contracts/venue_policies.py) for what differs in how it trades, so it names no
venue, nor any venue's services, itself. A third venue is its packages, its policy registered and its adapter
registered (docs/ARCHITECTURE.md, "Adding a venue").
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from contracts.settings import Settings
from contracts.venues import KALSHI, POLYMARKET, VENUES, VenueName, desk_venue, paired_venue
from engine.feeds.books import BookCache
from engine.feeds.catalog import MarketCatalog
from engine.venues.adapter import FeedParts, Live, LiveParts, PairFeeds, PairParts, VenueAdapter, VenueFeed
from engine.venues.base import VenueError
from engine.venues.kalshi.adapter import ADAPTER as KALSHI_ADAPTER
from engine.venues.market_data import MarketData, MarketDataParts
from engine.venues.polymarket.adapter import ADAPTER as POLYMARKET_ADAPTER
from engine.venues.settlement import SettlementVenue
from storage.sqlite.db import Database

__all__ = ["ADAPTERS", "FeedParts", "Live", "LiveParts", "MarketDataParts", "VenueAdapter", "VenueFeed",
           "adapter_of", "desk_market_data", "live_settlement", "pair_feeds", "register", "unregister", "venue_feeds"]

ADAPTERS: dict[str, VenueAdapter] = {POLYMARKET: POLYMARKET_ADAPTER, KALSHI: KALSHI_ADAPTER}


def register(venue: VenueName, adapter: VenueAdapter) -> None:
    """A registered venue's adapter (its policy registered first: contracts/venues/__init__.py `register`)."""
    if venue in ADAPTERS:
        raise VenueError(f"{venue} has an adapter already")
    ADAPTERS[venue] = adapter


def unregister(venue: VenueName) -> None:
    """A registered venue's adapter taken out again (never one built in)."""
    if venue in VENUES:
        raise VenueError(f"{venue} is built in")
    ADAPTERS.pop(venue, None)


def adapter_of(venue: str) -> VenueAdapter:
    try:
        return ADAPTERS[venue]
    except KeyError:
        raise VenueError(f"no adapter for venue {venue!r}: the venues are {', '.join(ADAPTERS)}") from None


def live_settlement(venue: str, settings: Settings, resolved: Callable[[str], bool]) -> SettlementVenue:
    """Where a live ledger of `venue` ends its positions in cash; a venue the settings do not name
    settles as the desk's own venue does."""
    adapter = adapter_of(venue)
    if not adapter.reachable(settings):
        adapter = adapter_of(desk_venue())
    return adapter.settlement(settings, resolved)


def desk_market_data(parts: MarketDataParts) -> MarketData:
    """What the desk reads of its own venue's markets (engine/venues/market_data.py), from that venue's adapter."""
    build = adapter_of(desk_venue()).market_data
    return MarketData(parts) if build is None else build(parts)


def pair_feeds(settings: Settings, catalog: MarketCatalog, books: BookCache, db: Database | None,
               replayed_pairs: Mapping[str, tuple[str, bool]] | None = None) -> PairFeeds:
    """The feeds of the venue the operator's pairs link the desk's markets to, from that venue's adapter."""
    paired = paired_venue()
    build = adapter_of(paired).pairs
    if build is None:
        raise VenueError(f"{paired}, the venue the pairs link to, has no pairs' feeds in its adapter")
    return build(PairParts(settings, catalog, books, db, replayed_pairs))


def venue_feeds(parts: FeedParts) -> list[VenueFeed]:
    """The own feeds of the registered venues that have one (`VenueAdapter.feed`), in registry order."""
    return [adapter.feed(parts) for adapter in ADAPTERS.values() if adapter.feed is not None]
