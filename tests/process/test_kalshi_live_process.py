"""Kalshi armed live on its own, as a user does it (issue 40, items 3 and 8): a real `python -m engine run`
on a paper desk, with a Kalshi key in its environment (registered at the simulator's Kalshi side as Kalshi's
key page does). Arming is refused while the engine runs; stopped, it is armed and audited; started again,
the promoted strategy naming a Kalshi market sends its orders to Kalshi itself (the simulator's Kalshi
account), through the desk's own Kalshi client, while the paper-only one is held and said so; the desk stays on
paper; `engine status` names Kalshi's live ledger; a kill cancels at Kalshi; back to paper is allowed."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from contracts.settings import load_settings
from contracts.venues.kalshi import ids as kalshi_ids
from simulator.testing import SimHandle, approved_simulator
from storage.desk import desk_status
from storage.desk.venue_pairs import add_pair
from storage.sqlite.db import Database
from tests.arming import passed_preflight_for
from tests.helpers import decoded, paper_desk, wait_until
from tests.kalshi import binary_tickers, keypair, register

pytestmark = pytest.mark.slow
MM = {"size": 20, "half_spread": 0.03, "max_spread": 0.9}
WORKING = "status IN ('PENDING_SUBMIT', 'LIVE', 'PARTIALLY_FILLED', 'CANCEL_PENDING')"


@pytest.fixture(scope="module")
def sim() -> Iterator[SimHandle]:
    with approved_simulator(seed=59, agents=False, kalshi_markets=1) as handle:
        yield handle


def _count(db_path: Path, sql: str) -> int:
    with sqlite3.connect(db_path) as conn:
        return int(conn.execute(sql).fetchone()[0])


def _resting_at_kalshi(sim: SimHandle, account: str) -> int:
    """The account's orders resting at the simulator's Kalshi side (what Kalshi holds for it)."""
    return int(sim.call(lambda: sum(1 for o in sim.sim.kalshi.exchange.orders.values()
                                    if o.account == account and o.status == "resting")))


def test_kalshi_is_armed_live_on_its_own_and_trades_at_kalshi(tmp_path: Path, sim: SimHandle) -> None:
    private, public = keypair()
    key_id = register(sim, public)
    account = sim.call(lambda: sim.sim.kalshi.keys.keys[key_id].account)
    ticker = binary_tickers(sim)[0]
    kalshi = kalshi_ids.market_id(ticker)
    engine = paper_desk(tmp_path, sim, [])
    engine.env.update(KALSHI_API_KEY_ID=key_id, KALSHI_PRIVATE_KEY=private.replace("\n", "\\n"))
    path = engine.db_path
    passed_preflight_for(path, load_settings(engine.env), "kalshi")  # the arming gate's kalshi-preflight
    db = Database(path)
    add_pair(db, condition_id=sim.market(neg_risk=False)["condition_id"], kalshi_ticker=ticker, inverted=False,
             polymarket_question="q", kalshi_title="Kalshi's question", warnings=[], actor="test")
    db.dispose()
    with sqlite3.connect(path) as conn:
        for name, live in (("kx", 1), ("kp", 0)):  # promoted, and paper only
            conn.execute("""INSERT INTO strategies (name, kind, params, markets, enabled, version, created_at,
                                updated_at, updated_by, status, live)
                            VALUES (?, 'market_making', ?, ?, 1, 1, 0, 0, 't', 'ok', ?)""",
                         (name, json.dumps(MM), json.dumps([kalshi]), live))
    try:
        engine.start()
        wait_until(lambda: _count(path, f"SELECT COUNT(*) FROM orders WHERE venue = 'kalshi' AND {WORKING}") >= 2,
                   60, interval=0.5, what="the Kalshi strategies quoting on Kalshi's paper ledger")
        assert _resting_at_kalshi(sim, account) == 0  # on paper, nothing reaches Kalshi

        running = engine.run("set_venue_mode", {"venue": "kalshi", "mode": "live"})
        assert running.status == "failed" and "stop the engine" in (running.error or "")
        assert engine.run("stop", timeout=30).status == "done"
        armed = engine.run("set_venue_mode", {"venue": "kalshi", "mode": "live"})
        assert armed.status == "done", armed.error
        assert engine.status().mode_of("kalshi") == "live" and engine.status().mode == "paper"
        audit = engine.rows("SELECT before, after FROM audit_log WHERE action = 'engine.set_venue_mode'")
        assert [(decoded(b)["mode"], decoded(a)["mode"]) for b, a in audit] == [("paper", "live")]

        assert engine.run("start", timeout=60).status == "done"
        wait_until(lambda: _resting_at_kalshi(sim, account) >= 2, 60, interval=0.5,
                   what="the promoted strategy's orders resting at Kalshi")
        live = _count(path, f"SELECT COUNT(*) FROM orders WHERE venue = 'kalshi' AND mode = 'live' AND {WORKING}")
        assert live >= 2 and _count(path, "SELECT COUNT(*) FROM orders WHERE mode = 'live' AND (strategy != 'kx' "
                                          "OR venue != 'kalshi')") == 0  # only kx, only at Kalshi
        assert _count(path, f"SELECT COUNT(*) FROM orders WHERE strategy = 'kp' AND {WORKING}") == 0  # held
        assert _count(path, "SELECT COUNT(*) FROM alerts WHERE code = 'KALSHI_HELD' AND subject = 'kp'") == 1
        assert _count(path, "SELECT COUNT(*) FROM cash_ledger WHERE mode = 'live' AND venue = 'kalshi' "
                            "AND kind = 'deposit'") == 1  # live cash starts at Kalshi's balance
        with sqlite3.connect(path) as conn:
            conn.row_factory = sqlite3.Row
            report = desk_status.status_report(conn, path)
        assert report["kalshi_paper"] is None and report["kalshi_live"]["strategies"] == ["kx"]
        assert report["kalshi_live"]["held"] == ["kp"] and report["kalshi_live"]["open_orders"] >= 2

        assert engine.run("kill", timeout=30).status == "done"
        wait_until(lambda: _resting_at_kalshi(sim, account) == 0, 60, interval=0.5, what="the kill at Kalshi")
        wait_until(lambda: _count(path, f"SELECT COUNT(*) FROM orders WHERE venue = 'kalshi' AND {WORKING}") == 0,
                   60, interval=0.5, what="the kill on Kalshi's live ledger")
        assert engine.run("set_venue_mode", {"venue": "kalshi", "mode": "paper"}).status == "done"
        assert engine.status().mode_of("kalshi") == "paper"
    finally:
        engine.cleanup()
