"""A Protocol V2 market on the desk, with real engine processes on the strict simulator, in paper
and in live: discovered from Gamma (`version: "v2"`, `positionIds`) and traded like any other
(live, its order is signed for ExchangeV3 and its position read as `CONDITIONAL-V2`); complete
YES+NO sets merge back into pUSD through its Router, and once it resolves the desk redeems its
position through the Router (the wallet's whole balance of that outcome), each paid once, the
ledger's cash equal to the venue's and nothing alerted as unsupported."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from simulator.testing import SimHandle, approved_simulator
from tests.helpers import EngineProcess, live_desk, wait_until
from tests.trading.test_redemption import RELAYER_KEY, _holding_sets, arbitrage_fills, ledger_cash, venue_cash

pytestmark = pytest.mark.slow
PUSD = 1_000_000


@pytest.fixture
def sim() -> Iterator[SimHandle]:
    with approved_simulator(seed=71, agents=False, maintenance_schedule="off", resolution_delay_s=2,
                            relayer_delay_s=0.5) as handle:
        yield handle


def _rows(engine: EngineProcess, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    with sqlite3.connect(engine.db_path, timeout=10) as conn:
        return conn.execute(sql, args).fetchall()


def paper_holding_sets(engine: EngineProcess, market: dict[str, Any], shares: int) -> None:
    """A paper desk whose strategy 'arb' bought `shares` YES at 0.45 and NO at 0.52 before this engine
    ran: its fills on the paper ledger, its trades in the paper venue's book (what it holds)."""
    with sqlite3.connect(engine.db_path) as conn:
        for n, token in enumerate(arbitrage_fills(conn, market, shares, "paper")):
            conn.execute(
                """INSERT INTO paper_trades (trade_id, venue_order_id, token_id, side, price, size, fee, liquidity,
                       status, matched_at, settle_at, updated_at)
                   VALUES (?, ?, ?, 'BUY', ?, ?, 0, 'TAKER', 'CONFIRMED', 1, 1, 1)""",
                (f"paper-trade-arb-{n}", f"paper-arb-{n}", token, (450_000, 520_000)[n], shares * PUSD))


def _cash(engine: EngineProcess, mode: str) -> int:
    [(entries,)] = _rows(engine, "SELECT COALESCE(SUM(amount), 0) FROM cash_ledger WHERE mode = ?", mode)
    [(fills,)] = _rows(engine, """SELECT COALESCE(SUM(CASE WHEN side = 'BUY' THEN -(price * size / 1000000)
                                                         ELSE price * size / 1000000 END - fee), 0)
                                  FROM fills WHERE mode = ? AND status != 'FAILED'""", mode)
    return int(entries) + int(fills)


