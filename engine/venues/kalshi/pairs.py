"""Kalshi's side of the operator's pairs (a Polymarket market linked by hand to a Kalshi market,
`venue_pairs`): the paired market's mid as the reference price (engine/venues/kalshi/reference.py,
engine/venues/kalshi/books.py: its book streamed over Kalshi's WebSocket when the desk has a Kalshi
key, read from REST while the stream does not serve it, into the desk's book cache, where the
recorder records it; a backtest replays the recorded books and reads them the same way). What the
poller reads of each Kalshi market (its price grid, its series' fees, its status) is kept with the
pair and loaded into the catalog at once. With any pair, Kalshi's exchange status and schedule are
watched too (engine/venues/kalshi/exchange.py): what they say is kept for `engine status` and the
dashboard, a pause's start and end alerted (`told`), and the trading side holds Kalshi's orders
around a pause (engine/trading/ledgers/exchange_pauses.py). With a Kalshi key, the key is watched as
Kalshi describes it (engine/venues/kalshi/key_watch.py): an account's location attestation that expires
within two weeks, has lapsed or was never made is alerted (`key_told`), before Kalshi stops its orders.
Paired Kalshi crypto windows (contracts/venues/kalshi/crypto.py) are priced from the CF Benchmarks index each
settles on, relayed on Kalshi's signed WebSocket (engine/venues/kalshi/cfbenchmarks.py,
engine/venues/kalshi/window_reference.py): the reference every other market asks falls behind it.

The trading layer reaches this through engine/venues/registry.py (`pair_feeds`), so it names no venue.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from contracts.settings import Settings
from contracts.venues.kalshi import ids as kalshi_ids
from contracts.venues.kalshi.crypto import index_of
from contracts.venues.kalshi.fees import EventFeeChange, market_schedule
from contracts.venues.kalshi.keys import RENEW, RESTRICTED, KeyVerdict
from engine.feeds.books import BookCache
from engine.feeds.catalog import MarketCatalog
from engine.feeds.exchange_state import ExchangeState, said_when
from engine.feeds.reference import ReferenceSource
from engine.venues.kalshi.books import KalshiBookFeed
from engine.venues.kalshi.cfbenchmarks import CfBenchmarksFeed
from engine.venues.kalshi.exchange import KalshiExchangeWatch
from engine.venues.kalshi.key_watch import KalshiKeyWatch
from engine.venues.kalshi.reference import Facts, KalshiBookPoller, PairedReference
from engine.venues.kalshi.window_reference import KalshiWindowReference
from storage.desk.audit import raise_alert
from storage.engine_stores.engine_state import set_kalshi_exchange
from storage.sqlite.db import Database, now_ms


class KalshiPairs:
    def __init__(self, settings: Settings, catalog: MarketCatalog, books: BookCache, db: Database | None,
                 replayed_pairs: Mapping[str, tuple[str, bool]] | None = None) -> None:
        """`db`: where the pairs are read (None: a backtest, which reads none); `replayed_pairs`: a
        backtest's pairs, priced from the Kalshi books it replays into `books`."""
        self.settings = settings
        self.catalog = catalog
        self.books = books
        self.db = db
        self.replayed_pairs = dict(replayed_pairs or {})
        self.paired = PairedReference(replayed_pairs, books) if replayed_pairs else None
        self.poller: KalshiBookPoller | None = None
        self.stream: KalshiBookFeed | None = None
        self.exchange: KalshiExchangeWatch | None = None
        self.key: KalshiKeyWatch | None = None
        self.index: CfBenchmarksFeed | None = None  # the CF Benchmarks indices the paired crypto windows settle on
        self._key_alerted = False  # the last verdict told was an alert

    def exchange_state(self) -> ExchangeState | None:
        """Kalshi's exchange as last read (None: not watched, as in a backtest)."""
        return self.exchange.state if self.exchange is not None else None

    def pairs(self) -> dict[str, tuple[str, bool]]:
        """The markets linked by hand to Kalshi, as last read: Polymarket condition id -> (its Kalshi
        market's id, inverted)."""
        paired = self.paired.pairs if self.paired is not None else {}
        return {cid: (kalshi_ids.market_id(ticker), inverted) for cid, (ticker, inverted) in paired.items()}

    async def start(self, other: ReferenceSource | None) -> None:
        """Follow the Kalshi mid of every paired market (the pairs read again at each start and
        reload); `other` prices the unpaired markets."""
        if self.db is None or self.settings.kalshi is None:
            return
        from storage.desk.venue_pairs import list_pairs

        pairs = {p.condition_id: (p.kalshi_ticker, p.inverted) for p in list_pairs(self.db)}
        tickers = sorted({ticker for ticker, _ in pairs.values()})
        if self.stream is not None and (not pairs or self.stream.tickers != tuple(tickers)):
            await self.stream.close()
            self.stream = None
        indexes = sorted({i for t in tickers if (i := index_of(t)) is not None})
        if self.index is not None and self.index.indexes != tuple(indexes):
            await self.index.close()
            self.index = None
        if not pairs:
            for feed in (self.poller, self.exchange, self.key):
                if feed is not None:
                    await feed.close()
            self.paired = self.poller = self.exchange = self.key = None
            return
        if self.paired is None:
            self.paired = PairedReference(pairs, self.books)
        if self.poller is None:
            self.poller = KalshiBookPoller(self.settings.kalshi.host, [], self.books, on_facts=self._keep_facts,
                                           streamed=self._streamed, resync=self._resync, refused=self._refused,
                                           known_event_fees=self._known_event_fees)
        if self.stream is None and self.settings.kalshi.configured:
            self.stream = KalshiBookFeed(self.settings.kalshi, self.books, tickers, ended=self.poller.ended)
            await self.stream.start()
        self.paired.pairs = pairs
        self.poller.tickers = tickers
        self.paired.other = other
        if indexes and self.settings.kalshi.configured:  # the paired crypto windows, priced from their index
            if self.index is None:
                self.index = CfBenchmarksFeed(self.settings.kalshi, indexes)
                await self.index.start()
            self.paired.other = KalshiWindowReference(self.index, self.poller.markets.get, other)
        await self.poller.start()
        if self.exchange is None:
            self.exchange = KalshiExchangeWatch(self.settings.kalshi.host, on_change=self._exchange_changed)
            await self.exchange.start()
        if self.key is None and self.settings.kalshi.configured:
            self.key = KalshiKeyWatch(self.settings.kalshi, on_change=self._key_changed)
            await self.key.start()

    def _known_event_fees(self, ticker: str) -> tuple[EventFeeChange, ...]:
        """The changes of a market's event fee override the desk kept with its pair."""
        market = self.catalog.get(kalshi_ids.market_id(ticker))
        return () if market is None else market_schedule(market).event_changes

    def _key_changed(self, verdict: KeyVerdict) -> None:
        assert self.db is not None
        key_told(self.db, verdict, self._key_alerted, now_ms())
        self._key_alerted = verdict.alert

    def _exchange_changed(self, before: ExchangeState, after: ExchangeState) -> None:
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
                                                         facts.status, facts.fee_changes, facts.exchange_index)):
            self.catalog.load_kalshi(self.db)

    def _refused(self, ticker: str, problem: str) -> None:
        """Kalshi sent fee settings the desk cannot read: alerted, and the fees it charges stay as read."""
        assert self.db is not None
        with self.db.write() as conn:
            raise_alert(conn, level="warning", source="engine", code="KALSHI_FEES_REFUSED", subject=ticker,
                        message=f"Kalshi's fee settings for {ticker} were refused ({problem}): the desk keeps "
                                "charging the fees it last read for it until Kalshi sends ones it can read.")

    async def close(self) -> None:
        for feed in (self.poller, self.stream, self.exchange, self.key, self.index):
            if feed is not None:
                await feed.close()
        self.poller = self.stream = self.exchange = self.key = self.index = None


