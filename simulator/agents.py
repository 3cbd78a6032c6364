"""Seeded synthetic participants that keep the books alive.

Per market, a latent probability of YES follows a mean-reverting random walk in
logit space (neg-risk groups are renormalised to sum to ~1). A market maker keeps
a few post-only levels each side around it, re-quoting and cancelling as it moves;
a noise taker sends FAK orders every few seconds, sometimes through the NO token
so the mirror paths (mint/merge) are exercised. Every decision is drawn from one
seeded RNG in a fixed market order, so a run is reproducible up to timing.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import math
import random
from typing import Callable

from eth_utils import keccak

from .exchange import Exchange, OrderRejected
from .maintenance import CLOSED, OPEN
from .markets import Market, price_to_tick
from .orders import ASK, BID, BUY, SELL, Order
from .units import MICRO, ONE

log = logging.getLogger(__name__)
LEVELS = 5  # resting levels per side
WALK_SIGMA = 0.004  # logit step per tick of the agent clock
REVERSION = 0.0005
TAKE_EVERY_S = 3.0  # mean time between noise trades per market
MAKER_OWNER, TAKER_OWNER = "sim-agent-maker", "sim-agent-taker"


def agent_address(name: str, seed: int) -> str:
    return "0x" + keccak(text=f"simulator-agent:{seed}:{name}").hex()[-40:]


class Agents:
    def __init__(self, exchange: Exchange, rng: random.Random, seed: int, interval_s: float,
                 phase: Callable[[], str] = lambda: OPEN) -> None:
        self.exchange = exchange
        self.phase = phase  # the matching engine's maintenance phase (they obey it like anyone)
        self.rng = rng
        self.seed = seed
        self.interval_s = interval_s
        self.maker_address = agent_address("maker", seed)
        self.taker_address = agent_address("taker", seed)
        for address in (self.maker_address, self.taker_address):
            exchange.ledger.account(address, internal=True)
        self.quotes: dict[str, dict[str, Order]] = {m: {} for m in exchange.markets}
        self.anchor = {cid: _logit(m.latent) for cid, m in exchange.markets.items()}
        self._ids = itertools.count(1)

    def new_order(self, market: Market, yes_side: str, yes_price: int, size: int, order_type: str,
                  owner: str, address: str, via_no: bool, post_only: bool = False) -> Order:
        """An internal order for a YES-space intent, optionally expressed in the NO token."""
        token = market.no if via_no else market.yes
        if via_no:
            side, price = (SELL if yes_side == BID else BUY), ONE - yes_price
        else:
            side, price = (BUY if yes_side == BID else SELL), yes_price
        oid = "0x" + keccak(text=f"agent-order:{self.seed}:{next(self._ids)}").hex()
        return Order(id=oid, market=market, token=token, side=side, price=price, size=size,
                     order_type=order_type, owner=owner, maker_address=address, created_at=0,
                     post_only=post_only, internal=True)

    def _size(self, market: Market, low: float, high: float) -> int:
        shares = max(market.min_size / MICRO, self.rng.uniform(low, high))
        return int(round(shares, 2) * 100) * 10_000

    # -- the market maker ----------------------------------------------------------

    def _targets(self, market: Market) -> dict[tuple[str, int], None]:
        fair = price_to_tick(market.latent, market.tick)
        half = self.rng.choice((1, 1, 2))
        out: dict[tuple[str, int], None] = {}
        for k in range(LEVELS):
            for side, sign in ((BID, -1), (ASK, 1)):
                price = fair + sign * (half + k) * market.tick
                if market.tick <= price <= ONE - market.tick:
                    out[(side, price)] = None
        return out

    def requote(self, market: Market, max_changes: int = 4) -> None:
        """Cancel quotes off the target ladder, then fill a few missing rungs."""
        live = self.quotes[market.condition_id]
        for oid in [oid for oid, o in live.items() if not o.is_open]:
            del live[oid]
        targets = self._targets(market)
        stale = [o for o in live.values() if (o.yes_side, o.yes_price) not in targets]
        if stale and self.rng.random() < 0.7:
            victim = stale[self.rng.randrange(len(stale))]
            self.exchange.cancel([victim])
            live.pop(victim.id, None)
        have = {(o.yes_side, o.yes_price) for o in live.values()}
        missing = [t for t in targets if t not in have]
        self.rng.shuffle(missing)
        for yes_side, price in missing[:max_changes]:
            self._post_quote(market, yes_side, price)

    def _post_quote(self, market: Market, yes_side: str, price: int) -> None:
        via_no = self.rng.random() < 0.3
        order = self.new_order(market, yes_side, price, self._size(market, 20, 400), "GTC",
                               MAKER_OWNER, self.maker_address, via_no, post_only=True)
        try:
            self.exchange.place(order)
        except OrderRejected:
            return  # would cross: the taker side of the book moved through our rung
        self.quotes[market.condition_id][order.id] = order

    # -- the noise taker -----------------------------------------------------------

    def take(self, market: Market) -> None:
        book = self.exchange.books[market.condition_id]
        bid, ask = book.best_bid(), book.best_ask()
        mid = ((bid or 0) + (ask or ONE)) / 2 / ONE
        buy_bias = 0.5 + max(-0.3, min(0.3, (market.latent - mid) * 4))
        yes_side = BID if self.rng.random() < buy_bias else ASK
        best = ask if yes_side == BID else bid
        if best is None:
            return
        slip = self.rng.choice((0, 0, 1, 2)) * market.tick
        limit = min(ONE - market.tick, best + slip) if yes_side == BID else max(market.tick, best - slip)
        order = self.new_order(market, yes_side, limit, self._size(market, 5, 120), "FAK",
                               TAKER_OWNER, self.taker_address, via_no=self.rng.random() < 0.3)
        try:
            self.exchange.place(order)
        except OrderRejected:
            pass

    # -- the clock -----------------------------------------------------------------

    def walk(self) -> None:
        for cid, market in self.exchange.markets.items():
            x = _logit(market.latent)
            x += self.rng.gauss(0.0, WALK_SIGMA) - REVERSION * (x - self.anchor[cid])
            market.latent = min(0.97, max(0.03, 1 / (1 + math.exp(-x))))
        groups: dict[str, list[Market]] = {}
        for market in self.exchange.markets.values():
            if market.group:
                groups.setdefault(market.group, []).append(market)
        for members in groups.values():
            total = sum(m.latent for m in members)
            for m in members:
                m.latent = min(0.97, max(0.01, m.latent / total))

    def set_latent(self, market: Market, p: float) -> None:
        market.latent = min(0.99, max(0.01, p))
        self.anchor[market.condition_id] = _logit(market.latent)

    def prefill(self) -> None:
        for market in self.exchange.markets.values():
            if not market.closed:
                self.requote(market, max_changes=2 * LEVELS)

    def step(self) -> None:
        self.walk()
        phase = self.phase()
        if phase == CLOSED:
            return  # the matching engine is restarting: nobody trades
        take_p = min(1.0, self.interval_s / TAKE_EVERY_S)
        for market in self.exchange.markets.values():
            if market.closed:
                continue
            self.requote(market)  # post-only quotes: allowed in the post-only phase too
            if self.rng.random() < take_p and phase == OPEN:
                self.take(market)

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self.interval_s)
            try:
                self.step()
            except Exception:  # an agent bug must not take the venue down
                log.exception("agent step failed")


def _logit(p: float) -> float:
    p = min(0.999, max(0.001, p))
    return math.log(p / (1 - p))
