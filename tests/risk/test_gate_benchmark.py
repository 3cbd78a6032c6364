"""bench/risk_gate.py's baseline: the gate as it was before per-approval budgets, kept in
bench/baselines/ (no git history needed: the suite also runs from a downloaded archive), loads
into today's tree (some of its imports have moved since) and approves the same quotes as today's
gate when the limits leave room for all of them, so the benchmark compares equal work."""

from __future__ import annotations

import importlib
import sys
import types
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
risk_gate = importlib.import_module("risk_gate")


@pytest.fixture(scope="module")
def old_gate() -> Iterator[types.ModuleType]:
    # As outside a git clone: any git command fails, so the baseline must come from the kept copy.
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("GIT_DIR", "/nonexistent/no-git-here")
        patch.setenv("GIT_CEILING_DIRECTORIES", "/")
        yield risk_gate.old_gate(risk_gate.BEFORE)


def test_the_kept_baseline_is_that_commits_gate() -> None:
    source = risk_gate.BASELINE.read_text()
    assert "class RiskGate" in source and "from engine.risk.limits import Limits" in source


def test_the_old_gate_loads_from_history_without_leaving_its_old_module_names(old_gate: types.ModuleType) -> None:
    assert old_gate.RiskGate is not None
    assert "engine.risk.limits" not in sys.modules  # the shim lived only while it imported


def test_both_gates_approve_every_quote_when_the_limits_leave_room(old_gate: types.ModuleType) -> None:
    ctx, intents = risk_gate.context(room=True)
    quotes = 2 * risk_gate.MARKETS
    assert risk_gate.tick_old(old_gate, ctx, intents) == quotes
    assert risk_gate.tick_new(ctx, intents) == quotes


def test_under_the_default_limits_only_the_new_gate_holds_the_budget_within_the_tick(
        old_gate: types.ModuleType) -> None:
    ctx, intents = risk_gate.context(room=False)
    assert risk_gate.tick_old(old_gate, ctx, intents) == 2 * risk_gate.MARKETS
    assert risk_gate.tick_new(ctx, intents) < 2 * risk_gate.MARKETS
