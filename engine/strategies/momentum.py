"""Momentum / mean reversion on the YES mid: hold +size, 0 or -size shares of YES.

Each call samples every market's YES mid at `now_ms` into per-market indicators (time-decayed,
O(1) per sample, see indicators.py) and turns them into a signal s in {-1, 0, +1}:

* momentum: fast EMA - slow EMA above `threshold` -> +1, below -threshold -> -1, in between
  the previous signal holds (hysteresis, so a crossover that wobbles does not churn).
* mean_reversion: z = (mid - EWMA mean) / max(EWMA std, one tick), measured against the
  statistics before this sample. z > entry_z -> -1 (expect a fall), z < -entry_z -> +1,
  |z| < exit_z -> 0, otherwise the previous signal holds.

The target position is s * position_size; the strategy emits the one FAK that moves net YES
toward it: BUY at the best ask or SELL at the best bid (a SELL of YES not held becomes a NO
buy in the planner), capped by the touch size. Nothing is traded before the market has been
observed for `warmup_seconds`, while one of our orders there is in flight, or when the gap to
the target is below the market's minimum order size. Markets without a mid are not sampled.

In-memory state is one small record per market it trades, kept while a decision covers only some of
them (a decision on one market's event) and forgotten when the market leaves it (`left`), so memory
stays bounded by its markets. It is the strategy's
memory (`memory`, `recall`): a restart or reload with the same params resumes warm instead of
waiting `warmup_seconds` again (a market whose record cannot be read starts cold).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from contracts.domain import Book, Intent, MarketView, Quote, Snapshot, StrategyState, fmt
from contracts.strategy_schemas.momentum import MOMENTUM
from engine.strategies.base import MemoryUnreadable, StrategyBase, closed_reason, net_yes, orders_in, take_toward
from engine.strategies.indicators import Ema, EwmStats

SECOND_MS = 1000
MAX_RECALLED = 10_000  # market records taken back from a stored memory, at most


@dataclass(slots=True)
class MarketSignal:
    """Indicators and the last signal for one market."""

    fast: Ema
    slow: Ema
    stats: EwmStats
    signal: int = 0
    first_ms: int | None = None
    samples: int = 0


class Momentum(StrategyBase):
    schema = MOMENTUM
    per_market = ("signals",)

    def __init__(self, name: str, params: Mapping[str, Any] | None = None) -> None:
        super().__init__(name, params)
        self.mode: str = self.params["mode"]
        self.size = self.micros("position_size")
        self.threshold = float(self.micros("threshold"))
        self.entry_z = float(self.params["entry_z"])
        self.exit_z = float(self.params["exit_z"])
        self.warmup_ms = int(self.params["warmup_seconds"]) * SECOND_MS
        self.signals: dict[str, MarketSignal] = {}

    def new_signal(self) -> MarketSignal:
        return MarketSignal(
            fast=Ema(self.params["fast_seconds"] * SECOND_MS),
            slow=Ema(self.params["slow_seconds"] * SECOND_MS),
            stats=EwmStats(self.params["lookback_seconds"] * SECOND_MS),
        )

    def decide(self, snapshot: Snapshot, state: StrategyState, now_ms: int) -> list[Intent]:
        intents = []
        for condition_id, view in snapshot.markets.items():
            mid = view.yes.mid if view.yes is not None else None
            if mid is not None:
                self.observe(condition_id, mid, view.info.tick, now_ms)
            if orders_in(state, condition_id):
                continue  # a take is in flight: let it resolve before deciding again
            quotes, reason = self.quotes_for(view, mid, net_yes(state, condition_id), now_ms)
            intents.append(self.intent(condition_id, quotes, reason))
        return intents

    def memory(self) -> dict[str, Any]:
        return {"signals": {cid: {"fast": sig.fast.state(), "slow": sig.slow.state(), "stats": sig.stats.state(),
                                  "signal": sig.signal, "first_ms": sig.first_ms, "samples": sig.samples}
                            for cid, sig in self.signals.items()}}

    def recall(self, memory: Mapping[str, Any]) -> None:
        signals = memory.get("signals")
        if not isinstance(signals, Mapping):
            raise MemoryUnreadable("no signals")
        for cid, saved in list(signals.items())[:MAX_RECALLED]:
            sig = self._recalled(saved) if isinstance(cid, str) and len(cid) <= 100 else None
            if sig is not None:
                self.signals[cid] = sig

    def _recalled(self, saved: Any) -> MarketSignal | None:
        """One market's record, or None when any part of it cannot be read."""
        if not isinstance(saved, Mapping):
            return None
        sig = self.new_signal()
        signal, first, samples = saved.get("signal"), saved.get("first_ms"), saved.get("samples")
        if not (sig.fast.restore(saved.get("fast")) and sig.slow.restore(saved.get("slow"))
                and sig.stats.restore(saved.get("stats"))):
            return None
        if signal not in (-1, 0, 1) or isinstance(signal, bool):
            return None
        if not (isinstance(first, int) and not isinstance(first, bool) and first >= 0):
            return None
        if not (isinstance(samples, int) and not isinstance(samples, bool) and samples >= 0):
            return None
        sig.signal, sig.first_ms, sig.samples = signal, first, samples
        return sig

    def observe(self, condition_id: str, mid: int, tick: int, now_ms: int) -> None:
        """Feed one mid sample and update the market's signal (O(1))."""
        sig = self.signals.get(condition_id)
        if sig is None:
            sig = self.signals[condition_id] = self.new_signal()
        if sig.first_ms is None:
            sig.first_ms = now_ms
        sig.samples += 1
        if self.mode == "momentum":
            gap = sig.fast.update(mid, now_ms) - sig.slow.update(mid, now_ms)
            if gap > self.threshold:
                sig.signal = 1
            elif gap < -self.threshold:
                sig.signal = -1
        else:
            z = sig.stats.zscore(mid, float(max(tick, 1))) if sig.stats.count else 0.0
            sig.stats.update(mid, now_ms)
            sig.signal = self.reversion_signal(z, sig.signal)

    def reversion_signal(self, z: float, previous: int) -> int:
        if z > self.entry_z:
            return -1
        if z < -self.entry_z:
            return 1
        if abs(z) < self.exit_z:
            return 0
        return previous

    def quotes_for(self, view: MarketView, mid: int | None, position: int,
                   now_ms: int) -> tuple[tuple[Quote, ...], str]:
        if reason := closed_reason(view.info):
            return (), reason
        sig = self.signals.get(view.info.condition_id)
        if mid is None or view.yes is None or sig is None:
            return (), "no mid"
        assert sig.first_ms is not None
        if sig.samples < 2 or now_ms - sig.first_ms < self.warmup_ms:
            return (), "warming up"
        target = sig.signal * self.size
        gap = target - position
        if abs(gap) < max(view.info.min_size, 1):
            return (), f"at target {fmt(target)} shares"
        return self.take_toward(view.yes, gap, target)

    @staticmethod
    def take_toward(book: Book, gap: int, target: int) -> tuple[tuple[Quote, ...], str]:
        """The FAK that moves the position by `gap` micro-shares, as far as the touch allows."""
        return take_toward(book, gap, f"target {fmt(target)} shares")
