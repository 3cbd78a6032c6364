"""Kalshi as a venue behind the desk's `Venue` protocol, through Kalshi's official SDK
(`kalshi-python-sync`, pinned): every request signed with the account's RSA key by the SDK,
orders known by the desk's client order id (engine/venues/kalshi_wire.py), fills and order
changes polled from the portfolio and put on `events` as the executor expects them.

The SDK is synchronous (urllib3): each call runs on a worker thread, bounded by a timeout. Its
answers are read by its own models (pydantic, strict), so a shape Kalshi changes fails loudly.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from contracts.kalshi_settings import KalshiSettings
from contracts.order_status import VenueOrderStatus
from engine.feeds.kalshi_client import kalshi_client
from engine.venues import kalshi_wire as wire
from engine.venues.base import (
    Balances,
    CancelResult,
    OrderEvent,
    OrderRejected,
    OrderRequest,
    PlaceResult,
    PreparedOrder,
    TradeEvent,
    VenueBusy,
    VenueError,
    VenueEvent,
    VenueMode,
    VenueOrder,
    VenueTrade,
    VenueUnavailable,
)

log = logging.getLogger("engine.venues.kalshi")
T = TypeVar("T")
TIMEOUT_S = 10.0
POLL_S = 1.0
PAGE = 200


class KalshiVenue:
    mode: VenueMode = "live"

    def __init__(self, settings: KalshiSettings, *, poll_s: float = POLL_S, timeout_s: float = TIMEOUT_S) -> None:
        if not settings.configured:
            raise VenueError("Kalshi is not configured: set KALSHI_API_KEY_ID and KALSHI_PRIVATE_KEY (or seal them)")
        assert settings.private_key is not None
        self.client = kalshi_client(settings.host, settings.api_key_id, settings.private_key.reveal(), timeout_s)
        self.poll_s = poll_s
        self.events: asyncio.Queue[VenueEvent] = asyncio.Queue()
        self._kalshi_ids: dict[str, str] = {}  # client order id -> Kalshi's order id
        self._client_ids: dict[str, str] = {}  # Kalshi's order id -> client order id
        self._resting: set[str] = set()  # client ids of our orders resting, to notice when they end
        self._seen_fills: dict[str, int] = {}  # fill id -> its time (s), kept while a poll can return it
        self._since_s = 0
        self._poller: asyncio.Task[None] | None = None

    # -- calls -------------------------------------------------------------------------

    async def _call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """One SDK call on a worker thread; its errors as the desk's venue errors."""
        from kalshi_python_sync.exceptions import ApiException

        try:
            return await asyncio.to_thread(fn, *args, **kwargs)
        except ApiException as exc:
            raise _venue_error(exc) from None
        except Exception as exc:  # urllib3's connection errors and timeouts: the outcome is unknown
            if isinstance(exc, (VenueError, asyncio.CancelledError)):
                raise
            raise VenueUnavailable(f"Kalshi: {type(exc).__name__}: {exc}") from None

    # -- the protocol -----------------------------------------------------------------

    async def start(self) -> None:
        """Check the key (a signed read) and learn our resting orders, then poll."""
        await self._call(self.client.get_balance)
        for order in await self._all_orders(status="resting"):
            self._remember(order)
        # Fills from an hour back on (the executor's recovery reads any older ones it missed).
        self._since_s = int(time.time()) - 3600
        self._poller = asyncio.create_task(self._poll(), name="kalshi-poll")

    async def prepare(self, request: OrderRequest) -> PreparedOrder:
        try:
            body = wire.order_body(request)
        except wire.NotKalshi as exc:
            body = {"refused": str(exc)}  # refused when sent, never raised here (nothing is stored yet)
        payload = json.dumps(body, sort_keys=True)
        return PreparedOrder(request, request.client_id, payload, payload)

    async def submit(self, prepared: PreparedOrder) -> PlaceResult:
        body = json.loads(prepared.payload)
        if "refused" in body:
            raise OrderRejected(body["refused"])
        try:
            answer = await self._call(self.client.create_order, **body)
        except OrderRejected as exc:
            if "order_already_exists" not in str(exc):
                raise
            found = await self._by_client_id(prepared.venue_order_id)  # a retried send: the first one stands
            if found is None:
                raise
            return self._result(found)
        return self._result(answer.order)

    async def submit_many(self, prepared: Sequence[PreparedOrder]) -> list[PlaceResult]:
        """One by one (the simulator takes no batches). A busy or unreachable venue before any order
        was taken refuses the batch as the protocol says; after some were taken, those keep their
        answers: the rest are not sent (busy), or the one whose answer was lost is looked up."""
        results: list[PlaceResult] = []
        for n, one in enumerate(prepared):
            try:
                results.append(await self.submit(one))
            except OrderRejected as exc:
                results.append(PlaceResult(one.venue_order_id, VenueOrderStatus.INVALID, error=str(exc)))
            except VenueBusy as exc:
                if not results:
                    raise
                return results + [PlaceResult(p.venue_order_id, VenueOrderStatus.INVALID,
                                              error=f"not sent: {exc}") for p in prepared[n:]]
            except VenueUnavailable:
                if not results:
                    raise
                found = await self._by_client_id(one.venue_order_id)  # raises again if Kalshi stays unreachable
                results.append(self._result(found) if found is not None else
                               PlaceResult(one.venue_order_id, VenueOrderStatus.INVALID, error="not placed at Kalshi"))
        return results

    async def cancel(self, venue_order_ids: Sequence[str]) -> CancelResult:
        canceled: list[str] = []
        refused: dict[str, str] = {}
        for client_id in venue_order_ids:
            kalshi_id = self._kalshi_ids.get(client_id) or await self._lookup_id(client_id)
            if kalshi_id is None:
                refused[client_id] = "no such order at Kalshi"
                continue
            try:
                await self._call(self.client.cancel_order, kalshi_id)
                canceled.append(client_id)
                self._resting.discard(client_id)
            except OrderRejected as exc:
                refused[client_id] = str(exc)
        return CancelResult(tuple(canceled), refused)

    async def cancel_all(self) -> CancelResult:
        orders = await self._all_orders(status="resting")
        for order in orders:
            self._remember(order)
        return await self.cancel([self._client_ids[o.order_id] for o in orders])

    async def get_order(self, venue_order_id: str) -> VenueOrder | None:
        found = await self._by_client_id(venue_order_id)
        return None if found is None else wire.venue_order(found)

    async def open_orders(self) -> list[VenueOrder]:
        orders = await self._all_orders(status="resting")
        for order in orders:
            self._remember(order)
        return [wire.venue_order(o) for o in orders]

    async def trades(self, *, after_ms: int | None = None) -> list[VenueTrade]:
        fills = await self._pages(self.client.get_fills, "fills", min_ts=(after_ms or 0) // 1000 or None)
        return [await self._trade(f) for f in fills]

    async def balances(self, token_ids: Sequence[str]) -> Balances:
        balance = await self._call(self.client.get_balance)
        positions = await self._pages(self.client.get_positions, "market_positions")
        held: dict[str, int] = {}
        for p in positions:
            if p.position:
                held[wire.token_id(p.ticker, "yes" if p.position > 0 else "no")] = abs(p.position) * wire.CONTRACT
        resting = await self._all_orders(status="resting")
        return Balances(balance.balance * wire.CENT, {t: held.get(t, 0) for t in token_ids},
                        collateral_exact=not resting)

    async def open_markets(self) -> list[Any]:
        """Kalshi's open markets (the SDK's `Market` models), every page."""
        return await self._pages(self.client.get_markets, "markets", status="open")

    async def close(self) -> None:
        if self._poller is not None:
            self._poller.cancel()
            await asyncio.gather(self._poller, return_exceptions=True)
            self._poller = None

    # -- what the executor hears --------------------------------------------------------

    async def _poll(self) -> None:
        while True:
            try:
                await self.poll_once()
            except VenueError as exc:
                log.warning("Kalshi poll failed; trying again", extra={"error": str(exc)})
            await asyncio.sleep(self.poll_s)

    async def poll_once(self) -> int:
        """New fills (as trade events, oldest first) and our orders that stopped resting (as order
        events); returns how many events it put."""
        put = 0
        fills = await self._pages(self.client.get_fills, "fills", min_ts=self._since_s or None)
        for fill in sorted(fills, key=lambda f: (f.ts or 0, f.fill_id)):
            if fill.fill_id in self._seen_fills:
                continue
            self._seen_fills[fill.fill_id] = fill.ts or 0
            self._since_s = max(self._since_s, (fill.ts or 0) - 1)
            self.events.put_nowait(TradeEvent(await self._trade(fill)))
            put += 1
        # Only fills from `_since_s` on come back: older ids need not be remembered (bounded memory).
        self._seen_fills = {f: ts for f, ts in self._seen_fills.items() if ts >= self._since_s}
        resting = {o.client_order_id for o in await self._all_orders(status="resting")}
        for client_id in sorted(self._resting - resting):
            found = await self._by_client_id(client_id)
            self._resting.discard(client_id)
            if found is not None:
                self.events.put_nowait(OrderEvent(wire.venue_order(found)))
                put += 1
        return put

    # -- helpers ----------------------------------------------------------------------

    def _result(self, order: Any) -> PlaceResult:
        self._remember(order)
        venue = wire.venue_order(order)
        return PlaceResult(venue.venue_order_id, venue.status, filled=venue.filled)

    def _remember(self, order: Any) -> None:
        client_id = order.client_order_id or f"{wire.OUTSIDE_ID}{order.order_id}"
        self._kalshi_ids[client_id] = order.order_id
        self._client_ids[order.order_id] = client_id
        if str(getattr(order.status, "value", order.status)) == "resting":
            self._resting.add(client_id)

    async def _trade(self, fill: Any) -> VenueTrade:
        client_id = self._client_ids.get(fill.order_id)
        order = None
        if client_id is None or not fill.is_taker:  # whose it is, or whether its market charges makers
            order = (await self._call(self.client.get_order, fill.order_id)).order
            self._remember(order)
            client_id = self._client_ids[fill.order_id]
        return wire.venue_trade(fill, client_id, maker_charged=order is not None and order.maker_fees > 0)

    async def _by_client_id(self, client_id: str) -> Any | None:
        kalshi_id = self._kalshi_ids.get(client_id) or await self._lookup_id(client_id)
        if kalshi_id is None:
            return None
        order = (await self._call(self.client.get_order, kalshi_id)).order
        self._remember(order)
        return order

    async def _lookup_id(self, client_id: str) -> str | None:
        if client_id.startswith(wire.OUTSIDE_ID):
            return client_id.removeprefix(wire.OUTSIDE_ID)
        for order in await self._all_orders():
            self._remember(order)
        return self._kalshi_ids.get(client_id)

    async def _all_orders(self, **filters: Any) -> list[Any]:
        return await self._pages(self.client.get_orders, "orders", **filters)

    async def _pages(self, fn: Callable[..., Any], field: str, **filters: Any) -> list[Any]:
        items: list[Any] = []
        cursor = None
        while True:
            page = await self._call(fn, limit=PAGE, cursor=cursor, **filters)
            items += getattr(page, field)
            cursor = page.cursor
            if not cursor:
                return items


def _venue_error(exc: Any) -> VenueError:
    """An SDK ApiException as the desk's: 429 busy, 4xx a refusal (with Kalshi's code), else unknown."""
    status = exc.status or 0
    try:
        body = json.loads(exc.body or "{}")
        error = body.get("error") if isinstance(body.get("error"), dict) else body  # (flat, as Kalshi documents)
    except (ValueError, AttributeError):
        error = {}
    message = f"Kalshi {status}: {error.get('code', '')}: {error.get('message', exc.reason or '')}"
    if status == 429:
        retry = (exc.headers or {}).get("Retry-After")
        return VenueBusy(message, maintenance=False, retry_after_s=float(retry) if retry else None)
    if status == 401:
        return VenueError(f"{message} (check KALSHI_API_KEY_ID and KALSHI_PRIVATE_KEY)")
    if 400 <= status < 500:
        said = wire.BUSINESS.get(str(error.get("code", "")))
        return OrderRejected(f"{message} ({said})" if said else message)
    return VenueUnavailable(message)
