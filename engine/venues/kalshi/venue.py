"""Kalshi as a venue behind the desk's `Venue` protocol, through the desk's own Kalshi client
(engine/venues/kalshi/client.py: V2 orders only, today's fixed-point shapes, paced by the account's
token buckets): orders known by the id the desk sends with each (engine/venues/kalshi/wire.py), fills
and order changes streamed from the account's channels (engine/venues/kalshi/stream.py) onto `events`
the moment Kalshi sends them, and reconciled from REST (every `reconcile_s` while the stream is up,
every `poll_s` while it is not, and at once whenever it reconnects), each fill once.

A create whose answer is lost (a 5xx, a timeout) is sent again with the same client order id, which
Kalshi takes at most once (a second send of an order it has answers `order_already_exists`, and the
first stands): RESENDS_S apart, so a short fault still ends in Kalshi's own answer. One that stays
unknown is the executor's to look up; Kalshi answers a create only once the order exists, so one it
does not list LOST_AFTER_MS later was never taken (the desk's Polymarket grace is for a chain's
lag Kalshi does not have), and the quotes it stood for are placed again soon after a fault clears.

Every order that rests is sent with `cancel_order_on_pause`: a pause (the weekly maintenance, or one
Kalshi calls) cancels it at Kalshi, so nothing of the desk's is left on a book the desk cannot manage
(engine/trading/ledgers/exchange_pauses.py keeps the desk from placing while Kalshi is paused; a pause
met by an order is Kalshi's maintenance, whole request or one item of a batch: wire.py `is_pause`).

Kalshi is sharded (engine/venues/kalshi/shards.py): every order, cancel and batch item names its
market's shard; the balances compared with the ledger are every shard's together plus the transfers
on their way between them; before quoting, the markets whose shard cannot fund their new orders are
held (`quote_holds`: engine/trading/ledgers/venue_funds.py says so to the operator), and money moves
between shards only on the operator's confirmed command (`funds`: engine/venues/kalshi/funds.py).

A kill is Kalshi's Cancel All Orders (`DELETE /portfolio/events/orders`: every resting order of the
account on every shard, at most 10,000 a call), then whatever still rests (more than that, or placed
meanwhile) cancelled order by order, the path a failed cancel-all falls back to. Kalshi may cancel the
orders placed in the minute after it too: for that minute the desk places no order that would rest
(`quote_holds`; fill-and-kill and fill-or-kill orders still go).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

from contracts.domain import Tif
from contracts.order_status import VenueOrderStatus
from contracts.venues.kalshi.grid import WHOLE_CENTS, Band
from contracts.venues.kalshi.ids import market_id, split_token, ticker_of, token_id
from contracts.venues.kalshi.settings import KalshiSettings
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
from engine.venues.kalshi import models, wire
from engine.venues.kalshi.client import KalshiClient
from engine.venues.kalshi.fixed import KalshiShapeError
from engine.venues.kalshi.funds import KalshiFunds
from engine.venues.kalshi.http import KalshiError
from engine.venues.kalshi.stream import KalshiUserStream

log = logging.getLogger("engine.venues.kalshi.venue")
T = TypeVar("T")
TIMEOUT_S = 10.0
POLL_S = 1.0  # REST reconcile while the stream is down
RECONCILE_S = 5.0  # ... and while it is up
SEEN_S = 3600  # how far back fills are remembered (a poll reads from an hour back at most)
RESENDS_S = (0.2, 0.5)  # a create whose answer was lost, sent again (the same client order id) after these
LOST_AFTER_MS = 4_000  # an unknown create Kalshi does not list this long after is taken as never placed
SHARDS_S = 10.0  # each shard's balance read again at least this often (every poll while one is short)


class KalshiVenue:
    mode: VenueMode = "live"

    def __init__(self, settings: KalshiSettings, *, poll_s: float = POLL_S, reconcile_s: float = RECONCILE_S,
                 timeout_s: float = TIMEOUT_S, stream: bool = True,
                 grid_of: Callable[[str], tuple[Band, ...]] | None = None,
                 shard_of: Callable[[str], int | None] | None = None) -> None:
        """`grid_of`: a market's price grid (condition id); `shard_of`: a market's exchange shard (ticker) as
        the desk's catalog knows them."""
        if not settings.configured:
            raise VenueError("Kalshi is not configured: set KALSHI_API_KEY_ID and KALSHI_PRIVATE_KEY (or seal them)")
        assert settings.private_key is not None
        self.client = KalshiClient.at(settings.host, settings.api_key_id, settings.private_key.reveal(),
                                      timeout_s=timeout_s)
        assert self.client.http.signer is not None
        self.poll_s, self.reconcile_s = poll_s, reconcile_s
        self.grid_of = grid_of or (lambda condition_id: WHOLE_CENTS)
        assert settings.api_key_id is not None
        # Its shards, a lapsed attestation's markets, a cancel-all's minute (funds.py: base.py SectionedFunds)
        self.funds = KalshiFunds(self.client, shard_of or (lambda ticker: None), settings.api_key_id, self._call,
                                 poll_s)
        self.shards = self.funds.shards
        self._order_shards: dict[str, int] = {}  # venue order id -> the shard Kalshi says it rests on
        self.events: asyncio.Queue[VenueEvent] = asyncio.Queue()
        self._kalshi_ids: dict[str, str] = {}  # venue order id -> Kalshi's order id
        self._venue_ids: dict[str, str] = {}  # Kalshi's order id -> venue order id
        self._tickers: dict[str, str] = {}  # venue order id -> its market's ticker
        self._resting: set[str] = set()  # venue ids of our orders resting, to notice when they end
        self._seen: dict[str, int] = {}  # trade id -> when it filled (ms)
        self._since_s = 0
        self._poller: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self.stream = KalshiUserStream(settings.ws_host, self.client.http.signer, on_fill=self._streamed_fill,
                                       on_order=self._streamed_order, on_open=self._wake.set) if stream else None

    async def _call(self, coro: Awaitable[T]) -> T:
        """One client call; Kalshi's answers as the desk's venue errors (kalshi_wire.venue_error)."""
        try:
            return await coro
        except (KalshiError, KalshiShapeError) as exc:
            raise wire.venue_error(exc) from None

    # -- the protocol -----------------------------------------------------------------

    async def start(self) -> None:
        """Check the key (a signed read), pace by the account's budget, learn our resting orders,
        then stream and reconcile."""
        await self._call(self.client.balance())
        await self._call(self.client.pace_by_account())
        await self._call(self.shards.refresh(_now_ms()))
        await self._call(self.funds.location.refresh(_now_ms()))
        for order in await self._call(self.client.orders(status="resting")):
            self._remember(order)
        self._since_s = int(time.time()) - SEEN_S  # older fills: the executor's recovery reads them
        if self.stream is not None:
            await self.stream.start()
        self._poller = asyncio.create_task(self._poll(), name="kalshi-reconcile")

    async def prepare(self, request: OrderRequest) -> PreparedOrder:
        venue_id = wire.client_order_id(request)
        try:
            shard = await self.shards.shard(ticker_of(request.condition_id))
            body = wire.create_body(request, venue_id, self.grid_of(request.condition_id) or WHOLE_CENTS,
                                    cancel_on_pause=request.tif is Tif.GTC, shard=shard)
        except wire.NotKalshi as exc:
            body = {"refused": str(exc)}  # refused when sent, never raised here (nothing is stored yet)
        except (KalshiError, KalshiShapeError) as exc:
            body = {"refused": f"its market's exchange shard could not be read ({exc}): not sent to a guessed one"}
        payload = json.dumps(body, sort_keys=True)
        return PreparedOrder(request, venue_id, payload, payload)

    async def submit(self, prepared: PreparedOrder) -> PlaceResult:
        body = json.loads(prepared.payload)
        if "refused" in body:
            raise OrderRejected(body["refused"])
        try:
            placed = await self._send(body)
        except OrderRejected as exc:
            self.funds.refused(str(exc))
            if "order_already_exists" not in str(exc):
                raise
            found = await self._by_venue_id(prepared.venue_order_id)  # a retried send: the first one stands
            if found is None:
                raise
            return self._result(found)
        return self._placed(prepared, body["ticker"], placed)

    async def _send(self, body: dict[str, object]) -> models.Placed:
        """One create, sent again with the same client order id while its answer is lost (Kalshi
        takes it once: a repeat of one it took is refused as order_already_exists)."""
        for wait in RESENDS_S:
            try:
                return await self._call(self.client.send_order(body))
            except VenueUnavailable:
                log.warning("a Kalshi create got no answer: sending it again",
                            extra={"id": body.get("client_order_id")})
                await asyncio.sleep(wait)
        return await self._call(self.client.send_order(body))

    async def submit_many(self, prepared: Sequence[PreparedOrder]) -> list[PlaceResult]:
        """Kalshi's batched create (a requote of a ladder is one request, or a few: each batch as many
        orders as the write budget pays for at once), each order taken or refused on its own and
        answered in its place. A busy or unreachable venue before any order was taken refuses the call
        as the protocol says; after some were taken, those keep their answers: the later batches are
        not sent (busy), or the one whose answer was lost is looked up order by order."""
        results: list[PlaceResult | None] = [None] * len(prepared)
        bodies: list[tuple[int, dict[str, object]]] = []
        for n, one in enumerate(prepared):
            body = json.loads(one.payload)
            if "refused" in body:
                results[n] = PlaceResult(one.venue_order_id, VenueOrderStatus.INVALID, error=body["refused"])
            else:
                bodies.append((n, body))
        limit = self.client.batches.limit("batch_create")
        for start in range(0, len(bodies), limit):
            chunk = bodies[start:start + limit]
            try:
                answered = await self._send_batch([body for _, body in chunk])
            except VenueBusy as exc:
                if start == 0:
                    raise
                for n, _ in bodies[start:]:
                    results[n] = PlaceResult(prepared[n].venue_order_id, VenueOrderStatus.INVALID,
                                             error=f"not sent: {exc}")
                break
            except VenueUnavailable:
                if start == 0:
                    raise
                for n, _ in chunk:  # raises again if Kalshi stays unreachable
                    found = await self._by_venue_id(prepared[n].venue_order_id)
                    results[n] = self._result(found) if found is not None else \
                        PlaceResult(prepared[n].venue_order_id, VenueOrderStatus.INVALID, error="not placed at Kalshi")
                continue
            for (n, body), item in zip(chunk, answered, strict=True):
                results[n] = await self._batch_result(prepared[n], body, item)
        assert all(r is not None for r in results)
        return [r for r in results if r is not None]

    async def _send_batch(self, bodies: list[dict[str, object]]) -> list[models.BatchPlaced]:
        """One batch, sent again (the same client order ids) while its answer is lost: Kalshi takes
        each order once, and answers a repeat of one it took `order_already_exists`."""
        for wait in RESENDS_S:
            try:
                return await self._call(self.client.batches.create(bodies))
            except VenueUnavailable:
                log.warning("a Kalshi batch create got no answer: sending it again", extra={"orders": len(bodies)})
                await asyncio.sleep(wait)
        return await self._call(self.client.batches.create(bodies))

    async def _batch_result(self, prepared: PreparedOrder, body: dict[str, object],
                            item: models.BatchPlaced) -> PlaceResult:
        """One order of a batch in the desk's terms, as `submit` answers a single one."""
        if item.error is not None:
            self.funds.refused(item.error.code)
            if item.error.code == "order_already_exists":  # a batch sent again: the first one stands
                found = await self._by_venue_id(prepared.venue_order_id)
                if found is not None:
                    return self._result(found)
            return PlaceResult(prepared.venue_order_id, VenueOrderStatus.INVALID, error=str(item.error))
        assert item.placed is not None
        return self._placed(prepared, str(body["ticker"]), item.placed)

    def _placed(self, prepared: PreparedOrder, ticker: str, placed: models.Placed) -> PlaceResult:
        self._tickers[prepared.venue_order_id] = ticker
        self._kalshi_ids[prepared.venue_order_id] = placed.order_id
        self._venue_ids[placed.order_id] = prepared.venue_order_id
        if placed.remaining_count > 0:
            self._resting.add(prepared.venue_order_id)
            status = VenueOrderStatus.LIVE
        else:
            whole = placed.fill_count >= prepared.request.size
            status = VenueOrderStatus.MATCHED if whole else VenueOrderStatus.CANCELED
        return PlaceResult(prepared.venue_order_id, status, filled=placed.fill_count)

    async def cancel(self, venue_order_ids: Sequence[str]) -> CancelResult:
        """One order by Kalshi's V2 cancel; more in Kalshi's batched cancel (a withdrawal of many quotes,
        a kill: each batch as many cancels as the write budget pays for at once), each cancelled or
        refused on its own."""
        canceled: list[str] = []
        refused: dict[str, str] = {}
        known: list[tuple[str, str]] = []  # (venue id, Kalshi's id)
        for venue_id in venue_order_ids:
            kalshi_id = self._kalshi_ids.get(venue_id) or await self._lookup_id(venue_id)
            if kalshi_id is None:
                refused[venue_id] = "no such order at Kalshi"
            else:
                known.append((venue_id, kalshi_id))
        if len(known) == 1:
            venue_id, kalshi_id = known[0]
            try:
                await self._call(self.client.cancel_order(kalshi_id, ticker=self._tickers.get(venue_id),
                                                          shard=await self._order_shard(venue_id)))
                canceled.append(venue_id)
                self._resting.discard(venue_id)
            except (OrderRejected, VenueBusy) as exc:
                refused[venue_id] = str(exc)
            return CancelResult(tuple(canceled), refused)
        limit = self.client.batches.limit("batch_cancel")
        for start in range(0, len(known), limit):
            chunk = known[start:start + limit]
            try:
                answered = await self._call(self.client.batches.cancel(
                    [(kalshi_id, self._tickers.get(venue_id), await self._order_shard(venue_id))
                     for venue_id, kalshi_id in chunk]))
            except (OrderRejected, VenueBusy) as exc:  # nothing of this batch (or the next) was cancelled
                refused.update({venue_id: str(exc) for venue_id, _ in known[start:]})
                break
            for (venue_id, _), item in zip(chunk, answered, strict=True):
                if item.error is None:
                    canceled.append(venue_id)
                    self._resting.discard(venue_id)
                else:
                    refused[venue_id] = str(item.error)
        return CancelResult(tuple(canceled), refused)

    async def cancel_all(self) -> CancelResult:
        """Every resting order of the account on every shard (the kill's): Kalshi's Cancel All Orders, then
        whatever still rests cancelled order by order (more than 10,000, placed meanwhile, or all of them
        when the cancel-all itself failed). Answers the orders that rested before and rest no more."""
        before = await self._call(self.client.orders(status="resting"))
        for order in before:
            self._remember(order)
        try:  # called even when none is listed: one placed a moment ago may not be listed yet
            await self._call(self.client.batches.cancel_all())
            self.funds.swept()
        except VenueError as exc:
            log.warning("Kalshi's cancel-all failed: cancelling order by order", extra={"error": str(exc)})
        left = await self._call(self.client.orders(status="resting"))
        for order in left:
            self._remember(order)
        still = {wire.venue_id_of(o) for o in left}
        swept = tuple(wire.venue_id_of(o) for o in before if wire.venue_id_of(o) not in still)
        for venue_id in swept:
            self._resting.discard(venue_id)
        if not still:
            return CancelResult(swept)
        rest = await self.cancel(sorted(still))
        return CancelResult(swept + rest.canceled, rest.not_canceled)

    async def get_order(self, venue_order_id: str) -> VenueOrder | None:
        found = await self._by_venue_id(venue_order_id)
        return None if found is None else wire.venue_order(found)

    async def open_orders(self) -> list[VenueOrder]:
        orders = await self._call(self.client.orders(status="resting"))
        for order in orders:
            self._remember(order)
        return [wire.venue_order(o) for o in orders]

    async def trades(self, *, after_ms: int | None = None) -> list[VenueTrade]:
        fills = await self._call(self.client.fills(min_ts=(after_ms or 0) // 1000 or None))
        return [wire.venue_trade(f, await self._venue_id_of_fill(f)) for f in fills]

    async def balances(self, token_ids: Sequence[str]) -> Balances:
        """Every shard's money together, with the transfers on their way between them (they left one shard
        and are on neither: money split across shards, or moving, is never a difference from the ledger),
        and the contracts held on every shard."""
        await self._call(self.shards.refresh(_now_ms()))
        held: dict[str, int] = {}
        for p in await self._call(self.client.positions()):
            if p.position:
                held[token_id(p.ticker, "yes" if p.position > 0 else "no")] = abs(p.position)
        resting = await self._call(self.client.orders(status="resting"))
        collateral = sum(self.shards.free.values()) + self.shards.in_flight
        # A market of the ledger's that Kalshi no longer lists unsettled: settled, wherever Kalshi keeps it now
        # (its settled list, or its archive after the historical cutoff), or truly missing.
        gone = {split_token(t)[0] for t in token_ids if t not in held}
        settled = await self._call(self.client.account.settled_tickers()) & gone if gone else set()
        return Balances(collateral, {t: held.get(t, 0) for t in token_ids}, collateral_exact=not resting,
                        settled=frozenset(market_id(t) for t in settled))

    async def _order_shard(self, venue_id: str) -> int | None:
        """The shard an order rests on: as Kalshi said it, else its market's."""
        found = self._order_shards.get(venue_id)
        ticker = self._tickers.get(venue_id)
        if found is None and ticker is not None:
            try:
                found = await self.shards.shard(ticker)
            except (KalshiError, KalshiShapeError):
                return None
        return found

    async def close(self) -> None:
        if self.stream is not None:
            await self.stream.close()
        if self._poller is not None:
            self._poller.cancel()
            await asyncio.gather(self._poller, return_exceptions=True)
            self._poller = None
        await self.funds.close()
        await self.client.close()

    # -- what the executor hears --------------------------------------------------------

    def _streamed_fill(self, fill: models.Fill) -> None:
        venue_id = fill.client_order_id or self._venue_ids.get(fill.order_id) or f"{wire.OUTSIDE_ID}{fill.order_id}"
        self._put_fill(fill, venue_id)

    def _streamed_order(self, order: models.Order) -> None:
        self._remember(order)
        if order.status != "resting":
            self._resting.discard(wire.venue_id_of(order))
            self.events.put_nowait(OrderEvent(wire.venue_order(order)))

    def _put_fill(self, fill: models.Fill, venue_id: str) -> bool:
        if fill.trade_id in self._seen:
            return False
        self._seen[fill.trade_id] = fill.at_ms
        self.events.put_nowait(TradeEvent(wire.venue_trade(fill, venue_id)))
        return True

    async def _poll(self) -> None:
        while True:
            streaming = self.stream is not None and self.stream.stats.connected
            try:
                await asyncio.wait_for(self._wake.wait(), self.reconcile_s if streaming else self.poll_s)
            except TimeoutError:
                pass
            self._wake.clear()
            try:
                await self.poll_once()
            except VenueError as exc:
                log.warning("Kalshi reconcile failed; trying again", extra={"error": str(exc)})

    async def poll_once(self) -> int:
        """Fills Kalshi lists that the stream did not bring (as trade events, oldest first) and our
        orders that stopped resting (as order events); returns how many events it put."""
        put = 0
        fills = await self._call(self.client.fills(min_ts=self._since_s or None))
        for fill in sorted(fills, key=lambda f: (f.at_ms, f.trade_id)):
            if fill.trade_id not in self._seen and self._put_fill(fill, await self._venue_id_of_fill(fill)):
                put += 1
            self._since_s = max(self._since_s, fill.at_ms // 1000 - 1)
        horizon = (self._since_s - SEEN_S) * 1000
        self._seen = {t: at for t, at in self._seen.items() if at >= horizon}  # bounded memory
        resting = {wire.venue_id_of(o) for o in await self._call(self.client.orders(status="resting"))}
        read = self.shards.read_ms
        if read is None or self.shards.shortfalls or self.shards.pending or _now_ms() - read >= SHARDS_S * 1000:
            await self._call(self.shards.refresh(_now_ms()))
        if self.funds.location.due(_now_ms()):
            await self._call(self.funds.location.refresh(_now_ms()))
        for venue_id in sorted(self._resting - resting):
            found = await self._by_venue_id(venue_id)
            self._resting.discard(venue_id)
            if found is not None:
                self.events.put_nowait(OrderEvent(wire.venue_order(found)))
                put += 1
        return put

    # -- helpers ----------------------------------------------------------------------

    def _result(self, order: models.Order) -> PlaceResult:
        self._remember(order)
        venue = wire.venue_order(order)
        return PlaceResult(venue.venue_order_id, venue.status, filled=venue.filled)

    def _remember(self, order: models.Order) -> None:
        venue_id = wire.venue_id_of(order)
        self._kalshi_ids[venue_id] = order.order_id
        self._venue_ids[order.order_id] = venue_id
        self._tickers[venue_id] = order.ticker
        if order.exchange_index is not None:
            self._order_shards[venue_id] = order.exchange_index
        if order.status == "resting":
            self._resting.add(venue_id)

    async def _venue_id_of_fill(self, fill: models.Fill) -> str:
        """Whose order a fill is: Kalshi's REST fills no longer say the client order id, so an order
        not seen yet is looked up once."""
        if fill.client_order_id:
            return fill.client_order_id
        if fill.order_id not in self._venue_ids:
            self._remember(await self._call(self.client.order(fill.order_id)))
        return self._venue_ids[fill.order_id]

    async def _by_venue_id(self, venue_id: str) -> models.Order | None:
        kalshi_id = self._kalshi_ids.get(venue_id) or await self._lookup_id(venue_id)
        if kalshi_id is None:
            return None
        order = await self._call(self.client.order(kalshi_id))
        self._remember(order)
        return order

    async def _lookup_id(self, venue_id: str) -> str | None:
        if venue_id.startswith(wire.OUTSIDE_ID):
            return venue_id.removeprefix(wire.OUTSIDE_ID)
        for order in await self._call(self.client.orders()):
            self._remember(order)
        return self._kalshi_ids.get(venue_id)


def _now_ms() -> int:
    return int(time.time() * 1000)
