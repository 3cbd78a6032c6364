"""Fail closed: a desk whose trading passes keep failing cancels its resting orders, halts with a
critical alert naming the error, says it cannot decide, and resumes only when its passes succeed
again and the operator starts it (engine/trading/lookouts/pass_guard.py). The core's own loop runs here,
in-process against the simulator (paper); the failure is a bug planted in the market picture."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from contracts.command_refusal import CommandRejected
from engine.risk.gate import TradingState
from engine.trading.core import TradingCore
from engine.trading.hosting.indicator_host import IndicatorHost
from simulator.testing import SimHandle, approved_simulator
from storage.desk import desk_status
from storage.engine_stores import engine_state
from storage.sqlite.lite import read_connection
from tests.trading.by_hand import market_maker_core

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def sim() -> Iterator[SimHandle]:
    with approved_simulator(seed=11, agents=False) as handle:
        yield handle


def _core(tmp: Path, sim: SimHandle) -> TradingCore:
    return market_maker_core(tmp, sim, 2, {"tick_interval_ms": "50"})


async def _until(predicate: Any, what: str, timeout_s: float = 20.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not predicate():
        assert asyncio.get_running_loop().time() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.02)


def _status(core: TradingCore) -> desk_status.EngineStatus:
    engine_state.heartbeat(core.db, last_pass_at=core.heartbeat_facts()[1])
    with core.db.write() as conn:
        conn.execute(text("UPDATE engine_state SET state = 'RUNNING'"))
    reader = read_connection(core.db.path)
    try:
        return desk_status.engine_status(reader, core.db.path)
    finally:
        reader.close()


def test_a_desk_whose_passes_keep_failing_cancels_halts_and_resumes_only_when_they_succeed_and_it_is_started(
        tmp_path: Path, sim: SimHandle, monkeypatch: pytest.MonkeyPatch) -> None:
    core = _core(tmp_path, sim)
    poisoned = {"on": False}
    real_observe = IndicatorHost.observe

    def observe(*args: Any, **kwargs: Any) -> Any:
        if poisoned["on"]:
            raise ValueError("math domain error")
        return real_observe(*args, **kwargs)

    # The bug is planted where the timed pass completes its market picture (the indicators on the
    # views): a module of the source on the compiled build too, whose own calls a test cannot replace.
    monkeypatch.setattr(IndicatorHost, "observe", observe)

    async def scenario() -> None:
        await core.start(operator=True)
        core.gate.unblock()
        await _until(lambda: core.executor.state.orders, "the market maker's resting quotes")
        assert _status(core).cannot_decide is None
        poisoned["on"] = True
        await _until(lambda: core.risk.memory.trading_state is TradingState.HALTED, "the halt")
        assert core.risk.memory.reason == "DECISIONS_FAILING"
        await _until(lambda: not core.executor.state.orders, "its resting orders cancelled")
        status = _status(core)
        assert status.cannot_decide is not None and "keep failing" in status.cannot_decide
        assert status.trading_label == "CANNOT DECIDE"
        with pytest.raises(CommandRejected, match="still fail.*ValueError: math domain error"):
            await core.clear_start_halts()  # a Start while the passes still fail is refused
        assert core.risk.memory.trading_state is TradingState.HALTED
        await asyncio.sleep(0.3)  # the loop keeps trying: no order goes out while halted
        assert not core.executor.state.orders
        poisoned["on"] = False
        await _until(lambda: core.desk.passes.deciding, "a pass that completes")
        assert core.risk.memory.trading_state is TradingState.HALTED  # passing again is not enough
        assert await core.clear_start_halts() == "DECISIONS_FAILING"
        assert core.risk.memory.trading_state is TradingState.ACTIVE
        await _until(lambda: core.executor.state.orders, "quotes again after the Start")
        await core.stop()

    asyncio.run(scenario())
    with core.db.read() as conn:
        alerts = conn.execute(text("SELECT level, code, message FROM alerts WHERE code = 'DECISIONS_FAILING'")).all()
        cancelled = conn.execute(text("SELECT COUNT(*) FROM orders WHERE status = 'CANCELED'")).scalar_one()
    assert len(alerts) == 1 and alerts[0].level == "critical"
    assert "ValueError: math domain error" in alerts[0].message and "cancelled" in alerts[0].message
    assert cancelled > 0
