"""Another process holding SQLite's write lock must not freeze the engine: its loop keeps
turning (heartbeat), venue events wait and are written when the lock goes (never skipped), a
kill posted meanwhile lands without a traceback, and a pending kill acts at the venue at once."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from engine.execution.placement import OrderGate
from engine.process.commands import CommandProcessor
from simulator.testing import SimHandle, approved_simulator
from storage.command_queue.commands import post_command
from storage.sqlite.db import Database, file_heartbeat_ms, now_ms
from storage.sqlite.migrations import migrate
from tests.helpers import EngineProcess, live_desk, run_cli, wait_until

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def sim() -> Iterator[SimHandle]:
    with approved_simulator(seed=29, agents=False) as handle:
        yield handle


def _live_engine(tmp: Path, sim: SimHandle) -> tuple[EngineProcess, str]:
    return live_desk(tmp, sim, mm=({"size": 10, "half_spread": 0.03, "refresh_threshold": 0.05, "max_spread": 0.9},
                                   {"filter": {"max_markets": 2, "neg_risk_only": False}}))


def _one(db: Path, sql: str, *args: Any) -> Any:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql, args).fetchone()


def _all(db: Path, sql: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql).fetchall()


def _our_trades(sim: SimHandle, venue_id: str) -> list[str]:
    return sim.call(lambda: [t.id for t in sim.sim.trades.by_id.values()
                             if any(leg.order.id == venue_id for leg in t.makers)])


class HeldLock:
    """BEGIN IMMEDIATE from another process's point of view: a connection of this test."""

    def __init__(self, db: Path):
        self.conn = sqlite3.connect(db, isolation_level=None, timeout=10)

    def __enter__(self) -> HeldLock:
        self.conn.execute("BEGIN IMMEDIATE")
        return self

    def __exit__(self, *exc: object) -> None:
        self.conn.execute("ROLLBACK")
        self.conn.close()


def test_a_held_write_lock_freezes_nothing_and_loses_nothing(tmp_path: Path, sim: SimHandle) -> None:
    engine, funder = _live_engine(tmp_path, sim)
    try:
        engine.start()
        wait_until(lambda: sim.open_order_count(funder) >= 2, 40, what="quotes resting at the venue")
        venue_id, token, price = wait_until(lambda: _one(engine.db_path, """
            SELECT venue_order_id, token_id, price FROM orders WHERE status = 'LIVE' AND side = 'BUY' LIMIT 1"""),
            20, what="a resting bid recorded LIVE")
        ages: list[float] = []
        kill: dict[str, Any] = {}
        with HeldLock(engine.db_path):
            # A fill while the engine cannot write: someone sells down into our resting bid.
            for _ in range(20):
                sim.place_liquidity(token, "SELL", str(price / 1e6), "50")
                if _our_trades(sim, venue_id):
                    break
            assert _our_trades(sim, venue_id), "the test could not reach our bid"
            poster = threading.Thread(target=lambda: kill.update(result=run_cli(
                ["command", "kill", '{"reason": "kill during a lock"}', "--timeout", "40"], engine.env, timeout=60)))
            poster.start()
            for _ in range(12):  # 6 s of lock
                time.sleep(0.5)
                beat = file_heartbeat_ms(engine.db_path)
                ages.append((now_ms() - beat) / 1000 if beat else 99.0)
                assert engine.proc is not None and engine.proc.poll() is None
        assert max(ages) < 2.0, ages  # the loop kept turning: never frozen for the lock's length
        poster.join(60)
        result = kill["result"]
        assert result.returncode == 0, result.stderr
        assert "Traceback" not in result.stderr + result.stdout
        wait_until(lambda: engine.status().state == "KILLED", 20, what="the kill applied")
        wait_until(lambda: sim.open_order_count(funder) == 0, 20, what="the venue emptied")
        # The fill made during the lock was written once the lock went, not skipped.
        trades = set(_our_trades(sim, venue_id))
        recorded = wait_until(lambda: {r[0] for r in _all(engine.db_path, "SELECT trade_id FROM fills")} & trades,
                              20, what="the fill recorded")
        assert recorded == trades
        assert "event; skipped" not in engine.log() and "EVENT_FAILED" not in engine.log()
    finally:
        engine.cleanup()


