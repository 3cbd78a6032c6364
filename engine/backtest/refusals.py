"""Why a backtest's quotes did not trade: every trim and refusal counted by reason.

The decisions log writes a refusal once a minute at most (it is for reading), so its rows
undercount; a backtest counts each occurrence instead: each quote the strategy asked for at
each decision is checked once by the risk gate, and refused there, by the planner (below the
market's minimum size, for instance) or at placement, at most once; a placement refused (an order
the gate approved earlier, placed again and refused again) is a check of its own, so the refused
share is refused checks over checks, never above 1. Skipping a replay's quiet passes changes none of
these figures (issue 86 item 10).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from engine.risk.gate import Decision
    from engine.risk.monitor import RiskMonitor

MOSTLY = 0.5  # the share of refused quote checks from which a result says so

PassCounts = tuple[int, tuple[tuple[bool, str], ...]]  # (quotes checked, each decision's (refused, reason))


class RefusalTally:
    """Counts the core's quote checks and its decisions; attach before the replay."""

    def __init__(self) -> None:
        self.refused: Counter[str] = Counter()
        self.trimmed: Counter[str] = Counter()
        self._monitors: list[tuple[RiskMonitor, int]] = []  # (a risk monitor, its quotes checked before)
        self.repeated = 0  # the quotes skipped passes would have checked
        self._pass_checked = 0
        self._pass: list[tuple[bool, str]] | None = None  # the decisions since `begin_pass`, until `pass_counts`

    @property
    def checked(self) -> int:
        """The quotes the gate checked since `attach` (or would have, in the passes a replay skipped)."""
        return sum(risk.quotes_checked - before for risk, before in self._monitors) + self.repeated

    def attach(self, risk: RiskMonitor) -> None:
        """Count the gate's checks and the decisions of the risk monitor the run's strategy trades
        under (a backtest's own core's, or its Kalshi ledger's: nothing else uses it)."""
        self._monitors.append((risk, risk.quotes_checked))
        risk.decisions.observer = self._decided

    def begin_pass(self) -> None:
        """Keep what the pass about to run counts (a replay's quiet passes: engine/backtest/quiet_passes.py)."""
        self._pass_checked = self.checked
        self._pass = []

    def pass_counts(self) -> PassCounts:
        """What the pass since `begin_pass` counted: its quotes checked, and each decision's (refused, reason)."""
        decided, self._pass = tuple(self._pass or ()), None
        return self.checked - self._pass_checked, decided

    def repeat(self, counted: PassCounts, times: int = 1) -> None:
        """Count again what a pass counted, `times` over (passes skipped because each would have
        decided the same)."""
        self.repeated += counted[0] * times
        for refused, reason in counted[1]:
            (self.refused if refused else self.trimmed)[reason] += times

    def _decided(self, decisions: Sequence[Decision]) -> None:
        for d in decisions:
            refused, reason = d.action == "deny", d.reason.value
            (self.refused if refused else self.trimmed)[reason] += 1
            if self._pass is not None:
                self._pass.append((refused, reason))

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
