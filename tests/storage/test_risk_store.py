"""The decisions log's retention (storage/engine_stores/risk_store.py through engine/risk/decisions_log.py):
rows older than the retention go, then all but the newest MAX_ROWS; notes sit in the same
table and age the same way."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from engine.risk import decisions_log
from storage.engine_stores import risk_store
from storage.sqlite.db import Database
from storage.sqlite.migrations import migrate

DAY = 86_400_000


@pytest.fixture
def db(tmp_path: Path) -> Database:
    migrate(tmp_path / "d.db")
    return Database(tmp_path / "d.db")


def _decision(at: int, n: int) -> risk_store.DecisionRow:
    return (at, "paper", "mm", f"c{n}", "BUY", 500_000, 10, 0, "deny", "MAX_EXPOSURE", None)


def _ats(db: Database) -> list[int]:
    with db.read() as conn:
        return [int(r[0]) for r in conn.execute(text("SELECT at FROM decisions ORDER BY id"))]


def test_decisions_older_than_the_retention_go_and_the_rest_stay(db: Database) -> None:
    now = 30 * DAY
    with db.write() as conn:
        risk_store.add_decisions(conn, [_decision(now - 8 * DAY, 1), _decision(now - 7 * DAY, 2),
                                        _decision(now - DAY, 3)])
        risk_store.add_notes(conn, [(now - 9 * DAY, "paper", "mm", "c4", "REGIME_CALM", "quiet book")])
    assert decisions_log.prune(db, now=now, retention_days=7) == 2
    assert _ats(db) == [now - 7 * DAY, now - DAY]  # exactly at the cut is kept


def test_beyond_max_rows_the_oldest_go(db: Database) -> None:
    with db.write() as conn:
        risk_store.add_decisions(conn, [_decision(1_000 + n, n) for n in range(10)])
        assert risk_store.prune_decisions(conn, before=0, keep=4) == 6
    assert _ats(db) == [1_006, 1_007, 1_008, 1_009]
