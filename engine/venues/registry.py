"""Which adapter the desk builds for a venue, by its name: the live `Venue` its orders go to, the
`SettlementVenue` its resolved positions end in cash through, and the feeds of the operator's pairs.

The trading layer asks here (`adapter_of(venue)`, `pair_feeds(...)`) and reads the venue's policy
(contracts/venue_policies.py) for what differs in how it trades, so it names no venue itself. A third
venue is an adapter module in this package, a policy, and an entry in `ADAPTERS` below
(docs/ARCHITECTURE.md, "Adding a venue").

Live clients are imported inside their builders: one takes a second to import (signing, web3), which
a paper desk or a backtest never needs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from contracts.settings import Settings
from contracts.venue_policies import DESK_VENUE
from contracts.venues import KALSHI, POLYMARKET, VenueName
from engine.feeds.books import BookCache
from engine.feeds.catalog import MarketCatalog
from engine.venues.base import Venue, VenueError
from engine.venues.kalshi.pairs import KalshiPairs
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
class VenueAdapter:
    reachable: Callable[[Settings], bool]  # the desk's settings name the venue (its live builders can run)
    live: Callable[[LiveParts], Live]
    settlement: Callable[[Settings, Callable[[str], bool]], SettlementVenue]  # (settings, resolved(cid))
    # Its live keys are set: a live ledger of it can reach the venue (what a crash-loop halt cancels through).
    armable: Callable[[Settings], bool] = lambda settings: True


def _polymarket_live(parts: LiveParts) -> Live:
    from engine.venues.polymarket.venue import PolymarketVenue, VenueConfig

    return Live(PolymarketVenue(parts.settings, VenueConfig(heartbeat_s=parts.heartbeat_s),
                                fees=parts.catalog.fee_schedule, is_v2_position=parts.catalog.is_v2_position))


def _polymarket_settlement(settings: Settings, resolved: Callable[[str], bool]) -> SettlementVenue:
    from engine.venues.polymarket.settlement import PolymarketSettlement

    return PolymarketSettlement(settings)


def _kalshi_live(parts: LiveParts) -> Live:
    from engine.venues.kalshi.venue import LOST_AFTER_MS, KalshiVenue

    assert parts.settings.kalshi is not None
    catalog = parts.catalog

    def grid_of(condition_id: str) -> tuple[tuple[int, int, int], ...]:
        """A market's price grid as the desk last read it (none: whole cents, valid on every grid)."""
        market = catalog.get(condition_id)
        return market.price_grid if market is not None else ()

    return Live(KalshiVenue(parts.settings.kalshi, grid_of=grid_of), LOST_AFTER_MS)


def _kalshi_settlement(settings: Settings, resolved: Callable[[str], bool]) -> SettlementVenue:
    from engine.venues.kalshi.settlement import KalshiSettlement

    assert settings.kalshi is not None
    return KalshiSettlement(settings.kalshi, resolved)


ADAPTERS: dict[str, VenueAdapter] = {
    POLYMARKET: VenueAdapter(reachable=lambda settings: True, live=_polymarket_live,
                             settlement=_polymarket_settlement),
    KALSHI: VenueAdapter(reachable=lambda settings: settings.kalshi is not None, live=_kalshi_live,
                         settlement=_kalshi_settlement,
                         armable=lambda settings: settings.kalshi is not None and settings.kalshi.configured),
}


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
        adapter = adapter_of(DESK_VENUE)
    return adapter.settlement(settings, resolved)


# The venue `pair_feeds` follows: an operator's pair links a desk market to one of its markets, and a
# cross-venue strategy's paired leg trades there (engine/trading/passes/cross_arbs.py).
PAIRED_VENUE: VenueName = KALSHI


def pair_feeds(settings: Settings, catalog: MarketCatalog, books: BookCache, db: Database | None,
               replayed_pairs: Mapping[str, tuple[str, bool]] | None = None) -> KalshiPairs:
    """The feeds of the venue the operator's pairs link the desk's markets to (engine/venues/kalshi/pairs.py)."""
    return KalshiPairs(settings, catalog, books, db, replayed_pairs)
