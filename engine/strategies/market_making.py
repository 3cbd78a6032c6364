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
9. Levels: with `levels` N > 1 each side quotes N orders, level k (0 the one above) at
   `level_spacing` × k further from the centre (rounded outward, at least a tick beyond the level
   before) for `size` × `level_size_multiplier`^k shares (rounded down to 0.01 share). The
   inventory cap counts a side's levels together, nearest first; a level out of range or of no
   size is dropped with the ones beyond it. Each level is its own quote, so the executor keeps
   each in its queue under the same `refresh_threshold` rule (levels further apart than the
   threshold never trade places). N = 1 is exactly the one-level quoting above.
10. Regimes (`regime_control`): the reference feed's staleness and short-term volatility
   (engine/strategies/regimes.py) choose a parameter set per market: calm quotes with
   `half_spread` and `size`, fast with `fast_half_spread` and `fast_size`, stale with
   `stale_half_spread` and `stale_size` (a size of 0 quotes nothing in that regime). The intent
   names its regime and why, and the decisions log notes each change.
11. Liquidity rewards (`reward_qualify`): in a market with a reward program, the half-spread is
   capped a tick inside the program's max spread (so a quote rounded outward stays inside it,
   measured from the fair value) and each level is at least the program's min size. Markets
   without a program are quoted as configured.
12. Reward per unit of risk: a market's daily pool divided by the capital a two-sided quote of
   the program's min size (or the strategy's size, if larger) ties up, size x 1 pUSD (a bid at p
   and an ask at p hold p and 1 - p a share): pUSD a day per pUSD at risk, 0 without a program.
   `min_reward_per_risk` stays out of markets below it; `reward_top_markets` N > 0 quotes only
   the N markets of the strategy with the highest reward per risk (ties: condition id order).
13. Toxicity (`toxicity_control`): the strategy's own markouts in the market at
   `toxicity_horizon`, decayed (engine/strategies/toxicity.py), widen the half-spread by
   `toxicity_widen` x toxicity and shrink the size linearly to nothing at `toxicity_halt`; below
   `toxicity_min` nothing changes. The regime is "toxic" while it acts.
14. Pulls (`pull_move` > 0): a sweep of the touch or a jump of the mid or the reference within
   `pull_window_s` pulls the quotes for `pull_cooldown_s` (engine/strategies/pulls.py); regime
   "pulled".
15. Reduce-only (`reduce_only_before_end_s` > 0): within that long of the market's end date only
   the side that reduces the position is quoted, for at most the position (nothing when flat);
   regime "reduce_only".
16. Closing (`stop_before_end_s` > 0): within that long of the market's end date nothing is
   quoted (the last seconds of a short up/down window); regime "closing", before all others.
