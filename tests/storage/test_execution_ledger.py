"""The cash ledger's reads the start-up and the credit booking rely on
(storage/engine_stores/execution_ledger.py): when the mode's cash began, the newest venue payment, and the
markets an older desk booked as cash at resolution."""

from __future__ import annotations

from pathlib import Path

from storage.engine_stores import execution_ledger
from storage.sqlite.db import Database
from storage.sqlite.migrations import migrate


def test_the_credit_window_reads_the_initial_deposit_and_the_newest_payment(tmp_path: Path) -> None:
    migrate(tmp_path / "d.db")
    db = Database(tmp_path / "d.db")
    with db.write() as conn:
        assert execution_ledger.initial_deposit_at(conn, "live", "polymarket") is None
        assert execution_ledger.newest_credit_at(conn, "live", "polymarket") is None
        entries = [("deposit", "initial", 100), ("deposit", "top-up", 150), ("redemption", "0xa:c1", 200),
                   ("rebate", "0xb", 300), ("adjustment", "balance-sync-400", 400)]
        for kind, ref, at in entries:
            assert execution_ledger.add_cash_entry(conn, mode="live", kind=kind, amount=1, ref=ref, note=None, now=at,
                                                   venue="polymarket")
        assert not execution_ledger.add_cash_entry(conn, mode="live", kind="rebate", amount=1, ref="0xb", note=None,
                                                   now=500, venue="polymarket")  # booked once
        execution_ledger.add_cash_entry(conn, mode="paper", kind="reward", amount=1, ref="0xc", note=None, now=900,
                                        venue="polymarket")
        assert execution_ledger.initial_deposit_at(conn, "live", "polymarket") == 100
        # deposits and adjustments are not payments
        assert execution_ledger.newest_credit_at(conn, "live", "polymarket") == 300
        assert execution_ledger.ledger_total(conn, "live", "polymarket") == 5


def test_legacy_settlements_name_their_markets(tmp_path: Path) -> None:
    migrate(tmp_path / "d.db")
    db = Database(tmp_path / "d.db")
    with db.write() as conn:
        for ref in ("c1:mm:Y1", "c1:arb:Y1", "c2:mm:N2"):
            execution_ledger.add_cash_entry(conn, mode="live", kind="settlement", amount=1, ref=ref, note=None, now=1,
                                            venue="polymarket")
        execution_ledger.add_cash_entry(conn, mode="live", kind="redemption", amount=1, ref="0xa:c3", note=None,
                                        now=1, venue="polymarket")
        execution_ledger.add_cash_entry(conn, mode="paper", kind="settlement", amount=1, ref="c4:mm:Y4", note=None,
                                        now=1, venue="polymarket")
        assert execution_ledger.legacy_settlement_markets(conn, "live", "polymarket") == {"c1", "c2"}
