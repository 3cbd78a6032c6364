"""The desk's reference prices: the reference feed of the settings (a probability per market),
when the settings name up/down series, the windows' P(Up) as the desk venue's series price them (its market
data's `up_down`, engine/venues/market_data.py: from the price the windows settle on, with the spot stream
the settings name as the fallback),
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
from engine.feeds.books import BookCache
from engine.feeds.catalog import MarketCatalog
from engine.feeds.exchange_state import ExchangeState
from engine.feeds.odds_reference import OddsReference
from engine.feeds.plausible import Refusals
from engine.feeds.reference import ReferenceFeed, ReferenceSource
from engine.venues.market_data import UpDownSeries
from engine.venues.registry import pair_feeds
from storage.sqlite.db import Database


class References:
    def __init__(self, settings: Settings, catalog: MarketCatalog, books: BookCache, db: Database | None = None,
                 replayed_pairs: Mapping[str, tuple[str, bool]] | None = None, *,
                 series: UpDownSeries | None = None) -> None:
        """`db`: where the pairs are read (None: a backtest, which reads none); `replayed_pairs`: a
        backtest's pairs, priced from the paired venue's books it replays into `books`; `series`: the desk
        venue's up/down series (None: it has none)."""
        self.settings = settings
        self.catalog = catalog
        self.books = books
        self.db = db
        self.feed: ReferenceFeed | None = None
        self.series = series
        self.updown: ReferenceSource | None = None  # the series' windows, priced (None: no series followed)
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
        if self.series is not None:
            self.updown = await self.series.start(config, self.feed)
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

    def refusals(self) -> dict[str, Refusals]:
        """The records each running feed refused, by how an alert names the feed."""
        found = {}
        if self.feed is not None:
            found["reference feed"] = self.feed.refusals
        if self.series is not None:
            found.update(self.series.refusals())
        index = getattr(self.pair_feeds, "index", None)
        if index is not None:
            found["paired venue's CF Benchmarks stream"] = index.refusals
        return found

    async def close(self) -> None:
        if self.feed is not None:
            await self.feed.close()
        if self.series is not None:
            await self.series.close()
        if self.odds is not None:
            await self.odds.close()
        await self.pair_feeds.close()