class RecordingTrading:
    """The Trading seam's kill-path call, recorded (the processor is the real one)."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    async def cancel_at_venue(self) -> None:
        self.calls.append("cancel_at_venue")


class RecordingGate(OrderGate):
    """The real order gate, its closing recorded in the same list."""

    def __init__(self, calls: list[str]) -> None:
        super().__init__()
        self.blocked = False
        self.calls = calls

    def block(self) -> None:
        self.calls.append("block")
        super().block()


class RecordingController:
    def __init__(self) -> None:
        self.killed: list[str] = []

    async def kill(self, actor: str, reason: str) -> dict[str, Any]:
        self.killed.append(reason)
        return {"state": "KILLED"}


def test_a_pending_kill_acts_at_the_venue_while_the_lock_is_held(tmp_path: Path) -> None:
    migrate(tmp_path / "k.db")
    db = Database(tmp_path / "k.db", busy_timeout_ms=50)
    controller, trading = RecordingController(), RecordingTrading()
    gate = RecordingGate(trading.calls)
    processor = CommandProcessor(db, controller, trading, gate)  # type: ignore[arg-type]  # a stand-in with only what it calls
    row = post_command(db, "kill", {"reason": "news"}, actor="test")

    async def scenario() -> None:
        with HeldLock(tmp_path / "k.db"):
            await processor._step()  # cannot claim: acts anyway
            await processor._step()  # ...once
            assert trading.calls == ["block", "cancel_at_venue"] and gate.blocked
            assert controller.killed == []
        await processor._step()  # the lock is gone: claimed, applied, acknowledged
        assert controller.killed == ["news"]

    asyncio.run(scenario())
    assert _one(tmp_path / "k.db", "SELECT status FROM commands WHERE id = ?", row.id) == ("done",)
    db.dispose()


class LatchingController(RecordingController):
    """A kill that writes its latch, as the real one does, once the test has taken the lock."""

    def __init__(self, db: Database, locked: asyncio.Event) -> None:
        super().__init__()
        self.db, self.locked = db, locked

    async def kill(self, actor: str, reason: str) -> dict[str, Any]:
        await self.locked.wait()
        with self.db.write() as conn:
            conn.exec_driver_sql("UPDATE engine_state SET kill_reason = ?", (reason,))
        return await super().kill(actor, reason)


def test_a_claimed_kill_whose_latch_meets_the_lock_cancels_at_once_and_lands_when_it_goes(tmp_path: Path) -> None:
    """The kill was claimed, then another process (an import's batch on a loaded machine) took the lock before
    its latch was written: it is not failed with "database is locked" (as it was, leaving the venue's orders
    resting): everything at the venue is cancelled at once, and the kill lands once the lock is released."""
    migrate(tmp_path / "k.db")
    db = Database(tmp_path / "k.db", busy_timeout_ms=50)
    trading = RecordingTrading()
    row = post_command(db, "kill", {"reason": "news"}, actor="test")

    async def scenario() -> LatchingController:
        locked = asyncio.Event()
        controller = LatchingController(db, locked)
        processor = CommandProcessor(db, controller, trading, RecordingGate(trading.calls))  # type: ignore[arg-type]  # a stand-in with only what it calls
        step = asyncio.create_task(processor._step())  # claims it, then applies it (and waits for it)
        for _ in range(200):  # bounded: claimed (the gate closed), the kill waiting to write its latch
            if trading.calls:
                break
            await asyncio.sleep(0.02)
        with HeldLock(tmp_path / "k.db"):
            locked.set()
            for _ in range(200):  # bounded: the kill's first try meets the lock and cancels at the venue
                if "cancel_at_venue" in trading.calls:
                    break
                await asyncio.sleep(0.02)
            assert trading.calls == ["block", "cancel_at_venue"] and controller.killed == []
        await asyncio.wait_for(step, 30)
        return controller

    controller = asyncio.run(scenario())
    assert controller.killed == ["news"]
    assert _one(tmp_path / "k.db", "SELECT status, error FROM commands WHERE id = ?", row.id) == ("done", None)
    assert _one(tmp_path / "k.db", "SELECT kill_reason FROM engine_state") == ("news",)
    db.dispose()
