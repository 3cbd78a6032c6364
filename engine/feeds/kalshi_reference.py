"""The other venue's price as a reference: each Polymarket market the operator linked to a Kalshi
market (`venue_pairs`, engine/cli/pairs.py) takes that market's mid as its reference price.

Two parts, so a backtest prices a pair through the same code as live:

- `KalshiBookPoller` (live only): Kalshi's order books and trades are public; each paired market's
  book is read from its REST API every few seconds through Kalshi's official SDK (no key needed)
  and put into the desk's book cache as the tokens `kalshi:<ticker>:yes` and `:no`
  (contracts/kalshi_ids.py), and the trades made since the poller started are told as prints of
  the YES token, where the recorder records both with every other book and print
  (engine/marketdata/recorder.py). A failed read leaves the last book with its time, so it ages
  like any reference. Every 30 s it also reads each market's status (and a market's book is read
  only once a status read found it binary: a failed one is tried again at the next poll), and tells
  once a settlement as the market's resolution (Kalshi's paper ledger settles its positions on it),
  a void as such, and a market that is not binary (a pair stored before pairing refused scalar
  markets) as `PairNotBinary`: its book is never read, so it gives no reference price, and the
  trading core closes it (engine/trading/kalshi_endings.py).
- `PairedReference`: the mid of that YES book (between the best YES bid and the best YES ask,
  which is 1 - the best NO bid), turned into the Polymarket market's YES space (1 - mid when the
  pair is inverted), timed by the book. A book with a side empty, or crossed, gives no price
  (never a guess). A backtest replays the recorded Kalshi books into its own book cache, and this
  reads them the same way (engine/backtest/runner.py). Markets with no pair ask `other` (the
  reference feed, the up/down prices), so one source serves them all.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from contracts import kalshi_ids as wire
from contracts.domain import Side
from engine.feeds.books import BookCache
from engine.feeds.market_data_events import MarketResolved, MarketVoided, PairNotBinary, TradePrint
from engine.feeds.reference import ReferenceSource
from storage.sqlite.db import now_ms

log = logging.getLogger("engine.feeds.kalshi_reference")
POLL_S = 2.0
STATUS_EVERY = 15  # a market's settlement is read every this many polls (30 s at POLL_S)
SETTLED = frozenset({"settled", "finalized"})  # Kalshi has paid the market's result
HISTORY = 600  # points kept a market (20 minutes at one a poll)
SEEN_TRADES = 2_000  # trade ids remembered a market: Kalshi's `min_ts` is whole seconds, so a poll repeats some
Levels = list[tuple[int, int]]


def yes_no_bids(book: Any) -> tuple[Levels, Levels]:
    """The YES and NO bids of an SDK `Orderbook` (its `yes_dollars` / `no_dollars` lists), in
    micro-units (price, size)."""
    return _levels(book.yes_dollars), _levels(book.no_dollars)


def _levels(rows: Any) -> Levels:
    return [(round(float(price) * 100) * wire.CENT, round(float(size)) * wire.CONTRACT) for price, size in rows or []]


def put_book(books: BookCache, ticker: str, yes_bids: Levels, no_bids: Levels, at_ms: int) -> None:
    """Both tokens of a Kalshi market into the book cache: a YES bid is a NO ask at 1 - price."""
    flip = [(wire.CONTRACT - price, size) for price, size in no_bids]
    flip_yes = [(wire.CONTRACT - price, size) for price, size in yes_bids]
    books.apply_snapshot(wire.token_id(ticker, "yes"), yes_bids, flip, at_ms)
    books.apply_snapshot(wire.token_id(ticker, "no"), no_bids, flip_yes, at_ms)


class KalshiBookPoller:
    """Live: every paired market's public book, read every `poll_s` into the desk's book cache."""

    def __init__(self, host: str, tickers: Iterable[str], books: BookCache, *, poll_s: float = POLL_S,
                 clock_ms: Callable[[], int] = now_ms) -> None:
        from engine.feeds.kalshi_client import kalshi_client

        self.client = kalshi_client(host)  # the books are public: no key
        self.tickers = sorted(set(tickers))
        self.books = books
        self.poll_s = poll_s
        self.clock_ms = clock_ms
        self.failures = 0
        self.last_error: str | None = None
        self.since_s = clock_ms() // 1000  # trades before the poller started are history, not news
        self._seen: dict[str, deque[str]] = {}
        self._since: dict[str, int] = {}
        self._task: asyncio.Task[None] | None = None
        self.polls = 0
        self.settled: dict[str, str] = {}  # ticker -> its result, once told
        self.not_binary: dict[str, str] = {}  # ticker -> its market type, once told: never read again
        self.binary: set[str] = set()  # tickers a status read found binary: only their books are read

    async def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="kalshi-books-poll")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def _run(self) -> None:
        while True:
            await self.poll_once()
            await asyncio.sleep(self.poll_s)

    async def poll_once(self) -> int:
        """Read every paired book once (a settled market's no more); returns how many were read.
        Statuses are read first: every market's every STATUS_EVERY polls (the first included), and
        at every poll those of markets not yet known binary, whose books wait for it: a market that
        cannot be priced never has its book put in the cache."""
        every = self.polls % STATUS_EVERY == 0
        self.polls += 1
        if every or any(t not in self.binary for t in self._open()):
            await self.read_settlements(every=every)
        read = 0
        for ticker in [t for t in self._open() if t in self.binary]:  # a settled market's book is over
            try:
                answer = await asyncio.to_thread(self.client.get_market_orderbook, ticker)
                yes, no = yes_no_bids(answer.orderbook)
                trades = await asyncio.to_thread(self._trades, ticker)
            except Exception as exc:  # the network or Kalshi's answer: the last book stays, and ages
                self.failures += 1
                self.last_error = f"{ticker}: {type(exc).__name__}: {exc}"[:300]
                log.warning("Kalshi book for a paired market not read", extra={"error": self.last_error})
                continue
            now = self.clock_ms()
            for trade in trades:  # oldest first, as they happened; stamped when the desk saw them
                self.books.record_trade(TradePrint(wire.token_id(ticker, "yes"), int(trade.yes_price) * wire.CENT,
                                                   int(trade.count) * wire.CONTRACT,
                                                   Side.BUY if trade.taker_side == "yes" else Side.SELL, now))
            put_book(self.books, ticker, yes, no, now)
            read += 1
        return read

    def _open(self) -> list[str]:
        """The tickers still read: not settled, and not known to be other than binary."""
        return [t for t in self.tickers if t not in self.settled and t not in self.not_binary]

    async def read_settlements(self, *, every: bool = True) -> int:
        """Each market not yet known settled (`every` False: only those not yet known binary), read
        once more: a market Kalshi settled (its result yes or no; settlement is Kalshi's own cash
        event, nothing to redeem) is told once, as the resolution of its `kalshi:` market with the
        winning side's token; one settled with no result (voided) is told once as voided; one that
        is not binary is told once as such, whatever its status, and its books are dropped. Returns
        how many were told."""
        from kalshi_python_sync.api.market_api import MarketApi

        told = 0
        for ticker in [t for t in self._open() if every or t not in self.binary]:
            try:
                market = (await asyncio.to_thread(MarketApi(self.client).get_market, ticker)).market
            except Exception as exc:  # read again at the next round (at the next poll while its book waits on it)
                self.failures += 1
                self.last_error = f"{ticker}: {type(exc).__name__}: {exc}"[:300]
                log.warning("Kalshi status of a paired market not read", extra={"error": self.last_error})
                continue
            if str(market.market_type) != "binary":  # a YES that pays a value: no price, no trade, no settling
                self.not_binary[ticker] = str(market.market_type)
                for side in ("yes", "no"):
                    self.books.drop(wire.token_id(ticker, side))
                log.error("a paired Kalshi market is not binary: its book is no longer read",
                          extra={"ticker": ticker, "market_type": self.not_binary[ticker]})
                self.books.publish(PairNotBinary(wire.market_id(ticker), self.not_binary[ticker], self.clock_ms()))
                told += 1
                continue
            self.binary.add(ticker)
            result = str(market.result or "")
            if str(market.status) not in SETTLED:
                continue
            self.settled[ticker] = result  # read no more: settled is final
            if result in ("yes", "no"):
                self.books.publish(MarketResolved(wire.market_id(ticker), wire.token_id(ticker, result),
                                                  self.clock_ms()))
            else:  # no result: a binary market Kalshi voided (its SDK's results are yes, no or none; a
                # market not binary was told above), its positions paid back at cost (engine/trading/kalshi_voids.py)
                self.books.publish(MarketVoided(wire.market_id(ticker), self.clock_ms()))
            told += 1
        return told

    def _trades(self, ticker: str) -> list[Any]:
        """The market's trades since the poller started that it has not told yet, oldest first (one
        page: a poll every few seconds sees fewer than a page of a market's trades)."""
        from kalshi_python_sync.api.market_api import MarketApi

        since = self._since.get(ticker, self.since_s)
        page = MarketApi(self.client).get_trades(ticker=ticker, min_ts=since, limit=200).trades or []
        seen = self._seen.setdefault(ticker, deque(maxlen=SEEN_TRADES))
        fresh = [t for t in reversed(page) if t.trade_id not in seen]
        seen.extend(t.trade_id for t in fresh)
        stamps = [int(t.created_time.timestamp()) for t in fresh if t.created_time is not None]
        self._since[ticker] = max([since, *stamps])  # the next poll asks from the newest second seen
        return fresh


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
