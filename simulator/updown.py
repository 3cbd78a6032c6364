"""The short crypto up/down series: a new market every window, settled on Chainlink's TWAP.

As on Polymarket, each series (``btc-updown-5m``, ``eth-updown-15m``, ...) has one market per
window, its slug the series' name and the window's start in unix seconds (a multiple of the
window's length: ``btc-updown-5m-1764000000``), its outcomes "Up" and "Down". The simulator lists
each window's market one window ahead (Gamma ``/markets?slug=`` finds it), opens it for trading
at once, and at the window's end stops trading and proposes the outcome (final after the usual
resolution delay).

**Settlement** follows the venue's rules as its documentation and changelog give them (docs
"Chainlink TWAP Prices", docs.polymarket.com/market-data/chainlink-twap; changelog: from 2026-08-07
both the price to beat and the final price come from Chainlink's TWAP, the 5-minute markets' lookback
30 s, then 60 s from 2026-08-14; 15-minute and 4-hour markets 60 s): Up when the **time-weighted
average** of the Chainlink price (``spot.py``, served on the real-time data socket, rtds.py) over the
TWAP_LOOKBACK_S before the window's end is at or above the price to beat, the same average over the
lookback before its start; else Down. Not a snapshot: a spike in the last second moves the final price
by a sixtieth of itself. (Chainlink does not publish how its TWAP samples; here it is the exact time
weighting of the simulator's once-a-second reports.) As Gamma does, the window's event carries
``eventMetadata.priceToBeat`` ``price_to_beat_delay_s`` after the window opens, and ``finalPrice`` once
it has ended (both those averages, in USD, as numbers).

**Fees** are the venue's crypto schedule (docs "Fees", docs.polymarket.com/trading/fees: Crypto taker
rate 0.07, maker rebate 20 %; ``fee = C × rate × p × (1 − p)``; the crypto markets' Gamma
``feeSchedule`` captured live in Sep 2026: ``rate 0.07, exponent 1, rebateRate 0.2, takerOnly``): r =
0.07, e = 1, 1.75 ¢ a share at 0.50, unless ``--fee-rate`` says otherwise. **Takers wait**:
a taker order that would match at once is held ``crypto_taker_delay_ms`` (50 ms, the venue's crypto
taker delay since 2026-08-17; 250 ms before) and matched as the book is then (exchange.py), so a maker
has those milliseconds to cancel.

Their book: a maker quotes a three-level ladder around P(Up) from the Chainlink prices it saw
``MAKER_LAG_S`` ago, priced on the averages that settle the window (the known part of the final
average counted, the rest to come); noise takers trade now and then; fast takers, who see the Chainlink
price at once, take any quote two ticks or more on the wrong side of P(Up) now (the simulator's own
takers are not held: stricter for a maker than the venue). So a desk that quotes on a stale price, on the
exchange spot instead of the price the window settles on, or on the last price where the average decides,
is picked off here too.
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
CRYPTO_FEE = (70_000, 1)  # r = 0.07 (ppm), e = 1: the venue's crypto schedule (docs "Fees")
# Seconds of Chainlink prices each settling average spans, by window length (changelog 2026-08-14: 60 s
# for the 5-minute windows, were 30 s; 60 s for the 15-minute and 4-hour ones).
TWAP_LOOKBACK_S = {300: 60.0, 900: 60.0}
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


def up_probability(spot: float, beat: float, tau_s: float, sigma: float, lookback_s: float,
                   so_far: float | None = None) -> float:
    """P(the final average >= beat), the price a driftless walk of volatility ``sigma`` (per
    square-root second) from ``spot``, ``tau_s`` before the end; ``so_far``: the average over the part
    of the lookback already past (inside the final ``lookback_s``). The final average's mean and
    variance in price terms: before the lookback it is the spot, varying as ``tau - 2 L / 3`` seconds
    of the walk; inside it the known part weighs ``(L - tau) / L`` and the rest, the spot's, ``tau / L``,
    the part to come varying as ``tau ** 3 / (3 L ** 2)``."""
    if tau_s >= lookback_s or so_far is None:
        mean, seconds = spot, max(tau_s - 2 * lookback_s / 3, tau_s / 3)
    else:
        mean = (so_far * (lookback_s - tau_s) + spot * tau_s) / lookback_s
        seconds = tau_s ** 3 / (3 * lookback_s ** 2)
    spread = spot * sigma * math.sqrt(max(seconds, 0.0))
    if spread <= 0:
        return 1.0 if mean >= beat else 0.0
    return 0.5 * math.erfc(-(mean - beat) / (spread * math.sqrt(2)))


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
            description=(f"Resolves Up if the time-weighted average of the Chainlink {asset.upper()}/USD price over "
                         "the last 60 seconds of the window is at or above the same average over the 60 seconds "
                         "before its start (the simulator's Chainlink stream), otherwise Down."),
            slug=slug, tags=["Crypto", "Up or Down", NAMES[asset]], icon="",
            yes=Token(_token(f"{key}:up"), "Up", True), no=Token(_token(f"{key}:down"), "Down", False),
            tick=to_micro("0.01"), min_size=to_micro("5"), neg_risk=False, neg_risk_market_id="",
            neg_risk_request_id="", start_ts=now, end_ts=float(end), latent=0.5)
        rate = self.sim.cfg.fee_rate
        market.fee_rate, market.fee_exponent = ((to_micro(rate), self.sim.cfg.fee_exponent or 1) if rate is not None
                                                else CRYPTO_FEE)
        market.taker_delay_s = self.sim.cfg.crypto_taker_delay_ms / 1000  # a crypto market's takers wait
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
                self.openings[cid] = self.settling_price(asset, begin, end - begin)
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
        begin = self._begin(market)
        closing = self.settling_price(asset, end, end - begin)
        opening = self.openings.get(market.condition_id) or self.settling_price(asset, begin, end - begin)
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

    def settling_price(self, asset: str, at: float, length: float) -> float:
        """The price a window of ``length`` seconds compares at ``at`` (its start or its end): the
        Chainlink average over the lookback before it (the price in force, or the start's price, when
        the walk has no past that long)."""
        oracle = self.spot.chainlink[asset]
        lookback = TWAP_LOOKBACK_S[int(length)]
        return oracle.average(at - lookback, at) or oracle.at(at) or oracle.price or START_PRICES[asset]

    def fair(self, asset: str, begin: float, end: float, at: float) -> float:
        """P(Up) at ``at`` from the Chainlink prices then: against the price to beat once the window has
        opened (0.5 before), the final average's known part counted inside its lookback."""
        walk = self.spot.chainlink[asset]
        if at < begin:
            return 0.5
        price = walk.at(at) or walk.price
        lookback = TWAP_LOOKBACK_S[int(end - begin)]
        so_far = walk.average(end - lookback, at) if at > end - lookback else None
        return up_probability(price, self.settling_price(asset, begin, end - begin), end - at, self.spot.sigma,
                              lookback, so_far)

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
