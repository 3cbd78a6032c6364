"""A Protocol V2 redemption asks the PositionManager what it pays first (`getPayout`, an `eth_call`
through the desk's RPC) and checks the venue's payment against it after, on a real SQLite ledger
with the live settlement venue talking to the strict simulator:

- the desk's listing says resolved but the chain has no result yet: the read reverts, and the
  redemption waits (nothing recorded, sent or alerted) until a later run finds the result;
- then it is sent with what it is expected to pay, the venue's payment books the claim, and the
  contract's figure for the shares burned agrees (a payment that does not is alerted);
- the chain's result says the position lost where the ledger is owed: 0 is a valid answer, so
  nothing is sent (a transaction would pay nothing) and it is alerted once."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from contracts.domain import Intent, Outcome, Side, Tif
from contracts.payouts import Payouts
from engine.execution.claims import Booking
from engine.execution.credits import Booked
from engine.trading.settlement.collections import Collections
from engine.venues.polymarket.settlement import PolymarketSettlement
from simulator.testing import SimHandle, approved_simulator
from tests.desk import Desk, make_desk
from tests.execution.fakes import market
from tests.execution.test_executor import quote, step
from tests.venues.test_polymarket_settlement import _wallet

PUSD = 1_000_000
CODES = "('REDEEM_PAYS_NOTHING', 'PAYOUT_UNREADABLE', 'REDEEM_PAYOUT_DIFFERS', 'REDEEM_FAILED', 'REDEMPTION_MISMATCH')"


@pytest.fixture(scope="module")
def sim() -> Iterator[SimHandle]:
    with approved_simulator(seed=48, agents=False, prefill_books=False, resolution_delay_s=0, relayer_delay_s=0.05,
                            v2_markets="6,7") as handle:
        yield handle


def _owed_on(tmp: Path, sim: SimHandle, v2: dict[str, Any]) -> tuple[Desk, Collections, PolymarketSettlement]:
    """A desk that bought 10 YES of the V2 market and reads it resolved YES (owed 10 pUSD), its
    wallet holding those 10 at the simulator, its settlement the live venue's."""
    cid, yes, no = v2["condition_id"], v2["yes_token_id"], v2["no_token_id"]
    desk = make_desk(tmp / "payout.db")
    desk.executor.cash_book.opening_deposit(1_000 * PUSD)  # the desk's cash begins: the venue's credits count
    desk.catalog.add(replace(market(cid, yes, no), protocol_v2=True))
    desk.books.set(yes, bids=[(0.38, 100)], asks=[(0.40, 100)])
    step(desk, Intent("a", cid, (quote(Side.BUY, 0.40, 10, Tif.FAK),)))
    desk.catalog.mark_resolved(cid, Payouts.won_by(Outcome.YES))
    desk.executor.applier.settle_market(cid, Payouts.won_by(Outcome.YES))
    venue = _wallet(tmp, sim, 1)
    sim.fund(venue.wallet, token_id=yes, tokens="10")
    link = SimpleNamespace(executor=desk.executor, catalog=desk.catalog, clock=desk.clock, settlement=venue)
    return desk, Collections(link), venue


def _alerts(desk: Desk) -> list[tuple]:
    return desk.rows(f"SELECT code FROM alerts WHERE code IN {CODES}")


def test_a_v2_redemption_waits_for_the_result_on_chain_then_pays_what_the_contract_says(tmp_path: Path,
                                                                                         sim: SimHandle) -> None:
    v2 = [m for m in sim.markets() if m["protocol_v2"]][0]
    desk, collections, venue = _owed_on(tmp_path, sim, v2)
    yes, no = v2["yes_token_id"], v2["no_token_id"]
    try:
        waiting = desk.run(venue.position_payout(yes))
        assert (waiting.shares, waiting.amount, waiting.waiting) == (10 * PUSD, None, True)
        [held] = desk.run(collections.redeem_due(grace_ms=0))
        assert (held["sent"], held["outcome"]) == (False, "unresolved") and "no result on chain" in held["note"]
        assert desk.rows("SELECT * FROM settlement_txs") == [] and _alerts(desk) == []

        sim.resolve(v2["condition_id"], "YES")
        assert desk.run(venue.position_payout(yes)).amount == 10 * PUSD
        assert desk.run(venue.position_payout(no)).amount == 0  # held none, and a loser: 0, not a revert
        [sent] = desk.run(collections.redeem_due(grace_ms=0))
        assert sent["sent"] and sent["pays"] == "10" and sent["position"] == yes
        deadline = time.monotonic() + 20
        while desk.rows("SELECT status FROM claims WHERE kind = 'redeem'") != [("paid",)]:
            assert time.monotonic() < deadline, "the redemption was never paid"
            time.sleep(0.05)
            desk.run(collections.run(auto=False, grace_ms=0))
        assert desk.rows("SELECT amount FROM cash_ledger WHERE kind = 'redemption'") == [(10 * PUSD,)]
        assert _alerts(desk) == []  # the venue's payment is what the contract computes

        [credit] = [c for c in desk.run(venue.credits(0)) if c.kind == "redeem"]
        desk.run(collections.payouts.after([Booked(replace(credit, amount=9 * PUSD), Booking(True, 9 * PUSD))]))
        assert _alerts(desk) == [("REDEEM_PAYOUT_DIFFERS",)]
    finally:
        desk.run(venue.close())


def test_a_position_the_chain_says_lost_is_not_redeemed_and_alerted_once(tmp_path: Path, sim: SimHandle) -> None:
    v2 = [m for m in sim.markets() if m["protocol_v2"]][1]
    desk, collections, venue = _owed_on(tmp_path, sim, v2)
    try:
        sim.resolve(v2["condition_id"], "NO")  # the ledger read YES
        for _ in range(2):
            [held] = desk.run(collections.redeem_due(grace_ms=0))
            assert (held["sent"], held["outcome"], held["shares"]) == (False, "pays nothing", "10")
        assert desk.rows("SELECT * FROM settlement_txs") == []
        assert _alerts(desk) == [("REDEEM_PAYS_NOTHING",)]
        assert desk.rows("SELECT status FROM claims WHERE kind = 'redeem'") == [("open",)]
        assert float(sim.balances(venue.wallet)["tokens"][v2["yes_token_id"]]) == 10  # nothing burned
    finally:
        desk.run(venue.close())
