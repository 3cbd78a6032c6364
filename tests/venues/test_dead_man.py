"""The dead-man switch with a real live engine process on the simulator: frozen (SIGSTOP), it
stops sending heartbeats and the venue's dead-man switch cancels its quotes (10 s after the last); woken (SIGCONT), it
starts a new heartbeat chain, learns its orders are gone and quotes again, with nothing open in
its ledger that the venue does not hold. And a crash-loop halt cancels every live order at the
venue before the engine idles."""

from __future__ import annotations

import os
import signal
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from simulator.testing import SimHandle, approved_simulator
from tests.clocks import wait_for_beats
from tests.helpers import EngineProcess, live_desk, wait_until

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def sim() -> Iterator[SimHandle]:
    with approved_simulator(seed=47, agents=False, heartbeat_timeout_s=10) as handle:
        yield handle


def _live(tmp: Path, sim: SimHandle) -> tuple[EngineProcess, str]:
    return live_desk(tmp, sim,
                     mm=({"size": 20, "half_spread": 0.03, "max_spread": 0.9}, {"filter": {"max_markets": 2}}),
                     settings={"venue_heartbeat_s": 2, "venue_sync_s": 2})


def _dead_man_cancelled(sim: SimHandle) -> int:
    return sum(stats["dead_man_cancelled"] for stats in sim.heartbeats().values())


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
        switched_before = _dead_man_cancelled(sim)
        os.kill(engine.proc.pid, signal.SIGSTOP)
        wait_until(lambda: sim.open_order_count(funder) == 0, 120, interval=0.2, what="the venue cancelling")
        # By the venue's dead-man switch, after its 10 s without a heartbeat (the simulator's timing is its
        # own tests'; here its clock starts at the engine's last heartbeat, which a loaded machine may have
        # sent seconds before the freeze, so a wall-clock bound from the freeze would measure the load).
        assert _dead_man_cancelled(sim) - switched_before >= 2
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


def test_a_crash_loop_halt_cancels_every_live_order_before_it_idles(tmp_path: Path, sim: SimHandle) -> None:
    """No venue heartbeats here (0 = off), so nothing but the halt itself can clear the book: the
    crashed engine's quotes rest at the venue until the restart that trips the crash-loop guard
    cancels them all, and the engine idles halted."""
    engine, funder = live_desk(tmp_path, sim, mm=({"size": 20, "half_spread": 0.03, "max_spread": 0.9},
                                                  {"filter": {"max_markets": 2}}),
                               settings={"venue_heartbeat_s": 0, "venue_sync_s": 2})
    engine.env["CRASH_LOOP_MAX_RESTARTS"] = "1"  # the first unclean restart is a crash loop
    try:
        engine.start()
        wait_until(lambda: sim.open_order_count(funder) >= 2, 40, what="quotes resting")
        engine.crash()
        resting = sim.open_order_count(funder)
        assert resting >= 2  # the dead engine left them: no heartbeat chain to lapse
        engine.start()
        wait_until(lambda: sim.open_order_count(funder) == 0, 15, interval=0.2, what="the halt cancelling them")
        status = engine.status()
        assert status.state == "STOPPED" and status.desired_state == "STOPPED"
        assert "crash loop" in (status.last_error or "")
        with sqlite3.connect(engine.db_path) as conn:
            codes = {r[0] for r in conn.execute("SELECT code FROM alerts")}
        assert "CRASH_LOOP" in codes and "HALT_CANCEL_FAILED" not in codes
        wait_for_beats(engine.db_path, 4)  # idle: its loop turns, and it places nothing after the halt
        assert sim.open_order_count(funder) == 0
    finally:
        engine.cleanup()
