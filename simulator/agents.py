"""Seeded synthetic participants that keep the books alive, and the clock they run on.

By default (``agent_market="informed"``) the market has information in it
(``news.py``): news moves each market's true probability in jumps; informed takers
learn it first and, ahead of and at the moment it becomes public, sweep whatever
rests at stale prices; the agent maker (``maker.py``) pulls its stale quotes only
``maker_react_s`` after the news is public; noise takers trade every few seconds
with a lean toward the public belief; prices converge to 0 or 1 near the close.
``agent_market="calm"`` keeps the old benign market for tests that ask for it.

The agents keep their own clock: every step advances it by ``interval_s``, whatever
the wall clock did, so a seed reproduces the same decisions (up to the timing of
outside orders), and the realism report can run hours of market in seconds.
Decisions come from one seeded RNG in a fixed market order; the news path from
another, so what traders do never changes what happens in the world.
"""

from __future__ import annotations

import asyncio
import logging
import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .calm import CalmWalk
from .exchange import Exchange
from .maintenance import CLOSED, OPEN
from .maker import CalmMaker, LadderMaker, depth_multiplier
from .market_config import MarketConfig
from .markets import Market
from .news import BeliefModel, Information, NewsEvent, Winner
from .orders import ASK, BID
from .participants import INFORMED_OWNER, MAKER_OWNER, TAKER_OWNER, OrderWriter, agent_address, shares
from .units import MICRO, ONE

__all__ = ["Agents", "agent_address", "MAKER_OWNER", "TAKER_OWNER", "INFORMED_OWNER"]

log = logging.getLogger(__name__)
CALM_TAKE_EVERY_S = 3.0
MAX_CATCH_UP_STEPS = 10  # further behind the wall clock than this, the agents skip the gap


@dataclass
class _Tip:
    """What the informed takers may still do with a piece of news in one market."""

    shares: float
    public_at: float
    until: float  # they stop once the maker has had time to pull its stale quotes


