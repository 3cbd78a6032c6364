"""A fresh checkout on the simulator: `engine init` seeds a demo market-making strategy and
the engine, started as supervisord starts it, discovers markets and paper-trades within the
default limits; configuration changes apply on the next tick without a restart."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from contracts.limits import BY_NAME
from simulator.testing import SimHandle, running_simulator
from tests.helpers import EngineProcess, isolated_env, run_cli, wait_until

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def sim() -> Iterator[SimHandle]:
    # Strict (no wallet approved anything): paper trading sends no orders to the venue and needs none.
    with running_simulator(seed=42, agents=True, agent_interval_s=0.2) as handle:
        yield handle


def _rows(db: Path, sql: str, *args: object) -> list[tuple]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql, args).fetchall()


def test_fresh_database_trades_the_demo_strategy_within_default_limits(tmp_path: Path, sim: SimHandle) -> None:
    env = isolated_env(tmp_path, SIMULATOR_PORT=str(sim.port))
    init = run_cli(["init"], env)
    assert init.returncode == 0 and "demo market-making" in init.stdout
    assert _rows(Path(env["TRADER_DB"]), "SELECT name, live FROM strategies") == [("demo-market-making", 0)]  # paper
    engine = EngineProcess(tmp_path, env)
    try:
        engine.start()
        wait_until(lambda: engine.status().state == "RUNNING", 30, what="the demo runs on its own")
        db = engine.db_path
        assert _rows(db, "SELECT COUNT(*) FROM markets")[0][0] >= 4
        wait_until(lambda: _rows(db, "SELECT COUNT(*) FROM orders WHERE status = 'LIVE'")[0][0] >= 4, 30,
                   what="demo quotes resting")
        assert {r[0] for r in _rows(db, "SELECT strategy FROM orders")} == {"demo-market-making"}
        assert _rows(db, "SELECT DISTINCT mode FROM orders") == [("paper",)]
        # Within the default limits: open BUY notional plus held cost under max total exposure.
        open_cost = _rows(db, "SELECT COALESCE(SUM(price * (size - filled) / 1000000), 0) FROM orders "
                              "WHERE status_rank < 100 AND side = 'BUY'")[0][0]
        held_cost = _rows(db, "SELECT COALESCE(SUM(cost), 0) FROM positions")[0][0]
        assert open_cost + held_cost <= int(BY_NAME["max_total_exposure"].default * 1_000_000)
        assert len(_rows(db, "SELECT 1 FROM orders WHERE status_rank < 100")) <= int(BY_NAME["max_open_orders"].default)
    finally:
        engine.cleanup()


def test_config_changes_apply_on_the_next_tick(tmp_path: Path, sim: SimHandle) -> None:
    env = isolated_env(tmp_path, SIMULATOR_PORT=str(sim.port))
    assert run_cli(["init"], env).returncode == 0
    engine = EngineProcess(tmp_path, env)
    db = Path(env["TRADER_DB"])
    try:
        engine.start()
        wait_until(lambda: _rows(db, "SELECT COUNT(*) FROM orders WHERE status = 'LIVE'")[0][0] >= 2, 30)
        # Disable the demo: its orders are cancelled on the next tick, no restart.
        with sqlite3.connect(db) as conn:
            conn.execute("UPDATE strategies SET enabled = 0, version = version + 1")
        assert engine.run("reload_config").status == "done"
        wait_until(lambda: _rows(db, "SELECT COUNT(*) FROM orders WHERE status_rank < 100")[0][0] == 0, 15,
                   what="orders withdrawn after disabling")
        with sqlite3.connect(db) as conn:
            conn.execute("UPDATE strategies SET enabled = 1, version = version + 1")
        assert engine.run("reload_config").status == "done"
        wait_until(lambda: _rows(db, "SELECT COUNT(*) FROM orders WHERE status = 'LIVE'")[0][0] >= 2, 30,
                   what="quotes back after re-enabling")
        assert engine.status().state == "RUNNING"
    finally:
        engine.cleanup()
