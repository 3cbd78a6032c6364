"""Blind spots closed, with a real live engine process on the strict simulator: the wallet is
compared with the ledger while trading (a deposit made behind the engine's back is alerted and,
past the tolerance, halts), `engine status` names every venue condition (never "venue ok" while
the venue is unreachable), and a Start while running clears a breaker halt (booking the
difference, audited)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from simulator.testing import SimHandle, approved_simulator
from tests.helpers import EngineProcess, decoded, live_desk, run_cli, wait_until

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def sim() -> Iterator[SimHandle]:
    with approved_simulator(seed=71, agents=False) as handle:
        yield handle


def _codes(engine: EngineProcess) -> list[str]:
    with sqlite3.connect(engine.db_path) as conn:
        return [r[0] for r in conn.execute("SELECT code FROM alerts ORDER BY id")]


def _venue(engine: EngineProcess) -> dict[str, Any]:
    result = run_cli(["status", "--json"], engine.env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)["venue"]


def _status_text(engine: EngineProcess) -> list[str]:
    result = run_cli(["status"], engine.env)
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


def test_a_deposit_behind_the_engines_back_halts_past_the_tolerance_and_start_books_it(
        tmp_path: Path, sim: SimHandle) -> None:
    engine, funder = live_desk(tmp_path, sim, settings={"balance_check_s": 10, "balance_drift_tolerance_usdc": 5})
    try:
        engine.start()
        wait_until(lambda: engine.status().state == "RUNNING", 30, what="running")
        assert "CASH_SYNC" in _codes(engine)  # the start-up sync: the ledger starts at the wallet's cash
        sim.fund(funder, pusd="20")  # money arrives while the engine trades
        # The drift counts once two checks 10 s apart see it (~25 s); the bound leaves room for a crowded machine.
        wait_until(lambda: engine.status().trading_state == "HALTED", 90, interval=0.5, what="the drift halt")
        status = engine.status()
        assert status.trading_state_reason == "BALANCE_MISMATCH"
        assert "BALANCE_DRIFT" in _codes(engine)
        venue = _venue(engine)
        assert venue["ok"] is False and "balance_drift" in [c["code"] for c in venue["conditions"]]
        assert any("balance drift" in line and "+20.00 pUSD" in line for line in _status_text(engine))

        start = engine.run("start")  # while RUNNING: the operator has looked
        assert start.status == "done" and "BALANCE_MISMATCH halt is cleared" in start.result
        assert "halted again" not in start.result
        status = engine.status()
        assert (status.state, status.trading_state) == ("RUNNING", "ACTIVE")
        with sqlite3.connect(engine.db_path) as conn:
            booked = conn.execute("SELECT amount FROM cash_ledger WHERE kind = 'adjustment'").fetchall()
            audited = conn.execute("SELECT actor, before, after FROM audit_log WHERE action = "
                                   "'engine.start_clears_halt'").fetchall()
        assert booked == [(20_000_000,)]
        assert len(audited) == 1 and json.loads(audited[0][1])["reason"] == "BALANCE_MISMATCH"
        assert json.loads(audited[0][2])["trading_state"] == "ACTIVE"
        wait_until(lambda: _venue(engine)["ok"], 15, interval=0.5, what="the drift condition cleared")
        again = engine.run("start")
        assert again.status == "done" and decoded(again.result)["note"] == "already running"
    finally:
        engine.cleanup()


def test_status_is_not_ok_while_the_venue_is_unreachable(tmp_path: Path, sim: SimHandle) -> None:
    engine, _ = live_desk(tmp_path, sim, settings={"alert_feed_down_s": 5, "venue_sync_s": 1})
    try:
        engine.start()
        wait_until(lambda: engine.status().state == "RUNNING", 30, what="running")
        assert _venue(engine)["ok"] is True
        sim.set_faults(error_rate=1.0, error_codes=[503], error_scope="all")
        try:
            wait_until(lambda: "VENUE_UNREACHABLE" in _codes(engine), 60, interval=0.5, what="the unreachable alert")
            venue = _venue(engine)
            assert venue["status"] == "ok" and venue["ok"] is False  # the phase alone would say ok
            assert "unreachable" in [c["code"] for c in venue["conditions"]]
            lines = _status_text(engine)
            assert "venue      ok" not in lines and any(line.startswith("venue      unreachable") for line in lines)
        finally:
            sim.clear_faults()
        wait_until(lambda: _venue(engine)["ok"], 60, interval=0.5, what="the venue answering again")
        assert "VENUE_UNREACHABLE_CLEARED" in _codes(engine)
    finally:
        engine.cleanup()
