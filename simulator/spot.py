"""The simulator's crypto spot prices, the Chainlink prices the up/down series settle on, and the
exchanges' public ticker streams that serve the spot.

Each asset of the configured up/down series walks (a seeded driftless log-normal walk, one step a
second, ``spot_vol`` annualised). Beside it runs the asset's **Chainlink** price (Chainlink Data
Streams, about one report a second, as Polymarket relays it on its real-time data socket: rtds.py):
the same market seen through another aggregation, so it stands a slowly wandering basis away from
the exchange spot (mean-reverting over about BASIS_TAU_S, its spread ``chainlink_basis_bps``): the
oracle's path is the market's, offset, not the spot plus noise. The series' markets resolve from
the Chainlink price (``updown.py``), as the venue's do; a desk pricing them from an exchange's spot
carries that basis. Two WebSocket endpoints serve the spot as the exchanges' public streams do, so a
desk speaks to them exactly as it would to the real ones:

* **OKX** at ``/okx/ws/v5/public``: a client sends ``{"op":"subscribe","args":[{"channel":"tickers",
  "instId":"BTC-USDT"}]}``; the answer is ``{"event":"subscribe","arg":{...},"connId":"..."}``, then
  a push per price: ``{"arg":{...},"data":[{"instType":"SPOT","instId":"BTC-USDT","last":"...",
  "ts":"..."}]}``. An unknown channel or instrument gets ``{"event":"error","code":"60018",...}``,
  a request that is not JSON ``60012``. The text ``ping`` is answered ``pong``. As OKX does, a
  connection the client keeps silent for 30 s is closed (a desk must ping).
* **Binance** at ``/binance/stream?streams=btcusdt@ticker/...`` (combined: ``{"stream":...,
  "data":{...}}``) and ``/binance/ws/btcusdt@ticker`` (raw): the 24-hour ticker event
  (``"e":"24hrTicker"``, ``"E"`` event time ms, ``"s"`` symbol, ``"c"`` last price, ...), once a
  second. An unknown stream is refused (HTTP 400) before the upgrade. The server pings every 20 s.
"""

from __future__ import annotations

import asyncio
import json
import math
import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

START_PRICES = {"btc": 95_000.0, "eth": 3_500.0, "sol": 200.0, "xrp": 2.5}
SECONDS_A_YEAR = 365 * 86_400
STEP_S = 1.0
OKX_IDLE_S = 30.0  # OKX closes a connection that sent nothing for this long
BACKFILL_S = 600.0  # the prices' past at start: the window open now has its start's price
BINANCE_PING_S = 20.0
BASIS_TAU_S = 120.0  # the Chainlink basis' memory: it reverts to zero over about this long


def okx_instrument(asset: str) -> str:
    return f"{asset.upper()}-USDT"


def binance_stream(asset: str) -> str:
    return f"{asset}usdt@ticker"


@dataclass
class SpotWalk:
    """One asset's price: now, and its opening of the UTC day (the tickers' 24 h figures)."""

    asset: str
    price: float
    day_open: float
    high: float
    low: float
    points: list[tuple[float, float]] = field(default_factory=list)  # (time s, price), the last day

    def at(self, t: float) -> float | None:
        """The price in force at time ``t`` (the last step at or before it)."""
        found = None
        for when, price in reversed(self.points):
            if when <= t:
                found = price
                break
        return found

    def average(self, start: float, end: float) -> float | None:
        """The time-weighted average over ``[start, end]`` of the price in force (each step's price
        weighted by how long it stood inside the span); None when no step stood at ``start``."""
        if end <= start:
            return self.at(end)
        total, until = 0.0, end
        for when, price in reversed(self.points):
            if when > end:
                continue
            if when <= start:
                return (total + price * (until - start)) / (end - start)
            total += price * (until - when)
            until = when
        return None


