"""Merges and redemptions under SIGKILL and under a relayer that loses its answers, with a real
engine process trading live against the strict simulator (issue 34 item 4).

The engine dies (os._exit, as a SIGKILL would leave it) at each point of a redemption and of a
merge: with the transaction recorded but not sent, sent but its answer not stored, mined but not
yet followed (a merge: paid and booked but not yet in the engine's memory), and reported paid but
not yet booked. Restarted on the same database, after the
next check: no halt, the ledger's cash equal to the wallet's, each claim paid once (or, for a
transaction never sent, still owed with the venue still holding what it is owed for), and
nothing shown twice. A redemption whose relayer answer is lost is booked once when mined, even
when the operator, seeing no answer, sends it again (the second finds nothing left and pays 0).
Each runs for a CTF market and for a Protocol V2 market (redeemed and merged through its Router,
whose second redemption of a position already redeemed reverts, unalerted since nothing is owed)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from simulator.testing import SimHandle, approved_simulator
from tests.helpers import EngineProcess, wait_until
from tests.trading.test_redemption import (
    PUSD,
    _buy,
    _desk,
    _holding_sets,
    _rows,
    _status,
    ledger_cash,
    start,
    venue_cash,
)

pytestmark = pytest.mark.slow

HALTS = "SELECT code FROM alerts WHERE code IN ('BALANCE_MISMATCH', 'CREDIT_UNCLAIMED', 'REDEMPTION_MISMATCH')"


@pytest.fixture
def sim() -> Iterator[SimHandle]:
    """One simulator a test: a redemption needs a market no other test has resolved."""
    with approved_simulator(seed=64, agents=False, relayer_delay_s=3, resolution_delay_s=1) as handle:
        yield handle


def _crashed(engine: EngineProcess, point: str, timeout: float = 60) -> None:
    wait_until(lambda: engine.proc is not None and engine.proc.poll() is not None, timeout,
               interval=0.2, what=f"the engine's crash at {point}")
    assert engine.proc is not None and engine.proc.returncode == 137, engine.log()[-2000:]
    assert f"failpoint: crashing at {point}" in engine.log()


def _restart(engine: EngineProcess) -> None:
    engine.env.pop("TRADER_CRASH_AT", None)
    start(engine)


def _consistent(engine: EngineProcess, sim: SimHandle, wallet: str, cash: int) -> None:
    """After the next check: cash equal to the wallet's, no halt or unclaimed credit, alive."""
    assert ledger_cash(engine) == cash == venue_cash(sim, wallet)
    assert _rows(engine, HALTS) == []
    assert engine.proc is not None and engine.proc.poll() is None
    assert engine.status().trading_state != "HALTED"


REDEEM_POINTS = ("redeem_before_submit", "redeem_after_submit", "settlement_after_mined", "credit_before_booked")
PROTOCOLS = ("v1", "v2")


def market_of(sim: SimHandle, protocol: str, index: int = 2) -> dict[str, Any]:
    """The Protocol V2 market, or the `index`-th standard CTF market (not V2), nobody has traded yet
    in this simulator (tests that share one pick different indexes)."""
    if protocol == "v2":
        return next(m for m in sim.markets() if m["protocol_v2"])
    return [m for m in sim.markets() if not m["neg_risk"] and not m["protocol_v2"]][index]


@pytest.mark.parametrize("protocol", PROTOCOLS)
@pytest.mark.parametrize("point", REDEEM_POINTS)
def test_a_redemption_killed_at_any_point_pays_its_claim_once(tmp_path: Path, sim: SimHandle, point: str,
                                                              protocol: str) -> None:
    engine, wallet = _desk(tmp_path, sim)
    market = market_of(sim, protocol)
    cid = market["condition_id"]
    try:
        # Armed from the start: buying passes none of these points (no redemption, no venue credit),
        # so the engine that bought the shares is the one that dies redeeming them.
        engine.env["TRADER_CRASH_AT"] = point
        start(engine)
        held = _buy(engine, sim, market)
        cash_before = ledger_cash(engine)
        sim.resolve(cid, "YES")
        _crashed(engine, point)
        _restart(engine)
        if point == "redeem_before_submit":
            # Never sent: still owed, and the venue still holds the winning shares. The operator's
            # Redeem now sends it (a transaction with no answer does not block it).
            wait_until(lambda: _rows(engine, "SELECT status FROM claims") == [("open",)], 30, interval=0.2,
                       what="the claim still owed after the restart")
            assert market["yes_token_id"] in sim.balances(wallet)["tokens"]
            assert ledger_cash(engine) == cash_before == venue_cash(sim, wallet)
            done = engine.run("redeem", {"condition_id": cid}, timeout=30)
            assert done.status == "done", done.error
        wait_until(lambda: _rows(engine, "SELECT status FROM claims") == [("paid",)], 60, interval=0.2,
                   what="the claim paid once")
        assert _rows(engine, "SELECT amount FROM cash_ledger WHERE kind = 'redemption'") == [(held,)]
        wait_until(lambda: {s for (s,) in _rows(engine, "SELECT state FROM settlement_txs")} == {"confirmed"}, 30,
                   interval=0.2, what="every redemption sent closed, answered or not")
        _consistent(engine, sim, wallet, cash_before + held)
        assert _status(engine)["money"]["redeemable_usdc"] == 0  # not owed and paid both
    finally:
        engine.cleanup()


