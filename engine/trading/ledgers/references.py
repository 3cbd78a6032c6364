"""The desk's reference prices: the reference feed of the settings (a probability per market),
when the settings name up/down series, the Chainlink prices those series' markets settle on, from
the venue's real-time data socket (engine/venues/polymarket/chainlink.py), with the spot ticker stream the
settings name as the fallback (engine/feeds/spot.py; both priced by engine/venues/polymarket/spot_reference.py),
and for each market linked by hand to another venue's market (`venue_pairs`), that market's mid there, from the feeds
the venue registry builds for the pairs (engine/venues/registry.py `pair_feeds`: its book streamed
or polled into the desk's book cache, where the recorder records it; a backtest replays the recorded
books and reads them the same way), ahead of the others for those markets; and for each sports
market linked by hand to an event of the bookmakers' odds feed (`odds_links`, ODDS_FEED), its
outcome's margin-free probability (engine/feeds/odds_reference.py), ahead of all the others for those
markets (live and paper only: a backtest does not replay the odds). The paired venue's exchange
status is watched with any pair; it holds that venue's orders around a pause
(engine/trading/ledgers/exchange_pauses.py). Each is (re)started when its setting or the links
change and closed with the venue's feeds; `source` is what the market views read (None when none runs)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from contracts.runtime_settings import RuntimeConfig
from contracts.settings import Settings
from contracts.updown import parse_series
from engine.feeds.books import BookCache
from engine.feeds.catalog import MarketCatalog
from engine.feeds.exchange_state import ExchangeState
from engine.feeds.odds_reference import OddsReference
from engine.feeds.plausible import Refusals
from engine.feeds.reference import ReferenceFeed, ReferenceSource
from engine.feeds.spot import SpotFeed
from engine.venues.polymarket.chainlink import ChainlinkFeed
from engine.venues.polymarket.spot_reference import UpDownReference
from engine.venues.registry import pair_feeds
from storage.sqlite.db import Database


class References:
    def __init__(self, settings: Settings, catalog: MarketCatalog, books: BookCache, db: Database | None = None,
                 replayed_pairs: Mapping[str, tuple[str, bool]] | None = None) -> None:
        """`db`: where the pairs are read (None: a backtest, which reads none); `replayed_pairs`: a
        backtest's pairs, priced from the paired venue's books it replays into `books`."""
        self.settings = settings
        self.catalog = catalog
        self.books = books
        self.db = db
        self.feed: ReferenceFeed | None = None
        self.spot: SpotFeed | None = None
        self.chainlink: ChainlinkFeed | None = None
        self.updown: UpDownReference | None = None
        self.pair_feeds = pair_feeds(settings, catalog, books, db, replayed_pairs)
        self.replayed_pairs = self.pair_feeds.replayed_pairs
        self.odds: OddsReference | None = None  # the bookmakers' odds of the markets linked to them

    def exchange_state(self) -> ExchangeState | None:
        """The paired venue's exchange as last read (None: not watched, as in a backtest)."""
        return self.pair_feeds.exchange_state()

    def pairs(self) -> dict[str, tuple[str, bool]]:
        """The markets linked by hand to another venue's, as last read: condition id -> (the paired
        market's id, inverted)."""
        return self.pair_feeds.pairs()

    # The pair feeds' parts, as tests and the core read them.
    @property
    def paired(self) -> Any:
        return self.pair_feeds.paired

    @property
    def poller(self) -> Any:
        return self.pair_feeds.poller

    @property
    def exchange(self) -> Any:
        return self.pair_feeds.exchange

    @property
    def source(self) -> ReferenceSource | None:
        if self.odds is not None:
            return self.odds
        return self._others()

    def _others(self) -> ReferenceSource | None:
        """Every reference but the odds feed's, which stands ahead of them for the markets it prices."""
        if self.paired is not None:
            return self.paired
        return self.updown if self.updown is not None else self.feed

    async def start(self, config: RuntimeConfig) -> None:
        url = config.reference_feed_url
        if self.feed is not None and self.feed.url != url:
            await self.feed.close()
            self.feed = None
        if url and self.feed is None:
            self.feed = ReferenceFeed(url)
            await self.feed.start()
        await self._start_spot(config)
        if self.updown is not None:
            self.updown.other = self.feed
        await self._start_pairs()
        await self._start_odds(config)

    async def _start_odds(self, config: RuntimeConfig) -> None:
        """The markets linked by hand to a bookmakers' odds event, priced from ODDS_FEED (read again
        at each start and reload); none without the feed or links."""
        if self.db is None or self.settings.odds_feed is None:
            return
        from storage.desk.odds_links import list_links

        links = {link.condition_id: (link.event_id, link.outcome) for link in list_links(self.db)}
        if not links:
            if self.odds is not None:
                await self.odds.close()
            self.odds = None
            return
        if self.odds is None:
            self.odds = OddsReference(self.settings.odds_feed.reveal(), links)
        self.odds.links = links
        self.odds.poll_s, self.odds.max_age_ms = config.odds_poll_s, config.odds_max_age_s * 1000
        self.odds.other = self._others()
        await self.odds.start()

    async def _start_pairs(self) -> None:
        """Follow the paired markets' mids (the pairs read again at each start and reload)."""
        await self.pair_feeds.start(self.updown if self.updown is not None else self.feed)

    async def _start_spot(self, config: RuntimeConfig) -> None:
        """The up/down series' prices: Chainlink's (the settlement) for every series, and the exchange
        spot the settings name as the fallback; each (re)started when its assets or protocol change."""
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
            self.updown = UpDownReference(chainlink, spot, self.catalog, self.feed, spot_name=protocol or "spot")
            self.updown.beats.update(beats)  # Gamma's prices to beat, read already, stay
        elif not assets:
            self.updown = None

    def refusals(self) -> dict[str, Refusals]:
        """The records each running feed refused, by how an alert names the feed."""
        found = {}
        if self.feed is not None:
            found["reference feed"] = self.feed.refusals
        if self.spot is not None:
            found[f"{self.spot.protocol} spot stream"] = self.spot.refusals
        if self.chainlink is not None:
            found["Chainlink stream"] = self.chainlink.refusals
        index = getattr(self.pair_feeds, "index", None)
        if index is not None:
            found["paired venue's CF Benchmarks stream"] = index.refusals
        return found

    async def close(self) -> None:
        for feed in (self.feed, self.spot, self.chainlink, self.odds):
            if feed is not None:
                await feed.close()
        await self.pair_feeds.close()
