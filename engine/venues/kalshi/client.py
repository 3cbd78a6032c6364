"""The desk's Kalshi client: a thin typed client of its own over its HTTP transport
(http.py: httpx and cryptography, both pinned) that speaks Kalshi's Trade API as it is today.

Why not Kalshi's SDK: `kalshi-python-sync` 3.2.0, the only version the package index offers, predates
the fixed-point migration and the V2 order endpoints; its models refuse today's answers (measured
against the simulator's Kalshi side, which serves Kalshi's current shapes: README, Dependencies).

Orders go only to the V2 endpoints (`/portfolio/events/orders`: create, cancel, amend, decrease, and
the batched create and cancel); the V1 order endpoints Kalshi retired are never called (there is no
method for them). Reads: the exchange's status and schedule, markets (discovery passes
`mve_filter=exclude`), order books one at a time or up to 100 in one call, public trades and
candlesticks (for research), series' and events' fee settings with the changes Kalshi schedules for
them, and the account: balance, orders, fills, positions (unsettled, settled or both), settlements,
its rate limits, what each endpoint costs, and its API keys.

Batches, the cancel-all and what each call costs: batches.py (`client.batches`); the money across the
account's exchange shards and the archive of settled positions: account_shards.py (`client.account`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Sequence
from typing import Any

from engine.venues.kalshi import models
from engine.venues.kalshi.account_shards import KalshiAccount
from engine.venues.kalshi.batches import KalshiBatches
from engine.venues.kalshi.fixed import KalshiShapeError, fmt_count, fmt_dollars, items
from engine.venues.kalshi.fixed import count as fixed_count
from engine.venues.kalshi.http import KalshiHttp, KalshiSigner, Pacer, pages

PAGE = 200
MAX_PAGES = 50  # a listing read at most this many pages (a cursor that never ends is Kalshi's fault, not a loop)
log = logging.getLogger(__name__)


class KalshiClient:
    def __init__(self, http: KalshiHttp) -> None:
        self.http = http
        self.batches = KalshiBatches(http)  # the batched orders and the cancel-all, and what each call costs
        self.account = KalshiAccount(http)  # its money across exchange shards, and its archived positions

    @classmethod
    def at(cls, host: str, key_id: str | None = None, private_pem: str | None = None, *,
           timeout_s: float = 10.0) -> KalshiClient:
        """A client of the Trade API at `host`, signing with the key when one is given (market data is
        public without)."""
        signer = KalshiSigner(key_id, private_pem) if key_id is not None and private_pem is not None else None
        return cls(KalshiHttp(host, signer, timeout_s=timeout_s))

    async def close(self) -> None:
        await self.http.close()

    async def pace_by_account(self) -> models.Limits:
        """Read the account's token budgets and what its endpoints cost, and pace by them from now on."""
        found = models.limits(await self.http.request("GET", "/account/limits", auth=True))
        self.http.pacer, bounded = Pacer.meant(found.read, found.write)
        if bounded:  # a figure no tier of Kalshi's has: paced by the nearest one that does
            log.warning("Kalshi's account limits are outside what its tiers can mean: bounded",
                        extra={"said": bounded})
        await self.batches.read_costs()
        return found

    # -- the exchange ------------------------------------------------------------------------

    async def exchange_status(self) -> models.ExchangeStatus:
        return models.exchange_status(await self.http.request("GET", "/exchange/status"))

    async def maintenance_windows(self) -> list[tuple[int, int]]:
        return models.maintenance_windows(await self.http.request("GET", "/exchange/schedule"))

    # -- markets ---------------------------------------------------------------------------------

    async def market(self, ticker: str) -> models.Market:
        answer = await self.http.request("GET", f"/markets/{ticker}")
        return models.market(_object(answer, "market"))

    async def markets(self, *, status: str | None = "open", series: str | None = None,
                      event: str | None = None, max_pages: int = MAX_PAGES) -> AsyncIterator[list[models.Market]]:
        """Pages of markets, multivariate (parlay) legs left out (`mve_filter=exclude`)."""
        params = {"status": status, "series_ticker": series, "event_ticker": event, "mve_filter": "exclude",
                  "limit": 1000}
        async for page in self._pages("/markets", "markets", params, max_pages=max_pages):
            yield [models.market(m) for m in page]

    async def orderbook(self, ticker: str) -> models.Orderbook:
        answer = await self.http.request("GET", f"/markets/{ticker}/orderbook")
        return models.orderbook(ticker, _object(answer, "orderbook_fp"))

    async def orderbooks(self, tickers: Sequence[str]) -> list[models.Orderbook]:
        """Up to 100 books in one request (Kalshi's batch order-book endpoint)."""
        out: list[models.Orderbook] = []
        for start in range(0, len(tickers), 100):
            chunk = list(tickers[start:start + 100])
            answer = await self.http.request("GET", "/markets/orderbooks", params={"tickers": ",".join(chunk)})
            for n, book in enumerate(items(answer, "orderbooks", "order books")):
                if not isinstance(book, dict) or not isinstance(book.get("ticker"), str):
                    raise KalshiShapeError(f"order books[{n}]: no ticker")
                out.append(models.orderbook(book["ticker"], _object(book, "orderbook_fp")))
        return out

    async def trades(self, ticker: str, *, min_ts: int | None = None, max_ts: int | None = None,
                     max_pages: int = MAX_PAGES) -> list[models.Trade]:
        """A market's public trades (newest first), within [min_ts, max_ts] Unix seconds."""
        params = {"ticker": ticker, "min_ts": min_ts, "max_ts": max_ts, "limit": 1000}
        return [models.trade(t) async for page in self._pages("/markets/trades", "trades", params,
                                                               max_pages=max_pages) for t in page]

    async def candlesticks(self, series: str, ticker: str, *, start_ts: int, end_ts: int,
                           period_minutes: int) -> list[models.Candle]:
        if period_minutes not in (1, 60, 1440):
            raise ValueError("Kalshi's candlesticks are 1, 60 or 1440 minutes long")
        answer = await self.http.request("GET", f"/series/{series}/markets/{ticker}/candlesticks",
                                         params={"start_ts": start_ts, "end_ts": end_ts,
                                                 "period_interval": period_minutes})
        return [models.candle(c, ticker) for c in items(answer, "candlesticks", f"candlesticks of {ticker}")]

    async def event(self, event_ticker: str) -> models.Event:
        answer = await self.http.request("GET", f"/events/{event_ticker}")
        return models.event(_object(answer, "event"))

    async def series(self, ticker: str) -> models.Series:
        return models.series(_object(await self.http.request("GET", f"/series/{ticker}"), "series"))

    async def fee_changes(self, series_ticker: str) -> list[models.FeeChange]:
        """The series' fee changes, past and scheduled (one bad record refuses the whole list)."""
        answer = await self.http.request("GET", "/series/fee_changes",
                                         params={"series_ticker": series_ticker, "show_historical": "true"})
        changes = [models.fee_change(c) for c in items(answer, "series_fee_change_arr", "series fee changes")]
        for change in changes:
            if change.series_ticker != series_ticker:
                raise KalshiShapeError(f"series fee change {change.change_id!r}: it is series "
                                       f"{change.series_ticker!r}'s, asked for {series_ticker!r}'s")
        return changes

    async def event_fee_changes(self, event_ticker: str, *, max_pages: int = MAX_PAGES) -> list[models.EventFeeChange]:
        """The changes of the event's fee override Kalshi lists (one bad record refuses the whole list)."""
        changes = [models.event_fee_change(c) async for page in self._pages(
            "/events/fee_changes", "event_fee_changes", {"event_ticker": event_ticker, "limit": PAGE},
            max_pages=max_pages) for c in page]
        for change in changes:
            if change.event_ticker != event_ticker:
                raise KalshiShapeError(f"event fee change {change.change_id!r}: it is event "
                                       f"{change.event_ticker!r}'s, asked for {event_ticker!r}'s")
        return changes

    # -- the account -------------------------------------------------------------------------------

    async def api_keys(self) -> models.ApiKeys:
        """The account's API keys (scopes, a subaccount restriction) and its location attestation's expiry."""
        return models.api_keys(await self.http.request("GET", "/api_keys", auth=True))

    async def balance(self, *, shard: int | None = None) -> models.Balance:
        """Every shard's balance together (and each one's in `breakdown`), or one shard's."""
        return models.balance(await self.http.request("GET", "/portfolio/balance", params={"exchange_index": shard},
                                                      auth=True))

    async def order(self, order_id: str) -> models.Order:
        answer = await self.http.request("GET", f"/portfolio/orders/{order_id}", auth=True,
                                         cost=self.batches.costs["lookup"])
        return models.order(_object(answer, "order"))

    async def orders(self, *, status: str | None = None, ticker: str | None = None,
                     min_ts: int | None = None) -> list[models.Order]:
        params = {"status": status, "ticker": ticker, "min_ts": min_ts, "limit": PAGE}
        return [models.order(o) async for page in self._pages("/portfolio/orders", "orders", params, auth=True)
                for o in page]

    async def fills(self, *, min_ts: int | None = None, ticker: str | None = None,
                    order_id: str | None = None) -> list[models.Fill]:
        """The account's fills. A record of no contracts is left out by name (it books nothing) rather than
        refused with the page: one such record would otherwise stop every later fill from being read."""
        params = {"min_ts": min_ts, "ticker": ticker, "order_id": order_id, "limit": PAGE}
        return [models.fill(f) async for page in self._pages("/portfolio/fills", "fills", params, auth=True)
                for f in page if not _of_no_contracts(f)]

    async def positions(self, *, settlement_status: str = "unsettled") -> list[models.Position]:
        """The account's positions: in markets not settled yet (Kalshi's default, named so the list the
        desk compares stays that one), or `settled` (still in Kalshi's live data), or `all`."""
        params = {"settlement_status": settlement_status, "limit": PAGE}
        return [models.position(p) async for page in self._pages("/portfolio/positions", "market_positions",
                                                                 params, auth=True) for p in page]

    async def settlements(self, *, min_ts: int | None = None) -> list[models.Settlement]:
        params = {"min_ts": min_ts, "limit": PAGE}
        return [models.settlement(s) async for page in self._pages("/portfolio/settlements", "settlements", params,
                                                                   auth=True) for s in page]

    async def settlements_read(self, *, min_ts: int | None = None) -> tuple[list[models.Settlement], list[str]]:
        """The settlements, and each record that could not be read named (the others are kept)."""
        read: list[models.Settlement] = []
        problems: list[str] = []
        async for page in self._pages("/portfolio/settlements", "settlements", {"min_ts": min_ts, "limit": PAGE},
                                      auth=True):
            for record in page:
                try:
                    read.append(models.settlement(record))
                except KalshiShapeError as exc:
                    problems.append(str(exc))
        return read, problems

    # -- V2 orders -----------------------------------------------------------------------------------

    async def create_order(self, *, ticker: str, client_order_id: str, book_side: str, price: int, count: int,
                           time_in_force: str, post_only: bool = False, cancel_on_pause: bool = False,
                           self_trade_prevention: str = "taker_at_cross", shard: int | None = None) -> models.Placed:
        """A V2 order on the YES book: `book_side` bid buys YES at `price`, ask sells YES at it."""
        body = order_body(ticker=ticker, client_order_id=client_order_id, book_side=book_side, price=price,
                          count=count, time_in_force=time_in_force, post_only=post_only,
                          cancel_on_pause=cancel_on_pause, self_trade_prevention=self_trade_prevention, shard=shard)
        return await self.send_order(body)

    async def send_order(self, body: dict[str, Any]) -> models.Placed:
        """A V2 create body as order_body made it."""
        answer = await self.http.request("POST", "/portfolio/events/orders", body=body, auth=True, write=True)
        return models.placed(answer, "create answer")

    async def cancel_order(self, order_id: str, *, ticker: str | None = None, shard: int | None = None) -> int:
        """Cancel a resting order (on its market's shard, `shard`); returns the contracts it took off the book."""
        answer = await self.http.request("DELETE", f"/portfolio/events/orders/{order_id}",
                                         params={"market_ticker": ticker, "exchange_index": shard}, auth=True,
                                         write=True, cost=self.batches.costs["cancel"])
        return fixed_count(answer, "reduced_by", f"cancel answer {order_id}")

    async def amend_order(self, order_id: str, *, ticker: str, book_side: str, price: int,
                          total_count: int, shard: int = 0) -> models.Placed:
        """A new price and total count (filled + to rest): only a smaller size at the same price keeps
        the queue place."""
        body = {"ticker": ticker, "side": book_side, "price": fmt_dollars(price), "count": fmt_count(total_count),
                "exchange_index": shard}
        answer = await self.http.request("POST", f"/portfolio/events/orders/{order_id}/amend", body=body, auth=True,
                                         write=True)
        return models.placed(answer, "amend answer")

    async def decrease_order(self, order_id: str, *, reduce_to: int, shard: int = 0) -> int:
        """Fewer contracts resting, keeping the queue place; returns those still resting."""
        answer = await self.http.request("POST", f"/portfolio/events/orders/{order_id}/decrease",
                                         body={"reduce_to": fmt_count(reduce_to), "exchange_index": shard}, auth=True,
                                         write=True)
        return fixed_count(answer, "remaining_count", f"decrease answer {order_id}")

    # -- pages -----------------------------------------------------------------------------------------

    def _pages(self, path: str, field: str, params: dict[str, Any], *, auth: bool = False,
               max_pages: int = MAX_PAGES) -> AsyncIterator[list[Any]]:
        return pages(self.http, path, field, params, auth=auth, max_pages=max_pages)


