"""What the live ledger's cash should be, read from the wallet (engine/execution/recovery.py):
its collateral plus winnings an older desk booked as cash at resolution that the wallet still
holds unredeemed, each share at its outcome's payout (1, or 0.5 in a 50/50)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from contracts.domain import Outcome
from engine.execution.recovery import wallet_cash
from engine.venues.base import Balances
from storage.engine_stores import execution_ledger
from storage.sqlite.db import Database
from storage.sqlite.migrations import migrate

PUSD = 1_000_000


def test_unredeemed_winnings_of_legacy_settlements_count_at_their_payout(tmp_path: Path) -> None:
    migrate(tmp_path / "d.db")
    db = Database(tmp_path / "d.db")
    with db.write() as conn:
        execution_ledger.add_cash_entry(conn, mode="live", kind="settlement", amount=1, ref="c1:mm:Y1", note=None,
                                        now=1, venue="polymarket")
    payouts = {("c1", Outcome.YES): 1_000_000, ("c2", Outcome.YES): 500_000}
    ex = SimpleNamespace(  # the executor's parts the computation reads: its database, mode, positions, catalog
        db=db, mode="live", venue_name="polymarket",
        state=SimpleNamespace(position_market={("mm", "Y1"): ("c1", Outcome.YES), ("mm", "Y2"): ("c2", Outcome.YES)}),
        catalog=SimpleNamespace(payout=lambda cid, outcome: payouts.get((cid, outcome))))
    balances = Balances(collateral=100 * PUSD, tokens={"Y1": 20 * PUSD, "Y2": 8 * PUSD})
    # c1 was booked as cash at resolution (legacy): its 20 winning shares are owed to the ledger's cash;
    # c2 was not (a claim now): not counted.
    assert wallet_cash(ex, balances) == 120 * PUSD  # type: ignore[arg-type]  # the parts it reads, not an Executor


def test_cash_is_not_synced_while_a_redemption_is_on_its_way(tmp_path: Path) -> None:
    """The wallet can hold a redemption's payment before the venue lists it: syncing then would book
    that payment as an adjustment, and again when the credit is listed (a crash right after sending
    a redemption, then a restart, did exactly that)."""
    from engine.execution import claims
    from engine.execution.recovery import _sync_cash
    from engine.venues.settlement import SettlementTx
    from tests.desk import make_desk

    desk = make_desk(tmp_path / "d.db")
    ex = desk.executor
    ledger = ex.state.cash
    with ex.tx() as conn:
        tx_id = claims.tx_opened(conn, mode=ex.mode, kind="redeem", condition_id="c1", amount=20 * PUSD,
                                 actor="t", now=desk.clock())
    paid = Balances(collateral=ledger + 20 * PUSD, tokens={})
    assert _sync_cash(ex, paid, []) == 0 and ex.state.cash == ledger  # on its way: not synced
    with ex.tx() as conn:
        claims.tx_moved(conn, tx_id, SettlementTx("r1", "confirmed", tx_hash="0xabc"), desk.clock())
    assert _sync_cash(ex, paid, []) == 20 * PUSD  # closed: a difference left is the operator's (a deposit)
