"""Crash-point matrix with the real engine process, paper and live against the simulator.

The engine is killed (os._exit) at three points that must survive a crash: right after an
order's intent is committed, after it was submitted but before the ACK is committed, and
after a fill arrived but before it was committed. Restarted on the same database file, it
must have submitted each order at most once, agree with the venue on open orders, and hold
positions equal to the sum of its fills.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from contracts.domain import Side
from contracts.settings import load_settings
from engine.execution.ledger import FillFact, fold
from engine.venues.base import TradeStatus
from engine.venues.paper import PaperVenue
from engine.venues.polymarket.venue import PolymarketVenue
from simulator.testing import SimHandle, approved_simulator
from storage.sqlite.db import Database, now_ms
from storage.sqlite.migrations import migrate
from tests.helpers import EngineProcess, isolated_env, wait_until

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def sim() -> Iterator[SimHandle]:
    # The live wallet is a plain type-0 (EOA) key, which the venue refuses as a maker: allowed here.
    with approved_simulator(seed=11, agents=False, allow_eoa_makers=True) as handle:
        yield handle


def _market(sim: SimHandle) -> dict:
    return sim.market(neg_risk=False)


def _prepare(tmp: Path, sim: SimHandle, mode: str, crash_at: str | None) -> EngineProcess:
    key = "0x" + secrets.token_hex(32)
    env = isolated_env(tmp, SIMULATOR_PORT=str(sim.port), ORDER_LOST_GRACE_SECONDS="1", POLY_PRIVATE_KEY=key,
                       POLY_SIGNATURE_TYPE="0")  # an EOA: the simulator allows it as a maker here
    if crash_at:
        env["TRADER_CRASH_AT"] = crash_at
    db_path = Path(env["TRADER_DB"])
    migrate(db_path)
    market = _market(sim)
    with sqlite3.connect(db_path) as conn:
        now = now_ms()
        params = {"size": 20, "half_spread": 0.01, "max_spread": 0.5}
        conn.execute("""INSERT INTO strategies (name, kind, params, markets, enabled, created_at, updated_at,
                                                updated_by, live)
                        VALUES ('mm', 'market_making', ?, ?, 1, ?, ?, 'test', ?)""",
                     (json.dumps(params), json.dumps([market["condition_id"]]), now, now, int(mode == "live")))
        conn.execute("UPDATE engine_state SET desired_state = 'RUNNING', mode = ?", (mode,))
    return EngineProcess(tmp, env)


def _restart_without_crash(engine: EngineProcess) -> None:
    engine.env.pop("TRADER_CRASH_AT", None)
    engine.start()
    wait_until(lambda: engine.status().state == "RUNNING", 30, what="RUNNING after restart")


def _rows(db_path: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(db_path) as conn:
        return conn.execute(sql).fetchall()


def _venue_view(engine: EngineProcess, mode: str) -> tuple[set[str], list]:
    """The venue's open orders and trades, seen through the same protocol the engine uses."""
    async def view() -> tuple[set[str], list]:
        venue: PolymarketVenue | PaperVenue
        if mode == "live":
            venue = PolymarketVenue(load_settings(engine.env))
            await venue.connect()
        else:
            from engine.feeds.books import BookCache
            from engine.feeds.catalog import MarketCatalog

            venue = PaperVenue(Database(engine.db_path), BookCache(), MarketCatalog())
            await venue.start()
        try:
            return {o.venue_order_id for o in await venue.open_orders()}, await venue.trades(after_ms=0)
        finally:
            await venue.close()

    return asyncio.run(view())


def _assert_consistent(engine: EngineProcess, mode: str) -> None:
    def settled() -> bool:
        pending = _rows(engine.db_path, "SELECT COUNT(*) FROM orders WHERE status = 'PENDING_SUBMIT'")[0][0]
        return pending == 0

    wait_until(settled, 20, what="no order left PENDING_SUBMIT")
    engine.terminate()  # a clean stop: strategy orders are cancelled; compare the final picture
    local_open = {r[0] for r in _rows(engine.db_path, "SELECT venue_order_id FROM orders WHERE status_rank < 100")}
    venue_open, venue_trades = _venue_view(engine, mode)
    assert local_open == venue_open
    # Submitted at most once: every venue trade belongs to an order we have exactly one row for.
    rows = _rows(engine.db_path, "SELECT venue_order_id, COUNT(*) FROM orders GROUP BY venue_order_id")
    assert all(count == 1 for _, count in rows)
    ours = {vid for vid, _ in rows}
    assert {t.venue_order_id for t in venue_trades} <= ours
    # Every venue fill is in the ledger, once.
    fills = _rows(engine.db_path, "SELECT trade_id, side, price, size, fee, status FROM fills")
    assert {f[0] for f in fills} == {t.trade_id for t in venue_trades}
    # Positions equal the fold of their fills.
    for strategy, token, settled_size, pending, cost in _rows(
            engine.db_path, "SELECT strategy, token_id, settled, pending, cost FROM positions"):
        facts = [FillFact(Side(side), price, size, fee, TradeStatus(status)) for _, side, price, size, fee, status in
                 _rows(engine.db_path, f"SELECT trade_id, side, price, size, fee, status FROM fills WHERE strategy = "
                                       f"'{strategy}' AND token_id = '{token}' ORDER BY matched_at, trade_id")]
        totals = fold(facts)
        assert (settled_size, pending, cost) == (totals.settled, totals.pending, totals.cost)


