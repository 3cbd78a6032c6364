"""A venue that refuses most orders halts that ledger, said as such: a real live engine on the strict
simulator with a wallet that never approved the exchanges (every order refused, as the venue does)
halts with VENUE_REFUSING, a critical alert quoting the venue's answer, and `engine status` saying
HALTED, not "trading ACTIVE"; nothing more is sent; once the wallet is approved, the operator's
Start resumes trading."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from simulator.testing import SimHandle, running_simulator
from tests.helpers import EngineProcess, live_desk, run_cli, wait_until

pytestmark = pytest.mark.slow

MM = ({"size": 20, "half_spread": 0.03, "refresh_threshold": 0.05, "max_spread": 0.9},
      {"filter": {"max_markets": 2, "neg_risk_only": False}})


@pytest.fixture(scope="module")
def sim() -> Iterator[SimHandle]:
    with running_simulator(seed=83, agents=False) as handle:  # approvals are the wallet's to make
        yield handle


def _one(engine: EngineProcess, sql: str) -> tuple:
    with sqlite3.connect(engine.db_path) as conn:
        return conn.execute(sql).fetchone()


def test_a_venue_refusing_most_orders_halts_the_ledger_until_start(tmp_path: Path, sim: SimHandle) -> None:
    engine, funder = live_desk(tmp_path, sim, mm=MM)
    sim.fund(funder, pusd="500")  # funded, never approved: the venue refuses every order
    try:
        engine.start()
        wait_until(lambda: engine.status().trading_state == "HALTED", 90, interval=0.5, what="the refusal halt")
        status = engine.status()
        assert status.state == "RUNNING" and status.trading_state_reason == "VENUE_REFUSING"
        (level, message) = _one(engine, "SELECT level, message FROM alerts WHERE code = 'VENUE_REFUSING'")
        assert level == "critical" and "allowance" in message and "preflight" in message
        said = run_cli(["status"], engine.env).stdout.splitlines()
        assert said[1].startswith("desk       HALTED: no new orders") and "trading ACTIVE" not in "\n".join(said)
        refused = _one(engine, "SELECT COUNT(*) FROM orders WHERE mode = 'live'")[0]
        assert 5 <= refused and _one(engine, "SELECT COUNT(*) FROM orders WHERE status != 'REJECTED'")[0] == 0
        # Halted: the passes after it decide, and the gate sends nothing (TRADING_HALTED in the decisions log).
        wait_until(lambda: _one(engine, "SELECT COUNT(*) FROM decisions WHERE reason = 'TRADING_HALTED'")[0] > 0,
                   30, interval=0.5, what="a pass refused by the halt")
        assert _one(engine, "SELECT COUNT(*) FROM orders WHERE mode = 'live'")[0] == refused

        sim.approve_trading(funder)  # the operator fixes what the venue named, then presses Start
        assert engine.run("start").status == "done"
        wait_until(lambda: engine.status().trading_state == "ACTIVE", 30, interval=0.5, what="ACTIVE after Start")
        wait_until(lambda: sim.open_order_count(funder) >= 2, 60, interval=0.5, what="quotes resting at the venue")
        assert "Traceback" not in engine.log()
    finally:
        engine.cleanup()
