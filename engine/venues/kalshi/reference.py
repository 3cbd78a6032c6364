"""The other venue's price as a reference: each Polymarket market the operator linked to a Kalshi
market (`venue_pairs`, engine/cli/pairs.py) takes that market's mid as its reference price.

Two parts, so a backtest prices a pair through the same code as live:

- `KalshiBookPoller` (live only), through the desk's Kalshi client (public reads, no key): every
  paired market's status read every 30 s (and at every poll for one not yet known binary), which also
  keeps what the desk knows of it (its price grid, its series' fees with the changes Kalshi schedules
  for them, its event's override of them with the override's scheduled changes: `on_facts`, kept with
  the pair; a fee record it cannot read is told to `refused`, named,
  and changes nothing), tells once a settlement as the market's resolution (`yes`/`no`, the winning
  side's token), a settlement at a value or a void as `MarketVoided` (with the YES value, or none),
  and a market that is not binary as `PairNotBinary`. While Kalshi's order-book stream is not serving
  a market (engine/venues/kalshi/books.py: `streamed` says which it serves), its book is read from
  REST, every paired book in one request (Kalshi's batch order-book endpoint), into the desk's book
  cache as the tokens `kalshi:<ticker>:yes` and `:no` (contracts/venues/kalshi/ids.py); the trades made since
  the poller started are told as prints of the YES token, where the recorder records both. A failed
  read leaves the last book with its time, so it ages like any reference. The books the stream serves
  are read in the same request and checked against it: a streamed book that equals Kalshi's is vouched
  for as of the read (a quiet market sends no delta, and its book must not age into stale data while
  the stream is sound); one that disagrees STREAM_DISAGREES reads in a row (a delta lost on the way)
  has the stream take its snapshots again (`resync`).
- `PairedReference`: the mid of that YES book (between the best YES bid and the best YES ask,
  which is 1 - the best NO bid), turned into the Polymarket market's YES space (1 - mid when the
  pair is inverted), timed by the book. A book with a side empty, or crossed, gives no price
  (never a guess). Markets with no pair ask `other` (the reference feed, the up/down prices).

Book levels keep Kalshi's exact prices (a $0.9950 level stays $0.9950: nothing is rounded to cents).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from fractions import Fraction

from contracts.domain import Side
from contracts.venues.kalshi import ids as wire
from contracts.venues.kalshi.fee_store import schedule_json
from contracts.venues.kalshi.fees import EventFeeChange, FeeChange, KalshiFees
from contracts.venues.kalshi.grid import bands_json
from engine.feeds.books import BookCache
from engine.feeds.market_data_events import MarketResolved, MarketVoided, PairNotBinary, TradePrint
from engine.feeds.reference import ReferenceSource
from engine.venues.kalshi import models
from engine.venues.kalshi.client import PublicReads
from engine.venues.kalshi.fixed import KalshiShapeError
from engine.venues.kalshi.http import KalshiError
from storage.sqlite.db import now_ms

log = logging.getLogger("engine.venues.kalshi.reference")
POLL_S = 2.0
STATUS_EVERY = 15  # every market's status is read every this many polls (30 s at POLL_S)
SERIES_EVERY_S = 600.0  # a series' fee settings are read again after this long
SEEN_TRADES = 2_000  # trade ids remembered a market: `min_ts` is whole seconds, so a poll repeats some
HISTORY = 600  # points kept a market (20 minutes at one a poll)
STREAM_DISAGREES = 3  # reads in a row a streamed book differs from Kalshi's before the stream resyncs
Levels = list[tuple[int, int]]


@dataclass(frozen=True)
class Facts:
    """What the desk keeps of a paired Kalshi market (storage/desk/venue_pairs.py)."""

    price_grid: str
    fee_type: str
    fee_multiplier_ppm: int
    status: str
    fee_changes: str | None = None  # the series' fee changes and when the fees were read (schedule_json)
    exchange_index: int | None = None  # the exchange shard it lives on (its orders' route, its collateral's)


def put_book(books: BookCache, ticker: str, yes_bids: Levels, no_bids: Levels, at_ms: int) -> None:
    """Both tokens of a Kalshi market into the book cache: a YES bid is a NO ask at 1 - price."""
    flip = [(wire.CONTRACT - price, size) for price, size in no_bids]
    flip_yes = [(wire.CONTRACT - price, size) for price, size in yes_bids]
    books.apply_snapshot(wire.token_id(ticker, "yes"), yes_bids, flip, at_ms)
    books.apply_snapshot(wire.token_id(ticker, "no"), no_bids, flip_yes, at_ms)


class KalshiBookPoller(PublicReads):
    """Live: every paired market's status, and its book while the stream does not serve it."""

    task_name = "kalshi-books-poll"

    def __init__(self, host: str, tickers: Iterable[str], books: BookCache, *, poll_s: float = POLL_S,
                 clock_ms: Callable[[], int] = now_ms, on_facts: Callable[[str, Facts], None] | None = None,
                 streamed: Callable[[], set[str]] | None = None, resync: Callable[[str], None] | None = None,
                 refused: Callable[[str, str], None] | None = None,
                 known_event_fees: Callable[[str], tuple[EventFeeChange, ...]] | None = None) -> None:
        """`known_event_fees`: the event fee changes the desk kept for a market (its pair's), which
        Kalshi lists no more once they are due."""
        super().__init__(host)  # the books and markets are public: no key
        self.tickers = sorted(set(tickers))
        self.books = books
        self.poll_s = poll_s
        self.clock_ms = clock_ms
        self.on_facts = on_facts
        self.streamed = streamed or set
        self.resync = resync
        self.refused = refused  # (ticker, what Kalshi sent that was refused): told once a problem
        self._told_refused: set[str] = set()
        self.disagreed: dict[str, int] = {}  # ticker -> reads in a row its streamed book differed from REST
        self.failures = 0
        self.last_error: str | None = None
        self.since_s = clock_ms() // 1000  # trades before the poller started are history, not news
        self._seen: dict[str, deque[str]] = {}
        self._since: dict[str, int] = {}
        # event ticker -> (read at, its fee settings, their scheduled changes, read at in epoch ms)
        self._fees: dict[str, tuple[float, models.Series, tuple[FeeChange, ...], int, KalshiFees | None,
                                    tuple[EventFeeChange, ...]]] = {}
        self.known_event_fees = known_event_fees or (lambda ticker: ())
        self.polls = 0
        self.settled: dict[str, str] = {}  # ticker -> its result, once told
        self.not_binary: dict[str, str] = {}  # ticker -> its market type, once told: never read again
        self.binary: set[str] = set()  # tickers a status read found binary: only their books are read
        self.markets: dict[str, models.Market] = {}  # ticker -> the market as last read (strikes, close)

    async def _run(self) -> None:
        while True:
            await self.poll_once()
            await asyncio.sleep(self.poll_s)

    async def poll_once(self) -> int:
        """Statuses first (every market's every STATUS_EVERY polls, and those not yet known binary,
        whose books wait for it), then the books the stream does not serve; returns the books read."""
        every = self.polls % STATUS_EVERY == 0
        self.polls += 1
        if every or any(self._unsettled_read(t) for t in self._open()):
            await self.read_settlements(every=every)
        streamed = self.streamed()
        followed = [t for t in self._open() if t in self.binary]
        if not followed:
            return 0
        sent = self.clock_ms()
        try:
            books = await self.client.orderbooks(followed)
        except (KalshiError, KalshiShapeError) as exc:  # the last books stay, and age
            self._failed("books", exc)
            return 0
        now = self.clock_ms()
        for book in books:
            if book.ticker in streamed:
                self._check_stream(book, sent)
            else:
                put_book(self.books, book.ticker, list(book.yes_bids), list(book.no_bids), now)
        for ticker in followed:  # (the stream carries books, not trades: every market's are read here)
            await self._trades(ticker, now)
        return sum(1 for book in books if book.ticker not in streamed)

    def _check_stream(self, book: models.Orderbook, sent: int) -> None:
        """A streamed book against Kalshi's REST answer: vouched for as of `sent` when equal."""
        yes, no = wire.token_id(book.ticker, "yes"), wire.token_id(book.ticker, "no")
        asks = [(wire.CONTRACT - price, size) for price, size in book.no_bids]
        if self.books.same_as(yes, list(book.yes_bids), asks):
            self.disagreed.pop(book.ticker, None)
            self.books.confirm([yes, no], sent)
            return
        self.disagreed[book.ticker] = self.disagreed.get(book.ticker, 0) + 1
        if self.disagreed[book.ticker] >= STREAM_DISAGREES and self.resync is not None:
            log.warning("a streamed Kalshi book disagrees with Kalshi's REST book: resyncing the stream",
                        extra={"ticker": book.ticker})
            self.disagreed.pop(book.ticker, None)
            self.resync(book.ticker)

    def _unsettled_read(self, ticker: str) -> bool:
        """Whether a market is read at every poll: not yet known binary, or a window whose strike Kalshi
        has not set yet (a crypto window's price to beat, set when it opens)."""
        market = self.markets.get(ticker)
        return ticker not in self.binary or (market is not None and market.strike_type is not None
                                             and market.floor_strike is None and market.cap_strike is None)

    def ended(self, ticker: str) -> bool:
        """Whether the market is over for the desk (finalized, or not binary): its book is not followed."""
        return ticker in self.settled or ticker in self.not_binary

    def _open(self) -> list[str]:
        """The tickers still followed: not settled, and not known to be other than binary."""
        return [t for t in self.tickers if t not in self.settled and t not in self.not_binary]

    def _failed(self, what: str, exc: Exception) -> None:
        self.failures += 1
        self.last_error = f"{what}: {type(exc).__name__}: {exc}"[:300]
        log.warning("Kalshi read for a paired market failed", extra={"error": self.last_error})

    async def read_settlements(self, *, every: bool = True) -> int:
        """Each market not yet known settled (`every` False: only those not yet known binary), read
        once more; returns how many endings were told."""
        told = 0
        for ticker in [t for t in self._open() if every or self._unsettled_read(t)]:
            try:
                market = await self.client.market(ticker)
            except (KalshiError, KalshiShapeError) as exc:  # read again at the next round
                self._failed(ticker, exc)
                continue
            self.markets[ticker] = market
            await self._keep_facts(market)
            told += self._ending(market)
        return told

    def _ending(self, market: models.Market) -> int:
        ticker = market.ticker
        if market.kind != "binary":  # a YES that pays a value (or part early): no price, no trade, no settling
            self.not_binary[ticker] = market.kind
            for side in ("yes", "no"):
                self.books.drop(wire.token_id(ticker, side))
            log.error("a paired Kalshi market is not binary: its book is no longer read",
                      extra={"ticker": ticker, "market_type": market.kind})
            self.books.publish(PairNotBinary(wire.market_id(ticker), market.kind, self.clock_ms()))
            return 1
        self.binary.add(ticker)
        if market.status != "finalized":  # the result is paid at finalized (it may still change before)
            return 0
        self.settled[ticker] = market.result  # read no more: finalized is final
        for side in ("yes", "no"):  # its book is over (a stream's snapshot of it is left out from now on)
            self.books.drop(wire.token_id(ticker, side))
        if market.result in ("yes", "no"):
            self.books.publish(MarketResolved(wire.market_id(ticker), wire.token_id(ticker, market.result),
                                              self.clock_ms()))
        else:  # settled at a value, or voided (no result: Kalshi's void as the desk reads it)
            value = market.settlement_value if market.result == "scalar" else None
            self.books.publish(MarketVoided(wire.market_id(ticker), self.clock_ms(), value))
        return 1

    async def _keep_facts(self, market: models.Market) -> None:
        """The market's grid and its fee settings with their scheduled changes, kept; what Kalshi sent
        that cannot be read (a fee change of an unknown type, without a time, with a negative
        multiplier) is told once, named, and the facts the desk has stay as they are."""
        if self.on_facts is None:
            return
        try:
            series, changes, read_at, series_base, event_changes = await self._series_of(market)
        except (KalshiError, KalshiShapeError) as exc:  # read again at the next round
            self._failed(f"{market.ticker} fees", exc)
            if isinstance(exc, KalshiShapeError) and self.refused is not None and str(exc) not in self._told_refused:
                self._told_refused.add(str(exc))
                self.refused(market.ticker, str(exc))
            return
        self.on_facts(market.ticker, Facts(bands_json(market.price_ranges), series.fee_type,
                                           _ppm(series.fee_multiplier), market.status,
                                           schedule_json(changes, read_at, series_base=series_base,
                                                         event_changes=event_changes), market.exchange_index))

    async def _series_of(self, market: models.Market) -> tuple[models.Series, tuple[FeeChange, ...], int,
                                                               KalshiFees | None, tuple[EventFeeChange, ...]]:
        """The fee settings the market's fills pay now (its event's override, else its series'), the
        series' changes Kalshi lists, when they were read, the series' own settings when the event
        overrides them, and the changes of the event's override; read again every SERIES_EVERY_S.

        Kalshi lists an event's changes only until they are due (the simulator's, stricter, reading of
        a page that does not say): the ones the desk kept stay, save one still ahead that Kalshi lists
        no more, which was withdrawn."""
        cached = self._fees.get(market.event_ticker)
        if cached is None or time.monotonic() - cached[0] > SERIES_EVERY_S:
            read_at = self.clock_ms()
            event = await self.client.event(market.event_ticker)
            series = await self.client.series(event.series_ticker)
            changes = tuple(FeeChange(c.at_ms, KalshiFees(c.fee_type, _ppm(c.fee_multiplier)))
                            for c in await self.client.fee_changes(event.series_ticker))
            listed = {EventFeeChange(c.at_ms, None if c.fees is None else KalshiFees(c.fees.fee_type,
                                                                                   _ppm(c.fees.fee_multiplier)))
                      for c in await self.client.event_fee_changes(market.event_ticker)}
            kept = {c for c in self.known_event_fees(market.ticker) if c.at_ms <= read_at}
            event_changes = tuple(sorted(listed | kept, key=lambda c: c.at_ms))
            series_base = None if event.fees is None else KalshiFees(series.fee_type, _ppm(series.fee_multiplier))
            cached = (time.monotonic(), event.fees or series, changes, read_at, series_base, event_changes)
            self._fees[market.event_ticker] = cached
        return cached[1], cached[2], cached[3], cached[4], cached[5]

    async def _trades(self, ticker: str, now: int) -> None:
        """The market's trades since the poller started that it has not told yet, oldest first."""
        since = self._since.get(ticker, self.since_s)
        try:
            page = await self.client.trades(ticker, min_ts=since, max_pages=1)
        except (KalshiError, KalshiShapeError) as exc:
            self._failed(f"{ticker} trades", exc)
            return
        seen = self._seen.setdefault(ticker, deque(maxlen=SEEN_TRADES))
        fresh = [t for t in reversed(page) if t.trade_id not in seen]
        seen.extend(t.trade_id for t in fresh)
        for trade in fresh:  # stamped when the desk saw them
            self.books.record_trade(TradePrint(wire.token_id(ticker, "yes"), trade.yes_price, trade.count,
                                               Side.BUY if trade.taker_book_side == "bid" else Side.SELL, now))
        self._since[ticker] = max([since, *(t.created_ms // 1000 for t in fresh)])


def _ppm(multiplier: Fraction) -> int:
    return multiplier.numerator * wire.CONTRACT // multiplier.denominator


class PairedReference:
    def __init__(self, pairs: Mapping[str, tuple[str, bool]], books: BookCache,
                 other: ReferenceSource | None = None) -> None:
        """`pairs`: Polymarket condition id -> (Kalshi ticker, inverted)."""
        self.pairs = dict(pairs)
        self.books = books
        self.other = other
        self._history: dict[str, deque[tuple[int, int]]] = {}

    def reference(self, condition_id: str) -> tuple[int, int] | None:
        if condition_id not in self.pairs:
            return self.other.reference(condition_id) if self.other is not None else None
        ticker, inverted = self.pairs[condition_id]
        book = self.books.book(wire.token_id(ticker, "yes"), 1)
        if book is None or book.best_bid is None or book.best_ask is None or \
                book.best_ask.price <= book.best_bid.price:
            return None
        mid = (book.best_bid.price + book.best_ask.price) // 2
        price = wire.CONTRACT - mid if inverted else mid
        self._note(condition_id, price, book.updated_ms)
        return price, book.updated_ms

    def history(self, condition_id: str) -> tuple[tuple[int, int], ...]:
        if condition_id in self.pairs:
            return tuple(self._history.get(condition_id, ()))
        return self.other.history(condition_id) if self.other is not None else ()

    def _note(self, condition_id: str, price: int, at: int) -> None:
        points = self._history.setdefault(condition_id, deque(maxlen=HISTORY))
        if points and points[-1][0] == at:
            return
        if points and points[-1][1] == price:
            points.pop()  # the same price again: one point, at its latest time
        points.append((at, price))
