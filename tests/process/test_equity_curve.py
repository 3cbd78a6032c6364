"""Equity that is never invented: a real engine holding a paper position is stopped, armed live and
back to paper (each ledger empty until a start recovers it), started, then restarted (its books on
their way again); every paper snapshot it wrote is of the whole ledger valued from its books: no
zero, no unrealized 0.00 while the position is held, no jump that no fill explains; and nothing was
written for the live ledger it never traded."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from simulator.testing import SimHandle, approved_simulator
from tests.arming import EVERY_OVERRIDABLE
from tests.helpers import EngineProcess, live_desk, set_book, wait_until

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def sim() -> Iterator[SimHandle]:
    with approved_simulator(seed=91, agents=False) as handle:
        yield handle


def _rows(engine: EngineProcess, sql: str) -> list[tuple]:
    with sqlite3.connect(engine.db_path, timeout=10) as conn:
        return conn.execute(sql).fetchall()


def _snapshots(engine: EngineProcess, mode: str) -> int:
    return int(_rows(engine, f"SELECT COUNT(*) FROM portfolio_snapshots WHERE mode = '{mode}'")[0][0])


def _more_snapshots(engine: EngineProcess, what: str, count: int = 2) -> None:
    seen = _snapshots(engine, "paper")
    wait_until(lambda: _snapshots(engine, "paper") >= seen + count, 60, 0.5, what)


def test_switching_live_and_back_and_restarting_invents_no_equity(tmp_path: Path, sim: SimHandle) -> None:
    engine, _ = live_desk(tmp_path, sim, mode="paper", settings={"snapshot_interval_s": 5})
    market = sim.market(neg_risk=False)
    set_book(sim, market, ("BUY", "0.40", "500"), ("SELL", "0.50", "500"))  # mid 0.45 under the 0.50 paid
    try:
        engine.start()
        bought = engine.run("place_order", {"condition_id": market["condition_id"], "outcome": "YES", "side": "BUY",
                                            "size": 20, "price": 0.5, "tif": "FAK"}, timeout=30)
        assert bought.status == "done", bought.error
        wait_until(lambda: _rows(engine, "SELECT COUNT(*) FROM fills")[0][0] == 1, 30, 0.2, "the paper fill")
        _more_snapshots(engine, "snapshots of the position held")
        assert engine.run("stop", timeout=30).status == "done"
        armed = engine.run("set_mode", {"mode": "live", "override": EVERY_OVERRIDABLE}, timeout=30)
        assert armed.status == "done", armed.error
        assert engine.run("set_mode", {"mode": "paper"}, timeout=30).status == "done"
        assert engine.run("start", timeout=60).status == "done"
        _more_snapshots(engine, "snapshots after switching back")
        engine.terminate()
        engine.start()  # a new process: its books arrive after its start
        _more_snapshots(engine, "snapshots after the restart", 3)
    finally:
        engine.cleanup()
    curve = _rows(engine, "SELECT at, equity, unrealized, cash FROM portfolio_snapshots WHERE mode = 'paper' "
                          "ORDER BY at, id")
    after_fill = [row for row in curve if row[3] < curve[0][3]]  # the cash the fill spent is gone from here on
    assert len(after_fill) >= 6
    assert all(equity > 0 for _, equity, _, _ in curve), curve
    assert all(unrealized == -1_000_000 for _, _, unrealized, _ in after_fill), after_fill  # 20 x (0.45 - 0.50)
    assert len({equity for _, equity, _, _ in after_fill}) == 1, after_fill  # no jump: no fill after the first
    assert _snapshots(engine, "live") == 0  # the live ledger never traded: nothing valued for it
