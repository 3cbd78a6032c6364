"""Copy trading: the followed wallets' public trades (MarketView.copies, engine/venues/polymarket/follow/), copied.

Each trade is copied once, `delay_s` after it happened and while it is younger than `max_age_s`:
the same side in YES space, `scale` times its size capped at `max_shares` (whole shares, at least
the market's minimum or nothing), as a fill-and-kill at most `slippage` worse than their price, so
a book that ran away is not chased. A sell is copied, with `sells` = close, only as a sale of the
YES-space position this strategy holds (no more); with mirror, as they did. One copy per market
per decision; the next waits for the next decision. The risk gate then sizes or refuses it like
any order. The copies acted on are its memory (`memory`, `recall`): a restart or reload does not
copy a trade again.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from typing import Any

from contracts.domain import MICRO, ONE, CopiedTrade, Intent, MarketView, Quote, Side, Snapshot, StrategyState, Tif, fmt
from contracts.strategy_schemas.copy_trading import COPY_TRADING
from engine.strategies.base import MemoryUnreadable, StrategyBase, closed_reason, net_yes
from engine.strategies.pricing import ceil_tick, floor_tick

REMEMBERED = 10_000  # copies already acted on, kept to act on each once (oldest forgotten)


class CopyTrading(StrategyBase):
    schema = COPY_TRADING

    def __init__(self, name: str, params: Mapping[str, Any] | None = None) -> None:
        super().__init__(name, params)
        self.scale = float(self.params["scale"])
        self.delay_ms = int(self.params["delay_s"]) * 1000
        self.max_size = self.micros("max_shares")
        self.slippage = self.micros("slippage")
        self.max_age_ms = int(self.params["max_age_s"]) * 1000
        self.mirror = self.params["sells"] == "mirror"
        self._done: deque[str] = deque(maxlen=REMEMBERED)
        self._done_set: set[str] = set()

    def decide(self, snapshot: Snapshot, state: StrategyState, now_ms: int) -> list[Intent]:
        intents = []
        for condition_id, view in snapshot.markets.items():
            quotes, reason = self._copy(view, state, now_ms)
            intents.append(self.intent(condition_id, quotes, reason))
        return intents

    def _copy(self, view: MarketView, state: StrategyState, now: int) -> tuple[tuple[Quote, ...], str]:
        if reason := closed_reason(view.info):
            return (), reason
        for copy in view.copies:
            if copy.key in self._done_set or now < copy.at_ms + self.delay_ms:
                continue
            self._remember(copy.key)
            if now - copy.at_ms > self.max_age_ms:
                continue
            quote, why = self._quote(view, copy, net_yes(state, view.info.condition_id))
            if quote is not None:
                return (quote,), why
        return (), "nothing to copy"

    def _quote(self, view: MarketView, copy: CopiedTrade, held: int) -> tuple[Quote | None, str]:
        size = min(int(copy.size * self.scale), self.max_size)
        if copy.side is Side.SELL and not self.mirror:
            size = min(size, max(0, held))
        size = size // MICRO * MICRO
        if size < view.info.min_size:
            return None, ""
        tick = view.info.tick
        if copy.side is Side.BUY:
            price = min(floor_tick(copy.price + self.slippage, tick), ONE - tick)
        else:
            price = max(ceil_tick(copy.price - self.slippage, tick), tick)
        return (Quote(copy.side, price, size, Tif.FAK),
                f"copy {copy.label}: {copy.side.value} {fmt(copy.size)} at {fmt(copy.price)} -> {fmt(size)} "
                f"at {fmt(price)} or better")

    def memory(self) -> dict[str, Any]:
        return {"done": list(self._done)}

    def recall(self, memory: Mapping[str, Any]) -> None:
        done = memory.get("done")
        if not isinstance(done, list):
            raise MemoryUnreadable("no copies")
        for key in done[-REMEMBERED:]:
            if isinstance(key, str) and len(key) <= 500 and key not in self._done_set:
                self._remember(key)

    def _remember(self, key: str) -> None:
        if len(self._done) == self._done.maxlen:
            self._done_set.discard(self._done[0])
        self._done.append(key)
        self._done_set.add(key)