With any of 10, 13-16 on, every intent names its regime (calm when nothing acts; closing before
pulled before reduce_only before toxic before the reference's fast or stale) and the decisions log notes
each change with its reason.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from contracts.domain import (
    ONE,
    Book,
    Intent,
    MarketInfo,
    MarketView,
    Quote,
    Side,
    Snapshot,
    StrategyState,
    Tif,
    fmt,
)
from contracts.strategy_schemas.market_making import MARKET_MAKING
from engine.strategies.base import StrategyBase, closed_reason, net_yes
from engine.strategies.pricing import ceil_tick, floor_tick, microprice, mul_div, on_grid_inside
from engine.strategies.pulls import PullWatch
from engine.strategies.regimes import CALM, CLOSING, FAST, PULLED, REDUCE_ONLY, STALE, TOXIC, read_regime
from engine.strategies.toxicity import shrunk, toxicity, widened

SHARE_STEP = 10_000  # sizes travel with 2 decimals (0.01 share): a level's size is rounded down to it


@dataclass(frozen=True, slots=True)
class RegimeParams:
    """What one regime quotes with: the distance from fair value and the size of the first level."""

    half_spread: int
    size: int


class MarketMaking(StrategyBase):
    schema = MARKET_MAKING

    def __init__(self, name: str, params: Mapping[str, Any] | None = None) -> None:
        super().__init__(name, params)
        self.source: str = self.params["fair_value"]
        self.half_spread = self.micros("half_spread")
        self.size = self.micros("size")
        self.skew = self.micros("skew_per_share")  # micros of price per whole share
        self.threshold = self.micros("refresh_threshold")
        self.max_inventory = self.micros("max_inventory")
        self.max_spread = self.micros("max_spread")
        self.levels: int = self.params["levels"]
        self.spacing = self.micros("level_spacing")
        self.size_multiplier = self.micros("level_size_multiplier")  # micros per one
        self.regime_control: bool = self.params["regime_control"]
        self.regime_window_ms = self.params["regime_window_s"] * 1000
        self.fast_volatility = self.micros("fast_volatility")
        self.stale_ms = self.params["stale_after_s"] * 1000
        self.by_regime = {
            CALM: RegimeParams(self.half_spread, self.size),
            FAST: RegimeParams(self.micros("fast_half_spread"), self.micros("fast_size")),
            STALE: RegimeParams(self.micros("stale_half_spread"), self.micros("stale_size")),
        }
        self.reward_qualify: bool = self.params["reward_qualify"]
        self.min_reward_per_risk = self.micros("min_reward_per_risk")  # micro-pUSD a day per pUSD
        self.reward_top: int = self.params["reward_top_markets"]
        self.toxicity_control: bool = self.params["toxicity_control"]
        self.toxicity_horizon_ms = int(self.params["toxicity_horizon"].removesuffix("s")) * 1000
        self.toxicity_half_life_ms = self.params["toxicity_half_life_s"] * 1000
        self.toxicity_min = self.micros("toxicity_min")
        self.toxicity_widen = self.micros("toxicity_widen")  # micros per one
        self.toxicity_halt = self.micros("toxicity_halt")
        self.pulls = (PullWatch(self.micros("pull_move"), self.params["pull_window_s"] * 1000,
                                self.params["pull_cooldown_s"] * 1000) if self.params["pull_move"] else None)
        self.reduce_only_ms = self.params["reduce_only_before_end_s"] * 1000
        self.stop_ms = self.params["stop_before_end_s"] * 1000
        self.controlled = (self.regime_control or self.toxicity_control or self.pulls is not None
                           or self.reduce_only_ms > 0 or self.stop_ms > 0)

    def decides_whole(self) -> bool:
        return self.reward_top > 0  # the reward ranking spans its markets

    def reads_touch_prices(self) -> bool:
        """Without controls (regimes, toxicity, pulls and the end windows read depth, markouts and the
        time) and quoting around the mid (a microprice reads sizes, a reference its feed), its quotes
        follow from the YES touch's prices, its position and its params alone (`quotes_for`)."""
        return not self.controlled and self.source == "mid"

    def reads_the_clock(self) -> bool:
        """Its controls read the time (regimes, toxicity, pulls, the end windows) and a reference price
        its feed; without them its quotes follow from the books, its position and its params."""
        return self.controlled or self.source == "reference"

    def reach(self) -> int:
        """Its furthest level, plus the move that would re-place it."""
        widest = max(regime.half_spread for regime in self.by_regime.values())
        return widest + max(self.levels - 1, 0) * self.spacing + self.threshold

    def memory(self) -> dict[str, Any] | None:
        """What the pulls have seen and pulled (the other controls read the snapshot, or the markouts
        the engine restores itself)."""
        return None if self.pulls is None else {"pulls": self.pulls.memory()}

    def recall(self, memory: Mapping[str, Any]) -> None:
        if self.pulls is not None:
            self.pulls.recall(memory.get("pulls"))

    def kept_markets(self) -> frozenset[str]:
        """The markets whose books the pulls watch."""
        return frozenset() if self.pulls is None else self.pulls.markets()

    def left(self, markets: frozenset[str]) -> None:
        if self.pulls is not None:
            self.pulls.forget(markets)

    def reward_per_risk(self, info: MarketInfo) -> int:
        """pUSD a day per pUSD at risk, in micros (item 12); 0 without a program."""
        if info.reward_daily_pool <= 0:
            return 0
        at_risk = max(info.reward_min_size, self.size, 1)  # micro-shares x 1 pUSD = micro-pUSD
        return mul_div(info.reward_daily_pool, ONE, at_risk)

    def out_by_reward(self, markets: Mapping[str, MarketView]) -> dict[str, str]:
        """Markets left out by reward per risk, each with the reason."""
        ratio = {cid: self.reward_per_risk(view.info) for cid, view in markets.items()}
        out = {cid: f"reward per risk {fmt(r)} below {fmt(self.min_reward_per_risk)}" for cid, r in ratio.items()
               if self.min_reward_per_risk and r < self.min_reward_per_risk}
        if self.reward_top:
            ranked = sorted((cid for cid in ratio if cid not in out), key=lambda cid: (-ratio[cid], cid))
            out |= {cid: f"not among the {self.reward_top} markets paying the most reward per risk"
                    for cid in ranked[self.reward_top:]}
        return out

    def qualified(self, info: MarketInfo, chosen: RegimeParams) -> RegimeParams:
        """The regime's parameters brought inside the market's reward program (item 11)."""
        if not self.reward_qualify or info.reward_max_spread <= 0 or chosen.size <= 0:
            return chosen
        half_spread = chosen.half_spread
        if info.reward_max_spread > info.tick:
            half_spread = min(half_spread, info.reward_max_spread - info.tick)
        return RegimeParams(half_spread, max(chosen.size, info.reward_min_size))

    def decide(self, snapshot: Snapshot, state: StrategyState, now_ms: int) -> list[Intent]:
        intents = []
        left_out = self.out_by_reward(snapshot.markets)
        for condition_id, view in snapshot.markets.items():
            if condition_id in left_out:
                intents.append(self.intent(condition_id, (), left_out[condition_id], keep_within=self.threshold))
            elif self.controlled:
                intents.append(self.controlled_intent(view, state, snapshot.now_ms))
            else:
                quotes, reason = self.quotes_for(view, state, self.by_regime[CALM])
                intents.append(self.intent(condition_id, quotes, reason, keep_within=self.threshold))
        return intents

    def controlled_intent(self, view: MarketView, state: StrategyState, now: int) -> Intent:
        """Quotes under the regime, toxicity, pull, reduce-only and closing controls (steps 10, 13-16)."""
        cid = view.info.condition_id
        notes: list[str] = []
        regime, chosen = CALM, self.by_regime[CALM]
        if self.regime_control:
            reading = read_regime(view, now, window_ms=self.regime_window_ms,
                                  fast_volatility=self.fast_volatility, stale_ms=self.stale_ms)
            regime, chosen = reading.regime, self.by_regime[reading.regime]
            notes.append(reading.describe())
        closing = self.closing(view.info, now)
        if closing:
            return self.labelled(cid, (), [*notes, closing], CLOSING)
        pulled = self.pulls.check(view, now) if self.pulls is not None else ""
        if pulled:
            return self.labelled(cid, (), [*notes, pulled], PULLED)
        if self.toxicity_control:
            level = toxicity(state.markouts.get(cid, ()), now, horizon_ms=self.toxicity_horizon_ms,
                             half_life_ms=self.toxicity_half_life_ms)
            if level >= self.toxicity_min:
                regime = TOXIC
                chosen = RegimeParams(widened(chosen.half_spread, level, self.toxicity_widen),
                                      shrunk(chosen.size, level, self.toxicity_halt, SHARE_STEP))
                notes.append(f"toxicity {fmt(level)}: half-spread {fmt(chosen.half_spread)}, "
                             f"size {fmt(chosen.size)}")
        ending = self.ending(view.info, now)
        if ending:
            regime = REDUCE_ONLY
            notes.append(ending)
        if chosen.size <= 0:
            return self.labelled(cid, (), [*notes, "quoting nothing in this regime"], regime)
        quotes, why = self.quotes_for(view, state, chosen)
        if ending:
            quotes, why = reducing(quotes, net_yes(state, cid)), f"{why}; only what reduces the position"
        return self.labelled(cid, quotes, [*notes, why], regime)

    def labelled(self, condition_id: str, quotes: tuple[Quote, ...], notes: list[str], regime: str) -> Intent:
        intent = self.intent(condition_id, quotes, "; ".join(notes), keep_within=self.threshold)
        return replace(intent, regime=regime)

    def closing(self, info: MarketInfo, now: int) -> str:
        """Why nothing is quoted this close to the end ("" further from it, or without the control)."""
        if self.stop_ms <= 0 or info.end_ms is None or info.end_ms - now > self.stop_ms:
            return ""
        left = max(0, info.end_ms - now) / 1000
        return f"closing: the market ends in {left:.0f} s, quoting stopped {self.stop_ms // 1000} s before"

    def ending(self, info: MarketInfo, now: int) -> str:
        """Why only reducing quotes are wanted now ("" outside the window before the end date)."""
        if self.reduce_only_ms <= 0 or info.end_ms is None or info.end_ms - now > self.reduce_only_ms:
            return ""
        left = max(0, info.end_ms - now) // 1000
        return f"reduce-only: the market ends in {left // 3600} h {left % 3600 // 60} min"

    def quotes_for(self, view: MarketView, state: StrategyState,
                   chosen: RegimeParams) -> tuple[tuple[Quote, ...], str]:
        """The bids and asks for one market and a short reason for the operator."""
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
        chosen = self.qualified(info, chosen)
        bid, ask = self.targets(fair, position, info.tick, best_bid, best_ask, chosen.half_spread)
        return self.assemble(bid, ask, position, info.tick, chosen.size)

    def fair_value(self, view: MarketView, book: Book) -> int | None:
        if self.source == "reference":
            return view.reference
        if self.source == "microprice":
            return microprice(book)
        return book.mid

    def targets(self, fair: int, position: int, tick: int, best_bid: int, best_ask: int,
                half_spread: int) -> tuple[int, int]:
        """Skewed, tick-rounded, non-crossing target prices of the first level (steps 3-5)."""
        centre = fair - mul_div(self.skew, position, ONE)
        bid = floor_tick(centre - half_spread, tick)
        ask = ceil_tick(centre + half_spread, tick)
        if ask <= bid:  # half_spread 0 on a grid price: keep our own quotes a tick apart
            ask = bid + tick
        # Only ever move away from the touch, so the two sides stay apart.
        bid = min(bid, floor_tick(best_ask - 1, tick))
        ask = max(ask, ceil_tick(best_bid + 1, tick))
        return bid, ask

    def ladder(self, first: int, tick: int, size: int, outward: int) -> list[tuple[int, int]]:
        """(price, size) of each level of one side, nearest first; `outward` -1 for bids, +1 for asks.
        Level k is `level_spacing` × k beyond the first, rounded outward, and at least a tick beyond
        the level before; its size is the previous level's × the multiplier, rounded down."""
        rungs = [(first, size)]
        for k in range(1, self.levels):
            offset = first + outward * self.spacing * k
            price = floor_tick(offset, tick) if outward < 0 else ceil_tick(offset, tick)
            previous_price, previous_size = rungs[-1]
            price = min(price, previous_price - tick) if outward < 0 else max(price, previous_price + tick)
            level_size = mul_div(previous_size, self.size_multiplier, ONE)
            rungs.append((price, level_size - level_size % SHARE_STEP))
        return rungs

    def assemble(self, bid: int, ask: int, position: int, tick: int, size: int) -> tuple[tuple[Quote, ...], str]:
        """Apply the inventory cap and price bounds (steps 7-8) to each level and build the quotes."""
        quotes: list[Quote] = []
        dropped: list[str] = []
        for side, first, outward in ((Side.BUY, bid, -1), (Side.SELL, ask, 1)):
            name = "bid" if side is Side.BUY else "ask"
            held = position
            for level, (price, level_size) in enumerate(self.ladder(first, tick, size, outward)):
                label = name if level == 0 else f"{name} level {level + 1}"
                after = held + level_size if side is Side.BUY else held - level_size
                if after > self.max_inventory if side is Side.BUY else after < -self.max_inventory:
                    dropped.append(f"{label}: inventory cap")
                    break
                if level_size <= 0 or not on_grid_inside(price, tick):
                    dropped.append(f"{label}: price out of range" if level_size > 0 else f"{label}: no size")
                    break
                quotes.append(Quote(side, price, level_size, Tif.GTC, post_only=True))
                held = after
        reason = "quoting" if not dropped else "; ".join(dropped)
        return tuple(quotes), reason


def reducing(quotes: tuple[Quote, ...], position: int) -> tuple[Quote, ...]:
    """The quotes that reduce `position` (net YES): asks while long, bids while short, nearest
    first, together for at most the position; none when flat."""
    wanted = Side.SELL if position > 0 else Side.BUY
    left = abs(position)
    kept = []
    for quote in quotes:
        if quote.side is not wanted or left <= 0:
            continue
        size = min(quote.size, left)
        kept.append(replace(quote, size=size))
        left -= size
    return tuple(kept)
