"""Positions end in cash, with a real engine process trading live on the strict simulator:
a market resolved with an 8 s UMA liveness shows redeemable (never cash) until the venue has
paid, then the venue's balance and the ledger's cash agree to the micro-unit; complete
YES+NO sets merge back into pUSD the same way; with the auto-redeem operator approved
(by `engine preflight --approve-auto-redeem`) the venue pays without a redeem from the desk."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from simulator.chain import AUTO_REDEEM_OPERATOR
from simulator.testing import SimHandle, approved_simulator
from storage.command_queue.commands import CommandRow
from tests.helpers import EngineProcess, decoded, live_desk, run_cli, wait_until

pytestmark = pytest.mark.slow
PUSD = 1_000_000
LIVENESS_S = 8  # the first test reads a resolution proposed, not yet final, once (~0.5 s): room to look
QUICK_LIVENESS_S = 2  # the others only need it final
RELAYER_KEY = "sim-relayer-key"  # the relayer stand-in wants a key owned by the signer


@pytest.fixture(scope="module")
def sim() -> Iterator[SimHandle]:
    with approved_simulator(seed=61, agents=False, resolution_delay_s=QUICK_LIVENESS_S, relayer_delay_s=0.5,
                           auto_redeem_delay_s=1) as handle:
        yield handle


def start(engine: EngineProcess) -> None:
    """Start and wait for the heartbeat, allowing for a slow start-up on a loaded machine."""
    engine.start(wait=False)
    engine.wait_alive(60)


def merge(engine: EngineProcess, payload: dict[str, Any]) -> CommandRow:
    """The merge command, posted once the engine's catalog holds the market (it is read after the heartbeat
    starts: a loaded machine may answer the first post "unknown market", which merges nothing)."""
    def answered() -> CommandRow | None:
        done = engine.run("merge", payload, timeout=30)
        return None if done.status == "failed" and "unknown market" in (done.error or "") else done

    found: CommandRow = wait_until(answered, 90, interval=0.5, what="the merge answered for a known market")
    return found


def _rows(engine: EngineProcess, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    with sqlite3.connect(engine.db_path) as conn:
        return conn.execute(sql, args).fetchall()


def ledger_cash(engine: EngineProcess) -> int:
    """The ledger's cash, exactly as the engine computes it: entries plus every fill's cash."""
    [(entries,)] = _rows(engine, "SELECT COALESCE(SUM(amount), 0) FROM cash_ledger WHERE mode = 'live'")
    [(fills,)] = _rows(engine, """SELECT COALESCE(SUM(CASE WHEN side = 'BUY' THEN -(price * size / 1000000)
                                                         ELSE price * size / 1000000 END - fee), 0)
                                  FROM fills WHERE mode = 'live' AND status != 'FAILED'""")
    return int(entries) + int(fills)


def venue_cash(sim: SimHandle, wallet: str) -> int:
    return int(Decimal(sim.balances(wallet)["pusd"]) * PUSD)


def _desk(tmp: Path, sim: SimHandle, **settings: Any) -> tuple[EngineProcess, str]:
    engine, wallet = live_desk(tmp, sim, settings={"redeem_check_s": 5, **settings})
    engine.env["RELAYER_API_KEY"] = RELAYER_KEY
    return engine, wallet


def _buy(engine: EngineProcess, sim: SimHandle, market: dict[str, Any], shares: int = 20) -> int:
    """`shares` YES bought at 0.40 from one resting level (one leg: its cash is exact), held
    settled; returns the micro-shares held."""
    cid, token = market["condition_id"], market["yes_token_id"]
    sim.clear_book(cid)
    sim.place_liquidity(token, "BUY", "0.38", "100")
    sim.place_liquidity(token, "SELL", "0.40", "100")
    done = engine.run("place_order", {"condition_id": cid, "outcome": "YES", "side": "BUY", "size": shares,
                                      "price": 0.40, "tif": "GTC"}, timeout=30)
    assert done.status == "done", done.error
    # Bounded for a crowded machine (one once took over 20 s).
    wait_until(lambda: _rows(engine, "SELECT settled, pending FROM positions WHERE token_id = ?", token) ==
               [(shares * PUSD, 0)], 60, interval=0.1, what="the YES bought and settled")
    return shares * PUSD


def _holding_sets(engine: EngineProcess, sim: SimHandle, wallet: str, market: dict[str, Any], shares: int) -> None:
    """A desk whose strategy 'arb' bought `shares` YES at 0.45 and NO at 0.52 (what complement
    arbitrage leaves behind), before this engine ran: its fills in the ledger, its tokens in
    the wallet. (The manual ticket nets a BUY NO against YES it holds, so it cannot build sets.)"""
    with sqlite3.connect(engine.db_path) as conn:
        for token in arbitrage_fills(conn, market, shares, "live"):
            sim.fund(wallet, token_id=token, tokens=str(shares))


def arbitrage_fills(conn: sqlite3.Connection, market: dict[str, Any], shares: int, mode: str) -> list[str]:
    """Strategy 'arb''s filled BUY of `shares` YES at 0.45 and NO at 0.52 in `mode`'s ledger (orders
    and fills, as the executor writes them); the two tokens, YES first."""
    from contracts.order_status import FILL_RANK, RANK, OrderStatus
    from engine.venues.base import TradeStatus

    prefix = "paper-" if mode == "paper" else ""
    tokens = []
    for n, (outcome, token, price) in enumerate((("YES", market["yes_token_id"], 450_000),
                                                 ("NO", market["no_token_id"], 520_000))):
        cursor = conn.execute(
            """INSERT INTO orders (client_id, venue_order_id, mode, strategy, condition_id, token_id, outcome, side,
                   price, size, filled, tif, status, status_rank, created_at, updated_at)
               VALUES (?, ?, ?, 'arb', ?, ?, ?, 'BUY', ?, ?, ?, 'FAK', 'FILLED', ?, 1, 1)""",
            (f"arb-{n}", f"paper-arb-{n}" if prefix else f"0xarb{n}", mode, market["condition_id"], token, outcome,
             price, shares * PUSD, shares * PUSD, RANK[OrderStatus.FILLED]))
        conn.execute(
            """INSERT INTO fills (trade_id, order_id, mode, strategy, condition_id, token_id, outcome, side, price,
                   size, fee, liquidity, status, status_rank, matched_at, updated_at)
               VALUES (?, ?, ?, 'arb', ?, ?, ?, 'BUY', ?, ?, 0, 'TAKER', 'CONFIRMED', ?, 1, 1)""",
            (f"{prefix}trade-arb-{n}", cursor.lastrowid, mode, market["condition_id"], token, outcome, price,
             shares * PUSD, FILL_RANK[TradeStatus.CONFIRMED]))
        tokens.append(token)
    return tokens


def _status(engine: EngineProcess) -> dict[str, Any]:
    result = run_cli(["status", "--json"], engine.env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_resolved_positions_are_redeemable_until_paid_then_cash_to_the_micro_unit(tmp_path: Path,
                                                                                 sim: SimHandle) -> None:
    engine, wallet = _desk(tmp_path, sim, auto_redeem=0)
    first, second, merged = (sim.market(neg_risk=False, index=i) for i in (0, 1, 2))
    _holding_sets(engine, sim, wallet, merged, 20)
    sets = 20 * PUSD
    try:
        start(engine)
        held = [_buy(engine, sim, market) for market in (first, second)]

        # Complete sets merge back into pUSD: out of the positions at once, cash when the venue pays.
        done = merge(engine, {"condition_id": merged["condition_id"]})
        assert done.status == "done", done.error
        assert Decimal(decoded(done.result)["sets"]) * PUSD == sets
        wait_until(lambda: _rows(engine, "SELECT amount FROM cash_ledger WHERE kind = 'merge'") == [(sets,)],
                   30, interval=0.2, what="the merge paid and booked")
        assert _rows(engine, "SELECT settled + pending, realized FROM positions WHERE condition_id = ? "
                             "ORDER BY outcome DESC", merged["condition_id"]) == [(0, 278_340), (0, 321_660)]
        # 20 sets bought for 0.45 + 0.52 and paid 1 each: 0.60 realized, split in proportion to cost.
        assert ledger_cash(engine) == venue_cash(sim, wallet)

        cash_before = ledger_cash(engine)
        sim.configure(resolution_delay_s=LIVENESS_S)
        for market in (first, second):
            sim.resolve(market["condition_id"], "YES")
        # Proposed, not final: nothing is owed or paid yet, the shares are still held.
        proposed = _status(engine)
        assert proposed["money"]["redeemable_usdc"] == 0 and proposed["positions"] == 2
        wait_until(lambda: len(_rows(engine, "SELECT id FROM claims WHERE status = 'open'")) == 2, 40,
                   interval=0.2, what="the resolutions final and owed")
        owed = _status(engine)
        assert owed["money"]["redeemable_usdc"] * PUSD == pytest.approx(sum(held))
        assert owed["positions"] == 0
        assert {c["condition_id"] for c in owed["redeemable"]} == {first["condition_id"], second["condition_id"]}
        assert ledger_cash(engine) == cash_before == venue_cash(sim, wallet)  # redeemable, not cash
        assert _rows(engine, "SELECT COUNT(*) FROM settlement_txs WHERE kind = 'redeem'") == [(0,)]  # auto off

        # The operator redeems one market from the command line...
        cli = run_cli(["command", "redeem", json.dumps({"condition_id": first["condition_id"]})], engine.env)
        assert cli.returncode == 0, cli.stdout + cli.stderr
        wait_until(lambda: _rows(engine, "SELECT COUNT(*) FROM cash_ledger WHERE kind = 'redemption'") == [(1,)],
                   30, interval=0.2, what="the first redemption paid and booked")
        assert ledger_cash(engine) == cash_before + held[0] == venue_cash(sim, wallet)
        assert _status(engine)["money"]["redeemable_usdc"] * PUSD == pytest.approx(held[1])

        # ...and, once automatic collection is on, the engine redeems the other one itself.
        with sqlite3.connect(engine.db_path) as conn:
            conn.execute("UPDATE settings SET value = '1', version = version + 1 WHERE key = 'auto_redeem'")
        assert engine.run("reload_config").status == "done"
        wait_until(lambda: _rows(engine, "SELECT COUNT(*) FROM cash_ledger WHERE kind = 'redemption'") == [(2,)],
                   30, interval=0.2, what="the second redemption paid and booked")
        assert ledger_cash(engine) == cash_before + sum(held) == venue_cash(sim, wallet)
        assert _rows(engine, "SELECT COUNT(*) FROM claims WHERE status = 'open'") == [(0,)]
        tokens = sim.balances(wallet)["tokens"]
        assert all(t not in tokens for m in (first, second) for t in (m["yes_token_id"], m["no_token_id"]))
    finally:
        sim.configure(resolution_delay_s=QUICK_LIVENESS_S)
        engine.cleanup()


def test_with_the_auto_redeem_operator_approved_the_venue_pays_without_a_redeem(tmp_path: Path,
                                                                               sim: SimHandle) -> None:
    engine, wallet = _desk(tmp_path, sim, auto_redeem_grace_s=600)
    market = sim.market(neg_risk=False, index=3)
    approve = run_cli(["preflight", "--approve-auto-redeem", "--json"], engine.env, timeout=120)
    report = {c["check"]: c for c in json.loads(approve.stdout)["checks"]}
    assert report["auto-redeem"]["ok"] and "auto-redeem operator may redeem" in report["auto-redeem"]["detail"]
    # One approval a kind of position: the conditional tokens', the PositionManager's (Protocol V2).
    assert [json.loads(after)["positions"] for (after,) in _rows(
        engine, "SELECT after FROM audit_log WHERE action = 'approve_auto_redeem' ORDER BY id")] == [
        "conditional tokens", "Protocol V2"]
    assert sim.call(sim.sim.settlement.is_approved, wallet, AUTO_REDEEM_OPERATOR, v2=True)
    try:
        start(engine)
        held = _buy(engine, sim, market)
        cash_before = ledger_cash(engine)
        sim.resolve(market["condition_id"], "YES")
        wait_until(lambda: _rows(engine, "SELECT COUNT(*) FROM cash_ledger WHERE kind = 'redemption'") == [(1,)],
                   45, interval=0.2, what="the operator's redemption booked")
        assert ledger_cash(engine) == cash_before + held == venue_cash(sim, wallet)
        # The engine waited for the operator: it sent no redeem of its own.
        assert _rows(engine, "SELECT COUNT(*) FROM settlement_txs WHERE kind = 'redeem'") == [(0,)]
    finally:
        engine.cleanup()


def test_paper_positions_end_in_cash_the_same_way(tmp_path: Path, sim: SimHandle) -> None:
    """Paper and live share everything but the venue: resolved, a paper position is redeemable;
    the engine redeems it from the paper venue, and the paper venue's payment is the cash."""
    from tests.helpers import paper_desk

    engine = paper_desk(tmp_path, sim, [])
    with sqlite3.connect(engine.db_path) as conn:
        conn.execute("INSERT INTO settings (key, value, version, updated_at, updated_by) "
                     "VALUES ('redeem_check_s', '5', 1, 0, 'test')")
    market = sim.market(neg_risk=False, index=4)
    try:
        start(engine)
        cid, token = market["condition_id"], market["yes_token_id"]
        done = engine.run("place_order", {"condition_id": cid, "outcome": "YES", "side": "BUY", "size": 20,
                                          "slippage": 0.02, "tif": "FAK"}, timeout=30)
        assert done.status == "done", done.error
        held = wait_until(lambda: next(iter(r[0] for r in _rows(engine, "SELECT settled FROM positions WHERE "
                                                                         "token_id = ? AND pending = 0", token)
                                            if r[0] > 0), 0), 20, interval=0.1, what="a paper position settled")
        [(cash_before,)] = _rows(engine, "SELECT COALESCE(SUM(amount), 0) FROM cash_ledger WHERE mode = 'paper'")
        sim.resolve(cid, "YES")
        wait_until(lambda: _rows(engine, "SELECT amount, status FROM claims"), 40, interval=0.2,
                   what="the paper position owed")
        wait_until(lambda: _rows(engine, "SELECT amount FROM cash_ledger WHERE kind = 'redemption'") == [(held,)],
                   30, interval=0.2, what="the paper venue's payment booked")
        assert _rows(engine, "SELECT status FROM claims") == [("paid",)]
        # The payment can be booked (from the venue's credits) before the next collections run follows
        # the transaction to its confirmation: waited for, not read once.
        wait_until(lambda: _rows(engine, "SELECT via, state FROM settlement_txs") == [("paper", "confirmed")],
                   30, interval=0.2, what="the redemption's transaction followed to its confirmation")
        [(cash_after,)] = _rows(engine, "SELECT COALESCE(SUM(amount), 0) FROM cash_ledger WHERE mode = 'paper'")
        assert cash_after - cash_before == held
    finally:
        engine.cleanup()
