"""Kalshi's exchange shards and pauses with real `python -m engine run` processes, Kalshi armed live on the
simulator's Kalshi side (issue 88, items 1 and 7, the measurements as the issue made them):

- A market maker quotes a market on shard 2 whose shard holds $0.50 of the account's $1,000 (600 / 399.50 /
  0.50 on shards 0 / 1 / 2). The desk sends Kalshi nothing doomed (no order without its shard, none the
  shard cannot fund), tells the operator (a VENUE_UNFUNDED alert naming the transfer that would fund it,
  `engine status`, the dashboard's state), never halts, never moves money by itself; the operator's
  confirmed transfer (an audited `move_funds` command) is accepted, not arrived, and once Kalshi credits
  shard 2 the quotes rest there.
- The desk's quotes rest with `cancel_order_on_pause`; Kalshi pauses trading and cancels them; the desk's
  re-placements are refused 409 `trading_is_paused` (a whole batch, as live clients see it), which is
  Kalshi's maintenance: no halt, nothing counted; when Kalshi resumes the quotes rest again by themselves.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from simulator.testing import SimHandle, approved_simulator
from tests.helpers import ROOT, EngineProcess, paper_desk, wait_until
from tests.kalshi import admin, binary_tickers, keypair, promoted_on, register

pytestmark = pytest.mark.slow
MM = {"size": 20, "half_spread": 0.005, "max_spread": 0.9, "skew_per_share": 0}


@pytest.fixture(scope="module")
def sim() -> Iterator[SimHandle]:
    with approved_simulator(seed=88, agents=False, kalshi_markets=3) as handle:
        yield handle


def _desk(tmp: Path, sim: SimHandle, ticker: str) -> tuple[EngineProcess, str]:
    """An engine (not started) with Kalshi armed live, one promoted market maker on `ticker`."""
    private, public = keypair()
    key_id = register(sim, public)
    account = str(sim.call(lambda: sim.sim.kalshi.keys.keys[key_id].account))
    engine = paper_desk(tmp, sim, [])
    engine.env.update(KALSHI_API_KEY_ID=key_id, KALSHI_PRIVATE_KEY=private.replace("\n", "\\n"))
    promoted_on(engine.db_path, sim, ticker, MM)
    with sqlite3.connect(engine.db_path) as conn:
        conn.execute("UPDATE venue_modes SET mode = 'live' WHERE venue = 'kalshi'")
    return engine, account


def _resting(sim: SimHandle, account: str) -> list[int]:
    """The shards of the account's orders resting at Kalshi."""
    return list(sim.call(lambda: [o.shard for o in sim.sim.kalshi.exchange.orders.values()
                                  if o.account == account and o.status == "resting"]))


def _answers(sim: SimHandle, account_routes: Counter[str]) -> None:
    sim.call(lambda: sim.sim.kalshi.observers.append(
        lambda method, route, status, body: account_routes.update([f"{method} {route} {status}"])))


def _one(path: Path, sql: str) -> object:
    with sqlite3.connect(path) as conn:
        found = conn.execute(sql).fetchone()
    return None if found is None else found[0]


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "engine", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)


