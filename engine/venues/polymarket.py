"""The live Venue: Polymarket's CLOB through py-clob-client-v2.

- Credentials: the private key, signature type and funder from Settings; API creds from
  Settings or created-or-derived from the key at connect, registered with the log
  redactor, never stored.
- `prepare` signs offline (V2, the request's tick and neg-risk; ExchangeV3 for a Protocol V2
  market) and returns the orderID digest plus the exact body; `submit` posts those bytes. A
  retry of the same bytes can never make a second order (the orderID is the digest), and when
  the venue says
  "duplicated", or a send timed out, the order is looked up by id and its real state
  returned.
- Calls are paced per endpoint family and by the signer's order and cancel buckets, and
  retried, by `ClobCaller`; a decision's cancels and the heartbeats are sent from the event loop
  (`call_on_loop`), everything else from worker threads; `cancel_all` takes the priority lane and
  drops every placement not yet sent. An answer counts as a placement only with `success`, an empty `errorMsg` and an
  `orderID` (the venue refuses inside a 200 too).
- Heartbeats (the dead-man switch) run on the event loop as a `HeartbeatChain`.
- `start()` streams the user channel as OrderEvent/TradeEvent and, after every
  (re)connect, reconciles over REST (open orders, orders we knew open, trades since the
  last seen, and trades still settling) so no fill or status change is lost.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from py_clob_client_v2 import AssetType, BalanceAllowanceParams, OpenOrderParams
from py_clob_client_v2.clob_types import OrderPayload

from contracts.jsonsafe import keep_recursion_limit_sane
from contracts.protocol_v2 import CONDITIONAL_V2
from contracts.settings import Settings
from engine.feeds.pacing import PUBLISHED_LIMITS, SAFETY_MARGIN, Backoff, Jitter, RateLimits, RetryPolicy
from engine.feeds.user_ws import UserFeed
from engine.feeds.wsloop import SocketOptions
from engine.venues import polymarket_rewards
from engine.venues.base import (
    Balances,
    CancelResult,
    EventSink,
    OrderEvent,
    OrderRequest,
    PlaceResult,
    PreparedOrder,
    TradeEvent,
    VenueBusy,
    VenueError,
    VenueEvent,
    VenueMode,
    VenueOrder,
    VenueOrderStatus,
    VenueTrade,
    VenueUnavailable,
)
from engine.venues.polymarket_calls import ClobCaller, PlacementDropped
from engine.venues.polymarket_client import AdapterClobClient, CallFailure, build_client, ensure_creds
from engine.venues.polymarket_fees import VenueFees
from engine.venues.polymarket_heartbeats import HeartbeatChain
from engine.venues.polymarket_limits import tier_from
from engine.venues.polymarket_orders import OrderSigner, payload_timestamp_ms
from engine.venues.polymarket_sync import FillTracker, fetch_fills, find_order, reconcile
from engine.venues.polymarket_wire import (
    FeeSchedule,
    Identity,
    balance_micros,
    cancel_result,
    merge_cancels,
    no_fee_schedule,
    place_result,
    user_events,
    venue_order,
)
from storage.sqlite.db import now_ms

# The client's signing stack (py_ecc) raised the recursion limit to 100 000 as it was imported;
# this module may be imported late (a live executor is built after start-up's guard ran), so it
# puts the limit back itself (contracts/jsonsafe.py says why that matters).
keep_recursion_limit_sane()

log = logging.getLogger("engine.venues.polymarket")
MAX_BATCH = 15
# DELETE /orders: at most 1000 ids a request since the venue's changelog of 2026-06-15 (its API
# reference still says 3000; the stricter is kept until the reference agrees).
MAX_CANCEL_IDS = 1000
OPEN = (VenueOrderStatus.LIVE, VenueOrderStatus.DELAYED, VenueOrderStatus.UNMATCHED, VenueOrderStatus.UNKNOWN)

__all__ = ["PlacementDropped", "PolymarketVenue", "VenueConfig", "cancel_everything"]


@dataclass(frozen=True)
class VenueConfig:
    request_timeout_s: float = 5.0
    retry: RetryPolicy = RetryPolicy()
    limits: Mapping[str, Sequence[tuple[int, float]]] = field(default_factory=lambda: dict(PUBLISHED_LIMITS))
    limit_margin: float = SAFETY_MARGIN
    workers: int = 8
    user_markets: tuple[str, ...] = ()  # condition ids for the user channel; () = all
    reconcile_lookback_s: int = 300  # trades before start() that the first reconcile re-reads
    lookup_lookback_s: int = 86_400  # how far back a lookup by id searches trades
    socket: SocketOptions = SocketOptions()
    backoff: Callable[[], Backoff] = Backoff
    jitter: Jitter = random.random
    # Dead-man switch: send a heartbeat this often (0 = never). Once one is sent, the venue
    # cancels every open order of the API key when ~10 s pass without the next.
    heartbeat_s: float = 0.0


class PolymarketVenue:
    mode: VenueMode = "live"

    def __init__(self, settings: Settings, config: VenueConfig | None = None, *,
                 fees: FeeSchedule = no_fee_schedule,
                 is_v2_position: Callable[[str], bool] = lambda _: False):
        """`fees` gives each market's taker fee schedule (the trading core passes its catalog):
        the venue's trade records do not carry the fee it charged. `is_v2_position` says which
        tokens are Protocol V2 positions, whose balances the venue keeps as `CONDITIONAL-V2`."""
        self.settings = settings
        self.is_v2_position = is_v2_position
        self.config = config or VenueConfig()
        self.fees = VenueFees(fees)
        cfg = self.config
        self.calls = ClobCaller(RateLimits(cfg.limits, cfg.limit_margin), cfg.retry, cfg.jitter, cfg.workers,
                                timeout_s=cfg.request_timeout_s)
        self.client: AdapterClobClient | None = None
        self.signer: OrderSigner | None = None
        self.identity: Identity | None = None
        self.fills = FillTracker(since_ms=now_ms() - cfg.reconcile_lookback_s * 1000)
        self._api_key = ""
        self._auth: dict[str, str] = {}
        self._signed_at: dict[str, int] = {}
        self.events: asyncio.Queue[VenueEvent] = asyncio.Queue()
        self._sink: EventSink | None = None  # nowhere until started
        self._user: UserFeed | None = None
        self._catch_up: asyncio.Task[None] | None = None
        # Since when our fills are dark: the user channel down, or up but its missed fills not read back
        # yet (None: it is up and reconciled). Dark from the start until the first connection has
        # reconciled; the core stops placing when this lasts (engine/trading/lookouts/fills_dark.py).
        self.fills_dark_since: int | None = now_ms()
        self._heartbeats: asyncio.Task[None] | None = None
        self.heartbeats: HeartbeatChain | None = None
        # User-channel messages waiting (in order) for a fee schedule one of their fills needs.
        self._unpriced: deque[dict[str, object]] = deque()
        self._pricing: asyncio.Task[None] | None = None
        self._connect_lock = asyncio.Lock()

    # -- connection ------------------------------------------------------------------------

    async def connect(self) -> None:
        """Build the client and derive API creds once (L1 network calls)."""
        async with self._connect_lock:
            if self.client is not None:
                return
            client = build_client(self.settings, timeout_s=self.config.request_timeout_s)
            try:
                creds = await self.calls.call("auth", ensure_creds, client, self.settings)
            except CallFailure as exc:
                client.close()
                raise exc.to_venue_error() from None
            self._api_key = creds.api_key
            self._auth = {"apiKey": creds.api_key, "secret": creds.api_secret,
                          "passphrase": creds.api_passphrase}
            self.signer = OrderSigner(client.builder, self.settings.chain_id)
            self.identity = Identity.of([creds.api_key], [self.signer.funder, self.signer.signer_address,
                                                          client.get_address()])
            self.client = client
            await self._read_tier(client)

    async def _read_tier(self, client: AdapterClobClient) -> None:
        """Pace by the tier the venue assigned this signer from the first request on (each answer's
        `Poly-RateLimit-Tier` keeps it current). Unread, the buckets stay Standard's, the tightest."""
        try:
            answer = await self.calls.call("data", client.get_rate_limit_tier)
        except CallFailure as failure:
            log.warning("the venue's rate-limit tier could not be read: pacing as Standard until an answer names it",
                        extra={"error": str(failure)})
            return
        tier = tier_from(answer)
        if tier is None:
            log.warning("the venue named no rate-limit tier the desk knows: pacing as Standard",
                        extra={"answer": str(answer)[:200]})
            return
        self.calls.signer.set_tier(tier)

    async def start(self) -> None:
        await self.connect()
        self._sink = self.events.put_nowait
        if self._user is None:
            self._user = UserFeed(self.settings.ws_host, self._auth, self._on_user_message,
                                  self._on_user_connected, markets=self.config.user_markets,
                                  options=self.config.socket, backoff=self.config.backoff(),
                                  on_disconnected=self._on_user_disconnected)
            await self._user.start()
        if self.config.heartbeat_s > 0 and self._heartbeats is None:
            # On the event loop: a crashed, frozen or disconnected engine stops sending them,
            # and the venue cancels its resting quotes within ~10 s.
            assert self.client is not None
            self.heartbeats = HeartbeatChain(self.calls, partial(self.client.signed, self.client.post_heartbeat),
                                             self.config.heartbeat_s)
            self._heartbeats = asyncio.get_running_loop().create_task(self.heartbeats.run(),
                                                                      name="venue-heartbeats")

    @property
    def last_heartbeat_ms(self) -> int | None:
        """When the venue last accepted a heartbeat (None: never, or heartbeats are off)."""
        return None if self.heartbeats is None else self.heartbeats.last_accepted_ms

    async def close(self) -> None:
        for task in (self._catch_up, self._heartbeats, self._pricing):
            if task is not None:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
        self._heartbeats = self._pricing = None
        if self._user is not None:
            await self._user.close()
            self._user = None
        await self.calls.close()
        if self.client is not None:
            self.client.close()

    # -- orders ------------------------------------------------------------------------------

    async def prepare(self, request: OrderRequest) -> PreparedOrder:
        """Sign offline (the first call on a fresh venue derives the API creds first)."""
        await self.connect()
        assert self.signer is not None
        prepared = await asyncio.to_thread(self.signer.prepare, request, self._api_key)
        self._remember(prepared)
        return prepared

    async def submit(self, prepared: PreparedOrder) -> PlaceResult:
        client = await self._client()
        try:
            raw = await self.calls.place("place", client.post_signed, "/order", prepared.payload)
        except PlacementDropped as exc:
            if not exc.maybe_sent:
                raise
            return await self._resolve_unknown(prepared, str(exc))
        except CallFailure as failure:
            if failure.duplicate or (failure.retryable and failure.maybe_sent):
                return await self._resolve_unknown(prepared, str(failure))
            raise failure.to_venue_error(order=True) from None
        result = place_result(raw, prepared.venue_order_id, prepared.request.side)
        self.fills.note_order(result.venue_order_id, result.status in OPEN)
        return result

    async def submit_many(self, prepared: Sequence[PreparedOrder]) -> list[PlaceResult]:
        """Up to 15 orders in one POST /orders; per-order refusals come back as results
        with status INVALID and the venue's message in `error`."""
        if not prepared:
            return []
        if len(prepared) > MAX_BATCH:
            raise VenueError(f"at most {MAX_BATCH} orders per batch, got {len(prepared)}")
        client = await self._client()
        body = "[" + ",".join(p.payload for p in prepared) + "]"
        try:
            raw = await self.calls.place("batch", client.post_signed, "/orders", body, cost=len(prepared))
        except PlacementDropped as exc:
            if not exc.maybe_sent:
                raise
            return [await self._resolve_unknown(p, str(exc)) for p in prepared]
        except CallFailure as failure:
            if failure.retryable and failure.maybe_sent:
                return [await self._resolve_unknown(p, str(failure)) for p in prepared]
            raise failure.to_venue_error(order=True) from None
        if not isinstance(raw, list) or len(raw) != len(prepared):
            raise VenueUnavailable(f"unexpected batch response: {str(raw)[:300]}")
        return [await self._batch_item(p, item) for p, item in zip(prepared, raw, strict=True)]

    async def _batch_item(self, prepared: PreparedOrder, item: object) -> PlaceResult:
        try:
            result = place_result(item, prepared.venue_order_id, prepared.request.side)
        except VenueError as exc:
            if "duplicat" in str(exc).lower():
                return await self._resolve_unknown(prepared, str(exc))
            return PlaceResult(prepared.venue_order_id, VenueOrderStatus.INVALID, error=str(exc))
        self.fills.note_order(result.venue_order_id, result.status in OPEN)
        return result

    async def _resolve_unknown(self, prepared: PreparedOrder, why: str) -> PlaceResult:
        """The send may or may not have landed: ask the venue what became of this order id."""
        order_id = prepared.venue_order_id
        try:
            found = await self._find(order_id)
        except VenueBusy as exc:  # the lookup was turned away: says nothing about the order
            raise VenueUnavailable(f"order {order_id} outcome unknown after: {why}; lookup refused: {exc}") from None
        if found is None:
            raise VenueUnavailable(f"order {order_id} not found after: {why}")
        order, trade_ids = found
        log.info("order state recovered by lookup",
                 extra={"order_id": order_id, "status": order.status.value})
        self.fills.note_order(order_id, order.status in OPEN)
        return PlaceResult(order_id, order.status, trade_ids=trade_ids)

    # -- cancels -----------------------------------------------------------------------------

    async def cancel(self, venue_order_ids: Sequence[str]) -> CancelResult:
        return await self.cancel_sent(venue_order_ids, None)

    async def cancel_sent(self, venue_order_ids: Sequence[str], written: asyncio.Future[None] | None) -> CancelResult:
        """`cancel`, setting `written` once its (first) request has been handed to the socket."""
        client = await self._client()
        ids = list(dict.fromkeys(venue_order_ids))
        results = []
        # Each request must fit the signer's cancel bucket whole (one token per id).
        chunk_size = min(MAX_CANCEL_IDS, self.calls.signer.cancel_chunk)
        try:
            # From the event loop: a decision's cancel is the desk's answer to a market move.
            if len(ids) == 1:
                single = OrderPayload(orderID=ids[0])
                results.append(await self.calls.call_on_loop("cancel", partial(client.signed, client.cancel_order,
                                                                                              single), written=written))
            for start in range(0, len(ids) if len(ids) > 1 else 0, chunk_size):
                chunk = ids[start:start + chunk_size]
                results.append(await self.calls.call_on_loop(
                    "cancel", partial(client.signed, client.cancel_orders, chunk), cost=len(chunk), written=written))
        except CallFailure as failure:
            raise failure.to_venue_error() from None
        return merge_cancels(*(cancel_result(r) for r in results))

    async def cancel_all(self) -> CancelResult:
        """Safety interrupt: drop queued placements, then cancel everything on the
        priority lane; sends still in flight are waited for and swept by a second pass."""
        self.calls.drop_placements()
        client = await self._client()
        try:
            first = cancel_result(await self.calls.priority(client.cancel_all, cost=_cancel_all_cost))
            inflight = set(self.calls.inflight_placements)
            if not inflight:
                return first
            await asyncio.wait(inflight, timeout=self.config.request_timeout_s + 1)
            return merge_cancels(first, cancel_result(await self.calls.priority(client.cancel_all,
                                                                                cost=_cancel_all_cost)))
        except CallFailure as failure:
            raise failure.to_venue_error() from None

    # -- queries -------------------------------------------------------------------------------

    async def get_order(self, venue_order_id: str) -> VenueOrder | None:
        found = await self._find(venue_order_id)
        return None if found is None else found[0]

    async def open_orders(self) -> list[VenueOrder]:
        client = await self._client()
        try:
            rows = await self.calls.call("data", client.get_open_orders, OpenOrderParams())
        except CallFailure as failure:
            raise failure.to_venue_error() from None
        return [venue_order(row) for row in rows if isinstance(row, dict)]

    async def trades(self, *, after_ms: int | None = None) -> list[VenueTrade]:
        """Our fills in trades matched after `after_ms` (all we can see when None)."""
        client = await self._client()
        try:
            return await self.fees.priced(self.calls, client, lambda fees: fetch_fills(
                self.calls, client, self._identity(), after_ms, fees))
        except CallFailure as failure:
            raise failure.to_venue_error() from None

    async def balances(self, token_ids: Sequence[str]) -> Balances:
        client = await self._client()
        try:
            cash = await self.calls.call("balance", client.get_balance_allowance,
                                         BalanceAllowanceParams(asset_type=AssetType.COLLATERAL))
            tokens = {}
            for token in dict.fromkeys(token_ids):
                kind = CONDITIONAL_V2 if self.is_v2_position(token) else AssetType.CONDITIONAL
                params = BalanceAllowanceParams(asset_type=kind, token_id=token)
                raw = await self.calls.call("balance", client.get_balance_allowance, params)
                tokens[token] = balance_micros(raw["balance"])
        except CallFailure as failure:
            raise failure.to_venue_error() from None
        return Balances(collateral=balance_micros(cash["balance"]), tokens=tokens)

    # -- user channel ------------------------------------------------------------------------

    def _on_user_message(self, raw: dict[str, object]) -> None:
        missing: set[str] = set()
        if not self._unpriced:  # else it waits its turn behind those: events keep their order
            events = user_events(raw, self._identity(), self.fees.noting(missing))
            if not missing:
                for event in events:
                    self._deliver(event)
                return
        self._unpriced.append(raw)
        if self._pricing is None:
            self._pricing = asyncio.get_running_loop().create_task(self._price_waiting(),
                                                                   name="venue-fee-schedules")

    async def _price_waiting(self) -> None:
        """Deliver the waiting messages in order, each once the fee schedules its fills need are
        read from the venue (or could not be: then with fee_known=False, which is alerted)."""
        try:
            client = await self._client()
            while self._unpriced:
                raw = self._unpriced[0]
                missing: set[str] = set()
                user_events(raw, self._identity(), self.fees.noting(missing))
                await self.fees.read(self.calls, client, missing)
                self._unpriced.popleft()
                for event in user_events(raw, self._identity(), self.fees.schedule):
                    self._deliver(event)
        except Exception:  # the next message starts again with what is still waiting
            log.exception("user-channel messages waiting for a fee schedule could not be delivered yet")
        finally:
            self._pricing = None

    def _on_user_disconnected(self) -> None:
        if self.fills_dark_since is None:
            self.fills_dark_since = now_ms()

    async def _on_user_connected(self) -> None:
        try:
            await reconcile(self, self.fills, self._deliver)
            self.fills_dark_since = None  # connected, and every fill made while away read back
        except VenueError as exc:
            # The socket is fine; only REST is failing. Keep the stream flowing and catch
            # up in the background instead of holding the connection.
            log.warning("reconcile after connect failed", extra={"error": str(exc)})
            if self._catch_up is None or self._catch_up.done():
                self._catch_up = asyncio.get_running_loop().create_task(self._reconcile_until_done())

    async def _reconcile_until_done(self) -> None:
        backoff = self.config.backoff()
        while True:
            await asyncio.sleep(backoff.after_connection(0))
            try:
                await reconcile(self, self.fills, self._deliver)
                if self._user is not None and self._user.stats.connected:
                    self.fills_dark_since = None
                return
            except VenueError as exc:
                log.warning("reconcile retry failed", extra={"error": str(exc)})

    def _deliver(self, event: VenueEvent) -> None:
        if isinstance(event, OrderEvent):
            self.fills.note_order(event.order.venue_order_id, event.order.status in OPEN)
        elif isinstance(event, TradeEvent):
            self.fills.note_fill(event.trade)
        if self._sink is not None:
            try:
                self._sink(event)
            except Exception:  # the executor's bug must not kill the user channel
                log.exception("venue event sink failed")

    # -- liquidity rewards -------------------------------------------------------------------

    async def orders_scoring(self, venue_order_ids: Sequence[str]) -> dict[str, bool]:
        """Whether the venue scores each order for liquidity rewards now."""
        try:
            return await polymarket_rewards.orders_scoring(self.calls, await self._client(), venue_order_ids)
        except CallFailure as failure:
            raise failure.to_venue_error() from None

    async def reward_earnings(self, day: str) -> dict[str, int]:
        """The wallet's liquidity rewards of a UTC day ('YYYY-MM-DD') by market, micro-pUSD."""
        try:
            return await polymarket_rewards.reward_earnings(self.calls, await self._client(), day)
        except CallFailure as failure:
            raise failure.to_venue_error() from None

    # -- helpers -----------------------------------------------------------------------------

    async def _client(self) -> AdapterClobClient:
        await self.connect()
        assert self.client is not None
        return self.client

    def _identity(self) -> Identity:
        assert self.identity is not None, "connect() first"
        return self.identity

    def _remember(self, prepared: PreparedOrder) -> None:
        if len(self._signed_at) > 50_000:
            self._signed_at.clear()  # only a lookup window hint; losing it widens the search
        stamp = payload_timestamp_ms(prepared.payload)
        if stamp is not None:
            self._signed_at[prepared.venue_order_id] = stamp

    async def _find(self, order_id: str) -> tuple[VenueOrder, tuple[str, ...]] | None:
        client = await self._client()
        since_ms = self._signed_at.get(order_id, now_ms() - self.config.lookup_lookback_s * 1000) - 60_000
        try:
            return await self.fees.priced(self.calls, client, lambda fees: find_order(
                self.calls, client, self._identity(), order_id, since_ms, fees))
        except CallFailure as failure:
            raise failure.to_venue_error() from None


def _cancel_all_cost(answer: Any) -> int:
    """What a cancel-all cost the signer's cancel bucket: 1 up front, 1 per order it cancelled."""
    canceled = answer.get("canceled") if isinstance(answer, dict) else None
    return 1 + (len(canceled) if isinstance(canceled, list) else 0)


async def cancel_everything(settings: Settings) -> CancelResult:
    """Cancel every open order of the configured wallet; usable while the engine is down."""
    venue = PolymarketVenue(settings)
    try:
        return await venue.cancel_all()
    finally:
        await venue.close()