def _of_no_contracts(record: Any) -> bool:
    """A fill record whose count reads as exactly 0 (logged); anything else, unreadable included, is parsed
    (and refused there if it must be)."""
    try:
        empty = isinstance(record, dict) and fixed_count(record, "count_fp", "fill") == 0
    except KalshiShapeError:
        return False
    if empty:
        log.warning("a Kalshi fill of no contracts left out", extra={"trade_id": str(record.get("trade_id"))[:64]})
    return empty


def order_body(*, ticker: str, client_order_id: str, book_side: str, price: int, count: int, time_in_force: str,
               post_only: bool, cancel_on_pause: bool, self_trade_prevention: str = "taker_at_cross",
               shard: int | None = None) -> dict[str, Any]:
    """Kalshi's CreateOrderV2Request: price and count as fixed-point strings (4 and 2 decimals: the
    desk's micro-units refuse to round into them), the time in force and self-trade prevention it requires,
    and the market's shard (`exchange_index`) named: never auto-routed (the latency, and the billing of
    every shard's write bucket), never left to a default."""
    if book_side not in ("bid", "ask"):
        raise ValueError(f"book side {book_side!r}: bid or ask")
    body: dict[str, Any] = {"ticker": ticker, "client_order_id": client_order_id, "side": book_side,
                            "count": fmt_count(count), "price": fmt_dollars(price),
                            "time_in_force": time_in_force, "self_trade_prevention_type": self_trade_prevention}
    if post_only:
        body["post_only"] = True
    if cancel_on_pause:
        body["cancel_order_on_pause"] = True
    if shard is not None:
        body["exchange_index"] = shard
    return body


def _object(answer: Any, name: str) -> dict[str, Any]:
    if not isinstance(answer, dict) or not isinstance(answer.get(name), dict):
        raise KalshiShapeError(f"Kalshi's answer has no {name!r} object")
    found: dict[str, Any] = answer[name]
    return found


class PublicReads:
    """A loop of public reads of Kalshi's (no key) in the background: started once, stopped and its
    client closed with `close`. A subclass says what one round is (`_run`)."""

    task_name = "kalshi-reads"

    def __init__(self, host: str) -> None:
        self.client = KalshiClient.at(host)
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name=self.task_name)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        await self.client.close()

    async def _run(self) -> None:
        raise NotImplementedError
