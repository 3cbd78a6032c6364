"""The dead-man switch with a real live engine process on the simulator: frozen (SIGSTOP), it
stops sending heartbeats and the venue cancels its quotes within ~15 s; woken (SIGCONT), it
starts a new heartbeat chain, learns its orders are gone and quotes again, with nothing open in
its ledger that the venue does not hold."""

from __future__ import annotations

import json
import os
import secrets
import signal
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from eth_account import Account

from simulator.testing import SimHandle, running_simulator
from storage.db import now_ms
from storage.migrations import migrate
from tests.helpers import EngineProcess, isolated_env, wait_until

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def sim() -> Iterator[SimHandle]:
    with running_simulator(seed=47, agents=False, heartbeat_timeout_s=10) as handle:
        yield handle


def _live(tmp: Path, sim: SimHandle) -> tuple[EngineProcess, str]:
    key = "0x" + secrets.token_hex(32)
    funder = Account.create().address
    sim.link_funder(Account.from_key(key).address, funder, 3)
    env = isolated_env(tmp, SIMULATOR_PORT=str(sim.port), POLY_PRIVATE_KEY=key, POLY_SIGNATURE_TYPE="3",
                       POLY_FUNDER=funder)
    migrate(Path(env["TRADER_DB"]))
    with sqlite3.connect(env["TRADER_DB"]) as conn:
        now = now_ms()
        conn.execute("""INSERT INTO strategies (name, kind, params, markets, enabled, created_at, updated_at,
                            updated_by) VALUES ('mm', 'market_making', ?, ?, 1, ?, ?, 'test')""",
                     (json.dumps({"size": 20, "half_spread": 0.03, "max_spread": 0.9}),
                      json.dumps({"filter": {"max_markets": 2}}), now, now))
        for key_, value in (("venue_heartbeat_s", 2), ("venue_sync_s", 2)):
            conn.execute("INSERT INTO settings (key, value, version, updated_at, updated_by) VALUES (?, ?, 1, ?, 't')",
                         (key_, json.dumps(value), now))
        conn.execute("UPDATE engine_state SET desired_state = 'RUNNING', mode = 'live'")
    return EngineProcess(tmp, env), funder


def _open_in_ledger(engine: EngineProcess) -> set[str]:
    with sqlite3.connect(engine.db_path) as conn:
        return {r[0] for r in conn.execute("SELECT venue_order_id FROM orders WHERE status_rank < 100")}


def _open_at_venue(sim: SimHandle, funder: str) -> set[str]:
    return sim.call(lambda: {o.id for o in sim.sim.exchange.open_orders_of_address(funder)})


def test_a_frozen_engine_leaves_nothing_resting_and_comes_back(tmp_path: Path, sim: SimHandle) -> None:
    engine, funder = _live(tmp_path, sim)
    try:
        engine.start()
        wait_until(lambda: sim.open_order_count(funder) >= 2, 40, what="quotes resting")
        assert engine.proc is not None
        os.kill(engine.proc.pid, signal.SIGSTOP)
        frozen_at = time.monotonic()
        wait_until(lambda: sim.open_order_count(funder) == 0, 20, interval=0.2, what="the venue cancelling")
        assert time.monotonic() - frozen_at <= 15
        os.kill(engine.proc.pid, signal.SIGCONT)
        wait_until(lambda: sim.open_order_count(funder) >= 2, 40, interval=0.2, what="quoting again")
        # Give the sync a few passes: then every order the ledger calls open is at the venue.
        wait_until(lambda: _open_in_ledger(engine) <= _open_at_venue(sim, funder), 20, interval=0.5,
                   what="the ledger agreeing with the venue")
        assert engine.status().trading_state == "ACTIVE" and engine.status().state == "RUNNING"
    finally:
        if engine.proc is not None and engine.proc.poll() is None:
            os.kill(engine.proc.pid, signal.SIGCONT)
        engine.cleanup()
