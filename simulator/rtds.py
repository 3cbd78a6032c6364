"""Polymarket's Real-Time Data Socket (RTDS) stand-in, at ``/rtds`` (``wss://ws-live-data.polymarket.com``).

As Polymarket documents it (docs.polymarket.com, "Real-Time Data Socket"; the official TypeScript
client ``real-time-data-client``): a client sends ``{"action": "subscribe" | "unsubscribe",
"subscriptions": [{"topic", "type", "filters"}]}`` and may change its subscriptions without
reconnecting; every message it receives is ``{"topic", "type", "timestamp" (ms, when sent),
"payload"}``; it sends ``PING`` every 5 s to keep the connection (answered ``PONG``; ``ping`` is
answered ``pong``). This simulator closes a connection that sent nothing for RTDS_IDLE_S (a client
that does not ping is dropped; the venue's exact limit is not published). Topics served:

- ``crypto_prices_chainlink`` (type ``update``, or ``*``): the Chainlink price of each up/down
  series' asset (spot.py), ``{"symbol": "btc/usd", "timestamp": ms, "value": float,
  "full_accuracy_value": "..."}``, about one a second. ``filters`` is a JSON object
  ``{"symbol": "btc/usd"}`` or empty (every symbol). A subscription with a filter gets an initial
  dump of the last DUMP_S of that symbol first: ``{"symbol", "data": [{"timestamp", "value"}]}``.
- ``activity`` (type ``trades``, or ``*``): every trade the moment it is matched, one message per
  side of it (the taker's, and each maker order's), in the Data API's trade-row shape
  (public_trades.py) with the profile fields the venue adds (``name``, ``pseudonym``, ``bio``,
  ``profileImage``, ``icon``, ``eventSlug``). ``filters`` ``{"event_slug": s}`` or
  ``{"market_slug": s}`` as documented (a client should not rely on them: the venue's have been
  reported to deliver nothing, real-time-data-client #34).

A subscription to any other topic or type, or one whose filters do not read, is ignored (nothing is
sent for it), as is a message that is not a subscription: a client learns only by the data's
absence, so it must judge its feed's liveness by the data it expects. A slow client whose queue
fills is closed (1011), as the market channel's are.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import WSMsgType, web

from .public_trades import trade_rows

if TYPE_CHECKING:
    from .server import Simulator
    from .trades import Trade

log = logging.getLogger(__name__)
RTDS_IDLE_S = 15.0
DUMP_S = 120.0  # the initial dump's span (PolyBolt, its successor, documents two minutes)
QUEUE_LIMIT = 20_000
CHAINLINK, ACTIVITY = "crypto_prices_chainlink", "activity"
TYPES = {CHAINLINK: ("update", "*"), ACTIVITY: ("trades", "*")}


def chainlink_symbol(asset: str) -> str:
    return f"{asset}/usd"


@dataclass(frozen=True)
class Subscription:
    topic: str
    filters: tuple[tuple[str, str], ...] = ()  # the filter's (key, value) pairs; () = everything

    def wants(self, **fields: str) -> bool:
        return all(fields.get(key) == value for key, value in self.filters)


@dataclass(eq=False)
class Client:
    ws: web.WebSocketResponse
    subscriptions: set[Subscription] = field(default_factory=set)
    queue: asyncio.Queue[str] = field(default_factory=lambda: asyncio.Queue(QUEUE_LIMIT))
    ignored: int = 0  # messages that were no subscription this simulator serves

    def push(self, text: str) -> None:
        try:
            self.queue.put_nowait(text)
        except asyncio.QueueFull:
            log.warning("dropping a slow RTDS client")
            asyncio.ensure_future(self.ws.close(code=1011, message=b"slow consumer"))


class Rtds:
    def __init__(self, sim: Simulator) -> None:
        self.sim = sim
        self.clients: set[Client] = set()

    # -- what the venue publishes ---------------------------------------------------------------

    def chainlink(self, asset: str, at_s: float, price: float) -> None:
        symbol = chainlink_symbol(asset)
        payload = {"symbol": symbol, "timestamp": int(at_s * 1000), "value": price,
                   "full_accuracy_value": f"{price:.18f}"}
        self._publish(CHAINLINK, "update", payload, symbol=symbol)

    def matched(self, trade: Trade) -> None:
        market = trade.market
        for row in trade_rows(trade, taker_only=False):
            payload = {**row, "eventSlug": market.group or market.slug, "icon": market.icon, "name": "",
                       "pseudonym": "", "bio": "", "profileImage": ""}
            self._publish(ACTIVITY, "trades", payload, event_slug=payload["eventSlug"], market_slug=market.slug)

    def _publish(self, topic: str, kind: str, payload: dict[str, Any], **fields: str) -> None:
        text = None
        for client in list(self.clients):
            if any(s.topic == topic and s.wants(**fields) for s in client.subscriptions):
                text = text or _message(topic, kind, payload)
                client.push(text)

    # -- a connection -------------------------------------------------------------------------

    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        client = Client(ws)
        self.clients.add(client)
        writer = asyncio.ensure_future(self._write(client))
        try:
            while True:
                try:
                    msg = await ws.receive(timeout=RTDS_IDLE_S)
                except TimeoutError:
                    break  # silent too long: dropped
                if msg.type != WSMsgType.TEXT:
                    break
                if msg.data in ("PING", "ping"):
                    client.push("PONG" if msg.data == "PING" else "pong")
                    continue
                self._request(client, msg.data)
        finally:
            self.clients.discard(client)
            writer.cancel()
            await ws.close()
        return ws

    async def _write(self, client: Client) -> None:
        while True:
            text = await client.queue.get()
            if client.ws.closed:
                return
            await client.ws.send_str(text)

    def _request(self, client: Client, text: str) -> None:
        try:
            request = json.loads(text)
            action, wanted = request["action"], request["subscriptions"]
        except (ValueError, KeyError, TypeError):
            client.ignored += 1
            return
        if action not in ("subscribe", "unsubscribe") or not isinstance(wanted, list):
            client.ignored += 1
            return
        for item in wanted:
            sub = _subscription(item)
            if sub is None:
                client.ignored += 1
            elif action == "unsubscribe":
                client.subscriptions.discard(sub)
            elif sub not in client.subscriptions:
                client.subscriptions.add(sub)
                if sub.topic == CHAINLINK and sub.filters:
                    self._dump(client, dict(sub.filters)["symbol"])

    def _dump(self, client: Client, symbol: str) -> None:
        """A filtered Chainlink subscription's first message: the symbol's recent prices."""
        updown = self.sim.updown
        asset = symbol.split("/")[0]
        if updown is None or asset not in updown.spot.chainlink:
            return
        since = time.time() - DUMP_S
        data = [{"timestamp": int(at * 1000), "value": price}
                for at, price in updown.spot.chainlink[asset].points if at >= since]
        client.push(_message(CHAINLINK, "update", {"symbol": symbol, "data": data}))

    def routes(self, app: web.Application) -> None:
        for path in ("/rtds", "/rtds/"):
            app.router.add_get(path, self.handle)


def _message(topic: str, kind: str, payload: dict[str, Any]) -> str:
    return json.dumps({"topic": topic, "type": kind, "timestamp": int(time.time() * 1000), "payload": payload})


def _subscription(item: Any) -> Subscription | None:
    """A subscription this simulator serves, or None (an unknown topic or type, unreadable filters)."""
    if not isinstance(item, dict):
        return None
    topic, kind, raw = item.get("topic"), item.get("type", "*"), item.get("filters") or ""
    if topic not in TYPES or kind not in TYPES[topic]:
        return None
    if raw == "":
        return Subscription(topic)
    try:
        filters = json.loads(raw) if isinstance(raw, str) else None
    except ValueError:
        return None
    keys = ("symbol",) if topic == CHAINLINK else ("event_slug", "market_slug")
    if not isinstance(filters, dict) or len(filters) != 1 or not set(filters) <= set(keys):
        return None
    key, value = next(iter(filters.items()))
    if not isinstance(value, str):
        return None
    return Subscription(topic, ((key, value.lower() if topic == CHAINLINK else value),))
