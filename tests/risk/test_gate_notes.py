"""What the risk gate did with an intent goes with it (`Intent.gate`, engine/risk/gate_notes.py), to
the orders placed for it and their audit trail: nothing for an intent taken as asked, each trim or
hold named for one it cut, and a note never makes two otherwise equal intents differ."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from engine.risk.monitor import RiskMonitor
from tests.risk.test_breakers import T0, monitor_on
from tests.risk.test_tick_budget import LIMITS, _buy, _tick


def test_a_trimmed_intent_says_what_the_gate_cut_and_one_taken_as_asked_says_nothing(tmp_path: Path) -> None:
    monitor: RiskMonitor = monitor_on(tmp_path, **LIMITS)
    _tick(monitor, T0)
    asked = [_buy("mm", "c1", 100), _buy("xa", "c2", 100)]  # $48 of a $60 total limit, then $48 more
    whole, trimmed = monitor.check(asked, T0)
    assert whole.gate == "" and whole == asked[0]
    assert trimmed.gate.startswith("BUY 100 at 0.48 -> 25 (MAX_TOTAL_EXPOSURE")
    assert trimmed.quotes[0].size == asked[1].quotes[0].size // 4


def test_the_note_is_not_part_of_what_an_intent_wants() -> None:
    intent = _buy("mm", "c1", 100)
    assert replace(intent, gate="BUY 100 at 0.48 -> 25 (MAX_TOTAL_EXPOSURE)") == intent
