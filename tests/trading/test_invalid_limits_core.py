"""An invalid stored risk limit never silently widens, with the real trading core on the
simulator (paper): with no valid value in force to keep (a first start, a restart) trading is
HALTED with a CONFIG_INVALID alert naming the limit, and nothing is placed, until the value is
fixed through the one writer, which ends the halt by itself; while the engine runs, a value
gone bad keeps the valid value in force and trading goes on."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from contracts.settings import load_settings
from engine.trading.core import TradingCore
from simulator.testing import SimHandle, approved_simulator
from storage.desk import config
from storage.sqlite.db import Database, now_ms
from storage.sqlite.migrations import migrate

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def sim() -> Iterator[SimHandle]:
    with approved_simulator(seed=71, agents=False) as handle:
        yield handle


def _state(db: Database) -> tuple[Any, ...]:
    with db.read() as conn:
        return tuple(conn.execute(text("SELECT trading_state, trading_state_reason FROM engine_state")).one())


def _alerts(db: Database, code: str) -> list[str]:
    with db.read() as conn:
        return list(conn.execute(text("SELECT message FROM alerts WHERE code = :c ORDER BY id"), {"c": code}).scalars())


def _garbage(db: Database) -> None:
    with db.write() as conn:  # written around the dashboard: a script, an old version, a hand edit
        conn.execute(text("UPDATE risk_limits SET value = 'abc' WHERE name = 'max_total_exposure'"))


def _version(db: Database) -> int:
    with db.read() as conn:
        return int(conn.execute(text("SELECT version FROM risk_limits WHERE name = 'max_total_exposure'")).scalar_one())


async def _quoting(core: TradingCore) -> int:
    """Ticks until the books are in; the orders the strategy has working after them."""
    for _ in range(100):
        await core.tick()
        if all(core.books.book(core.catalog.get(c).yes_token) for c in core.host.markets()):
            break
        await asyncio.sleep(0.05)
    await core.tick()
    return len(core.executor.state.orders)


def test_an_invalid_stored_limit_with_nothing_to_keep_halts_until_fixed(tmp_path: Path, sim: SimHandle) -> None:
    migrate(tmp_path / "t.db")
    db = Database(tmp_path / "t.db")
    now = now_ms()
    with db.write() as conn:
        conn.execute(text("""INSERT INTO strategies (name, kind, params, markets, enabled, created_at, updated_at,
                                 updated_by) VALUES ('mm', 'market_making', :p, :m, 1, :t, :t, 'test')"""),
                     {"p": json.dumps({"size": 20, "max_spread": 0.9}), "m": json.dumps({"filter": {"max_markets": 2}}),
                      "t": now})
        conn.execute(text("""INSERT INTO risk_limits (name, value, version, updated_at, updated_by)
                             VALUES ('max_total_exposure', 'abc', 1, :t, 'script')"""), {"t": now})
    settings = load_settings({"TRADER_ENV_FILE": str(tmp_path / "none"), "SIMULATOR_PORT": str(sim.port),
                              "TRADER_DB": str(tmp_path / "t.db")})

    async def first_start() -> None:
        core = TradingCore(settings, db)
        await core.start(operator=True)
        core.gate.unblock()
        await core._stop_loop()  # drive ticks by hand
        try:
            assert _state(db) == ("HALTED", "CONFIG_INVALID")
            assert await _quoting(core) == 0  # not on the default 1,000 pUSD it never agreed to
            assert any("max_total_exposure" in m and "HALTED" in m for m in _alerts(db, "CONFIG_INVALID"))
            config.save_risk_limits(db, {"max_total_exposure": config.Change("900", _version(db))}, actor="test")
            await core.reload_config()  # what the save's reload_config command runs
            assert _state(db) == ("ACTIVE", None) and _alerts(db, "CONFIG_INVALID_CLEARED")
            assert core.risk.limits.values["max_total_exposure"] == Decimal(900)
            assert await _quoting(core) > 0
            _garbage(db)  # gone bad while running: the valid value in force is kept, trading goes on
            await core.reload_config()
            assert _state(db) == ("ACTIVE", None)
            assert core.risk.limits.values["max_total_exposure"] == Decimal(900)
        finally:
            await core.stop()

    async def restart() -> None:
        core = TradingCore(settings, db)  # a new process: no value in force to keep
        await core.start(operator=True)
        await core._stop_loop()
        try:
            assert _state(db) == ("HALTED", "CONFIG_INVALID")
        finally:
            await core.stop()

    try:
        asyncio.run(first_start())
        asyncio.run(restart())
    finally:
        db.dispose()
