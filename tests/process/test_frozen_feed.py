"""A frozen market channel, met by a real engine process on the simulator: the venue's market
socket stays open and answers every PING while it sends no book data, and the books keep moving.
The desk's books age (the risk gate refuses to quote on them: STALE_DATA), a REST spot check finds
the venue's book moved, the desk alerts FEED_FROZEN once, reconnects and resyncs, and once the
channel speaks again the alert clears and the market maker quotes on fresh data."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from simulator.testing import SimHandle, approved_simulator
from storage.sqlite.db import now_ms
from tests.helpers import EngineProcess, paper_desk, set_book, wait_until

pytestmark = pytest.mark.slow
MM = {"size": 20, "half_spread": 0.02, "max_spread": 0.5, "max_inventory": 20}
FREEZE_S = 16  # the desk notices at ~9 s (books quiet 3 s, then two spot checks 3 s apart): room to spare


@pytest.fixture
def sim() -> Iterator[SimHandle]:
    with approved_simulator(seed=89, agents=False, maintenance_schedule="off") as handle:
        yield handle


def _rows(engine: EngineProcess, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    with sqlite3.connect(engine.db_path, timeout=10) as conn:
        return conn.execute(sql, args).fetchall()


class BookMover:
    """Keeps the market's book moving (a share more at a deep bid, every few tenths of a second)
    without touching the prices the market maker quotes around."""

    def __init__(self, sim: SimHandle, token: str):
        self.sim, self.token = sim, token
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self.stop.wait(0.3):
            self.sim.place_liquidity(self.token, "BUY", "0.30", "1")

    def __enter__(self) -> BookMover:
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop.set()
        self.thread.join(10)


def test_a_frozen_market_channel_is_noticed_alerted_reconnected_and_cleared(tmp_path: Path, sim: SimHandle) -> None:
    market = next(m for m in sim.markets() if not m["sports"] and not m["neg_risk"])
    cid, yes = market["condition_id"], market["yes_token_id"]
    set_book(sim, market, ("BUY", "0.45", "100"), ("SELL", "0.55", "100"))
    engine = paper_desk(tmp_path, sim, [("mm", "market_making", MM, [cid])], limits={"max_data_age": "3"})
    try:
        engine.start()
        with BookMover(sim, yes):
            wait_until(lambda: _rows(engine, "SELECT 1 FROM orders WHERE strategy = 'mm' AND status = 'LIVE'"),
                       60, 0.2, "the market maker quoting")
            frozen_at = now_ms()
            assert not _rows(engine, "SELECT 1 FROM decisions WHERE reason = 'STALE_DATA'")  # live data so far
            httpx.post(f"{sim.clob_host}/_sim/faults", json={"market_feed_freeze_s": FREEZE_S}).raise_for_status()
            # No data: the books age past the 3 s limit and the gate refuses to quote on them.
            wait_until(lambda: _rows(engine, "SELECT 1 FROM decisions WHERE reason = 'STALE_DATA' AND at > ?",
                                     frozen_at), 30, 0.2, "a refusal on stale data")
            wait_until(lambda: _rows(engine, "SELECT 1 FROM alerts WHERE code = 'FEED_FROZEN'"), 30, 0.2,
                       "the FEED_FROZEN alert")
            assert "market channel frozen" in engine.log()  # ...and reconnecting
            sockets = httpx.get(f"{sim.clob_host}/_sim/faults").json()["stats"]["ws_frozen"]
            assert sockets > 0  # the simulator really withheld data (snapshots on resubscribe included)
            wait_until(lambda: _rows(engine, "SELECT created_at FROM alerts WHERE code = 'FEED_FROZEN_CLEARED'"),
                       FREEZE_S + 30, 0.2, "the channel speaking again")
        # Fresh data again: the market moves to a 0.60 mid and the market maker follows it.
        moved_at = now_ms()
        set_book(sim, market, ("BUY", "0.55", "100"), ("SELL", "0.65", "100"))
        wait_until(lambda: _rows(engine, "SELECT 1 FROM orders WHERE strategy = 'mm' AND status = 'LIVE' "
                                         "AND created_at > ? AND price IN (580000, 380000)", moved_at),
                   30, 0.2, "quotes on fresh data")
        assert [c for (c,) in _rows(engine, "SELECT code FROM alerts WHERE code LIKE 'FEED_FROZEN%' ORDER BY id")] \
            == ["FEED_FROZEN", "FEED_FROZEN_CLEARED"]  # once, and once cleared
    finally:
        engine.cleanup()