@pytest.mark.parametrize("mode", ["paper", "live"])
def test_a_v2_market_trades_merges_and_is_redeemed_through_its_router(tmp_path: Path, sim: SimHandle,
                                                                      mode: str) -> None:
    market = next(m for m in sim.markets() if m["protocol_v2"])
    cid, position, no_position = market["condition_id"], market["yes_token_id"], market["no_token_id"]
    sim.clear_book(cid)
    sim.place_liquidity(position, "BUY", "0.38", "100")
    sim.place_liquidity(position, "SELL", "0.40", "100")
    engine, wallet = live_desk(tmp_path, sim, mode=mode, settings={"redeem_check_s": 5, "paper_mined_after_ms": 200,
                                                                   "auto_redeem": 1})
    engine.env["RELAYER_API_KEY"] = RELAYER_KEY
    if mode == "live":
        _holding_sets(engine, sim, wallet, market, 20)
    else:
        paper_holding_sets(engine, market, 20)
    try:
        engine.start(wait=False)
        engine.wait_alive(90)
        assert _rows(engine, "SELECT gamma_version, tradable, yes_token FROM markets WHERE condition_id = ?", cid) == [
            ("v2", 1, position)]
        done = engine.run("place_order", {"condition_id": cid, "outcome": "YES", "side": "BUY", "size": 20,
                                          "price": 0.40, "tif": "GTC"}, timeout=30)
        assert done.status == "done", done.error
        wait_until(lambda: _rows(engine, "SELECT settled, pending FROM positions WHERE token_id = ? AND strategy "
                                         "!= 'arb'", position) == [(20 * PUSD, 0)], 30, interval=0.1,
                   what="the position bought and settled")
        if mode == "live":  # the signed order the ledger keeps: the position id on the wire, the venue's answer
            (payload,) = _rows(engine, "SELECT signed_payload FROM orders WHERE token_id = ? AND strategy != 'arb'",
                               position)[0]
            assert json.loads(payload)["order"]["tokenId"] == position

        # The arb's complete sets go back to pUSD through the Router: out of the positions at once, cash
        # when the venue pays (1 pUSD a set), once.
        cash_before = _cash(engine, mode)
        merged = engine.run("merge", {"condition_id": cid, "strategy": "arb"}, timeout=30)
        assert merged.status == "done", merged.error
        wait_until(lambda: _rows(engine, "SELECT amount FROM cash_ledger WHERE kind = 'merge'") == [(20 * PUSD,)],
                   40, interval=0.2, what="the merge paid")
        assert _cash(engine, mode) == cash_before + 20 * PUSD
        if mode == "live":
            assert ledger_cash(engine) == venue_cash(sim, wallet)
            tokens = sim.balances(wallet)["tokens"]
            assert float(tokens[position]) == 20 and float(tokens.get(no_position, 0)) == 0  # the bought YES stays

        # Resolved, the bought YES is owed; the desk redeems it through the Router and the venue's payment
        # (one outcome's REDEEM) pays that claim once.
        sim.resolve(cid, "YES")
        wait_until(lambda: _rows(engine, "SELECT status FROM claims WHERE kind = 'redeem'") == [("paid",)], 60,
                   interval=0.2, what="the v2 position redeemed and paid")
        assert _rows(engine, "SELECT amount FROM cash_ledger WHERE kind = 'redemption'") == [(20 * PUSD,)]
        wait_until(lambda: _rows(engine, "SELECT kind, state FROM settlement_txs ORDER BY id") == [
            ("merge", "confirmed"), ("redeem", "confirmed")], 30, interval=0.2, what="both transactions followed")
        assert _cash(engine, mode) == cash_before + 40 * PUSD
        if mode == "live":
            assert ledger_cash(engine) == venue_cash(sim, wallet)
            assert position not in sim.balances(wallet)["tokens"]  # burned by the Router's redemption
            assert [a["asset"] for a in sim.activity(wallet) if a["type"] == "REDEEM"] == [position]
        assert _rows(engine, "SELECT code FROM alerts WHERE code IN ('REDEEM_FAILED', 'MERGE_FAILED', "
                             "'BALANCE_MISMATCH', 'CREDIT_UNCLAIMED', 'REDEMPTION_MISMATCH')") == []
        assert engine.proc is not None and engine.proc.poll() is None
    finally:
        engine.cleanup()


def test_a_redemption_the_router_may_not_make_fails_with_the_venues_reason(tmp_path: Path) -> None:
    """A wallet that never approved the Router on the PositionManager: the venue refuses the
    redemption with its reason, the desk alerts it and still owes the claim (approve, then Redeem)."""
    with approved_simulator(seed=72, agents=False, maintenance_schedule="off", resolution_delay_s=1,
                            relayer_delay_s=0.5) as strict:
        market = next(m for m in strict.markets() if m["protocol_v2"])
        cid, position = market["condition_id"], market["yes_token_id"]
        engine, wallet = live_desk(tmp_path, strict, settings={"redeem_check_s": 5})
        engine.env["RELAYER_API_KEY"] = RELAYER_KEY
        _holding_sets(engine, strict, wallet, market, 10)
        from simulator.protocol_v2 import ROUTER

        strict.call(strict.sim.settlement.approve, wallet, ROUTER, False, v2=True)
        strict.call(setattr, strict.sim.approvals, "pre_approved", False)  # the Router is not approved now
        try:
            engine.start(wait=False)
            engine.wait_alive(90)
            strict.resolve(cid, "YES")
            # (the resolution read, a redeem check every 5 s, the relayer's answer: seconds alone, a minute or
            # more on a loaded machine)
            wait_until(lambda: _rows(engine, "SELECT message FROM alerts WHERE code = 'REDEEM_FAILED'"), 180,
                       interval=0.2, what="the refused redemption alerted")
            (message,) = _rows(engine, "SELECT message FROM alerts WHERE code = 'REDEEM_FAILED'")[0]
            assert "caller is not token owner or approved" in message
            assert _rows(engine, "SELECT status FROM claims WHERE kind = 'redeem'") == [("open",)]
            assert float(strict.balances(wallet)["tokens"][position]) == 10  # nothing burned
        finally:
            engine.cleanup()
