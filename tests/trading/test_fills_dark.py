"""Live, a real engine process on the strict simulator: when the user channel (the desk's fills)
goes down past `fills_dark_s`, the desk stops placing, cancels its strategies' resting orders
(`fills_dark_cancel`, the default) and alerts FILLS_DARK; the condition is on the venue conditions
board; when the channel is back and its missed fills are read back, FILLS_DARK_CLEARED and the
market maker quotes again. With `fills_dark_cancel` 0 the resting orders are left alone."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from simulator.testing import SimHandle, approved_simulator
from tests.helpers import EngineProcess, live_desk, set_book, wait_until

pytestmark = pytest.mark.slow
MM = {"size": 20, "half_spread": 0.02, "max_spread": 0.5}


@contextmanager
def _desk(tmp: Path, cancel: int) -> Iterator[tuple[SimHandle, EngineProcess, dict[str, Any]]]:
    with approved_simulator(seed=71, agents=False, maintenance_schedule="off") as sim:
        market = sim.market(neg_risk=False, index=0)
        engine, _ = live_desk(tmp, sim, mode="live", mm=(MM, [market["condition_id"]]),
                              settings={"fills_dark_s": 2, "fills_dark_cancel": cancel, "venue_sync_s": 2})
        try:
            set_book(sim, market, ("BUY", "0.49", "500"), ("SELL", "0.51", "500"))
            engine.start(wait=False)
            engine.wait_alive(120)
            yield sim, engine, market
        finally:
            engine.cleanup()


def _rows(engine: EngineProcess, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    with sqlite3.connect(engine.db_path, timeout=10) as conn:
        return conn.execute(sql, args).fetchall()


def _resting(engine: EngineProcess) -> int:
    return len(_rows(engine, "SELECT 1 FROM orders WHERE strategy = 'mm' AND status IN ('LIVE', 'PARTIALLY_FILLED')"))


def _runs_on(engine: EngineProcess, *, seconds: float) -> None:
    """The engine keeps deciding (heartbeating) for `seconds` more of its own time."""
    (now,) = _rows(engine, "SELECT heartbeat_at FROM engine_state WHERE id = 1")[0]
    wait_until(lambda: _rows(engine, "SELECT 1 FROM engine_state WHERE heartbeat_at > ?", now + seconds * 1000),
               30, 0.1, f"{seconds} s more of trading")


def _conditions(engine: EngineProcess) -> list[str]:
    (raw,) = _rows(engine, "SELECT venue_conditions FROM engine_state WHERE id = 1")[0]
    return [c["code"] for c in json.loads(raw or "[]")]


def test_fills_dark_stops_placing_cancels_and_resumes_when_they_are_back(tmp_path: Path) -> None:
    with _desk(tmp_path, cancel=1) as (sim, engine, _):
        wait_until(lambda: _resting(engine) >= 2, 60, 0.1, "the market maker's quotes")
        sim.set_faults(user_channel_down_s=600)
        wait_until(lambda: _rows(engine, "SELECT 1 FROM alerts WHERE code = 'FILLS_DARK'"), 30, 0.1, "FILLS_DARK")
        wait_until(lambda: _resting(engine) == 0, 30, 0.1, "the resting quotes cancelled")
        # the condition reaches engine_state with the next heartbeat, which may follow the cancels
        wait_until(lambda: "fills_dark" in _conditions(engine), 10, 0.1, "the fills_dark venue condition")
        (placed,) = _rows(engine, "SELECT COUNT(*) FROM orders WHERE strategy = 'mm'")[0]
        wait_until(lambda: _rows(engine, "SELECT 1 FROM decisions WHERE reason = 'FILLS_DARK'"), 30, 0.1,
                   "the market maker's quotes refused for FILLS_DARK in the decisions log")
        _runs_on(engine, seconds=3)
        assert _rows(engine, "SELECT COUNT(*) FROM orders WHERE strategy = 'mm'")[0][0] == placed  # nothing new
        sim.set_faults(user_channel_down_s=0)
        wait_until(lambda: _rows(engine, "SELECT 1 FROM alerts WHERE code = 'FILLS_DARK_CLEARED'"), 60, 0.1,
                   "FILLS_DARK_CLEARED")
        wait_until(lambda: _resting(engine) >= 2, 30, 0.1, "quotes again")
        # cleared in engine_state with the heartbeat after, which may follow the new quotes
        wait_until(lambda: "fills_dark" not in _conditions(engine), 10, 0.1, "the fills_dark condition cleared")


def test_with_cancel_off_the_resting_orders_stay_and_nothing_moves(tmp_path: Path) -> None:
    with _desk(tmp_path, cancel=0) as (sim, engine, _):
        wait_until(lambda: _resting(engine) >= 2, 60, 0.1, "the market maker's quotes")
        before = _rows(engine, "SELECT id, status FROM orders WHERE strategy = 'mm' ORDER BY id")
        sim.set_faults(user_channel_down_s=600)
        wait_until(lambda: _rows(engine, "SELECT 1 FROM alerts WHERE code = 'FILLS_DARK'"), 30, 0.1, "FILLS_DARK")
        (message,) = _rows(engine, "SELECT message FROM alerts WHERE code = 'FILLS_DARK'")[0]
        assert "resting orders are left as they are" in message
        wait_until(lambda: "fills_dark" in _conditions(engine), 10, 0.1, "the condition on the board")
        _runs_on(engine, seconds=3)
        assert _rows(engine, "SELECT id, status FROM orders WHERE strategy = 'mm' ORDER BY id") == before
        assert _resting(engine) == sum(1 for _, status in before if status == "LIVE")
