"""Polymarket's short crypto up/down series as the desk trades them (engine/venues/market_data.py
`UpDownSeries`): their windows found as they open (series.py), P(Up) of each window (spot_reference.py)
from the Chainlink price the venue settles on, relayed on its real-time data socket (chainlink.py over
rtds.py), with the exchange spot stream the settings name as the fallback (engine/feeds/spot.py), and each
open window's price to beat read from Gamma and its pricing recorded (updown_windows.py).

Each stream is (re)started when its assets or protocol change; the prices to beat already read stay
across a restart.
"""

from __future__ import annotations

from collections.abc import Iterable

from contracts.domain import MarketInfo
from contracts.runtime_settings import RuntimeConfig
from contracts.settings import Settings
from contracts.updown import Series, parse_series
from engine.feeds.catalog import MarketCatalog
from engine.feeds.plausible import Refusals
from engine.feeds.reference import ReferenceSource
from engine.feeds.spot import SpotFeed
from engine.venues.polymarket.chainlink import ChainlinkFeed
from engine.venues.polymarket.series import SeriesDiscovery
from engine.venues.polymarket.spot_reference import UpDownReference
from engine.venues.polymarket.updown_windows import WindowWatch
from storage.sqlite.db import Database


class PolymarketUpDown:
    def __init__(self, settings: Settings, db: Database, catalog: MarketCatalog) -> None:
        self.settings = settings
        self.catalog = catalog
        self.discovery = SeriesDiscovery(db, settings.gamma_host, settings.clob_host)
        self.windows = WindowWatch(db, settings.gamma_host)  # prices to beat, how each is priced
        self.spot: SpotFeed | None = None
        self.chainlink: ChainlinkFeed | None = None
        self.updown: UpDownReference | None = None

    async def start(self, config: RuntimeConfig, other: ReferenceSource | None) -> UpDownReference | None:
        """The series' prices: Chainlink's (the settlement) for every series, and the exchange spot the
        settings name as the fallback; each (re)started when its assets or protocol change."""
        protocol = config.spot_feed
        assets = tuple(sorted({s.asset for s in parse_series(config.updown_series)}))
        base = self.settings.okx_ws_url if protocol == "okx" else self.settings.binance_ws_url
        spot = self.spot
        if spot is not None and (spot.protocol, spot.assets) != (protocol, assets):
            await spot.close()
            self.spot = spot = None
        if spot is None and protocol and assets:
            self.spot = spot = SpotFeed(protocol, base, assets)
            await spot.start()
        chainlink = self.chainlink
        if chainlink is not None and chainlink.assets != assets:
            await chainlink.close()
            self.chainlink = chainlink = None
        if chainlink is None and assets:
            self.chainlink = chainlink = ChainlinkFeed(self.settings.rtds_host, assets)
            await chainlink.start()
        updown = self.updown
        if assets and (updown is None or updown.settlement is not chainlink or updown.spot is not spot):
            beats = updown.beats if updown is not None else {}
            self.updown = UpDownReference(chainlink, spot, self.catalog, other, spot_name=protocol or "spot")
            self.updown.beats.update(beats)  # Gamma's prices to beat, read already, stay
        elif not assets:
            self.updown = None
        if self.updown is not None:
            self.updown.other = other
        return self.updown

    async def discover(self, series: Iterable[Series], now_s: float) -> list[str]:
        return await self.discovery.discover(series, now_s)

    async def check(self, markets: Iterable[MarketInfo], now_ms: int) -> int:
        return await self.windows.check(self.updown, markets, now_ms)

    def refusals(self) -> dict[str, Refusals]:
        found = {}
        if self.spot is not None:
            found[f"{self.spot.protocol} spot stream"] = self.spot.refusals
        if self.chainlink is not None:
            found["Chainlink stream"] = self.chainlink.refusals
        return found

    async def close(self) -> None:
        for feed in (self.spot, self.chainlink):
            if feed is not None:
                await feed.close()