# A merge's transaction is closed by the payment the venue reports (its follow-up finds it closed),
# so its "after mined" is the moment the payment is booked and not yet in the engine's memory.
MERGE_POINTS = ("merge_before_submit", "merge_after_submit", "credit_before_booked", "credit_after_booked")


@pytest.mark.parametrize("protocol", PROTOCOLS)
@pytest.mark.parametrize("point", MERGE_POINTS)
def test_a_merge_killed_at_any_point_is_booked_once(tmp_path: Path, sim: SimHandle, point: str,
                                                    protocol: str) -> None:
    engine, wallet = _desk(tmp_path, sim, auto_redeem=0)
    market = market_of(sim, protocol)
    cid, yes, no = market["condition_id"], market["yes_token_id"], market["no_token_id"]
    _holding_sets(engine, sim, wallet, market, 20)
    try:
        engine.env["TRADER_CRASH_AT"] = point
        start(engine)
        cash_before = ledger_cash(engine)
        engine.post("merge", {"condition_id": cid})
        _crashed(engine, point)
        _restart(engine)
        out_of_positions = _rows(engine, "SELECT SUM(settled + pending) FROM positions WHERE condition_id = ?", cid)
        assert out_of_positions == [(0,)]  # the sets stay out while the merge may be mined
        if point == "merge_before_submit":
            # Never sent: owed as a merge claim while the venue still holds the sets, so nothing is
            # missing and nothing counted twice (the sets come back if it is never mined).
            tokens = sim.balances(wallet)["tokens"]
            assert float(tokens[yes]) == float(tokens[no]) == 20
            assert _rows(engine, "SELECT status, amount FROM claims WHERE kind = 'merge'") == [("open", 20 * PUSD)]
            _consistent(engine, sim, wallet, cash_before)
            return
        wait_until(lambda: _rows(engine, "SELECT amount FROM cash_ledger WHERE kind = 'merge'") == [(20 * PUSD,)],
                   60, interval=0.2, what="the merge booked once")
        assert {s for (s,) in _rows(engine, "SELECT status FROM claims WHERE kind = 'merge'")} == {"paid"}
        wait_until(lambda: _rows(engine, "SELECT state FROM settlement_txs") == [("confirmed",)], 30,
                   interval=0.2, what="the merge's transaction closed, answered or not")
        tokens = sim.balances(wallet)["tokens"]
        assert all(t not in tokens or float(tokens[t]) == 0 for t in (yes, no))
        _consistent(engine, sim, wallet, cash_before + 20 * PUSD)
    finally:
        engine.cleanup()


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_a_redemption_whose_answer_is_lost_is_paid_once_even_sent_twice(tmp_path: Path, sim: SimHandle,
                                                                        protocol: str) -> None:
    engine, wallet = _desk(tmp_path, sim)
    market = market_of(sim, protocol)
    cid = market["condition_id"]
    try:
        start(engine)
        held = _buy(engine, sim, market)
        cash_before = ledger_cash(engine)
        sim.configure(relayer_delay_s=10)  # in flight long enough for the operator to send it again
        sim.set_faults(relayer_answer_lost=1)
        sim.resolve(cid, "YES")
        wait_until(lambda: sim.set_faults()["relayer_answer_lost"] == 0, 60, interval=0.2,
                   what="the relayer taking the redemption and losing its answer")
        assert _rows(engine, "SELECT state, ref FROM settlement_txs WHERE kind = 'redeem'") == [("sending", None)]
        again = engine.run("redeem", {"condition_id": cid}, timeout=30)
        assert again.status == "done", again.error
        assert json.loads(again.result or "{}")["redeems"][0]["sent"] is True
        # Bounded for a crowded machine (the relayer's 10 s, then the next check; once over 60 s at load ~4).
        wait_until(lambda: _rows(engine, "SELECT status FROM claims") == [("paid",)], 120, interval=0.2,
                   what="the claim paid by the first redemption, mined late")
        # Both closed: the first, never answered, by the payment the venue reported for it (not failed
        # after a while); the second mined and found nothing left: the CTF pays 0, the Router reverts
        # (it redeems an amount, no longer held), which is no failure worth an alert: nothing is owed.
        second = "confirmed" if protocol == "v1" else "failed"
        wait_until(lambda: _rows(engine, "SELECT state FROM settlement_txs ORDER BY id") == [("confirmed",),
                                                                                            (second,)],
                   60, interval=0.2, what="both redemptions closed")
        assert _rows(engine, "SELECT amount FROM cash_ledger WHERE kind = 'redemption'") == [(held,)]
        assert _rows(engine, "SELECT code FROM alerts WHERE code = 'REDEEM_FAILED'") == []
        _consistent(engine, sim, wallet, cash_before + held)
        assert _status(engine)["money"]["redeemable_usdc"] == 0
    finally:
        sim.clear_faults()
        engine.cleanup()
