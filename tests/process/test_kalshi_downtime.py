"""Kalshi downtime reconciles (issue 57, item 3), with real `python -m engine run` processes and Kalshi
armed live on the simulator's Kalshi side: fills of both the desk's quotes (fractions of a contract) made
while the engine was down are booked at restart from Kalshi's records, once, with no halt; after a
crash loop the halted ledger still equals Kalshi (no working order Kalshi does not hold, its cash and
position Kalshi's to the micro-dollar); and after Kalshi's order endpoints fault (5xx, 429, timeouts)
the quotes come back within 10 s of the fault clearing."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from contracts.venues.kalshi import ids as kalshi_ids
from engine.execution import store
from simulator.testing import SimHandle, approved_simulator
from storage.sqlite.db import Database, file_heartbeat_ms, now_ms
from tests.helpers import EngineProcess, paper_desk, wait_until
from tests.kalshi import binary_tickers, keypair, promoted_on, register, structure

pytestmark = pytest.mark.slow
# Quotes half a cent either side of the mid, on a market priced in tenths of a cent: the best bid and ask.
MM = {"size": 20, "half_spread": 0.005, "max_spread": 0.9, "skew_per_share": 0}
WORKING = "status IN ('PENDING_SUBMIT', 'LIVE', 'PARTIALLY_FILLED', 'CANCEL_PENDING')"
TAKEN = 1_500_000  # 1.5 contracts of each quote taken while the engine is down
WHOLE = 100_000_000  # more than a quote holds: taken whole


@pytest.fixture(scope="module")
def sim() -> Iterator[SimHandle]:
    with approved_simulator(seed=61, agents=False, kalshi_markets=3) as handle:
        yield handle


def _desk(tmp: Path, sim: SimHandle, **env: str) -> tuple[EngineProcess, str, str]:
    """An engine (not started) with Kalshi armed live: one promoted market maker on a deci-cent market."""
    private, public = keypair()
    key_id = register(sim, public)
    account = str(sim.call(lambda: sim.sim.kalshi.keys.keys[key_id].account))
    ticker = next(t for t in binary_tickers(sim) if structure(sim, t) == "deci_cent")
    engine = paper_desk(tmp, sim, [])
    engine.env.update(KALSHI_API_KEY_ID=key_id, KALSHI_PRIVATE_KEY=private.replace("\n", "\\n"), **env)
    promoted_on(engine.db_path, sim, ticker, MM)
    with sqlite3.connect(engine.db_path) as conn:
        conn.execute("UPDATE venue_modes SET mode = 'live' WHERE venue = 'kalshi'")
    return engine, account, ticker


def _count(path: Path, sql: str) -> int:
    with sqlite3.connect(path) as conn:
        return int(conn.execute(sql).fetchone()[0])


def _resting(sim: SimHandle, account: str) -> list[tuple[str, int]]:
    """(book side, price) of the account's orders resting at Kalshi."""
    return list(sim.call(lambda: [(o.book_side, o.price) for o in sim.sim.kalshi.exchange.orders.values()
                                  if o.account == account and o.status == "resting"]))


def _take_each(sim: SimHandle, ticker: str, account: str, count: int = TAKEN) -> int:
    """Another trader takes `count` of each of the account's resting quotes (a bid by selling, an ask
    by buying); returns how many fills that made for the account."""
    quotes = _resting(sim, account)
    before = len(sim.call(lambda: sim.sim.kalshi.exchange.accounts[account].fills))
    for side, price in quotes:
        sim.call(lambda s=side, p=price: sim.sim.kalshi.exchange.house_take(
            ticker, "ask" if s == "bid" else "bid", p, count, now_ms()))
    return len(sim.call(lambda: sim.sim.kalshi.exchange.accounts[account].fills)) - before


def _kalshi_holds(sim: SimHandle, account: str, ticker: str) -> tuple[int, int]:
    """(balance, signed position: + YES, - NO) of the account at Kalshi, micro-units."""
    def read() -> tuple[int, int]:
        held = sim.sim.kalshi.exchange.accounts[account]
        position = held.positions.get(ticker)
        return held.balance, 0 if position is None else position.count
    balance, count = sim.call(read)
    return balance, count


