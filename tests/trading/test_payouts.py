"""Payout vectors, with a real engine process on the strict simulator: a market that resolves
50/50 (a canceled game) is settled, marked, redeemed and reconciled at 0.5 a share, live and
paper, whether the desk redeems or the venue's auto-redeem operator pays; the market channel's
resolution names no winner then, so the payouts come from Gamma. The vector the venue reports
is read as it is: a closed market that never resolved is not settled at its last prices, and a
resolved one whose payouts do not sum to 1 settles nothing and alerts."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest

from contracts.domain import Intent, Outcome, Side, Tif
from contracts.payouts import PayoutError, Payouts
from engine.trading.settlement.resolution import _settle
from engine.venues.polymarket.parse_markets import venue_payouts
from engine.venues.polymarket.resolutions import resolution_of
from simulator.testing import SimHandle, approved_simulator
from tests.desk import make_desk
from tests.execution.test_executor import quote, step
from tests.helpers import EngineProcess, paper_desk, run_cli, wait_until
from tests.trading.test_redemption import _buy, _desk, _rows, _status, ledger_cash, start, venue_cash

PUSD = 1_000_000
CAPTURED = Path(__file__).parents[1] / "fixtures" / "polymarket" / "captured"
HALVES = [0.5, 0.5]


@pytest.fixture(scope="module")
def sim() -> Iterator[SimHandle]:
    with approved_simulator(seed=62, agents=False, resolution_delay_s=3, relayer_delay_s=0.5,
                           auto_redeem_delay_s=1) as handle:
        yield handle


def _alerts(engine: EngineProcess, *codes: str) -> list[tuple[Any, ...]]:
    marks = ", ".join("?" for _ in codes)
    return _rows(engine, f"SELECT code, message FROM alerts WHERE code IN ({marks})", *codes)


def _clob_market(sim: SimHandle, condition_id: str) -> dict[str, Any]:
    answer = httpx.get(f"{sim.clob_host}/markets/{condition_id}", timeout=10)
    answer.raise_for_status()
    return answer.json()


@pytest.mark.slow
def test_a_50_50_market_settles_and_redeems_at_half_and_the_cash_agrees(tmp_path: Path, sim: SimHandle) -> None:
    engine, wallet = _desk(tmp_path, sim, auto_redeem=0)
    market = sim.market(neg_risk=False, index=0)
    cid = market["condition_id"]
    try:
        start(engine)
        held = _buy(engine, sim, market)  # 20 YES at 0.40: 8 pUSD
        cash_before = ledger_cash(engine)
        sim.resolve(cid, payouts=HALVES)
        wait_until(lambda: _rows(engine, "SELECT amount FROM claims WHERE status = 'open'") == [(held // 2,)], 60,
                   interval=0.2, what="the 50/50 resolution settled: half of the shares owed")
        assert _rows(engine, "SELECT resolved_outcome, payout_yes, payout_no FROM markets WHERE condition_id = ?",
                     cid) == [(None, PUSD // 2, PUSD // 2)]
        # Closed at 0.5 a share: 20 x 0.5 - 8 = 2 pUSD realized, nothing held.
        assert _rows(engine, "SELECT settled + pending, realized FROM positions WHERE condition_id = ?", cid) == [
            (0, 2 * PUSD)]
        status = _status(engine)
        assert status["money"]["redeemable_usdc"] * PUSD == held // 2 and status["positions"] == 0
        assert ledger_cash(engine) == cash_before == venue_cash(sim, wallet)  # owed, not cash yet
        assert _clob_market(sim, cid)["is_50_50_outcome"] is True

        cli = run_cli(["command", "redeem", json.dumps({"condition_id": cid})], engine.env)
        assert cli.returncode == 0, cli.stdout + cli.stderr
        wait_until(lambda: _rows(engine, "SELECT amount FROM cash_ledger WHERE kind = 'redemption'") == [
            (held // 2,)], 30, interval=0.2, what="the redemption paid at 0.5 and booked")
        assert ledger_cash(engine) == cash_before + held // 2 == venue_cash(sim, wallet)
        assert _rows(engine, "SELECT status FROM claims") == [("paid",)]
        assert _status(engine)["money"]["redeemable_usdc"] == 0
        # The resolution markout values the fill at what it paid: (0.5 - 0.40) x 20 = 2 pUSD.
        wait_until(lambda: _rows(engine, "SELECT mid, markout FROM fill_markouts WHERE horizon = 'resolution'") ==
                   [(PUSD // 2, 2 * PUSD)], 30, interval=0.2, what="the resolution markout at 0.5")
        assert _alerts(engine, "BALANCE_MISMATCH", "CREDIT_UNCLAIMED", "PAYOUT_REFUSED") == []
        assert engine.proc is not None and engine.proc.poll() is None  # still running, never halted
    finally:
        engine.cleanup()


@pytest.mark.slow
def test_the_auto_redeem_operator_pays_a_50_50_once_and_nothing_halts(tmp_path: Path, sim: SimHandle) -> None:
    engine, wallet = _desk(tmp_path, sim, auto_redeem_grace_s=600)
    approve = run_cli(["preflight", "--approve-auto-redeem", "--json"], engine.env, timeout=120)
    report = {c["check"]: c for c in json.loads(approve.stdout)["checks"]}
    assert report["auto-redeem"]["ok"], approve.stdout
    market = sim.market(neg_risk=False, index=1)
    try:
        start(engine)
        held = _buy(engine, sim, market)
        cash_before = ledger_cash(engine)
        sim.resolve(market["condition_id"], payouts=HALVES)
        wait_until(lambda: _rows(engine, "SELECT amount FROM cash_ledger WHERE kind = 'redemption'") == [
            (held // 2,)], 60, interval=0.2, what="the operator's 50/50 redemption booked")
        assert ledger_cash(engine) == cash_before + held // 2 == venue_cash(sim, wallet)
        assert _rows(engine, "SELECT status FROM claims") == [("paid",)]
        assert _rows(engine, "SELECT COUNT(*) FROM settlement_txs WHERE kind = 'redeem'") == [(0,)]
        assert _alerts(engine, "BALANCE_MISMATCH", "CREDIT_UNCLAIMED") == []
        assert engine.proc is not None and engine.proc.poll() is None  # still running, never halted
    finally:
        engine.cleanup()


@pytest.mark.slow
def test_paper_settles_and_pays_a_50_50_the_same_way(tmp_path: Path, sim: SimHandle) -> None:
    engine = paper_desk(tmp_path, sim, [])
    with sqlite3.connect(engine.db_path) as conn:
        conn.execute("INSERT INTO settings (key, value, version, updated_at, updated_by) "
                     "VALUES ('redeem_check_s', '5', 1, 0, 'test')")
    market = sim.market(neg_risk=False, index=2)
    cid, token = market["condition_id"], market["yes_token_id"]
    try:
        start(engine)
        done = engine.run("place_order", {"condition_id": cid, "outcome": "YES", "side": "BUY", "size": 20,
                                          "slippage": 0.02, "tif": "FAK"}, timeout=30)
        assert done.status == "done", done.error
        held = wait_until(lambda: next(iter(r[0] for r in _rows(engine, "SELECT settled FROM positions WHERE "
                                                                         "token_id = ? AND pending = 0", token)
                                            if r[0] > 0), 0), 20, interval=0.1, what="a paper position settled")
        sim.resolve(cid, payouts=HALVES)
        wait_until(lambda: _rows(engine, "SELECT amount FROM cash_ledger WHERE kind = 'redemption'") == [
            (held // 2,)], 60, interval=0.2, what="the paper venue's 50/50 payment booked")
        assert _rows(engine, "SELECT amount, status FROM claims") == [(held // 2, "paid")]
    finally:
        engine.cleanup()


def test_the_simulator_refuses_a_vector_that_does_not_sum_to_1(sim: SimHandle) -> None:
    market = sim.market(neg_risk=False, index=3)
    answer = httpx.post(f"{sim.clob_host}/_sim/resolve", json={"condition_id": market["condition_id"],
                                                         "payouts": [0.6, 0.6]}, timeout=10)
    assert answer.status_code == 400 and "do not sum to 1" in answer.text
    assert sim.resolution(market["condition_id"])["status"] == "open"  # nothing changed


# -- reading the venue's vector --------------------------------------------------------------------


def _gamma(prices: list[str], status: str | None, closed: bool = True) -> dict[str, Any]:
    return {"closed": closed, "umaResolutionStatus": status, "outcomePrices": json.dumps(prices)}


def test_the_venue_vector_is_read_as_reported() -> None:
    resolved = json.loads((CAPTURED / "gamma_market_closed_binary_accepting_false.json").read_text())
    assert venue_payouts(resolved) == Payouts(0, PUSD)  # captured: NO won
    assert venue_payouts(_gamma(["0.5", "0.5"], "resolved")) == Payouts(PUSD // 2, PUSD // 2)
    assert venue_payouts(_gamma(["1", "0"], None)) == Payouts.won_by(Outcome.YES)  # older markets: no status
    # A closed market that never resolved shows its last trading prices: not a vector.
    legacy = json.loads((CAPTURED / "gamma_market_closed_nonbinary_legacy.json").read_text())
    assert venue_payouts(legacy) is None
    assert venue_payouts(_gamma(["0.5", "0.5"], None)) is None
    assert venue_payouts(_gamma(["0.5", "0.5"], "proposed")) is None  # not final
    assert venue_payouts(_gamma(["1", "0"], "resolved", closed=False)) is None
    with pytest.raises(PayoutError, match="not two non-negative shares of 1"):
        venue_payouts(_gamma(["0.6", "0.6"], "resolved"))


def test_a_bad_vector_settles_nothing_and_alerts(tmp_path: Path) -> None:
    desk = make_desk(tmp_path / "p.db")
    desk.books.set("Y1", bids=[(0.38, 100)], asks=[(0.40, 100)])
    step(desk, Intent("a", "c1", (quote(Side.BUY, 0.40, 10, Tif.FAK),)))
    link = SimpleNamespace(db=desk.db, catalog=desk.catalog, executor=desk.executor)
    assert not _settle(link, resolution_of("c1", _gamma(["0.7", "0.2"], "resolved")))
    assert desk.catalog.resolution("c1") is None
    assert desk.rows("SELECT COUNT(*) FROM claims") == [(0,)]
    [(code, message)] = desk.rows("SELECT code, message FROM alerts WHERE code = 'PAYOUT_REFUSED'")
    assert "sums to 1" in message and "positions stay open" in message
    # The venue's own vector then settles it: 10 shares at 0.5.
    assert _settle(link, resolution_of("c1", _gamma(["0.5", "0.5"], "resolved")))
    assert desk.rows("SELECT amount FROM claims") == [(5 * PUSD,)]
