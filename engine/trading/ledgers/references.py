"""The desk's reference prices: the reference feed of the settings (a probability per market),
when the settings name up/down series, the Chainlink prices those series' markets settle on, from
the venue's real-time data socket (engine/feeds/chainlink.py), with the spot ticker stream the
settings name as the fallback (engine/feeds/spot.py; both priced by engine/feeds/spot_reference.py),
and for each market
linked by hand to a Kalshi market (`venue_pairs`), that market's mid on Kalshi
(engine/feeds/kalshi_reference.py, engine/feeds/kalshi_books.py: its book streamed over Kalshi's
WebSocket when the desk has a Kalshi key, read from REST while the stream does not serve it, into the
desk's book cache, where the recorder records it; a backtest replays the recorded books and reads
them the same way), ahead of the others for those markets; and for each sports market linked by hand
to an event of the bookmakers' odds feed (`odds_links`, ODDS_FEED), its outcome's margin-free
probability (engine/feeds/odds_reference.py), ahead of all the others for those markets (live and
paper only: a backtest does not replay the odds). What the poller reads of each Kalshi market (its
price grid, its series' fees, its status) is kept with the pair and loaded into the catalog at once.
With any pair, Kalshi's exchange status and schedule are watched too (engine/feeds/kalshi_exchange.py;
what they say is kept and alerted by engine/trading/ledgers/kalshi_pauses.py, and holds the Kalshi lane's
orders around a pause). Each is (re)started when its setting or the links change and closed with
the venue's feeds; `source` is what the market views read (None when none runs)."""

from __future__ import annotations

from collections.abc import Mapping

from contracts import kalshi_ids
from contracts.runtime_settings import RuntimeConfig
from contracts.settings import Settings
from contracts.updown import parse_series
from engine.feeds.books import BookCache
from engine.feeds.catalog import MarketCatalog
from engine.feeds.chainlink import ChainlinkFeed
from engine.feeds.kalshi_books import KalshiBookFeed
from engine.feeds.kalshi_exchange import ExchangeState, KalshiExchangeWatch
from engine.feeds.kalshi_reference import Facts, KalshiBookPoller, PairedReference
from engine.feeds.odds_reference import OddsReference
from engine.feeds.plausible import Refusals
from engine.feeds.reference import ReferenceFeed, ReferenceSource
from engine.feeds.spot import SpotFeed
from engine.feeds.spot_reference import UpDownReference
from storage.sqlite.db import Database, now_ms


class References:
    def __init__(self, settings: Settings, catalog: MarketCatalog, books: BookCache, db: Database | None = None,
                 replayed_pairs: Mapping[str, tuple[str, bool]] | None = None) -> None:
        """`db`: where the pairs are read (None: a backtest, which reads none); `replayed_pairs`: a
        backtest's pairs, priced from the Kalshi books it replays into `books`."""
        self.settings = settings
        self.catalog = catalog
        self.books = books
        self.db = db
        self.feed: ReferenceFeed | None = None
        self.spot: SpotFeed | None = None
        self.chainlink: ChainlinkFeed | None = None
        self.updown: UpDownReference | None = None
        self.replayed_pairs = dict(replayed_pairs or {})
        self.paired = PairedReference(replayed_pairs, books) if replayed_pairs else None
        self.poller: KalshiBookPoller | None = None
        self.stream: KalshiBookFeed | None = None
        self.exchange: KalshiExchangeWatch | None = None
        self.odds: OddsReference | None = None  # the bookmakers' odds of the markets linked to them

    def kalshi_exchange(self) -> ExchangeState | None:
        """Kalshi's exchange as last read (None: not watched, as in a backtest)."""
        return self.exchange.state if self.exchange is not None else None

    def pairs(self) -> dict[str, tuple[str, bool]]:
        """The markets linked by hand to Kalshi, as last read: Polymarket condition id -> (its Kalshi
        market's id, inverted)."""
        paired = self.paired.pairs if self.paired is not None else {}
        return {cid: (kalshi_ids.market_id(ticker), inverted) for cid, (ticker, inverted) in paired.items()}

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
        """Follow the Kalshi mid of every paired market (the pairs read again at each start and reload)."""
        if self.db is None or self.settings.kalshi is None:
            return
        from storage.desk.venue_pairs import list_pairs

        pairs = {p.condition_id: (p.kalshi_ticker, p.inverted) for p in list_pairs(self.db)}
        tickers = sorted({ticker for ticker, _ in pairs.values()})
        if self.stream is not None and (not pairs or self.stream.tickers != tuple(tickers)):
            await self.stream.close()
            self.stream = None
        if not pairs:
            for feed in (self.poller, self.exchange):
                if feed is not None:
                    await feed.close()
            self.paired = self.poller = self.exchange = None
            return
        if self.paired is None:
            self.paired = PairedReference(pairs, self.books)
        if self.poller is None:
            self.poller = KalshiBookPoller(self.settings.kalshi.host, [], self.books, on_facts=self._keep_facts,
                                           streamed=self._streamed, resync=self._resync, refused=self._refused)
        if self.stream is None and self.settings.kalshi.configured:
            self.stream = KalshiBookFeed(self.settings.kalshi, self.books, tickers, ended=self.poller.ended)
            await self.stream.start()
        self.paired.pairs = pairs
        self.poller.tickers = tickers
        self.paired.other = self.updown if self.updown is not None else self.feed  # the unpaired markets'
        await self.poller.start()
        if self.exchange is None:
            self.exchange = KalshiExchangeWatch(self.settings.kalshi.host, on_change=self._exchange_changed)
            await self.exchange.start()

    def _exchange_changed(self, before: ExchangeState, after: ExchangeState) -> None:
        from engine.trading.ledgers.kalshi_pauses import told

        assert self.db is not None
        told(self.db, before, after, now_ms())

    def _resync(self, ticker: str) -> None:
        if self.stream is not None:
            self.stream.resync(ticker)

    def _streamed(self) -> set[str]:
        return self.stream.streamed() if self.stream is not None else set()

    def _keep_facts(self, ticker: str, facts: Facts) -> None:
        """What the poller read of a Kalshi market, kept with its pair and in the catalog."""
        from storage.desk.venue_pairs import KalshiFacts, set_kalshi_facts

        assert self.db is not None
        if set_kalshi_facts(self.db, ticker, KalshiFacts(facts.price_grid, facts.fee_type, facts.fee_multiplier_ppm,
                                                         facts.status, facts.fee_changes)):
            self.catalog.load_kalshi(self.db)

    def _refused(self, ticker: str, problem: str) -> None:
        """Kalshi sent fee settings the desk cannot read: alerted, and the fees it charges stay as read."""
        from storage.desk.audit import raise_alert

        assert self.db is not None
        with self.db.write() as conn:
            raise_alert(conn, level="warning", source="engine", code="KALSHI_FEES_REFUSED", subject=ticker,
                        message=f"Kalshi's fee settings for {ticker} were refused ({problem}): the desk keeps "
                                "charging the fees it last read for it until Kalshi sends ones it can read.")

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
        return found

    async def close(self) -> None:
        for feed in (self.feed, self.spot, self.chainlink, self.poller, self.stream, self.exchange, self.odds):
            if feed is not None:
                await feed.close()
        self.poller = self.stream = self.exchange = None