class Agents:
    def __init__(self, exchange: Exchange, rng: random.Random, seed: int, interval_s: float,
                 phase: Callable[[], str] = lambda: OPEN, cfg: MarketConfig | None = None,
                 start_ts: float | None = None) -> None:
        self.exchange = exchange
        self.phase = phase  # the matching engine's maintenance phase (they obey it like anyone)
        self.rng = rng
        self.seed = seed
        self.interval_s = interval_s
        self.cfg = cfg or MarketConfig()
        markets = [m for m in exchange.markets.values() if not m.quiet]  # a generated quiet one: nobody trades
        self.traded = markets
        if start_ts is None:
            start_ts = max((m.start_ts for m in markets), default=time.time())
        self.now = start_ts
        news_rng = random.Random(f"news:{seed}")
        self.calm = self.cfg.agent_market == "calm"
        self.news: BeliefModel = (CalmWalk(markets, news_rng, self.now) if self.calm
                                  else Information(markets, self.cfg, news_rng, self.now))
        self.writer = OrderWriter(exchange, seed, rng)
        self.maker = (CalmMaker(exchange, self.writer, rng) if self.calm
                      else LadderMaker(exchange, self.writer, rng, self.cfg, interval_s))
        self.maker_address = self.writer.addresses[MAKER_OWNER]
        self.taker_address = self.writer.addresses[TAKER_OWNER]
        self.informed_address = self.writer.addresses[INFORMED_OWNER]
        self.noise_p = min(1.0, interval_s / (CALM_TAKE_EVERY_S if self.calm else self.cfg.noise_every_s))
        self.fair = {cid: m.latent for cid, m in exchange.markets.items()}  # the maker's belief
        self.react_at: dict[str, float] = {}  # the maker holds its belief until then (news)
        self.tips: dict[str, _Tip] = {}

    # -- the maker -----------------------------------------------------------------------

    def _depth(self, market: Market) -> float:
        return depth_multiplier(market.end_ts - self.now, self.news.horizon_s(market),
                                self.cfg.depth_decay_slope)

    def requote(self, market: Market) -> None:
        cid = market.condition_id
        if self.now >= self.react_at.get(cid, -math.inf):
            self.react_at.pop(cid, None)
            moved = abs(market.latent - self.fair[cid]) * ONE > 2 * market.tick
            self.fair[cid] = market.latent
        else:
            moved = False
        max_changes = 2 * self.cfg.maker_levels if moved and not self.calm else 4
        self.maker.requote(market, self.fair[cid], self._depth(market), max_changes)

    # -- the takers ----------------------------------------------------------------------

    def take(self, market: Market) -> None:
        """Noise: a small FAK at the touch (or a tick or two through), leaning toward the belief."""
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
        self.writer.take(market, yes_side, limit, shares(market, self.rng.uniform(5, 120)), TAKER_OWNER)

    def _learn(self, event: NewsEvent) -> None:
        for market in event.markets:
            tip = self.tips.get(market.condition_id)
            until = event.public_at + self.cfg.maker_react_s + self.interval_s
            if tip is None:
                self.tips[market.condition_id] = _Tip(self.cfg.informed_size, event.public_at, until)
            else:
                tip.shares += self.cfg.informed_size
                tip.public_at, tip.until = max(tip.public_at, event.public_at), max(tip.until, until)

    def informed_take(self, market: Market) -> None:
        """Trade on news not yet in the maker's quotes: take every resting price a tick or more
        better than the true value, some before the news is public, the rest when it is."""
        tip = self.tips.get(market.condition_id)
        if tip is None:
            return
        if self.now > tip.until or tip.shares * MICRO < market.min_size:
            del self.tips[market.condition_id]
            return
        final = self.now >= tip.public_at
        if not final and self.rng.random() < 0.5:
            return  # ahead of the news they trade in a few pieces
        book, tick = self.exchange.books[market.condition_id], market.tick
        value = self.news.true_p(market) * ONE
        buy_limit = min(ONE - tick, math.floor((value - tick) / tick) * tick)
        sell_limit = max(tick, math.ceil((value + tick) / tick) * tick)
        ask, bid = book.best_ask(), book.best_bid()
        if ask is not None and ask <= buy_limit:
            yes_side, limit = BID, buy_limit
        elif bid is not None and bid >= sell_limit:
            yes_side, limit = ASK, sell_limit
        else:
            return
        size = tip.shares if final else tip.shares * self.rng.uniform(0.3, 0.7)
        order = self.writer.take(market, yes_side, limit, shares(market, size), INFORMED_OWNER)
        if order is not None:
            tip.shares -= order.matched / MICRO

    # -- operator controls -----------------------------------------------------------------

    def set_latent(self, market: Market, p: float) -> None:
        self.news.set_latent(market, p, self.now)
        self.fair[market.condition_id] = market.latent
        self.react_at.pop(market.condition_id, None)

    def script_news(self, market: Market, p: float, lead_s: float | None = None) -> NewsEvent:
        """Scripted news: informed takers know now that ``market``'s belief is ``p``; it is public
        ``lead_s`` (default ``informed_lead_s``) later."""
        lead = self.cfg.informed_lead_s if lead_s is None else lead_s
        event = self.news.script(market, p, lead, self.now)
        self._learn(event)
        return event

    def winners(self, rng: random.Random) -> list[Winner]:
        return self.news.winners(rng)

    def status(self) -> dict[str, Any]:
        out = self.news.status(self.now)
        # Their wallets, as the public trade tape names them (a desk can follow one: /data-api/trades?user=).
        out["wallets"] = {"maker": self.maker_address.lower(), "taker": self.taker_address.lower(),
                          "informed": self.informed_address.lower()}
        out["informed_tips"] = {cid: {"shares": tip.shares, "public_at": tip.public_at}
                                for cid, tip in self.tips.items()}
        return out

    # -- the clock -------------------------------------------------------------------------

    def prefill(self) -> None:
        for market in self.traded:
            if not market.closed:
                self.maker.prefill(market, self.fair[market.condition_id], self._depth(market))

    def step(self) -> None:
        self.now += self.interval_s
        advance = self.news.advance(self.now)
        for event in advance.known:
            self._learn(event)
        for market in advance.published:
            self.react_at[market.condition_id] = self.now + self.cfg.maker_react_s
        phase = self.phase()
        if phase == CLOSED:
            return  # the matching engine is restarting: nobody trades
        for market in self.traded:
            if market.closed:
                continue
            if phase == OPEN and not self.calm:
                self.informed_take(market)  # the fast money goes first
            self.requote(market)  # post-only quotes: allowed in the post-only phase too
            if self.rng.random() < self.noise_p and phase == OPEN:
                self.take(market)

    async def run(self) -> None:
        """One step per ``interval_s`` of wall time; after a stall, catch up step by step, or, when
        more than ``MAX_CATCH_UP_STEPS`` behind, move the agents' clock over the gap at once (the
        next step then covers it: the world moves on, the agents just missed their chances)."""
        loop = asyncio.get_running_loop()
        due = loop.time()
        while True:
            due += self.interval_s
            await asyncio.sleep(max(0.0, due - loop.time()))
            self._safe_step()
            behind = loop.time() - due
            if behind > MAX_CATCH_UP_STEPS * self.interval_s:
                log.info("agents fell %.1f s behind the wall clock; skipping ahead", behind)
                self.now += behind
                due = loop.time()

    def _safe_step(self) -> None:
        try:
            self.step()
        except Exception:  # an agent bug must not take the venue down
            log.exception("agent step failed")
