"""Polymarket's market data as the desk reads it (engine/venues/market_data.py says what the trading layer
asks of it): the market channel (market_ws.py), Gamma's listing and the CLOB's fee parameters
(discovery.py), the liquidity-reward programs, the payouts of closed markets (resolutions.py), the short
up/down series (updown_series.py) and the wallets followed through the Data API and RTDS (follow/)."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Awaitable, Callable, Iterable, Sequence
from typing import Any

from engine.venues.market_data import BookFeed, MarketData, VenueResolution
from engine.venues.polymarket.discovery import enrich_fees, make_refresh_job
from engine.venues.polymarket.follow.poller import WalletFollower
from engine.venues.polymarket.market_ws import MarketFeed
from engine.venues.polymarket.resolutions import closed_markets
from engine.venues.polymarket.rest import RestClient
from engine.venues.polymarket.updown_series import PolymarketUpDown


class PolymarketMarketData(MarketData):
    def feed(self) -> BookFeed:
        parts = self.parts
        return MarketFeed(parts.settings.ws_host, parts.settings.clob_host, parts.books, clock_ms=parts.clock)

    def refresh_job(self, traded: Callable[[], Iterable[str]]) -> Callable[[], Awaitable[Any]]:
        settings = self.parts.settings
        return make_refresh_job(self.parts.db, settings.gamma_host, settings.clob_host, traded=traded)

    async def read_fees(self, condition_ids: list[str]) -> None:
        await enrich_fees(self.parts.db, self.parts.settings.clob_host, condition_ids)

    async def reward_page(self, cursor: str) -> Any:
        rest = RestClient(self.parts.settings.clob_host)
        try:
            return await rest.get_json("/rewards/markets/current", {"next_cursor": cursor})
        finally:
            await rest.close()

    def resolutions(self, condition_ids: Sequence[str], *,
                    batch: int = 0) -> AsyncGenerator[VenueResolution, None]:
        return closed_markets(self.parts.settings.gamma_host, condition_ids, batch=batch)

    def up_down(self) -> PolymarketUpDown:
        return PolymarketUpDown(self.parts.settings, self.parts.db, self.parts.catalog)

    def follower(self) -> WalletFollower:
        settings = self.parts.settings
        return WalletFollower(self.parts.db, settings.data_api_host, settings.rtds_host, clock=self.parts.clock)