class Spot:
    def __init__(self, assets: list[str], seed: int, annual_vol: float, now: float, basis_bps: float = 0.0) -> None:
        self.rng = random.Random(f"spot:{seed}")
        self.basis_rng = random.Random(f"chainlink:{seed}")  # its own draws: the spot's path does not move
        self.sigma = annual_vol / math.sqrt(SECONDS_A_YEAR)  # per square-root second
        self.basis = basis_bps / 10_000  # the basis' stationary spread (log terms)
        self.basis_keep = math.exp(-STEP_S / BASIS_TAU_S)  # how much of the basis a step keeps
        self.basis_now = {a: 0.0 for a in assets}
        self.walks = {a: SpotWalk(a, START_PRICES[a], START_PRICES[a], START_PRICES[a], START_PRICES[a],
                                  [(now, START_PRICES[a])]) for a in assets}
        self.chainlink = {a: SpotWalk(a, START_PRICES[a], START_PRICES[a], START_PRICES[a], START_PRICES[a],
                                      [(now, START_PRICES[a])]) for a in assets}
        self.okx: dict[web.WebSocketResponse, set[str]] = {}
        self.binance: dict[web.WebSocketResponse, tuple[set[str], bool]] = {}  # -> (assets, combined)
        self.listeners: list[Callable[[str, float, float], None]] = []  # told of each Chainlink report
        for walk in (*self.walks.values(), *self.chainlink.values()):  # a past, as a running venue has one
            walk.points = [(now - BACKFILL_S, walk.price)]
        for k in range(int(BACKFILL_S / STEP_S) - 1, -1, -1):
            self.step(now - k * STEP_S)

    def step(self, now: float) -> None:
        for walk in self.walks.values():
            walk.price *= math.exp(self.rng.gauss(0.0, self.sigma * math.sqrt(STEP_S)))
            walk.high, walk.low = max(walk.high, walk.price), min(walk.low, walk.price)
            _keep(walk, now)
        for asset, oracle in self.chainlink.items():
            shock = self.basis_rng.gauss(0.0, self.basis * math.sqrt(1 - self.basis_keep ** 2))
            self.basis_now[asset] = self.basis_keep * self.basis_now[asset] + shock
            oracle.price = self.walks[asset].price * math.exp(self.basis_now[asset])
            _keep(oracle, now)
            for listener in self.listeners:
                listener(asset, now, oracle.price)
        self._push(now)

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        due = loop.time()
        while True:
            due += STEP_S
            await asyncio.sleep(max(0.0, due - loop.time()))
            self.step(time.time())

    # -- the streams -------------------------------------------------------------------

    def _push(self, now: float) -> None:
        for ws, assets in list(self.okx.items()):
            for asset in assets:
                self._send(ws, json.dumps({"arg": {"channel": "tickers", "instId": okx_instrument(asset)},
                                           "data": [self._okx_ticker(asset, now)]}))
        for ws, (assets, combined) in list(self.binance.items()):
            for asset in assets:
                data = self._binance_ticker(asset, now)
                self._send(ws, json.dumps({"stream": binance_stream(asset), "data": data} if combined else data))

    @staticmethod
    def _send(ws: web.WebSocketResponse, text: str) -> None:
        if not ws.closed:
            asyncio.ensure_future(ws.send_str(text))

    def _okx_ticker(self, asset: str, now: float) -> dict[str, Any]:
        w = self.walks[asset]
        last = _px(w.price)
        return {"instType": "SPOT", "instId": okx_instrument(asset), "last": last, "lastSz": "0.01",
                "askPx": _px(w.price * 1.00001), "askSz": "1", "bidPx": _px(w.price * 0.99999), "bidSz": "1",
                "open24h": _px(w.day_open), "high24h": _px(w.high), "low24h": _px(w.low), "volCcy24h": "0",
                "vol24h": "0", "sodUtc0": _px(w.day_open), "sodUtc8": _px(w.day_open), "ts": str(int(now * 1000))}

    def _binance_ticker(self, asset: str, now: float) -> dict[str, Any]:
        w = self.walks[asset]
        ms = int(now * 1000)
        change = w.price - w.day_open
        return {"e": "24hrTicker", "E": ms, "s": f"{asset.upper()}USDT", "p": _px(change),
                "P": f"{100 * change / w.day_open:.3f}", "w": _px(w.price), "x": _px(w.day_open), "c": _px(w.price),
                "Q": "0.01", "b": _px(w.price * 0.99999), "B": "1", "a": _px(w.price * 1.00001), "A": "1",
                "o": _px(w.day_open), "h": _px(w.high), "l": _px(w.low), "v": "0", "q": "0",
                "O": ms - 86_400_000, "C": ms, "F": 0, "L": 0, "n": 0}

    async def handle_okx(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        conn_id = uuid.uuid4().hex[:8]
        self.okx[ws] = set()
        try:
            while True:
                try:
                    msg = await ws.receive(timeout=OKX_IDLE_S)
                except TimeoutError:
                    break  # silent for 30 s: OKX closes it
                if msg.type != WSMsgType.TEXT:
                    break
                if msg.data == "ping":
                    await ws.send_str("pong")
                    continue
                for answer in self._okx_request(ws, msg.data, conn_id):
                    await ws.send_str(json.dumps(answer))
        finally:
            self.okx.pop(ws, None)
            await ws.close()
        return ws

    def _okx_request(self, ws: web.WebSocketResponse, text: str, conn_id: str) -> list[dict[str, Any]]:
        try:
            request = json.loads(text)
            op, args = request["op"], request["args"]
            if op not in ("subscribe", "unsubscribe") or not isinstance(args, list):
                raise ValueError(op)
        except (ValueError, KeyError, TypeError):
            return [{"event": "error", "code": "60012", "msg": f"Invalid request: {text[:200]}", "connId": conn_id}]
        answers: list[dict[str, Any]] = []
        for arg in args:
            asset = next((a for a in self.walks if isinstance(arg, dict) and arg.get("instId") == okx_instrument(a)),
                         None)
            if not isinstance(arg, dict) or arg.get("channel") != "tickers" or asset is None:
                answers.append({"event": "error", "code": "60018", "connId": conn_id,
                                "msg": f"Wrong URL or channel:{arg}, doesn't exist."})
                continue
            (self.okx[ws].add if op == "subscribe" else self.okx[ws].discard)(asset)
            answers.append({"event": op, "arg": {"channel": "tickers", "instId": okx_instrument(asset)},
                            "connId": conn_id})
        return answers

    async def handle_binance(self, request: web.Request) -> web.StreamResponse:
        combined = "streams" in request.query
        names = (request.query.get("streams", "").split("/") if combined
                 else [request.match_info.get("stream", "")])
        by_name = {binance_stream(a): a for a in self.walks}
        unknown = [n for n in names if n.lower() not in by_name]
        if unknown or not names:
            return web.json_response({"code": -1121, "msg": f"Invalid symbol: {','.join(unknown) or 'none'}"},
                                     status=400)
        ws = web.WebSocketResponse(heartbeat=BINANCE_PING_S)
        await ws.prepare(request)
        self.binance[ws] = ({by_name[n.lower()] for n in names}, combined)
        try:
            async for _msg in ws:
                pass  # Binance reads nothing on a stream connection but its pongs
        finally:
            self.binance.pop(ws, None)
        return ws

    def routes(self, app: web.Application) -> None:
        app.router.add_get("/okx/ws/v5/public", self.handle_okx)
        app.router.add_get("/binance/stream", self.handle_binance)
        app.router.add_get("/binance/ws/{stream}", self.handle_binance)


def _keep(walk: SpotWalk, now: float) -> None:
    walk.points.append((now, walk.price))
    if len(walk.points) > 86_400 / STEP_S:
        del walk.points[0]


def _px(value: float) -> str:
    """A price as the exchanges print one: eight significant digits, no exponent."""
    return f"{value:.8g}" if abs(value) >= 1e-4 else "0"