def _ledger_holds(path: Path, ticker: str) -> tuple[int, int]:
    """(cash, YES held - NO held) of Kalshi's live ledger."""
    db = Database(path)
    try:
        with db.read() as conn:
            cash = store.cash(conn, "live", "kalshi")
            held: dict[str, int] = dict(conn.exec_driver_sql(
                "SELECT token_id, settled + pending FROM positions WHERE venue = 'kalshi' AND mode = 'live'").all())
    finally:
        db.dispose()
    return cash, held.get(kalshi_ids.token_id(ticker, "yes"), 0) - held.get(kalshi_ids.token_id(ticker, "no"), 0)


def _halts(path: Path) -> list[Any]:
    with sqlite3.connect(path) as conn:
        return conn.execute("SELECT code, message FROM alerts WHERE code IN ('BALANCE_MISMATCH', 'KALSHI_BALANCE', "
                            "'ERROR_RATE') OR (level = 'critical' AND code != 'CRASH_LOOP')").fetchall()


def test_fills_while_down_are_booked_at_restart_and_a_crash_loop_halt_leaves_the_ledger_equal_to_kalshi(
        tmp_path: Path, sim: SimHandle) -> None:
    engine, account, ticker = _desk(tmp_path, sim, CRASH_LOOP_MAX_RESTARTS="2", CRASH_LOOP_WINDOW_MINUTES="10")
    path = engine.db_path
    fills = "SELECT COUNT(*) FROM fills WHERE venue = 'kalshi' AND mode = 'live'"
    try:
        engine.start()
        wait_until(lambda: len(_resting(sim, account)) >= 2, 60, interval=0.3, what="both quotes resting at Kalshi")
        engine.crash()
        assert _take_each(sim, ticker, account) == 2  # both quotes, bid and ask, filled in part while down
        engine.start()
        wait_until(lambda: _count(path, fills) >= 2, 60, interval=0.3, what="the fills booked at restart")
        wait_until(lambda: len(_resting(sim, account)) >= 2, 60, interval=0.3, what="quoting again")
        assert _count(path, fills) == 2  # each once
        assert _halts(path) == []  # booked, not a mismatch
        engine.crash()
        assert _take_each(sim, ticker, account) >= 1  # more fills while down again
        engine.start()  # the second unclean restart in the window: the crash-loop guard halts it
        wait_until(lambda: _count(path, "SELECT COUNT(*) FROM alerts WHERE code = 'CRASH_LOOP'") == 1, 60,
                   interval=0.3, what="the crash-loop halt")
        wait_until(lambda: not _resting(sim, account), 30, interval=0.3, what="the halt's cancels at Kalshi")
        wait_until(lambda: _count(path, f"SELECT COUNT(*) FROM orders WHERE venue = 'kalshi' AND {WORKING}") == 0,
                   30, interval=0.3, what="the halted ledger's orders closed as Kalshi closed them")
        assert engine.status().state == "STOPPED"
        assert _ledger_holds(path, ticker) == _kalshi_holds(sim, account, ticker)  # cash and position, exactly
        assert _count(path, fills) == len(sim.call(lambda: sim.sim.kalshi.exchange.accounts[account].fills))
        assert _halts(path) == []
    finally:
        engine.cleanup()


def test_kalshi_quotes_come_back_within_10_s_of_a_venue_fault_clearing(tmp_path: Path, sim: SimHandle) -> None:
    engine, account, ticker = _desk(tmp_path, sim)
    try:
        engine.start()
        wait_until(lambda: len(_resting(sim, account)) >= 2, 60, interval=0.3, what="both quotes resting at Kalshi")
        sim.set_faults(error_rate=0.7, error_codes=[500, 502, 503, 429], timeout_rate=0.5, timeout_hold_s=6)
        try:
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:  # the quotes keep getting filled whole: the desk must place again
                _take_each(sim, ticker, account, WHOLE)
                time.sleep(2)
        finally:
            met = dict(sim.call(lambda: sim.sim.faults.stats))
            sim.clear_faults()
        # Within 10 s of the engine's own time: 20 of its half-second heartbeats (a loaded machine that
        # runs the engine slowly stretches the wall clock, not the engine's count of its turns).
        beats = {file_heartbeat_ms(engine.db_path)}
        _take_each(sim, ticker, account, WHOLE)

        def back() -> bool:
            beats.add(file_heartbeat_ms(engine.db_path))
            return len(_resting(sim, account)) >= 2

        wait_until(back, 120, interval=0.05, what="the quotes back at Kalshi")
        assert len(beats) - 1 <= 20, f"the Kalshi quotes came back {len(beats) - 1} engine heartbeats after the faults"
        assert met["errors"] > 0  # the desk did meet the faults
    finally:
        engine.cleanup()
