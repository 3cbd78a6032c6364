"""The agent market maker: post-only ladders around its belief.

``LadderMaker`` (the informed market): ``maker_levels`` levels a side one tick apart,
about equal sizes with a heavier top (a uniform grid, as Polymarket's books are),
a half-spread that is ``maker_half_spread_bps`` of the price at 0.5 (for a market listed
with the 0.01 tick; ten times tighter for one listed with 0.001) and grows in
relative terms towards the tails (the longshot premium: ``(0.5 / q) ** premium`` for
``q = min(p, 1 - p)``), sizes scaled down near the close. It pulls every quote its new
belief makes stale at once, and otherwise churns a few quotes per step.

``CalmMaker`` is the old maker of the calm market: five levels, a half-spread of one
or two ticks, one stale quote cancelled per step.
"""

from __future__ import annotations

import math
import random

from .exchange import Exchange, OrderRejected
from .market_config import MarketConfig
from .markets import Market, price_to_tick
from .orders import ASK, BID, Order
from .participants import MAKER_OWNER, OrderWriter, shares
from .units import ONE

Target = tuple[str, int]  # (canonical side, YES price)
CALM_LEVELS = 5
COARSE_TICK = 10_000  # 0.01, the tick the half-spread setting is calibrated for
QUOTE_LIFETIME_S = 60.0  # mean life of a quote before the ladder maker refreshes it
SPREAD_REDRAW_S = 60.0  # mean time between redraws of a market's half-spread jitter


class _Quoter:
    """What both makers share: their live quotes, posting, cancelling."""

    def __init__(self, exchange: Exchange, writer: OrderWriter, rng: random.Random) -> None:
        self.exchange = exchange
        self.writer = writer
        self.rng = rng
        self.quotes: dict[str, dict[str, Order]] = {m: {} for m in exchange.markets}

    def live(self, market: Market) -> dict[str, Order]:
        quotes = self.quotes[market.condition_id]
        for oid in [oid for oid, o in quotes.items() if not o.is_open]:
            del quotes[oid]
        return quotes

    def cancel(self, market: Market, orders: list[Order]) -> None:
        if orders:
            self.exchange.cancel(orders)
            for order in orders:
                self.quotes[market.condition_id].pop(order.id, None)

    def post(self, market: Market, yes_side: str, price: int, size: int) -> None:
        order = self.writer.new_order(market, yes_side, price, size, "GTC", MAKER_OWNER,
                                      via_no=self.rng.random() < 0.3, post_only=True)
        try:
            self.exchange.place(order)
        except OrderRejected:
            return  # would cross: someone else's order rests through our rung
        self.quotes[market.condition_id][order.id] = order


class CalmMaker(_Quoter):
    def _targets(self, market: Market) -> list[Target]:
        fair = price_to_tick(market.latent, market.tick)
        half = self.rng.choice((1, 1, 2))
        out: dict[Target, None] = {}
        for k in range(CALM_LEVELS):
            for side, sign in ((BID, -1), (ASK, 1)):
                price = fair + sign * (half + k) * market.tick
                if market.tick <= price <= ONE - market.tick:
                    out[(side, price)] = None
        return list(out)

    def requote(self, market: Market, fair: float, depth: float, max_changes: int = 4) -> None:
        """Cancel one quote off the target ladder (most steps), then fill a few missing rungs."""
        live = self.live(market)
        targets = self._targets(market)
        stale = [o for o in live.values() if (o.yes_side, o.yes_price) not in targets]
        if stale and self.rng.random() < 0.7:
            self.cancel(market, [stale[self.rng.randrange(len(stale))]])
        have = {(o.yes_side, o.yes_price) for o in live.values()}
        missing = [t for t in targets if t not in have]
        self.rng.shuffle(missing)
        for yes_side, price in missing[:max_changes]:
            self.post(market, yes_side, price, shares(market, self.rng.uniform(20, 400)))

    def prefill(self, market: Market, fair: float, depth: float) -> None:
        self.requote(market, fair, depth, max_changes=2 * CALM_LEVELS)


