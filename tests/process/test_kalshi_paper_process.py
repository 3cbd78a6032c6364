"""One engine, two venues, as a user runs it (issue 40): a real `python -m engine run` on a live
desk quotes its promoted strategy at Polymarket (the simulator) while a strategy naming a paired
Kalshi market trades Kalshi's paper ledger beside it, on the Kalshi book the engine reads through
its own Kalshi client (the simulator's Kalshi side). Each ledger's orders are its venue's, nothing
of Kalshi's reaches Polymarket, `engine status` names Kalshi's ledger apart, and a kill cancels both."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from simulator.testing import SimHandle, approved_simulator
from storage.desk import desk_status
from tests.helpers import live_desk, wait_until
from tests.kalshi import binary_tickers, promoted_on

pytestmark = pytest.mark.slow
MM = {"size": 20, "half_spread": 0.03, "max_spread": 0.9}
WORKING = "status IN ('PENDING_SUBMIT', 'LIVE', 'PARTIALLY_FILLED', 'CANCEL_PENDING')"


@pytest.fixture(scope="module")
def sim() -> Iterator[SimHandle]:
    with approved_simulator(seed=53, agents=False, kalshi_markets=1) as handle:
        yield handle


def _count(db_path: Path, sql: str) -> int:
    with sqlite3.connect(db_path) as conn:
        return int(conn.execute(sql).fetchone()[0])


def test_a_live_desk_and_kalshis_paper_ledger_trade_side_by_side(tmp_path: Path, sim: SimHandle) -> None:
    engine, funder = live_desk(tmp_path, sim, mm=(MM, {"filter": {"max_markets": 1}}))
    ticker = binary_tickers(sim)[0]
    promoted_on(engine.db_path, sim, ticker, MM)
    path = engine.db_path
    try:
        engine.start()
        wait_until(lambda: _count(path, f"SELECT COUNT(*) FROM orders WHERE strategy = 'kx' AND {WORKING}") >= 2,
                   60, interval=0.5, what="the Kalshi strategy quoting on Kalshi's paper ledger")
        wait_until(lambda: sim.open_order_count(funder) >= 2, 60, interval=0.5, what="the live strategy quoting")
        assert _count(path, "SELECT COUNT(*) FROM orders WHERE strategy = 'kx' AND NOT "
                            "(venue = 'kalshi' AND mode = 'paper')") == 0
        assert _count(path, "SELECT COUNT(*) FROM orders WHERE strategy = 'mm' AND venue != 'polymarket'") == 0
        assert sim.open_order_count(funder) == _count(path, "SELECT COUNT(*) FROM orders WHERE mode = 'live' "
                                                            "AND status = 'LIVE'")  # Kalshi's stayed on paper
        assert _count(path, "SELECT COUNT(*) FROM alerts WHERE code = 'KALSHI_PAPER' AND subject = 'kx'") == 1
        with sqlite3.connect(path) as conn:
            conn.row_factory = sqlite3.Row
            report = desk_status.status_report(conn, path)
        assert report["kalshi_paper"]["strategies"] == ["kx"] and report["kalshi_paper"]["open_orders"] >= 2
        assert engine.run("kill").status == "done"
        wait_until(lambda: sim.open_order_count(funder) == 0, 60, interval=0.5, what="the kill at the venue")
        wait_until(lambda: _count(path, f"SELECT COUNT(*) FROM orders WHERE venue = 'kalshi' AND {WORKING}") == 0,
                   60, interval=0.5, what="the kill on Kalshi's paper ledger")
    finally:
        engine.cleanup()
