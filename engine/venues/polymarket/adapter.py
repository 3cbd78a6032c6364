"""Polymarket's adapter (engine/venues/adapter.py), the desk's own venue: its live venue over the CLOB,
on-chain settlement by the wallet, its paper rules, its account (the wallet's addresses), and its market data
(market_data.py: the market channel, Gamma's listing, fees, rewards, resolutions, the up/down series and the
followed wallets)."""

from __future__ import annotations

from collections.abc import Callable

from contracts.settings import Settings
from engine.venues.adapter import Live, LiveParts, VenueAdapter
from engine.venues.market_data import MarketData, MarketDataParts
from engine.venues.polymarket.accounts import polymarket_account
from engine.venues.polymarket.paper_rules import PolymarketPaper
from engine.venues.settlement import SettlementVenue


def _live(parts: LiveParts) -> Live:
    from engine.venues.polymarket.venue import PolymarketVenue, VenueConfig

    return Live(PolymarketVenue(parts.settings, VenueConfig(heartbeat_s=parts.heartbeat_s),
                                fees=parts.catalog.fee_schedule, is_v2_position=parts.catalog.is_v2_position))


def _settlement(settings: Settings, resolved: Callable[[str], bool]) -> SettlementVenue:
    from engine.venues.polymarket.settlement import PolymarketSettlement

    return PolymarketSettlement(settings)


def _market_data(parts: MarketDataParts) -> MarketData:
    from engine.venues.polymarket.market_data import PolymarketMarketData

    return PolymarketMarketData(parts)


ADAPTER = VenueAdapter(
    reachable=lambda settings: True, live=_live, settlement=_settlement, paper=PolymarketPaper,
    account=polymarket_account,
    host=lambda settings: settings.clob_host, market_data=_market_data,
    services=("clob_host", "gamma_host", "ws_host", "data_api_host", "rtds_host", "relayer_host", "rpc_url",
              "geoblock_host"),
    arm_needs="a wallet key: POLY_KEYSTORE (encrypted) or POLY_PRIVATE_KEY in .env (see docs/going-live.md)")
