"""Accumulation to a target position over time (DCA): `target_shares` of one outcome, in slices.

Every `interval_s` it sends one fill-and-kill of a slice at the touch: for YES a buy at the best
ask, for NO a sale of YES at the best bid (the planner buys NO at 1 - bid for it), only while
that price for the outcome is at or under `price_cap`. A slice is `size` shares, less when the
target is nearer or the touch thinner (a slice below the market's minimum order is not sent).
What the strategy holds counts toward the target (a NO share is short YES, so YES held counts
against a NO target); once it is within the market's minimum order of the target it stops. It
never sells what it accumulated: exits (stop-loss, take-profit, the operator's) do.

A slice waits for the interval from the last slice sent, whether the venue filled it, the risk
gate trimmed or refused it; a price above the cap sends nothing and waits for a better one
without starting the interval. While a slice is in flight it says nothing. When each market's
last slice went is its memory (`memory`, `recall`): a restart does not send the next one early.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from contracts.domain import ONE, Book, Intent, MarketView, Quote, Side, Snapshot, StrategyState, Tif, fmt
from contracts.strategy_schemas.accumulate import ACCUMULATE
from engine.strategies.base import MemoryUnreadable, StrategyBase, closed_reason, net_yes, orders_in

MAX_RECALLED = 10_000


class Accumulate(StrategyBase):
    schema = ACCUMULATE
    per_market = ("last",)

    def __init__(self, name: str, params: Mapping[str, Any] | None = None) -> None:
        super().__init__(name, params)
        self.yes = self.params["outcome"] == "YES"
        self.target = self.micros("target_shares")
        self.size = self.micros("size")
        self.interval_ms = int(self.params["interval_s"]) * 1000
        self.cap = self.micros("price_cap")
        self.last: dict[str, int] = {}  # market -> when its last slice was sent (ms)

    def decide(self, snapshot: Snapshot, state: StrategyState, now_ms: int) -> list[Intent]:
        intents = []
        for cid, view in snapshot.markets.items():
            if orders_in(state, cid):
                continue  # a slice is in flight: let it resolve before deciding again
            held = net_yes(state, cid) if self.yes else -net_yes(state, cid)
            quotes, reason = self.slice(view, held, now_ms)
            if quotes:
                self.last[cid] = now_ms
            intents.append(self.intent(cid, quotes, reason))
        return intents

    def slice(self, view: MarketView, held: int, now: int) -> tuple[tuple[Quote, ...], str]:
        if reason := closed_reason(view.info):
            return (), reason
        outcome = "YES" if self.yes else "NO"
        remaining = self.target - held
        if remaining < max(view.info.min_size, 1):
            return (), f"at target: {fmt(held)} of {fmt(self.target)} {outcome} held"
        last = self.last.get(view.info.condition_id)
        if last is not None and now - last < self.interval_ms:
            return (), f"next slice in {(last + self.interval_ms - now + 999) // 1000} s"
        return self.take(view.yes, min(self.size, remaining), view.info.min_size, outcome)

    def take(self, book: Book | None, size: int, min_size: int, outcome: str) -> tuple[tuple[Quote, ...], str]:
        """One slice at the touch, when the outcome's price there is within the cap."""
        level = None if book is None else (book.best_ask if self.yes else book.best_bid)
        if level is None or not 0 < level.price < ONE:
            return (), "no price to buy at"
        paid = level.price if self.yes else ONE - level.price
        if paid > self.cap:
            return (), f"{outcome} costs {fmt(paid)}: above the cap {fmt(self.cap)}"
        size = min(size, level.size)
        if size < max(min_size, 1):
            return (), f"the touch holds {fmt(level.size)} shares: under the market's minimum order"
        side = Side.BUY if self.yes else Side.SELL
        return (Quote(side, level.price, size, Tif.FAK),), f"slice of {fmt(size)} {outcome} at {fmt(paid)}"

    def memory(self) -> dict[str, Any]:
        return {"last": dict(self.last)}

    def recall(self, memory: Mapping[str, Any]) -> None:
        last = memory.get("last")
        if not isinstance(last, Mapping):
            raise MemoryUnreadable("no slices")
        for cid, at in list(last.items())[:MAX_RECALLED]:
            if isinstance(cid, str) and len(cid) <= 100 and type(at) is int and at >= 0:
                self.last[cid] = at
