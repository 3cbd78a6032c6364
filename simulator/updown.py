"""The short crypto up/down series: a new market every window, resolved from the simulated spot.

As on Polymarket, each series (``btc-updown-5m``, ``eth-updown-15m``, ...) has one market per
window, its slug the series' name and the window's start in unix seconds (a multiple of the
window's length: ``btc-updown-5m-1764000000``), its outcomes "Up" and "Down". The simulator lists
each window's market one window ahead (Gamma ``/markets?slug=`` finds it), opens it for trading
at once, and at the window's end stops trading and proposes the outcome: Up when the **Chainlink**
price then (``spot.py``, served on the real-time data socket, rtds.py) is at or above the price to
beat, the Chainlink price in force at the window's start; else Down (final after the usual
resolution delay). As Gamma does, the window's event carries ``eventMetadata.priceToBeat``
``price_to_beat_delay_s`` after the window opens, and ``finalPrice`` once it has ended (both in
USD, as numbers). These markets charge takers the crypto fee curve (r = 0.25, e = 2: 1.56 % at
0.50) unless ``--fee-rate`` says otherwise.

Their book: a maker quotes a three-level ladder around P(Up) from the Chainlink price it saw
``MAKER_LAG_S`` ago (the formula the desk's reference uses, with the walk's own volatility); noise
takers trade now and then; fast takers, who see the Chainlink price at once, take any quote two
ticks or more on the wrong side of P(Up) now. So a desk that quotes on a stale price, or on the
exchange spot instead of the price the window settles on, is picked off here too.
"""

from __future__ import annotations

import math
import random
import re
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from eth_utils import keccak

from .markets import Market, Token
from .orders import ASK, BID, Order
from .participants import INFORMED_OWNER, MAKER_OWNER, TAKER_OWNER, shares
from .rules import OrderRejected
from .settlement import Revert, payouts_of
from .spot import START_PRICES, Spot
from .units import ONE, to_micro

if TYPE_CHECKING:
    from .server import Simulator

INTERVALS = {"5m": 300, "15m": 900}
NAMES = {"btc": "Bitcoin", "eth": "Ethereum", "sol": "Solana", "xrp": "XRP"}
CRYPTO_FEE = (250_000, 2)  # r = 0.25 (ppm), e = 2
MAKER_LAG_S = 2.0
LEVELS = 3
NOISE_EVERY_S = 6.0
FAST_EDGE_TICKS = 2


def parse_series(text: str) -> list[tuple[str, str]]:
    """``btc-updown-5m,eth-updown-15m`` -> [("btc", "5m"), ("eth", "15m")]; ValueError otherwise."""
    out: list[tuple[str, str]] = []
    for raw in (p.strip().lower() for p in (text or "").split(",")):
        if not raw:
            continue
        match = re.fullmatch(r"([a-z]+)-updown-(\d+m)", raw)
        if match is None or match[1] not in NAMES or match[2] not in INTERVALS:
            raise ValueError(f"updown_series: {raw!r} is not one of <{'|'.join(NAMES)}>-updown-<5m|15m>")
        if (match[1], match[2]) not in out:
            out.append((match[1], match[2]))
    return out


def up_probability(spot: float, opening: float, tau_s: float, sigma: float) -> float:
    if tau_s <= 0:
        return 1.0 if spot >= opening else 0.0
    z = math.log(spot / opening) / (sigma * math.sqrt(tau_s))
    return 0.5 * math.erfc(-z / math.sqrt(2))


