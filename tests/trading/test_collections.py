"""When the engine redeems: not before the venue's auto-redeem operator has had its grace, not
twice while one is in flight, a failed one again only after a while (the operator's Redeem at
once), and never when nothing is owed. A paper desk on a real SQLite file and a scripted venue."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from contracts.command_refusal import CommandRejected
from contracts.domain import Intent, Outcome, Side, Tif
from contracts.payouts import Payouts
from engine.trading.settlement.collections import RETRY_MS, Collections
from engine.venues.base import VenueError
from engine.venues.settlement import SettlementTx, VenueCredit
from tests.desk import Desk, make_desk
from tests.execution.test_executor import quote, step

GRACE_MS = 600_000


class ScriptedVenue:
    """A settlement venue whose answers the test sets."""

    def __init__(self) -> None:
        self.approved = False
        self.refuse: str | None = None
        self.sent: list[str] = []
        self.states: dict[str, SettlementTx] = {}

    async def auto_redeem_approved(self, protocol_v2: bool = False) -> bool:
        return self.approved

    async def redeem(self, condition_id: str, neg_risk: bool) -> SettlementTx:
        if self.refuse:
            raise VenueError(self.refuse)
        ref = f"tx-{len(self.sent)}"
        self.sent.append(condition_id)
        self.states[ref] = SettlementTx(ref, "pending", f"0x{ref}", via="relayer")
        return self.states[ref]

    async def transaction(self, ref: str) -> SettlementTx:
        return self.states[ref]

    async def credits(self, since_ms: int) -> list[VenueCredit]:
        return []


def _owed(tmp: Path) -> tuple[Desk, Collections, ScriptedVenue]:
    desk = make_desk(tmp / "c.db")
    desk.books.set("Y1", bids=[(0.38, 100)], asks=[(0.40, 100)])
    step(desk, Intent("a", "c1", (quote(Side.BUY, 0.40, 10, Tif.FAK),)))
    desk.catalog.mark_resolved("c1", Payouts.won_by(Outcome.YES))
    desk.executor.applier.settle_market("c1", Payouts.won_by(Outcome.YES))
    venue = ScriptedVenue()
    link = SimpleNamespace(executor=desk.executor, catalog=desk.catalog, clock=desk.clock, settlement=venue)
    return desk, Collections(link), venue


def test_the_auto_redeem_operator_comes_first_then_the_desk_redeems(tmp_path: Path) -> None:
    desk, collections, venue = _owed(tmp_path)
    venue.approved = True
    assert desk.run(collections.redeem_due(grace_ms=GRACE_MS)) == []
    desk.clock.advance(GRACE_MS + 1)
    [sent] = desk.run(collections.redeem_due(grace_ms=GRACE_MS))
    assert sent["sent"] and venue.sent == ["c1"]
    # In flight: not sent again, whatever the clock says.
    desk.clock.advance(GRACE_MS)
    assert desk.run(collections.redeem_due(grace_ms=GRACE_MS)) == []
    assert desk.rows("SELECT kind, condition_id, amount, state, ref FROM settlement_txs") == [
        ("redeem", "c1", 10_000_000, "pending", "tx-0")]


def test_a_failed_redemption_is_alerted_and_tried_again_later_or_now_by_the_operator(tmp_path: Path) -> None:
    desk, collections, venue = _owed(tmp_path)
    venue.refuse = "sending through the relayer needs RELAYER_API_KEY"
    [failed] = desk.run(collections.redeem_due(grace_ms=GRACE_MS))
    assert not failed["sent"] and "RELAYER_API_KEY" in failed["error"]
    assert desk.rows("SELECT code FROM alerts WHERE code = 'REDEEM_FAILED'") == [("REDEEM_FAILED",)]
    assert desk.rows("SELECT status FROM claims") == [("open",)]  # still owed
    venue.refuse = None
    assert desk.run(collections.redeem_due(grace_ms=GRACE_MS)) == []  # not again so soon
    assert venue.sent == []
    [now] = desk.run(collections.redeem_now("c1"))["redeems"]  # the operator's Redeem does not wait
    assert now["sent"] and venue.sent == ["c1"]


def test_a_mined_redemption_is_not_resent_and_a_failed_one_is_after_the_retry_delay(tmp_path: Path) -> None:
    desk, collections, venue = _owed(tmp_path)
    desk.run(collections.redeem_due(grace_ms=GRACE_MS))
    venue.states["tx-0"] = SettlementTx("tx-0", "failed", "0xtx-0", "execution reverted: result for condition not "
                                                                   "received yet")
    desk.run(collections.follow())
    assert desk.rows("SELECT state, error FROM settlement_txs") == [
        ("failed", "execution reverted: result for condition not received yet")]
    desk.clock.advance(RETRY_MS)
    desk.run(collections.redeem_due(grace_ms=GRACE_MS))
    assert venue.sent == ["c1", "c1"]
    venue.states["tx-1"] = SettlementTx("tx-1", "confirmed", "0xtx-1")
    desk.run(collections.follow())
    desk.clock.advance(RETRY_MS)
    assert desk.run(collections.redeem_due(grace_ms=GRACE_MS)) == []  # mined: the payment is on its way


def test_nothing_owed_is_refused_with_where_to_look(tmp_path: Path) -> None:
    desk = make_desk(tmp_path / "n.db")
    link = SimpleNamespace(executor=desk.executor, catalog=desk.catalog, clock=desk.clock, settlement=ScriptedVenue())
    collections = Collections(link)
    with pytest.raises(CommandRejected, match="nothing to redeem"):
        desk.run(collections.redeem_now(None))
