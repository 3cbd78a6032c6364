"""One store for every venue ledger's risk memory (issue 58 item 4): a database made by a release
before migration 0090 kept the paper ledger's on the engine_state row; the upgrade moves it to
venue_risk's row (polymarket, paper), so a ledger halted before the upgrade is halted after it, with
its reason, peak and day figures, for the engine's breakers and `engine status` alike."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlite_utils import Database as UtilsDatabase

from contracts.venues import KALSHI, POLYMARKET
from engine.risk import breakers
from engine.risk.gate import TradingState
from storage.engine_stores import ledger_risk_store
from storage.engine_stores.ledger_risk_store import LedgerRisk
from storage.sqlite.db import Database
from storage.sqlite.lite import raw_connection
from storage.sqlite.migrations import m, migrate

BEFORE = "0090_one_ledger_risk_store"
HALTED = LedgerRisk("HALTED", breakers.KILL_SWITCH, 12_000_000_000, 11_500_000_000, 1_790_000_000_000)


def _older_release(path: Path) -> None:
    conn = raw_connection(path, synchronous="FULL")
    try:
        m.apply(UtilsDatabase(conn), stop_before=BEFORE)
    finally:
        conn.close()


def test_a_paper_ledger_halted_before_the_upgrade_is_halted_after_it(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    _older_release(path)
    with sqlite3.connect(path) as conn:  # the ledger's memory where the release before kept it
        conn.execute("""UPDATE engine_state SET paper_lane_state = ?, paper_lane_reason = ?, paper_lane_peak = ?,
                            paper_lane_day_start = ?, paper_lane_day_at = ? WHERE id = 1""",
                     (HALTED.trading_state, HALTED.reason, HALTED.peak_equity, HALTED.day_start_equity,
                      HALTED.day_started_at))
        conn.execute("""INSERT INTO venue_risk (mode, venue, trading_state, reason, updated_at)
                        VALUES ('paper', 'kalshi', 'REDUCING', 'DRAWDOWN', 1)""")
    assert migrate(path)[0] == BEFORE
    with sqlite3.connect(path) as conn:
        assert ledger_risk_store.read(conn, POLYMARKET, "paper") == HALTED
        assert ledger_risk_store.read(conn, POLYMARKET, "live") == LedgerRisk()  # the paper ledger's alone
        assert ledger_risk_store.read(conn, KALSHI, "paper") == LedgerRisk("REDUCING", breakers.DRAWDOWN)  # as it was
        columns = {row[1] for row in conn.execute("PRAGMA table_info(engine_state)")}
        assert not {c for c in columns if c.startswith("paper_ledger_")}  # one store: the old columns are gone
    with Database(path).read() as conn:  # what the engine's ledger loads at its next start
        ledger = breakers.load_ledger_memory(conn, POLYMARKET, "paper")
    assert (ledger.trading_state, ledger.reason) == (TradingState.HALTED, breakers.KILL_SWITCH)
    assert (ledger.peak_equity, ledger.day_start_equity, ledger.day_started_at) == (
        HALTED.peak_equity, HALTED.day_start_equity, HALTED.day_started_at)