class UpDown:
    def __init__(self, sim: Simulator, series: list[tuple[str, str]], seed: int) -> None:
        self.sim = sim
        self.series = series
        self.rng = random.Random(f"updown:{seed}")
        now = time.time()
        self.spot = Spot(sorted({asset for asset, _ in series}), seed, sim.cfg.spot_vol, now,
                         sim.cfg.chainlink_basis_bps)
        self.windows: dict[str, tuple[str, float, float]] = {}  # condition id -> (asset, start, end)
        self.openings: dict[str, float] = {}  # condition id -> the Chainlink price at its window's start
        self.events: dict[str, tuple[str, float, float]] = {}  # condition id -> (asset, start, end), kept
        self.finals: dict[str, float] = {}  # condition id -> the Chainlink price at its window's end
        self.quotes: dict[str, list[Order]] = {}  # condition id -> the maker's resting orders
        self.listed: set[str] = set()  # slugs listed (a window is listed once)
        self.centres: dict[str, int] = {}  # condition id -> the ladder's centre, in ticks
        self.list_windows(now)

    # -- the series' markets ----------------------------------------------------------------

    def list_windows(self, now: float) -> None:
        """Each series' current and next window listed (once)."""
        for asset, interval in self.series:
            length = INTERVALS[interval]
            start = int(now) // length * length
            for begin in (start, start + length):
                slug = f"{asset}-updown-{interval}-{begin}"
                if slug not in self.listed:
                    self.listed.add(slug)
                    self._list(asset, interval, begin, now)

    def _list(self, asset: str, interval: str, begin: int, now: float) -> None:
        slug = f"{asset}-updown-{interval}-{begin}"
        key = f"simulator-updown:{slug}"
        end = begin + INTERVALS[interval]
        span = f"{_clock(begin)}-{_clock(end)}"
        market = Market(
            gamma_id=str(800_000_000 + begin // 60 + len(self.windows)),
            condition_id="0x" + keccak(text=key).hex(), question_id="0x" + keccak(text=f"{key}:q").hex(),
            question=f"{NAMES[asset]} Up or Down - {_day(begin)}, {span} UTC",
            description=(f"Resolves Up if the {asset.upper()}/USDT price at the end of the window is at or above "
                         "the price at its start (the simulator's spot stream), otherwise Down."),
            slug=slug, tags=["Crypto", "Up or Down", NAMES[asset]], icon="",
            yes=Token(_token(f"{key}:up"), "Up", True), no=Token(_token(f"{key}:down"), "Down", False),
            tick=to_micro("0.01"), min_size=to_micro("5"), neg_risk=False, neg_risk_market_id="",
            neg_risk_request_id="", start_ts=now, end_ts=float(end), latent=0.5)
        rate = self.sim.cfg.fee_rate
        market.fee_rate, market.fee_exponent = ((to_micro(rate), self.sim.cfg.fee_exponent or 1) if rate is not None
                                                else CRYPTO_FEE)
        market.last_trade_price = ONE // 2
        self.sim.add_market(market)
        self.windows[market.condition_id] = self.events[market.condition_id] = (asset, float(begin), float(end))

    def event_metadata(self, condition_id: str, now: float) -> dict[str, float] | None:
        """Gamma's ``eventMetadata`` of a window's event: its price to beat once published, its final
        price once it has ended (None: not a window of a series, or nothing published yet)."""
        found = self.events.get(condition_id)
        if found is None:
            return None
        _, begin, _ = found
        meta: dict[str, float] = {}
        opening = self.openings.get(condition_id)
        if now >= begin + self.sim.cfg.price_to_beat_delay_s and opening is not None:
            meta["priceToBeat"] = round(opening, 8)
        if condition_id in self.finals:
            meta["finalPrice"] = round(self.finals[condition_id], 8)
        return meta or None

    # -- the clock -----------------------------------------------------------------------------

    def step(self, now: float) -> None:
        """One second: the spot moves, windows open and close, the book is quoted and traded."""
        self.spot.step(now)
        self.list_windows(now)
        for cid, (asset, begin, end) in list(self.windows.items()):
            market = self.sim.exchange.markets[cid]
            if now >= begin and cid not in self.openings:
                self.openings[cid] = self.spot.chainlink[asset].at(begin) or self.spot.chainlink[asset].price
            if now >= end:
                self._resolve(market, asset, end)
            elif not market.closed:
                self._trade(market, asset, begin, end, now)

    async def run(self) -> None:
        import asyncio

        loop = asyncio.get_running_loop()
        due = loop.time()
        while True:
            due += 1.0
            await asyncio.sleep(max(0.0, due - loop.time()))
            try:
                self.step(time.time())
            except Exception:  # a series bug must not take the venue down
                import logging

                logging.getLogger(__name__).exception("up/down step failed")

    def _resolve(self, market: Market, asset: str, end: float) -> None:
        del self.windows[market.condition_id]
        self.centres.pop(market.condition_id, None)
        self._cancel(market)
        oracle = self.spot.chainlink[asset]
        closing = oracle.at(end) or oracle.price
        opening = self.openings.get(market.condition_id) or oracle.at(self._begin(market)) or START_PRICES[asset]
        self.finals[market.condition_id] = closing
        self._forget_before(end - 86_400)
        winner = market.yes if closing >= opening else market.no
        try:
            self.sim.settlement.propose(market, payouts_of(winner))
        except Revert:
            pass  # already resolving (an operator's hand): leave it

    def _begin(self, market: Market) -> float:
        return self.events[market.condition_id][1]

    def _forget_before(self, horizon: float) -> None:
        """Windows that ended a day ago leave Gamma's metadata: the tables stay bounded."""
        for cid in [c for c, (_, _, end) in self.events.items() if end < horizon]:
            for table in (self.events, self.openings, self.finals):
                table.pop(cid, None)

    def fair(self, asset: str, begin: float, end: float, at: float) -> float:
        walk = self.spot.chainlink[asset]
        price = walk.at(at) or walk.price
        opening = walk.at(begin) if at >= begin else None
        if opening is None:
            return 0.5
        return up_probability(price, opening, end - at, self.spot.sigma)

    def _trade(self, market: Market, asset: str, begin: float, end: float, now: float) -> None:
        value = self.fair(asset, begin, end, now)
        self._quote(market, self.fair(asset, begin, end, now - MAKER_LAG_S))
        self._fast_take(market, value)
        if self.rng.random() < 1.0 / NOISE_EVERY_S:
            self._noise(market, value)

    def _quote(self, market: Market, fair: float) -> None:
        """The ladder around ``fair``, replaced only when its centre moved or one of it traded."""
        tick, writer = market.tick, self.sim.agents.writer
        centre = round(fair * ONE / tick)
        resting = self.quotes.get(market.condition_id, [])
        if (self.centres.get(market.condition_id) == centre and resting
                and all(o.id in self.sim.exchange.orders for o in resting)):
            return
        self._cancel(market)
        self.centres[market.condition_id] = centre
        placed = []
        for k in range(LEVELS):
            for side, price in ((BID, (centre - 1 - k) * tick), (ASK, (centre + 1 + k) * tick)):
                if not tick <= price <= ONE - tick:
                    continue
                order = writer.new_order(market, side, price, shares(market, self.rng.uniform(40, 160)), "GTC",
                                         MAKER_OWNER, via_no=False, post_only=True)
                try:
                    self.sim.exchange.place(order)
                except OrderRejected:
                    continue
                placed.append(order)
        self.quotes[market.condition_id] = placed

    def _cancel(self, market: Market) -> None:
        resting = [o for o in self.quotes.pop(market.condition_id, []) if o.id in self.sim.exchange.orders]
        if resting:
            self.sim.exchange.cancel(resting)

    def _fast_take(self, market: Market, value: float) -> None:
        book, tick = self.sim.exchange.books[market.condition_id], market.tick
        ask, bid = book.best_ask(), book.best_bid()
        edge = FAST_EDGE_TICKS * tick
        if ask is not None and ask <= value * ONE - edge:
            self.sim.agents.writer.take(market, BID, int(value * ONE - edge) // tick * tick,
                                        shares(market, 50), INFORMED_OWNER)
        elif bid is not None and bid >= value * ONE + edge:
            self.sim.agents.writer.take(market, ASK, -(-int(value * ONE + edge) // tick) * tick,
                                        shares(market, 50), INFORMED_OWNER)

    def _noise(self, market: Market, value: float) -> None:
        book = self.sim.exchange.books[market.condition_id]
        side = BID if self.rng.random() < 0.5 else ASK
        best = book.best_ask() if side == BID else book.best_bid()
        if best is not None:
            self.sim.agents.writer.take(market, side, best, shares(market, self.rng.uniform(5, 60)), TAKER_OWNER)


def _token(text: str) -> str:
    return str(int.from_bytes(keccak(text=text), "big"))


def _day(ts: int) -> str:
    moment = datetime.fromtimestamp(ts, UTC)
    return f"{moment:%B} {moment.day}"


def _clock(ts: int) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%H:%M")
