"""Paper and live never mix in the ledger's reads: positions are read by their ledger's mode (and
venue), so a live desk's state holds no paper share, nor the reverse."""

from __future__ import annotations

from pathlib import Path

from contracts.venues import KALSHI, POLYMARKET
from engine.execution.state import ExecutionState
from storage.engine_stores.execution_ledger import store_position, stored_position
from storage.sqlite.db import Database
from storage.sqlite.migrations import migrate

SH = 1_000_000


def test_positions_are_read_by_their_ledger_mode_and_venue(tmp_path: Path) -> None:
    migrate(tmp_path / "t.db")
    db = Database(tmp_path / "t.db")
    with db.write() as conn:
        for mode, venue, token, settled in (("paper", POLYMARKET, "Y1", 70 * SH), ("live", POLYMARKET, "Y1", 3 * SH),
                                            ("paper", KALSHI, "kalshi:K:yes", 9 * SH)):
            store_position(conn, mode=mode, venue=venue, strategy="mm", token_id=token, condition_id="c1",
                           outcome="YES", settled=settled, pending=0, cost=settled // 2, realized=0, fees=0, now=1)
    with db.read() as conn:
        live, paper, kalshi = (ExecutionState("live", POLYMARKET), ExecutionState("paper", POLYMARKET),
                               ExecutionState("paper", KALSHI))
        for state in (live, paper, kalshi):
            state.load_positions(conn)
        assert {k: t.settled for k, t in live.positions.items()} == {("mm", "Y1"): 3 * SH}
        assert {k: t.settled for k, t in paper.positions.items()} == {("mm", "Y1"): 70 * SH}
        assert {k: t.settled for k, t in kalshi.positions.items()} == {("mm", "kalshi:K:yes"): 9 * SH}
        assert stored_position(conn, "live", "mm", "Y1") == (3 * SH, 0, 3 * SH // 2, 0, 0)
    db.dispose()
