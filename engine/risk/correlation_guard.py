"""The correlation watch's side effects: feed it the mids of the books the engine keeps, hand the
risk gate the correlated groups, and move the desk's persisted trading state (reason CORRELATION)
to REDUCING on a correlation spike and, by itself, back. The logic is engine/risk/correlation.py."""

from __future__ import annotations

import logging
from collections.abc import Mapping

from contracts.domain import MarketView
from contracts.limits import Limits
from engine.risk import breakers
from engine.risk.correlation import MIN_MARKETS, SPIKE_HYSTERESIS, CorrelationWatch, Settings
from engine.risk.gate import TradingState
from storage.sqlite.db import Database

log = logging.getLogger("engine.risk.correlation")
CORRELATION = "CORRELATION"  # the desk's trading-state reason and alert code


class CorrelationGuard:
    def __init__(self, db: Database) -> None:
        self.db = db
        self.watch = CorrelationWatch()
        self._limits: Limits | None = None  # the limits its settings were derived from (once per limits, not per pass)
        self._settings: Settings | None = None

    def settings(self, limits: Limits) -> Settings:
        if limits is not self._limits or self._settings is None:
            self._limits, self._settings = limits, Settings.of(limits)
        return self._settings

    @property
    def groups(self) -> Mapping[str, str]:
        return self.watch.picture.groups

    def next_close(self, now: int, s: Settings, memory: breakers.RiskMemory, markets: int) -> int | None:
        """When a pass may next close a bucket that changes something, with no new mid (None: never): a
        replay's quiet passes (engine/backtest/quiet_passes.py). With fewer than two `markets` there is
        no pair to measure (the groups and the spike stay empty), so a close changes nothing unless
        it would relax the desk's correlation state."""
        if markets < 2 and memory.reason != CORRELATION:
            return None
        return self.watch.next_bucket(now, s)

    def tick(self, views: Mapping[str, MarketView], limits: Limits, memory: breakers.RiskMemory,
             now: int) -> breakers.RiskMemory:
        """One pass: sample the mids; when a bucket closed, judge the spike; returns the desk's
        risk memory (changed when the desk's correlation state moved)."""
        s = self.settings(limits)
        mids = {cid: v.yes.mid if v.yes is not None else None for cid, v in views.items()}
        if not self.watch.observe(mids, now, s):
            return memory
        ours = memory.reason == CORRELATION
        mean = self.watch.picture.mean_abs
        spiking = s.spike > 0 and mean is not None and mean >= s.spike
        calm = s.spike <= 0 or mean is None or mean < s.spike - SPIKE_HYSTERESIS
        if spiking and breakers.SEVERITY[TradingState.REDUCING] > breakers.SEVERITY[memory.trading_state]:
            why = (f"the watched markets move together: mean absolute correlation {mean:.2f} over "
                   f"{self.watch.picture.pairs} pairs (spike at {s.spike:g}); no new risk until it is below "
                   f"{s.spike - SPIKE_HYSTERESIS:.2f}")
            with self.db.write() as conn:
                breakers.escalate(conn, memory, TradingState.REDUCING, CORRELATION, why, now)
                memory = breakers.load_memory(conn)
            log.warning("correlation spike", extra={"mean_abs": round(mean or 0, 3)})
        elif ours and calm:
            shown = "off" if s.spike <= 0 else ("unknown" if mean is None else f"{mean:.2f}")
            with self.db.write() as conn:
                breakers.relax(conn, CORRELATION, f"the markets' mean absolute correlation is {shown} (fewer than "
                               f"{MIN_MARKETS} markets judged reads as unknown): back within its limit", now)
                memory = breakers.load_memory(conn)
            log.warning("correlation spike over")
        return memory
