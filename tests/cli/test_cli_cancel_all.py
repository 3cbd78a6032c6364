"""`engine cancel-all` against the real simulator and a real engine process: live orders are
cancelled whenever the wallet is configured, even in paper mode; paper orders are cancelled
only while no engine holds the single-instance lock (a heartbeat cannot tell a starting engine)."""

from __future__ import annotations

import asyncio
import json
import secrets
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from eth_account import Account

from contracts.domain import Side
from contracts.settings import load_settings
from engine.process.runtime import single_instance
from engine.venues.base import OrderRequest
from engine.venues.polymarket.venue import PolymarketVenue
from simulator.testing import SimHandle, approved_simulator
from storage.dashboard_queries.status_queries import engine_status
from storage.desk.desk_status import HEARTBEAT_STALE_S
from storage.sqlite.db import Database, now_ms
from storage.sqlite.migrations import migrate
from tests.helpers import EngineProcess, isolated_env, run_cli, wait_until

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def sim() -> Iterator[SimHandle]:
    # The live wallet is a plain type-0 (EOA) key, which the venue refuses as a maker: allowed here.
    with approved_simulator(seed=5, agents=False, allow_eoa_makers=True) as handle:
        yield handle


def _engine(tmp: Path, sim: SimHandle, *, mode: str, strategy: bool) -> EngineProcess:
    env = isolated_env(tmp, SIMULATOR_PORT=str(sim.port), POLY_PRIVATE_KEY="0x" + secrets.token_hex(32),
                       POLY_SIGNATURE_TYPE="0")
    migrate(Path(env["TRADER_DB"]))
    with sqlite3.connect(env["TRADER_DB"]) as conn:
        if strategy:
            now = now_ms()
            conn.execute("""INSERT INTO strategies (name, kind, params, markets, enabled, created_at, updated_at,
                                updated_by, live) VALUES ('mm', 'market_making', ?, ?, 1, ?, ?, 'test', ?)""",
                         (json.dumps({"size": 20, "half_spread": 0.02, "refresh_threshold": 0, "max_spread": 0.5}),
                          json.dumps({"filter": {"max_markets": 5}}), now, now, int(mode == "live")))
        conn.execute("UPDATE engine_state SET desired_state = 'RUNNING', mode = ?", (mode,))
    return EngineProcess(tmp, env)


def _place_by_hand(env: dict[str, str], sim: SimHandle) -> None:
    """An order the engine did not place (as if from polymarket.com): a bid far below the book."""
    market = sim.market(neg_risk=False)
    tick = round(float(market["tick_size"]) * 1_000_000)
    request = OrderRequest(client_id=secrets.token_hex(6), condition_id=market["condition_id"],
                           token_id=market["yes_token_id"], side=Side.BUY, price=5 * tick, size=10_000_000, tick=tick)

    async def place() -> None:
        venue = PolymarketVenue(load_settings(env=env))
        try:
            await venue.submit(await venue.prepare(request))
        finally:
            await venue.close()

    asyncio.run(asyncio.wait_for(place(), 30))


def _count(db: Path, sql: str) -> int:
    with sqlite3.connect(db) as conn:
        return int(conn.execute(sql).fetchone()[0])


def test_live_orders_are_cancelled_in_paper_mode(tmp_path: Path, sim: SimHandle) -> None:
    engine = _engine(tmp_path, sim, mode="live", strategy=False)
    address = Account.from_key(engine.env["POLY_PRIVATE_KEY"]).address
    try:
        _place_by_hand(engine.env, sim)
        engine.start()  # recovery imports the foreign order; stop leaves it to the operator
        wait_until(lambda: _count(engine.db_path, "SELECT COUNT(*) FROM orders") == 1, 20, what="the import")
        assert engine.run("stop", timeout=20).status == "done"
        assert engine.run("set_mode", {"mode": "paper"}).status == "done"
        assert engine.status().mode == "paper"
        # The live engine's heartbeats ended with it, so ~10 s later the venue's dead-man switch
        # cancels the key's orders: let it fire, then rest a fresh order for cancel-all to find
        # (racing the switch made this test fail on a loaded machine).
        wait_until(lambda: not any(h["chain_alive"] for h in sim.heartbeats().values()), 30, interval=0.2,
                   what="the dead-man switch after the live engine stopped")
        assert sim.open_order_count(address) == 0
        _place_by_hand(engine.env, sim)
        assert sim.open_order_count(address) == 1

        # Engine up in paper mode: the live order is cancelled; the paper side is left to the
        # engine, and the command says so (exit 1).
        up = run_cli(["cancel-all"], engine.env)
        assert up.returncode == 1 and "command kill" in up.stderr, up.stderr
        assert json.loads(up.stdout)["by_venue"] == {"live": 1}
        assert sim.open_order_count(address) == 0

        # Engine down: both venues, nothing refused.
        _place_by_hand(engine.env, sim)
        assert engine.terminate() == 0
        down = run_cli(["cancel-all"], engine.env)
        assert down.returncode == 0, down.stderr
        assert json.loads(down.stdout)["by_venue"] == {"live": 1, "paper": 0}
        assert sim.open_order_count(address) == 0
    finally:
        engine.cleanup()


def test_paper_orders_wait_for_the_engine_lock_not_the_heartbeat(tmp_path: Path, sim: SimHandle) -> None:
    engine = _engine(tmp_path, sim, mode="paper", strategy=True)
    resting = "SELECT COUNT(*) FROM paper_orders WHERE status = 'LIVE'"
    try:
        engine.start()
        wait_until(lambda: _count(engine.db_path, resting) > 0, 30, what="paper orders resting")
        engine.crash()
        before = _count(engine.db_path, resting)
        db = Database(engine.db_path)
        wait_until(lambda: not engine_status(db).engine_up, HEARTBEAT_STALE_S + 5, what="a stale heartbeat")
        db.dispose()
        # A restarting engine holds the lock before its first heartbeat: hands off its orders.
        with single_instance(load_settings(env=engine.env).lock_path):
            starting = run_cli(["cancel-all"], engine.env)
        assert starting.returncode == 1 and "engine is running (or starting)" in starting.stderr, starting.stderr
        assert _count(engine.db_path, resting) == before
        # No engine: every resting paper order is cancelled.
        down = run_cli(["cancel-all"], engine.env)
        assert down.returncode == 0, down.stderr
        assert json.loads(down.stdout)["by_venue"]["paper"] == before
        assert _count(engine.db_path, resting) == 0
    finally:
        engine.cleanup()
