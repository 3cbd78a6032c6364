"""Kill with the real engine trading live against a busy simulator: the claim blocks every
placement, cancel-all empties the venue, the latch holds; stop cancels strategy orders;
`engine cancel-all` works with the engine down; going live with orders open is refused."""

from __future__ import annotations

import json
import secrets
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from eth_account import Account

from simulator.testing import SimHandle, approved_simulator
from storage.sqlite.db import now_ms
from storage.sqlite.migrations import migrate
from tests.clocks import wait_for_beats
from tests.helpers import EngineProcess, isolated_env, run_cli, wait_until

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def sim() -> Iterator[SimHandle]:
    # The live wallet is a plain type-0 (EOA) key, which the venue refuses as a maker: allowed here.
    with approved_simulator(seed=3, agents=True, agent_interval_s=0.2, allow_eoa_makers=True) as handle:
        yield handle


def _engine(tmp: Path, sim: SimHandle, *, mode: str = "live", strategies: int = 1) -> tuple[EngineProcess, str]:
    key = "0x" + secrets.token_hex(32)
    env = isolated_env(tmp, SIMULATOR_PORT=str(sim.port), POLY_PRIVATE_KEY=key, POLY_SIGNATURE_TYPE="0")  # an EOA
    migrate(Path(env["TRADER_DB"]))
    with sqlite3.connect(env["TRADER_DB"]) as conn:
        now = now_ms()
        for i in range(strategies):
            conn.execute("""INSERT INTO strategies (name, kind, params, markets, enabled, created_at, updated_at,
                                updated_by, live) VALUES (?, 'market_making', ?, ?, 1, ?, ?, 'test', ?)""",
                         (f"mm{i}", json.dumps({"size": 20, "half_spread": 0.01 + 0.01 * i, "refresh_threshold": 0,
                                                "max_spread": 0.5}),
                          json.dumps({"filter": {"max_markets": 10}}), now, now, int(mode == "live")))
        conn.execute("UPDATE engine_state SET desired_state = 'RUNNING', mode = ?", (mode,))
    return EngineProcess(tmp, env), Account.from_key(key).address


def _count(db: Path, sql: str) -> int:
    with sqlite3.connect(db) as conn:
        return int(conn.execute(sql).fetchone()[0])


def test_kill_blocks_at_the_claim_cancels_everything_and_latches(tmp_path: Path, sim: SimHandle) -> None:
    engine, address = _engine(tmp_path, sim, strategies=2)
    try:
        engine.start()
        wait_until(lambda: sim.open_order_count(address) >= 10, 30, what="orders resting at the venue")
        wait_for_beats(engine.db_path, 2)  # quotes are being replaced continuously as the agents move the markets
        kill = engine.run("kill", {"reason": "test"}, timeout=20)
        assert kill.status == "done", kill.error
        assert sim.open_order_count(address) == 0
        status = engine.status()
        assert (status.state, status.kill_latched) == ("KILLED", True)
        with sqlite3.connect(engine.db_path) as conn:
            # An intent recorded just after the claim is closed unsent (the executor checks the
            # block between its record and the network): only what reached the venue counts.
            late = conn.execute("""SELECT COUNT(*) FROM orders WHERE submitted_at > ?
                                   AND COALESCE(error, '') NOT LIKE 'blocked before sending%'""",
                                (kill.claimed_at,)).fetchone()[0]
        assert late == 0  # nothing was sent after the kill was claimed
        placed = _count(engine.db_path, "SELECT COUNT(*) FROM orders")
        wait_for_beats(engine.db_path, 3)  # the killed engine's loop keeps turning, and places nothing
        assert _count(engine.db_path, "SELECT COUNT(*) FROM orders") == placed and sim.open_order_count(address) == 0
        # The latch survives a restart, and start is refused until an audited re-arm.
        engine.crash()
        engine.start()
        assert engine.status().state == "KILLED"
        assert "kill latch" in (engine.run("start").error or "")
        wait_for_beats(engine.db_path, 2)
        assert sim.open_order_count(address) == 0
    finally:
        engine.cleanup()


def test_stop_cancels_strategy_orders_then_back_to_paper(tmp_path: Path, sim: SimHandle) -> None:
    engine, address = _engine(tmp_path, sim)
    try:
        engine.start()
        wait_until(lambda: sim.open_order_count(address) > 0, 30, what="orders at the venue")
        assert engine.run("stop", timeout=20).status == "done"
        assert sim.open_order_count(address) == 0
        assert _count(engine.db_path, "SELECT COUNT(*) FROM orders WHERE status_rank < 100") == 0
        same = engine.run("set_mode", {"mode": "live"})  # it is live already: a no-op, said so
        assert same.status == "done" and json.loads(same.result or "{}") == {"mode": "live",
                                                                             "note": "already in this mode"}
        paper = engine.run("set_mode", {"mode": "paper"})
        assert paper.status == "done" and engine.status().mode == "paper"
    finally:
        engine.cleanup()


def test_cancel_all_cli_works_with_the_engine_down(tmp_path: Path, sim: SimHandle) -> None:
    engine, address = _engine(tmp_path, sim)
    # The venue's dead-man switch would cancel the crashed engine's orders 10 s after its last
    # heartbeat; on a loaded machine the CLI can take longer than that to start, and the switch,
    # not the CLI, would empty the book. This test is about the CLI: the switch waits for it.
    sim.configure(heartbeat_timeout_s=600)
    try:
        engine.start()
        wait_until(lambda: sim.open_order_count(address) > 0, 30, what="orders at the venue")
        engine.crash()  # down hard: its orders are still resting at the venue
        assert sim.open_order_count(address) > 0
        result = run_cli(["cancel-all"], engine.env)
        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout)["canceled"] > 0
        assert sim.open_order_count(address) == 0
    finally:
        sim.configure(heartbeat_timeout_s=10)
        engine.cleanup()


def test_going_live_is_refused_while_orders_are_open(tmp_path: Path, sim: SimHandle) -> None:
    engine, _ = _engine(tmp_path, sim, mode="paper")
    try:
        engine.start()
        wait_until(lambda: _count(engine.db_path, "SELECT COUNT(*) FROM orders WHERE status_rank < 100") > 0, 30)
        running = engine.run("set_mode", {"mode": "live"})
        assert running.status == "failed" and "stop the engine" in running.error
        engine.crash()  # paper orders left open in the ledger
        with sqlite3.connect(engine.db_path) as conn:
            conn.execute("UPDATE engine_state SET desired_state = 'STOPPED'")
        engine.start()
        blocked = engine.run("set_mode", {"mode": "live"})
        assert blocked.status == "failed" and "still open" in blocked.error
    finally:
        engine.cleanup()

