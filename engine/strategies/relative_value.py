"""Pairs / relative value: trade the spread between two prices of one question back to its mean.

`against` = reference: each market's spread is its YES mid less its reference price (the mid of
the Kalshi market the operator paired with it, in this market's YES terms, or the reference
feed's), used while the reference is at most `stale_after_s` old. Only this market is traded: the
other venue's price is the yardstick, not a leg (a leg there would need the cross-venue
machinery; cross_venue_arb trades both venues).

`against` = other_market: the strategy names exactly two markets of this venue (the same question
listed twice, or two markets of one event), A and B in condition-id order; the spread is
mid(A) - mid(B) (`relation` same) or mid(A) + mid(B) - 1 (inverse: one's YES is the other's NO).
Both legs are traded, each an ordinary order through the risk gate: they are not placed whole
(the gate's whole-or-nothing sets are for complete outcome sets), so a leg refused or unfilled
stands alone until a later decision reaches its target.

Each decision samples the spread (only while every leg's book spread is at most `max_spread`)
into an exponentially weighted mean and variance with time constant `lookback_s`, and reads its
z-score against the statistics before the sample (the deviation floored at `min_std`): beyond
+`entry_z` the first leg is rich (hold -`size` of it: sell YES or buy NO), beyond -`entry_z` cheap
(+`size`), inside `exit_z` flat, and in between the last signal holds. The second leg holds the
opposite (same) or the same (inverse). Nothing is traded before `warmup_s` of samples. Each leg
moves toward its target with a fill-and-kill at the touch, and says nothing while one of its
orders is in flight. The statistics are its memory (`memory`, `recall`): one spread per market against its
reference, or one for the pair (keyed by both ids), each forgotten when one of its markets leaves the strategy
(`left`), never because a decision covered fewer markets.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from contracts.domain import ONE, Intent, MarketView, Quote, Snapshot, StrategyState, fmt
from contracts.strategy_schemas.relative_value import RELATIVE_VALUE
from engine.strategies.base import MemoryUnreadable, StrategyBase, closed_reason, net_yes, orders_in, take_toward
from engine.strategies.indicators import EwmStats

MAX_RECALLED = 10_000


@dataclass(slots=True)
class Spread:
    """One spread's statistics and its last signal (+1: the first leg cheap, -1: rich, 0: flat)."""

    stats: EwmStats
    signal: int = 0
    first_ms: int | None = None
    z: float = 0.0


