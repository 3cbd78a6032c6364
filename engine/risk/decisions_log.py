"""The `decisions` table: why the gate trimmed or refused a quote ("why didn't it trade?").

Quotes are re-checked every tick, so the same refusal would be written many times a
minute; a decision is written when its (strategy, market, side, reason) is new, when it
turns from a trim into a refusal or back, or again after REPEAT_MS as a reminder (sizes
that wobble from tick to tick do not count as news). Retention is bounded by age and by
row count.

Beside them, `note` rows: a strategy that reads a market regime (the market maker's calm, fast,
stale) has each change of regime per market noted once, with the strategy's reason, so the log
says which parameter set was quoting when something was refused.

And the `forecasts`: a strategy that states a probability of YES for a market (value betting's
fair value) has it written when it moves, scored later against the market's resolution.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from contracts.domain import Intent
from engine.risk.gate import Decision, Reason
from storage.engine_stores import risk_store
from storage.sqlite.db import Database

REPEAT_MS = 60_000
MAX_ROWS = 200_000
# A stated probability is written when it moves this far (micro: half a percentage point) from the
# one last written, or after FORECAST_REPEAT_MS unchanged, so a calibration sees each market's
# forecasts across its life without a row a tick.
FORECAST_STEP = 5_000
FORECAST_REPEAT_MS = 3_600_000
MAX_FORECASTS = 500_000


class DecisionsLog:
    def __init__(self, db: Database, mode: str):
        self.db = db
        self.mode = mode
        self._last: dict[tuple[str, str, str, str], tuple[int, str]] = {}
        self._seen: dict[tuple[str, str, str, str], int] = {}  # each decision's key -> when it was last made
        self._regimes: dict[tuple[str, str], str] = {}  # (strategy, market) -> the regime last noted
        self._forecasts: dict[tuple[str, str], tuple[int, int]] = {}  # (strategy, market) -> (at, p) last written
        # Told every decision handed to `write`, news or not (a backtest counts each refusal: refusals.py).
        self.observer: Callable[[Sequence[Decision]], None] | None = None
        self.rows = 0  # rows written so far (decisions, notes, forecasts): nothing a pass decides on reads them

    def forecasts(self, intents: Iterable[Intent], now: int) -> int:
        """Write each stated probability that moved FORECAST_STEP, or stood FORECAST_REPEAT_MS, since
        the last one written for its strategy and market."""
        rows = []
        for intent in intents:
            p = intent.probability
            if p is None:
                continue
            key = (intent.strategy, intent.condition_id)
            last = self._forecasts.get(key)
            if last is not None and abs(p - last[1]) < FORECAST_STEP and now - last[0] < FORECAST_REPEAT_MS:
                continue
            self._forecasts[key] = (now, p)
            rows.append((now, self.mode, intent.strategy, intent.condition_id, p))
        if rows:
            with self.db.write() as conn:
                risk_store.add_forecasts(conn, rows)
            self.rows += len(rows)
        return len(rows)

    def regimes(self, intents: Iterable[Intent], now: int) -> int:
        """Note each (strategy, market) whose regime changed since the last note."""
        changed = []
        for intent in intents:
            key = (intent.strategy, intent.condition_id)
            if intent.regime and self._regimes.get(key) != intent.regime:
                self._regimes[key] = intent.regime
                changed.append(intent)
        if not changed:
            return 0
        with self.db.write() as conn:
            risk_store.add_notes(conn, [(now, self.mode, i.strategy, i.condition_id,
                                         Reason(f"REGIME_{i.regime.upper()}").value, i.reason[:500])
                                        for i in changed])
        self.rows += len(changed)
        return len(changed)

    def write(self, decisions: Iterable[Decision], now: int) -> int:
        if self.observer is not None:
            decisions = list(decisions)
            self.observer(decisions)
        fresh = [d for d in decisions if self._is_news(d, now)]
        if not fresh:
            return 0
        with self.db.write() as conn:
            risk_store.add_decisions(conn, [(now, self.mode, d.strategy, d.condition_id, d.side.value, d.price,
                                             d.requested, d.approved, d.action, d.reason.value, d.detail or None)
                                            for d in fresh])
        self.rows += len(fresh)
        return len(fresh)

    def next_due(self, now: int, before: int) -> int | None:
        """(contracts/due.py) The earliest time after `now` a decision made at `now`, or a stated
        probability, repeated unchanged is written again (None: none is waiting). A decision not made at
        `now` is not being repeated: only a change would make it again, and a change is news whenever it
        comes."""
        seen = self._seen
        due = [at + REPEAT_MS for key, (at, _) in self._last.items() if at + REPEAT_MS > now and seen[key] == now]
        due += [at + FORECAST_REPEAT_MS for at, _ in self._forecasts.values() if at + FORECAST_REPEAT_MS > now]
        return min(due, default=None)

    def _is_news(self, decision: Decision, now: int) -> bool:
        key = (decision.strategy, decision.condition_id, decision.side, decision.reason)  # str enums: as their values
        self._seen[key] = now
        last = self._last.get(key)
        if last is not None and now - last[0] < REPEAT_MS and last[1] == decision.action:
            return False
        self._last[key] = (now, decision.action)
        return True


def prune(db: Database, *, now: int, retention_days: int) -> int:
    """Decisions older than the retention, then beyond MAX_ROWS, go, and forecasts beyond
    MAX_FORECASTS; returns how many decisions went."""
    with db.write() as conn:
        risk_store.prune_forecasts(conn, keep=MAX_FORECASTS)
        return risk_store.prune_decisions(conn, before=now - retention_days * 86_400_000, keep=MAX_ROWS)