def key_told(db: Database, verdict: KeyVerdict, alerted: bool, now: int) -> None:
    """The account's location attestation alerted when it expires within two weeks, has lapsed or was never
    made (a warning: Kalshi then refuses the key's orders in Sports, Elections and Entertainment markets, its
    changelog of 2026-08-16, and the desk holds them there; other markets trade on); its renewal told once
    after."""
    if not verdict.alert and not alerted:
        return
    with db.write() as conn:
        if verdict.alert:
            when = "Once it has lapsed" if verdict.attestation == "expiring" else "Until it is renewed"
            raise_alert(conn, level="warning", source="engine", code="KALSHI_KEY_ATTESTATION", subject="kalshi",
                        message=f"Kalshi: {verdict.words(now)}. {when} Kalshi refuses the key's orders in "
                                f"{', '.join(RESTRICTED)} markets (the desk holds its quotes there; other markets "
                                f"trade on): {RENEW}.")
        else:
            raise_alert(conn, level="info", source="engine", code="KALSHI_KEY_ATTESTATION", subject="kalshi",
                        message=f"Kalshi: {verdict.words(now)}: renewed.")


def told(db: Database, before: ExchangeState, after: ExchangeState, now: int) -> None:
    """What was read kept for `engine status` and the dashboard; a pause's start and end alerted."""
    with db.write() as conn:
        set_kalshi_exchange(conn, json.dumps(after.as_json(now)))
        if after.read_ms is None:
            return
        if after.paused and not before.paused:
            until = f" until about {said_when(after.resume_ms)}" if after.resume_ms else ""
            kind = "The exchange is paused (cancels refused too)" if not after.exchange_active else \
                "Trading is paused"
            raise_alert(conn, level="warning", source="engine", code="KALSHI_PAUSED", subject="kalshi",
                        message=f"{kind} on Kalshi{until}. The desk places nothing there meanwhile (not a fault) "
                                "and resumes by itself when Kalshi does.")
        elif before.paused and not after.paused and before.read_ms is not None:
            raise_alert(conn, level="info", source="engine", code="KALSHI_RESUMED", subject="kalshi",
                        message="Kalshi trades again: the desk's Kalshi strategies quote again from their next pass.")