def test_a_short_shard_is_told_and_funded_on_the_operators_word_and_nothing_doomed_is_sent(
        tmp_path: Path, sim: SimHandle) -> None:
    ticker = binary_tickers(sim)[2]  # its event's only market
    event = sim.call(lambda: sim.sim.kalshi.exchange.markets[ticker].event_ticker)
    assert admin(sim, f"/_sim/kalshi/events/{event}/shard", {"exchange_index": 2})[0] == 200
    engine, account = _desk(tmp_path, sim, ticker)
    status, body = admin(sim, f"/_sim/kalshi/accounts/{account}/shards",
                         {"balances": {"0": "600.00", "1": "399.50", "2": "0.50"}})
    assert status == 200, body
    seen: Counter[str] = Counter()
    _answers(sim, seen)
    path = engine.db_path
    try:
        engine.start()
        wait_until(lambda: _one(path, "SELECT COUNT(*) FROM alerts WHERE code = 'VENUE_UNFUNDED'"), 90,
                   interval=0.3, what="the operator told that shard 2 cannot fund the quotes")
        wait_until(lambda: _one(path, "SELECT COUNT(*) FROM decisions WHERE reason = 'VENUE_UNFUNDED'"), 30,
                   interval=0.3, what="the held quotes in the decisions log")
        message = str(_one(path, "SELECT message FROM alerts WHERE code = 'VENUE_UNFUNDED'"))
        assert "shard 2 (crypto) holds $0.50" in message and "from shard 0 (default)" in message
        funds = json.loads(str(_one(path, "SELECT venue_funds FROM engine_state")))["kalshi"]
        [short] = funds["shortfalls"]
        assert (short["shard"], short["free"], short["source"]) == (2, 500_000, 0) and short["amount"] > 0
        report = _cli(engine.env, "status")
        assert "SHORT: Kalshi shard 2 (crypto) holds $0.50" in report.stdout, report.stdout
        assert _resting(sim, account) == []  # nothing sent: no order without its shard, none the shard cannot fund
        assert not [k for k in seen if k.startswith("POST /portfolio/events/orders")]
        assert sim.call(lambda: sim.sim.kalshi.transfers.of(account)) == []  # no money moved unasked
        # The operator confirms the transfer offered (the dashboard posts the same command, typed MOVE):
        amount = f"{short['amount'] / 1e6:.2f}"
        moved = _cli(engine.env, "command", "move_funds", json.dumps(
            {"venue": "kalshi", "source": 0, "destination": 2, "amount": amount, "reason": "fund crypto"}))
        assert moved.returncode == 0, moved.stdout + moved.stderr
        assert "accepted, not arrived" in moved.stdout
        [transfer] = sim.call(lambda: sim.sim.kalshi.transfers.of(account))
        assert transfer.source == 0 and transfer.destination == 2 and transfer.amount == short["amount"]
        assert _one(path, "SELECT COUNT(*) FROM audit_log WHERE action = 'command.post' "
                          "AND after LIKE '%move_funds%'") == 1
        wait_until(lambda: _resting(sim, account).count(2) >= 2, 90, interval=0.3,
                   what="both quotes resting on shard 2 once the transfer arrived")
        wait_until(lambda: _one(path, "SELECT COUNT(*) FROM alerts WHERE code = 'VENUE_FUNDED'"), 30, interval=0.3,
                   what="the operator told the shard is funded")
        assert not [k for k in seen if k.startswith("POST /portfolio/events/orders") and not k.endswith(" 201")]
        assert _one(path, "SELECT COUNT(*) FROM alerts WHERE code IN ('VENUE_REFUSING', 'BALANCE_MISMATCH')") == 0
        assert _one(path, "SELECT trading_state FROM venue_risk WHERE venue = 'kalshi' AND mode = 'live'") in (
            None, "ACTIVE")
    finally:
        engine.cleanup()


def test_a_pause_that_cancels_the_quotes_is_waited_out_and_they_come_back(tmp_path: Path, sim: SimHandle) -> None:
    ticker = binary_tickers(sim)[0]
    engine, account = _desk(tmp_path, sim, ticker)
    seen: Counter[str] = Counter()
    path = engine.db_path
    try:
        engine.start()
        wait_until(lambda: len(_resting(sim, account)) >= 2, 90, interval=0.3, what="both quotes resting at Kalshi")
        assert sim.call(lambda: all(o.cancel_on_pause for o in sim.sim.kalshi.exchange.orders.values()
                                    if o.account == account and o.status == "resting"))
        _answers(sim, seen)
        assert admin(sim, "/_sim/kalshi/exchange/pause", {"in_s": 0, "seconds": 12})[0] == 200  # unannounced
        wait_until(lambda: seen["POST /portfolio/events/orders/batched 409"] + seen[
            "POST /portfolio/events/orders 409"] >= 1, 30, interval=0.2,
            what="the desk's re-placement refused 409 trading_is_paused")
        wait_until(lambda: len(_resting(sim, account)) >= 2, 90, interval=0.3,
                   what="the quotes resting again after Kalshi resumed")
        halts = _one(path, "SELECT COUNT(*) FROM alerts WHERE code IN ('VENUE_REFUSING', 'ERROR_RATE') "
                           "OR (level = 'critical' AND subject LIKE 'Kalshi%')")
        assert halts == 0
        assert _one(path, "SELECT trading_state FROM venue_risk WHERE venue = 'kalshi' AND mode = 'live'") in (
            None, "ACTIVE")
        assert _one(path, "SELECT COUNT(*) FROM decisions WHERE reason = 'VENUE_MAINTENANCE'")
        assert _one(path, "SELECT COUNT(*) FROM decisions WHERE reason = 'VENUE_REFUSED'") == 0
    finally:
        admin(sim, "/_sim/kalshi/exchange/pause", {"clear": True})
        engine.cleanup()
