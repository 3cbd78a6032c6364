"""Kalshi's pauses known before they bite (engine/venues/kalshi/exchange.py, engine/trading/ledgers/exchange_pauses.py):
the real trading core with Kalshi armed live on the simulator's Kalshi side, a market maker quoting
there. A pause on Kalshi's schedule withdraws the quotes before it starts; while trading is paused
nothing is placed and nothing counts as a fault; when Kalshi resumes the quotes come back by
themselves; the pause and the resumption are alerted once each and `engine status` says which it is.
An unscheduled pause met by an order before the status said so is Kalshi's maintenance, not a fault.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from contracts.venues import KALSHI
from engine.cli.desk import status_lines
from engine.risk.gate import TradingState
from engine.trading.core import TradingCore
from simulator.testing import SimHandle, approved_simulator
from storage.desk.desk_status import status_report
from storage.sqlite.db import now_ms
from storage.sqlite.lite import read_connection
from tests.kalshi import admin
from tests.kalshi_desk import Desk, started

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def sim() -> Iterator[SimHandle]:
    with approved_simulator(seed=57, agents=False, kalshi_markets=2) as handle:
        yield handle


def _orders_sent(desk: Desk) -> int:
    return int(desk.sim.call(lambda: sum(1 for o in desk.sim.sim.kalshi.exchange.orders.values()
                                         if o.account == desk.account)))


async def _quoting(core: TradingCore, desk: Desk, seconds: float = 15.0) -> None:
    """Ticked until the market maker rests quotes at Kalshi (bounded)."""
    ledger = core.ledgers.get(KALSHI)
    assert ledger is not None
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        await core.tick()
        ledger.executor.drain()
        if desk.resting():
            return
        await asyncio.sleep(0.1)
    raise AssertionError("the Kalshi quotes never rested")


def _pause(sim: SimHandle, in_s: float, seconds: float, kind: str = "trading") -> None:
    status, body = admin(sim, "/_sim/kalshi/exchange/pause", {"in_s": in_s, "seconds": seconds, "kind": kind})
    assert status == 200, body


def test_a_scheduled_pause_withdraws_the_quotes_holds_them_and_they_come_back(tmp_path: Path, sim: SimHandle) -> None:
    desk = Desk(tmp_path, sim)
    core = desk.core()

    async def scenario() -> dict[str, Any]:
        seen: dict[str, Any] = {}
        await started(core, desk.kalshi)
        watch, ledger = core.link.references.exchange, core.ledgers.get(KALSHI)
        assert watch is not None and ledger is not None and ledger.mode == "live"
        watch.status_s, watch.near_s, watch.schedule_s = 0.2, 0.2, 0.5  # the test's minutes in seconds
        core.deciding = True  # the market maker quotes
        await _quoting(core, desk)
        _pause(sim, in_s=6, seconds=3)  # on the schedule, inside the minute before which quotes are withdrawn
        start = now_ms() + 6_000
        for _ in range(100):
            await core.tick()
            ledger.executor.drain()
            if not desk.resting():
                break
            await asyncio.sleep(0.1)
        seen["withdrawn_before"] = not desk.resting() and now_ms() < start
        sent = _orders_sent(desk)
        while now_ms() < start + 500:  # into the pause
            await core.tick()
            ledger.executor.drain()
            await asyncio.sleep(0.1)
        seen["paused_state"] = watch.state.paused
        reader = read_connection(desk.db_path)
        try:
            seen["status"] = status_lines(status_report(reader, desk.db_path), now_ms())
        finally:
            reader.close()
        for _ in range(20):  # passes while paused
            await core.tick()
            ledger.executor.drain()
            await asyncio.sleep(0.05)
        seen["sent_while_paused"] = _orders_sent(desk) - sent
        resumed_at = None
        for _ in range(200):  # Kalshi resumes at start + 3 s: the quotes come back by themselves
            await core.tick()
            ledger.executor.drain()
            if desk.resting():
                resumed_at = now_ms()
                break
            await asyncio.sleep(0.1)
        seen["back_after_ms"] = None if resumed_at is None else resumed_at - (start + 3_000)
        seen["errors"] = ledger.risk.errors.count(now_ms())
        seen["state"] = ledger.risk.memory.trading_state
        with core.db.read() as conn:
            seen["alerts"] = [tuple(r) for r in conn.execute(text(
                "SELECT code, level FROM alerts WHERE code LIKE 'KALSHI_%' AND code != 'KALSHI_PAPER' ORDER BY id"))]
            seen["held"] = conn.execute(text(
                "SELECT COUNT(*) FROM decisions WHERE reason = 'VENUE_MAINTENANCE' AND detail LIKE '%pause%'")
            ).scalar_one()
            seen["kept"] = json.loads(conn.execute(text("SELECT kalshi_exchange FROM engine_state")).scalar_one())
        await core.stop()
        return seen

    try:
        seen = asyncio.run(scenario())
    finally:
        admin(sim, "/_sim/kalshi/exchange/pause", {"clear": True})
    assert seen["withdrawn_before"]  # cancelled while Kalshi still took cancels, before the window opened
    assert seen["paused_state"] and seen["sent_while_paused"] == 0  # nothing placed into the pause
    assert any("TRADING PAUSED" in line and "resumes by itself" in line for line in seen["status"])
    assert seen["back_after_ms"] is not None and seen["back_after_ms"] < 5_000  # resumed by itself
    assert seen["errors"] == 0 and seen["state"] is TradingState.ACTIVE  # no pause counted as a fault
    assert seen["alerts"] == [("KALSHI_PAUSED", "warning"), ("KALSHI_RESUMED", "info")]
    assert seen["held"] > 0  # each withheld quote is in the decisions log with the reason
    assert seen["kept"]["trading_active"] is True and seen["kept"]["read_at"]


def test_an_unscheduled_pause_met_by_an_order_is_maintenance_not_a_fault(tmp_path: Path, sim: SimHandle) -> None:
    desk = Desk(tmp_path, sim)
    core = desk.core()

    async def scenario() -> tuple[int, Any, int, int]:
        await started(core, desk.kalshi)
        watch, ledger = core.link.references.exchange, core.ledgers.get(KALSHI)
        assert watch is not None and ledger is not None
        watch.status_s = watch.near_s = 3600.0  # the status is not read again: the order meets the pause first
        await asyncio.sleep(0.3)
        _pause(sim, in_s=0, seconds=60)
        core.deciding = True
        for _ in range(10):
            await core.tick()
            ledger.executor.drain()
            await asyncio.sleep(0.1)
        with core.db.read() as conn:
            held = conn.execute(text("SELECT COUNT(*) FROM decisions WHERE reason = 'VENUE_MAINTENANCE'")).scalar_one()
        errors, state, resting = ledger.risk.errors.count(now_ms()), ledger.risk.memory.trading_state, desk.resting()
        await core.stop()
        return errors, state, held, resting

    try:
        errors, state, held, resting = asyncio.run(scenario())
    finally:
        admin(sim, "/_sim/kalshi/exchange/pause", {"clear": True})
    assert held > 0 and resting == 0  # refused as Kalshi's maintenance, held back with the reason
    assert errors == 0 and state is TradingState.ACTIVE
