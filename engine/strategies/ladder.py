"""A ladder (grid) of quotes: `levels` post-only bids below a centre and as many asks above it.

Level k (1..levels) of each side sits k * `spacing` from the centre, rounded outward to the tick
(bids down, asks up) and at least a tick beyond the level before; its size is `size` *
`size_multiplier` ** (k - 1), rounded down to 0.01 share, and a level below the market's minimum
order is left out. The centre is the YES mid, a fixed price, the fair value or the reference
price (`center`). Unlike market making, the ladder stays where it was placed: a moving centre
(mid, fair value, reference) moves it only once it is `recenter_move` away from where the ladder
stands (0: at every move), so a fill on one side is sold (or bought) back a level or more away by
the other side's orders when the price comes back: a grid. A fixed centre quotes even an empty
book.

Levels that would cross the book (a bid at or above the best ask, an ask at or below the best bid)
are not placed, as the venue refuses a post-only order that crosses, except where an order of its
own already rests (a book shown crossing it is filling it: it is left to fill); nor are those that
would take |net YES| beyond `max_inventory`, counting a side's levels nearest first, nor those
outside [tick, 1 - tick]. `sides` keeps one side only.

The centre each market's ladder stands on is its memory (`memory`, `recall`): a restart does not
move the grid.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from contracts.domain import ONE, Intent, MarketView, Quote, Side, Snapshot, StrategyState, Tif, fmt, yes_space
from contracts.strategy_schemas.ladder import LADDER
from engine.strategies.base import MemoryUnreadable, StrategyBase, closed_reason, net_yes, orders_in
from engine.strategies.pricing import ceil_tick, floor_tick, on_grid_inside

CENT_SHARE = 10_000  # sizes are rounded down to 0.01 share
MAX_RECALLED = 10_000


class Ladder(StrategyBase):
    schema = LADDER
    per_market = ("anchors",)

    def __init__(self, name: str, params: Mapping[str, Any] | None = None) -> None:
        super().__init__(name, params)
        self.center: str = self.params["center"]
        self.fixed = self.micros("center_price")
        self.recenter = self.micros("recenter_move")
        self.levels = int(self.params["levels"])
        self.spacing = self.micros("spacing")
        self.sizes = self._sizes(self.micros("size"), float(self.params["size_multiplier"]), self.levels)
        self.max_inventory = self.micros("max_inventory")
        self.sides: str = self.params["sides"]
        self.anchors: dict[str, int] = {}  # market -> the centre its ladder stands on

    @staticmethod
    def _sizes(first: int, multiplier: float, levels: int) -> list[int]:
        return [int(first * multiplier ** k) // CENT_SHARE * CENT_SHARE for k in range(levels)]

    def decide(self, snapshot: Snapshot, state: StrategyState, now_ms: int) -> list[Intent]:
        return [self.intent(cid, *self.quotes_for(view, net_yes(state, cid), resting(state, cid)))
                for cid, view in snapshot.markets.items()]

    def quotes_for(self, view: MarketView, position: int,
                   working: frozenset[tuple[Side, int]] = frozenset()) -> tuple[tuple[Quote, ...], str]:
        """`working`: the (YES side, YES price) of its orders resting here."""
        if reason := closed_reason(view.info):
            return (), reason
        centre = self.centre(view)
        if centre is None or not 0 < centre < ONE:
            return (), f"no {self.center} to centre on"
        anchor = self.anchor(view.info.condition_id, centre)
        bids = self.side(view, anchor, Side.BUY, position, working) if self.sides != "sell" else []
        asks = self.side(view, anchor, Side.SELL, position, working) if self.sides != "buy" else []
        quotes = tuple(bids + asks)
        return quotes, f"ladder around {fmt(anchor)}: {len(bids)} bid(s), {len(asks)} ask(s)"

    def centre(self, view: MarketView) -> int | None:
        if self.center == "fixed":
            return self.fixed
        if self.center == "mid":
            return view.yes.mid if view.yes is not None else None
        return view.fair_value if self.center == "signal" else view.reference

    def anchor(self, condition_id: str, centre: int) -> int:
        """Where the ladder stands: where it stood, until the centre is `recenter_move` away from it."""
        if self.center == "fixed":
            return centre
        standing = self.anchors.get(condition_id)
        if standing is None or abs(centre - standing) >= max(self.recenter, 1):
            self.anchors[condition_id] = standing = centre
        return standing

    def side(self, view: MarketView, anchor: int, side: Side, position: int,
             working: frozenset[tuple[Side, int]]) -> list[Quote]:
        """One side's levels, nearest first, as far as the grid, the book and the inventory cap allow."""
        tick, book = view.info.tick, view.yes
        touch = None if book is None else (book.best_ask if side is Side.BUY else book.best_bid)
        quotes: list[Quote] = []
        held, last = position, None
        for k, size in enumerate(self.sizes, start=1):
            if side is Side.BUY:
                price = floor_tick(anchor - k * self.spacing, tick)
                price = price if last is None else min(price, last - tick)
                crosses = touch is not None and price >= touch.price
                held += size
            else:
                price = ceil_tick(anchor + k * self.spacing, tick)
                price = price if last is None else max(price, last + tick)
                crosses = touch is not None and price <= touch.price
                held -= size
            last = price
            if (held > self.max_inventory) if side is Side.BUY else (held < -self.max_inventory):
                break  # this level and those beyond it would take the position past the cap
            if not on_grid_inside(price, tick):
                break
            if (crosses and (side, price) not in working) or size < max(view.info.min_size, 1):
                continue
            quotes.append(Quote(side, price, size, Tif.GTC, post_only=True))
        return quotes

    def memory(self) -> dict[str, Any]:
        return {"anchors": dict(self.anchors)}

    def recall(self, memory: Mapping[str, Any]) -> None:
        anchors = memory.get("anchors")
        if not isinstance(anchors, Mapping):
            raise MemoryUnreadable("no anchors")
        for cid, anchor in list(anchors.items())[:MAX_RECALLED]:
            if isinstance(cid, str) and len(cid) <= 100 and type(anchor) is int and 0 < anchor < ONE:
                self.anchors[cid] = anchor


def resting(state: StrategyState, condition_id: str) -> frozenset[tuple[Side, int]]:
    """The YES side and price of each of its orders working in a market."""
    return frozenset(yes_space(o.outcome, o.side, o.price) for o in orders_in(state, condition_id))
