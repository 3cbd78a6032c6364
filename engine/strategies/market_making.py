"""Market making: rest a bid and an ask around a fair value, leaning against inventory.

Per market, each call:

1. Stay out (empty intent) unless the market is open and the YES book is two-sided, not
   crossed, and no wider than `max_spread`.
2. Fair value from `fair_value`: the book's mid, its microprice, or the external reference
   price. A missing source means no quotes: a price is never invented.
3. Skew: centre = fair - skew_per_share * net_yes. Long YES lowers both quotes (sell more
   readily, buy less readily); short raises them.
4. Targets: bid = floor_tick(centre - half_spread), ask = ceil_tick(centre + half_spread),
   at least one tick apart so the two never cross each other.
5. Post-only: a bid stays at least a tick below the best ask and an ask a tick above the best
   bid, so neither takes liquidity (post_only=True is also set on the quote).
6. Queue position: each intent carries `refresh_threshold` as its `keep_within`, so the
   executor keeps a working order of the approved size (after the risk gate's trims) whose
   price is within the threshold of the new target, instead of replacing it.
7. Inventory cap: a side whose fill would take |net_yes| beyond `max_inventory` is dropped.
8. A side whose price would fall outside [tick, 1 - tick] is dropped, never clamped inward
   (clamping would quote a price the model did not ask for).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine.domain import (
    ONE,
    Book,
    Intent,
    MarketView,
    Quote,
    Side,
    Snapshot,
    StrategyState,
    Tif,
    fmt,
)
from engine.strategies.base import StrategyBase, closed_reason, net_yes
from engine.contracts.params import ParamSpec, ParamType
from engine.strategies.pricing import ceil_tick, floor_tick, microprice, mul_div, on_grid_inside

FAIR_SOURCES = ("mid", "microprice", "reference")


class MarketMaking(StrategyBase):
    kind = "market_making"
    title = "Market making"
    description = (
        "Rests a post-only bid and ask around a fair value (mid, microprice or an external "
        "reference), skewed against inventory, capped in inventory, and kept in place while "
        "close enough to the target to hold queue position."
    )
    params_schema = (
        ParamSpec("fair_value", ParamType.CHOICE, "mid", "Where the fair price comes from. "
                  "'reference' needs an external feed; without it the market is not quoted.",
                  choices=FAIR_SOURCES),
        ParamSpec("half_spread", ParamType.PROBABILITY, 0.02, "Distance of each quote from the "
                  "(skewed) fair value, before rounding outward to the tick.",
                  minimum=0, maximum=0.5, step=0.001),
        ParamSpec("size", ParamType.SHARES, 10, "Shares on each side.", minimum=1,
                  maximum=1_000_000),
        ParamSpec("skew_per_share", ParamType.PROBABILITY, 0.0002, "Price shift of both quotes "
                  "per share of net YES held (against the position).", minimum=0,
                  maximum=0.01, unit="probability per share", step=0.0001),
        ParamSpec("refresh_threshold", ParamType.PROBABILITY, 0.005, "Keep a working quote "
                  "(and its queue position) while it is this close to the new target.",
                  minimum=0, maximum=0.1, step=0.001),
        ParamSpec("max_inventory", ParamType.SHARES, 100, "Stop quoting the side that would take "
                  "|net YES| beyond this.", minimum=0, maximum=10_000_000),
        ParamSpec("max_spread", ParamType.PROBABILITY, 0.1, "Stay out of markets whose spread is "
                  "wider than this.", minimum=0, maximum=1, step=0.01),
    )

    def __init__(self, name: str, params: Mapping[str, Any] | None = None) -> None:
        super().__init__(name, params)
        self.source: str = self.params["fair_value"]
        self.half_spread = self.micros("half_spread")
        self.size = self.micros("size")
        self.skew = self.micros("skew_per_share")  # micros of price per whole share
        self.threshold = self.micros("refresh_threshold")
        self.max_inventory = self.micros("max_inventory")
        self.max_spread = self.micros("max_spread")

    def decide(self, snapshot: Snapshot, state: StrategyState, now_ms: int) -> list[Intent]:
        intents = []
        for condition_id, view in snapshot.markets.items():
            quotes, reason = self.quotes_for(view, state)
            intents.append(self.intent(condition_id, quotes, reason, keep_within=self.threshold))
        return intents

    def quotes_for(self, view: MarketView, state: StrategyState) -> tuple[tuple[Quote, ...], str]:
        """The bid/ask for one market and a short reason for the operator."""
        info = view.info
        if reason := closed_reason(info):
            return (), reason
        book = view.yes
        if book is None or book.best_bid is None or book.best_ask is None:
            return (), "no two-sided book"
        best_bid, best_ask = book.best_bid.price, book.best_ask.price
        if best_bid >= best_ask:
            return (), "book crossed"
        if best_ask - best_bid > self.max_spread:
            return (), f"spread {fmt(best_ask - best_bid)} wider than {fmt(self.max_spread)}"
        fair = self.fair_value(view, book)
        if fair is None or not 0 <= fair <= ONE:
            return (), f"no {self.source} price"
        position = net_yes(state, info.condition_id)
        bid, ask = self.targets(fair, position, info.tick, best_bid, best_ask)
        return self.assemble(bid, ask, position, info.tick)

    def fair_value(self, view: MarketView, book: Book) -> int | None:
        if self.source == "reference":
            return view.reference
        if self.source == "microprice":
            return microprice(book)
        return book.mid

    def targets(self, fair: int, position: int, tick: int, best_bid: int, best_ask: int) -> tuple[int, int]:
        """Skewed, tick-rounded, non-crossing target prices (steps 3-5)."""
        centre = fair - mul_div(self.skew, position, ONE)
        bid = floor_tick(centre - self.half_spread, tick)
        ask = ceil_tick(centre + self.half_spread, tick)
        if ask <= bid:  # half_spread 0 on a grid price: keep our own quotes a tick apart
            ask = bid + tick
        # Only ever move away from the touch, so the two sides stay apart.
        bid = min(bid, floor_tick(best_ask - 1, tick))
        ask = max(ask, ceil_tick(best_bid + 1, tick))
        return bid, ask

    def assemble(self, bid: int, ask: int, position: int, tick: int) -> tuple[tuple[Quote, ...], str]:
        """Apply the inventory cap and price bounds (steps 7-8) and build the quotes."""
        quotes: list[Quote] = []
        dropped: list[str] = []
        if position + self.size > self.max_inventory:
            dropped.append("bid: inventory cap")
        elif not on_grid_inside(bid, tick):
            dropped.append("bid: price out of range")
        else:
            quotes.append(Quote(Side.BUY, bid, self.size, Tif.GTC, post_only=True))
        if position - self.size < -self.max_inventory:
            dropped.append("ask: inventory cap")
        elif not on_grid_inside(ask, tick):
            dropped.append("ask: price out of range")
        else:
            quotes.append(Quote(Side.SELL, ask, self.size, Tif.GTC, post_only=True))
        reason = "quoting" if not dropped else "; ".join(dropped)
        return tuple(quotes), reason