class RelativeValue(StrategyBase):
    schema = RELATIVE_VALUE

    def __init__(self, name: str, params: Mapping[str, Any] | None = None) -> None:
        super().__init__(name, params)
        self.pair_mode = self.params["against"] == "other_market"
        self.inverse = self.params["relation"] == "inverse"
        self.size = self.micros("size")
        self.entry_z = float(self.params["entry_z"])
        self.exit_z = float(self.params["exit_z"])
        self.min_std = float(self.micros("min_std"))
        self.warmup_ms = int(self.params["warmup_s"]) * 1000
        self.max_spread = self.micros("max_spread")
        self.stale_ms = int(self.params["stale_after_s"]) * 1000
        self.spreads: dict[str, Spread] = {}

    def decides_whole(self) -> bool:
        return self.pair_mode  # both legs read both markets

    def new_spread(self) -> Spread:
        return Spread(EwmStats(int(self.params["lookback_s"]) * 1000))

    def decide(self, snapshot: Snapshot, state: StrategyState, now_ms: int) -> list[Intent]:
        if self.pair_mode:
            return self.decide_pair(snapshot, state, now_ms)
        intents = []
        for cid, view in snapshot.markets.items():
            mid = self.mid(view)
            reference = view.reference if view.reference_at is not None and \
                now_ms - view.reference_at <= self.stale_ms else None
            if mid is not None and reference is not None and 0 <= reference <= ONE:
                self.observe(cid, mid - reference, now_ms)
            if orders_in(state, cid):
                continue
            intents.append(self.intent(cid, *self.leg(view, cid, 1, net_yes(state, cid), now_ms)))
        return intents

    def decide_pair(self, snapshot: Snapshot, state: StrategyState, now_ms: int) -> list[Intent]:
        cids = sorted(snapshot.markets)
        if len(cids) != 2:
            return [self.intent(cid, (), f"names {len(cids)} market(s): trading one against another needs exactly "
                                         "two") for cid in cids]
        key = "|".join(cids)
        first, second = (snapshot.markets[cid] for cid in cids)
        mids = self.mid(first), self.mid(second)
        if mids[0] is not None and mids[1] is not None:
            self.observe(key, mids[0] + mids[1] - ONE if self.inverse else mids[0] - mids[1], now_ms)
        legs = ((cids[0], first, 1), (cids[1], second, 1 if self.inverse else -1))
        return [self.intent(cid, *self.leg(view, key, sign, net_yes(state, cid), now_ms))
                for cid, view, sign in legs if not orders_in(state, cid)]

    def kept_markets(self) -> frozenset[str]:
        """The markets of its spreads (a pair's key names both of its markets)."""
        return frozenset(cid for key in self.spreads for cid in key.split("|"))

    def left(self, markets: frozenset[str]) -> None:
        """A spread is forgotten when one of its markets leaves (a pair's with either leg)."""
        for key in [key for key in self.spreads if not markets.isdisjoint(key.split("|"))]:
            del self.spreads[key]

    def mid(self, view: MarketView) -> int | None:
        """A leg's YES mid, when its book is narrow enough to say something."""
        book = view.yes
        if book is None or book.mid is None or book.spread is None or book.spread > self.max_spread:
            return None
        return book.mid

    def observe(self, key: str, spread: int, now: int) -> None:
        watch = self.spreads.get(key)
        if watch is None:
            watch = self.spreads[key] = self.new_spread()
        if watch.first_ms is None:
            watch.first_ms = now
        if watch.stats.count:
            watch.z = watch.stats.zscore(spread, self.min_std)
            watch.signal = self.signal(watch.z, watch.signal)
        watch.stats.update(spread, now)

    def signal(self, z: float, previous: int) -> int:
        if z > self.entry_z:
            return -1
        if z < -self.entry_z:
            return 1
        if abs(z) < self.exit_z:
            return 0
        return previous

    def leg(self, view: MarketView, key: str, sign: int, position: int, now: int) -> tuple[tuple[Quote, ...], str]:
        """One leg's order toward its target: `sign` * the spread's signal * `size`."""
        if reason := closed_reason(view.info):
            return (), reason
        watch = self.spreads.get(key)
        if watch is None or watch.first_ms is None or view.yes is None:
            return (), "no spread yet (a leg without a narrow book, or no fresh reference price)"
        if watch.stats.count < 2 or now - watch.first_ms < self.warmup_ms:
            return (), "warming up"
        target = sign * watch.signal * self.size
        gap = target - position
        if abs(gap) < max(view.info.min_size, 1):
            return (), f"at target {fmt(target)} (spread z {watch.z:+.2f})"
        return take_toward(view.yes, gap, f"spread z {watch.z:+.2f}: target {fmt(target)}")

    def memory(self) -> dict[str, Any]:
        return {"spreads": {key: {"stats": w.stats.state(), "signal": w.signal, "first_ms": w.first_ms}
                            for key, w in self.spreads.items()}}

    def recall(self, memory: Mapping[str, Any]) -> None:
        spreads = memory.get("spreads")
        if not isinstance(spreads, Mapping):
            raise MemoryUnreadable("no spreads")
        for key, saved in list(spreads.items())[:MAX_RECALLED]:
            if not (isinstance(key, str) and len(key) <= 201 and isinstance(saved, Mapping)):
                continue
            watch = self.new_spread()
            signal, first = saved.get("signal"), saved.get("first_ms")
            if watch.stats.restore(saved.get("stats")) and signal in (-1, 0, 1) and not isinstance(signal, bool) \
                    and type(first) is int and first >= 0:
                watch.signal, watch.first_ms = signal, first
                self.spreads[key] = watch
