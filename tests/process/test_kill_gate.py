"""A kill blocks orders in one place: the command processor closes the desk's one order gate
when it claims the kill, before the controller and the trading core act on it; nothing after
it on the kill's path closes it again, and the gate the processor closes is the one every
executor the core builds reads."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

from contracts.settings import load_settings
from engine.execution.placement import OrderGate
from engine.process.commands import CommandProcessor
from engine.process.control import Controller
from engine.trading.core import TradingCore
from storage.command_queue.commands import post_command
from storage.sqlite.db import Database
from storage.sqlite.migrations import migrate


class CountingGate(OrderGate):
    """The real gate, open to begin with, counting how often it is closed."""

    def __init__(self) -> None:
        super().__init__()
        self.blocked = False
        self.closings = 0

    def block(self) -> None:
        self.closings += 1
        super().block()


class KillSeenTrading:
    """The Trading seam's kill, noting whether the gate was closed by the time it came."""

    def __init__(self, gate: OrderGate) -> None:
        self.gate = gate
        self.closed_at_kill: bool | None = None

    async def kill(self) -> dict[str, Any]:
        self.closed_at_kill = self.gate.blocked
        return {"cancelled": 0}


class KillSeenController(Controller):
    """The real controller, noting whether the gate was closed when its kill began."""

    closed_at_entry: bool | None = None

    async def kill(self, actor: str, reason: str) -> dict[str, Any]:
        self.closed_at_entry = self.gate.blocked
        return await super().kill(actor, reason)


def _one(path: Path, sql: str) -> Any:
    with sqlite3.connect(path) as conn:
        return conn.execute(sql).fetchone()


def test_a_kill_closes_the_order_gate_once_at_its_claim(tmp_path: Path) -> None:
    path = tmp_path / "k.db"
    migrate(path)
    db = Database(path)
    settings = load_settings({"TRADER_ENV_FILE": str(tmp_path / "none"), "TRADER_DB": str(path)})
    gate = CountingGate()
    trading = KillSeenTrading(gate)
    controller = KillSeenController(settings, db, trading, gate)  # type: ignore[arg-type]  # a stand-in with only what it calls
    processor = CommandProcessor(db, controller, trading, gate)  # type: ignore[arg-type]  # a stand-in with only what it calls
    row = post_command(db, "kill", {"reason": "news"}, actor="test")

    asyncio.run(processor._step())

    assert controller.closed_at_entry is True  # closed at the claim, before the controller acted
    assert trading.closed_at_kill is True  # ...so before the trading core was asked to kill
    assert gate.closings == 1  # ...and only there
    assert _one(path, f"SELECT status FROM commands WHERE id = {row.id}") == ("done",)
    assert _one(path, "SELECT state, kill_latched FROM engine_state") == ("KILLED", 1)


def test_the_core_hands_its_gate_to_every_executor_it_builds(tmp_path: Path) -> None:
    path = tmp_path / "g.db"
    migrate(path)
    settings = load_settings({"TRADER_ENV_FILE": str(tmp_path / "none"), "TRADER_DB": str(path)})
    gate = OrderGate()
    core = TradingCore(settings, Database(path), gate=gate)
    assert core.executor.gate is gate
    rebuilt = core.link.executor_for(core.desk.venue_name, core.mode, core.risk, core.bus)  # as a reopening builds it
    assert rebuilt.gate is gate
    gate.unblock()
    assert not core.executor.blocked and not rebuilt.blocked
    gate.block()
    assert core.executor.blocked and rebuilt.blocked
