"""Why a backtest's quotes did not trade: every trim and refusal counted by reason.

The decisions log writes a refusal once a minute at most (it is for reading), so its rows
undercount; a backtest counts each occurrence instead: each quote the strategy asked for at
each decision is checked once by the risk gate, and refused there, by the planner (below the
market's minimum size, for instance) or at placement, at most once.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from contracts.domain import Intent
    from engine.risk.gate import Decision
    from engine.risk.monitor import RiskMonitor

MOSTLY = 0.5  # the share of refused quote checks from which a result says so


class RefusalTally:
    """Counts the core's quote checks and its decisions; attach before the replay."""

    def __init__(self) -> None:
        self.checked = 0
        self.refused: Counter[str] = Counter()
        self.trimmed: Counter[str] = Counter()

    def attach(self, risk: RiskMonitor) -> None:
        """Wrap the gate check and the decisions log of the risk monitor the run's strategy
        trades under (a backtest's own core's, or its Kalshi lane's: nothing else uses it),
        counting what passes through."""
        log = risk.decisions
        check, write = risk.check, log.write

        def counted_check(intents: list[Intent], now: int) -> list[Intent]:
            self.checked += sum(len(i.quotes) for i in intents)
            return check(intents, now)

        def counted_write(decisions: Iterable[Decision], now: int) -> int:
            decisions = list(decisions)
            for d in decisions:
                (self.refused if d.action == "deny" else self.trimmed)[d.reason.value] += 1
            return write(decisions, now)

        risk.check = counted_check  # type: ignore[method-assign]  # a scripted stand-in for this test
        log.write = counted_write  # type: ignore[method-assign]  # a scripted stand-in for this test

    def summary(self) -> dict[str, Any]:
        refused = sum(self.refused.values())
        share = refused / self.checked if self.checked else 0.0
        note = ""
        if self.checked and share >= MOSTLY:
            reasons = ", ".join(f"{reason} {count:,}" for reason, count in self.refused.most_common())
            note = (f"Most quotes were refused: {refused:,} of {self.checked:,} quote checks ({share:.0%}) "
                    f"by reason: {reasons}")
        return {"checked": self.checked, "refused": dict(self.refused.most_common()),
                "trimmed": dict(self.trimmed.most_common()), "refused_share": share, "note": note}
