"""Kalshi's adapter (engine/venues/adapter.py): its live venue over the Trade API, the settlements Kalshi
pays by itself, its paper rules, its account (a fingerprint of the key id) and the feeds of the
operator's pairs (engine/venues/kalshi/pairs.py)."""

from __future__ import annotations

from collections.abc import Callable

from contracts.settings import Settings
from contracts.venues.kalshi.ids import market_id
from engine.venues.adapter import Live, LiveParts, PairFeeds, PairParts, VenueAdapter
from engine.venues.kalshi.accounts import kalshi_account
from engine.venues.kalshi.paper_rules import KalshiPaper
from engine.venues.settlement import SettlementVenue


def _live(parts: LiveParts) -> Live:
    from engine.venues.kalshi.venue import LOST_AFTER_MS, KalshiVenue

    assert parts.settings.kalshi is not None
    catalog = parts.catalog

    def grid_of(condition_id: str) -> tuple[tuple[int, int, int], ...]:
        """A market's price grid as the desk last read it (none: whole cents, valid on every grid)."""
        market = catalog.get(condition_id)
        return market.price_grid if market is not None else ()

    def shard_of(ticker: str) -> int | None:
        """A market's exchange shard as the desk last read it (None: not read yet)."""
        market = catalog.get(market_id(ticker))
        return market.kalshi_exchange_index if market is not None else None

    return Live(KalshiVenue(parts.settings.kalshi, grid_of=grid_of, shard_of=shard_of), LOST_AFTER_MS)


def _settlement(settings: Settings, resolved: Callable[[str], bool]) -> SettlementVenue:
    from engine.venues.kalshi.settlement import KalshiSettlement

    assert settings.kalshi is not None
    return KalshiSettlement(settings.kalshi, resolved)


def _pairs(parts: PairParts) -> PairFeeds:
    from engine.venues.kalshi.pairs import KalshiPairs

    return KalshiPairs(parts.settings, parts.catalog, parts.books, parts.db, parts.replayed_pairs)


ADAPTER = VenueAdapter(
    reachable=lambda settings: settings.kalshi is not None, live=_live, settlement=_settlement, paper=KalshiPaper,
    armable=lambda settings: settings.kalshi is not None and settings.kalshi.configured,
    account=lambda settings: kalshi_account(settings.kalshi),
    host=lambda settings: settings.kalshi.host if settings.kalshi is not None else None, pairs=_pairs,
    services=("kalshi",),
    arm_needs="its API key: KALSHI_API_KEY_ID and KALSHI_PRIVATE_KEY in .env, or sealed in the keystore; then run "
              "`python -m engine kalshi-preflight` (see docs/going-live.md)")