class LadderMaker(_Quoter):
    def __init__(self, exchange: Exchange, writer: OrderWriter, rng: random.Random, cfg: MarketConfig,
                 interval_s: float) -> None:
        super().__init__(exchange, writer, rng)
        self.cfg = cfg
        self.refresh_p = min(1.0, interval_s / QUOTE_LIFETIME_S)
        self.redraw_p = min(1.0, interval_s / SPREAD_REDRAW_S)
        self.jitter = {m: self._draw_jitter() for m in exchange.markets}
        # A market listed with a finer tick than 0.01 is a liquid one: its makers quote that
        # much tighter (a tick refined later, near 0 or 1, does not count).
        self.tightness = {cid: min(1.0, m.tick / COARSE_TICK) for cid, m in exchange.markets.items()}

    def _draw_jitter(self) -> float:
        return self.rng.uniform(0.6, 1.3)

    def half_spread(self, market: Market, fair: float) -> float:
        """Half-spread in price: a share of the cheaper side's price that grows toward the tails."""
        q = max(1e-4, min(fair, 1 - fair))
        relative = self.cfg.maker_half_spread_bps / 10_000 * (0.5 / q) ** self.cfg.maker_longshot_premium
        cid = market.condition_id
        return relative * q * self.jitter[cid] * self.tightness[cid]

    def targets(self, market: Market, fair: float) -> dict[Target, int]:
        """The ladder for belief ``fair``: target -> level (0 = top of book)."""
        tick = market.tick
        half = max(0.5 * tick, self.half_spread(market, fair) * ONE)
        center = fair * ONE
        bid0 = math.floor((center - half) / tick + 0.5)
        ask0 = math.floor((center + half) / tick + 0.5)
        if bid0 * tick > center:
            bid0 -= 1
        if ask0 * tick < center:
            ask0 += 1
        ask0 = max(ask0, bid0 + 1)
        out: dict[Target, int] = {}
        for k in range(self.cfg.maker_levels):
            if (bid0 - k) * tick >= tick:
                out[(BID, (bid0 - k) * tick)] = k
            if (ask0 + k) * tick <= ONE - tick:
                out[(ASK, (ask0 + k) * tick)] = k
        return out

    def _size(self, market: Market, level: int, depth: float) -> int:
        weight = self.cfg.maker_top_weight if level == 0 else 1.0
        return shares(market, self.rng.uniform(20, 400) * weight * depth)

    def requote(self, market: Market, fair: float, depth: float, max_changes: int = 4) -> None:
        if self.rng.random() < self.redraw_p:
            self.jitter[market.condition_id] = self._draw_jitter()
        targets = self.targets(market, fair)
        top_bid = max((p for (side, p) in targets if side == BID), default=None)
        top_ask = min((p for (side, p) in targets if side == ASK), default=None)
        inside, off, kept = [], [], []
        for order in self.live(market).values():
            side, price = order.yes_side, order.yes_price
            if (side == BID and (top_bid is None or price > top_bid)) or \
                    (side == ASK and (top_ask is None or price < top_ask)):
                inside.append(order)
            elif (side, price) in targets:
                kept.append((order, side, price))
            else:
                off.append(order)
        self.cancel(market, inside)  # every quote the belief makes stale goes at once
        churn = off[self.rng.randrange(len(off))] if off else None  # the ladder's far end moved
        if kept and self.rng.random() < len(kept) * self.refresh_p:  # a quote's life is over
            refreshed = kept.pop(self.rng.randrange(len(kept)))[0]
            self.cancel(market, [refreshed] + ([churn] if churn is not None else []))
        elif churn is not None:
            self.cancel(market, [churn])
        have = {(side, price) for _, side, price in kept}
        missing = sorted((t for t in targets if t not in have), key=lambda t: targets[t])
        for target in missing[:max_changes]:
            self.post(market, target[0], target[1], self._size(market, targets[target], depth))

    def prefill(self, market: Market, fair: float, depth: float) -> None:
        self.requote(market, fair, depth, max_changes=2 * self.cfg.maker_levels)


def depth_multiplier(time_to_close_s: float, horizon_s: float, slope: float) -> float:
    """Depth relative to a market far from its close: ``(τ / H) ** slope`` inside the horizon."""
    if not math.isfinite(horizon_s) or time_to_close_s >= horizon_s:
        return 1.0
    return max(0.0, time_to_close_s / horizon_s) ** slope