@pytest.mark.parametrize("mode", ["paper", "live"])
def test_crash_after_intent_commit_never_resubmits(tmp_path: Path, sim: SimHandle, mode: str) -> None:
    engine = _prepare(tmp_path, sim, mode, "after_intent_commit")
    try:
        engine.start(wait=False)
        assert engine.proc is not None and engine.proc.wait(60) == 137
        orphan = _rows(engine.db_path, "SELECT venue_order_id FROM orders")
        assert orphan and all(r[0] for r in orphan)
        _restart_without_crash(engine)
        lost_sql = "SELECT COUNT(*) FROM orders WHERE status = 'LOST'"
        wait_until(lambda: _rows(engine.db_path, lost_sql)[0][0] == len(orphan),
                   20, what="unacknowledged orders marked LOST")
        lost = {r[0] for r in _rows(engine.db_path, "SELECT venue_order_id FROM orders WHERE status = 'LOST'")}
        assert lost == {r[0] for r in orphan}
        _assert_consistent(engine, mode)
        assert not lost & _venue_view(engine, mode)[0]  # never sent, never resubmitted
    finally:
        engine.cleanup()


@pytest.mark.parametrize("mode", ["paper", "live"])
def test_crash_after_submit_adopts_the_venue_order(tmp_path: Path, sim: SimHandle, mode: str) -> None:
    engine = _prepare(tmp_path, sim, mode, "after_submit")
    try:
        engine.start(wait=False)
        assert engine.proc is not None and engine.proc.wait(60) == 137
        # Sent, but the ACK never committed (live, the user channel may still have reported some
        # of them before the crash: those are already LIVE).
        sent = {r[0] for r in _rows(engine.db_path, "SELECT venue_order_id FROM orders")}
        assert sent
        _restart_without_crash(engine)
        wait_until(lambda: not _rows(engine.db_path, "SELECT 1 FROM orders WHERE status = 'PENDING_SUBMIT'"), 20)
        statuses = dict(_rows(engine.db_path, "SELECT venue_order_id, status FROM orders"))
        assert all(statuses[v] != "LOST" for v in sent)  # recovered from the venue, not written off
        _assert_consistent(engine, mode)
    finally:
        engine.cleanup()


@pytest.mark.parametrize("mode", ["paper", "live"])
def test_crash_before_a_fill_is_committed_recovers_the_fill(tmp_path: Path, sim: SimHandle, mode: str) -> None:
    engine = _prepare(tmp_path, sim, mode, "after_fill_received")
    market = _market(sim)
    yes = market["tokens"][0]["token_id"] if "tokens" in market else market["yes_token"]
    try:
        engine.start()
        wait_until(lambda: _rows(engine.db_path, "SELECT price, size FROM orders WHERE status = 'LIVE' "
                                                 f"AND token_id = '{yes}' AND side = 'BUY'"), 30, what="a resting bid")
        price, size = _rows(engine.db_path, f"SELECT price, size FROM orders WHERE status = 'LIVE' AND token_id = "
                                            f"'{yes}' "
                                            "AND side = 'BUY'")[0]
        if mode == "live":
            # Big enough to sweep every bid at or above ours, ours included (price-time priority).
            sim.place_liquidity(yes, "SELL", f"{price / 1e6:.4f}", "100000")
        else:
            sim.print_trade(yes, f"{(price - 10_000) / 1e6:.4f}", f"{size / 1e6:.2f}", side="SELL")
        assert engine.proc is not None and engine.proc.wait(60) == 137
        assert _rows(engine.db_path, "SELECT COUNT(*) FROM fills")[0][0] == 0  # died before the commit
        _restart_without_crash(engine)
        wait_until(lambda: _rows(engine.db_path, "SELECT COUNT(*) FROM fills")[0][0] > 0, 20, what="fill recovered")
        _assert_consistent(engine, mode)
    finally:
        engine.cleanup()
