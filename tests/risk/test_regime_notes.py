"""The decisions log notes each change of a strategy's market regime once, with the strategy's
reason, beside the gate's trims and refusals (real SQLite file)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from contracts.domain import Intent
from engine.risk.decisions_log import DecisionsLog
from storage.sqlite.db import Database
from storage.sqlite.migrations import migrate


def _intent(cid: str, regime: str, reason: str = "") -> Intent:
    return Intent("mm", cid, (), reason or f"regime {regime}: why", regime=regime)


def test_each_change_of_regime_is_noted_once_per_market(tmp_path: Path) -> None:
    path = tmp_path / "t.db"
    migrate(path)
    db = Database(path)
    log = DecisionsLog(db, "paper")
    try:
        assert log.regimes([_intent("a", "stale"), _intent("b", "calm"), Intent("other", "a", ())], 1) == 2
        assert log.regimes([_intent("a", "stale"), _intent("b", "calm")], 2) == 0  # no change, no row
        assert log.regimes([_intent("a", "calm", "regime calm: reference 0.5 s old, volatility 0.004; quoting"),
                            _intent("b", "calm")], 3) == 1
        assert log.regimes([_intent("a", "fast"), _intent("a", "fast")], 4) == 1
        assert log.regimes([_intent("a", "calm")], 5) == 1  # back to calm within a minute: still news
    finally:
        db.dispose()
    with sqlite3.connect(path) as conn:
        rows = conn.execute("SELECT at, strategy, condition_id, action, reason, detail FROM decisions "
                            "ORDER BY id").fetchall()
    assert [(at, cid, action, reason) for at, _, cid, action, reason, _ in rows] == [
        (1, "a", "note", "REGIME_STALE"), (1, "b", "note", "REGIME_CALM"), (3, "a", "note", "REGIME_CALM"),
        (4, "a", "note", "REGIME_FAST"), (5, "a", "note", "REGIME_CALM")]
    assert rows[2][5] == "regime calm: reference 0.5 s old, volatility 0.004; quoting"


def test_rows_written_before_the_note_action_existed_survive_the_migration(tmp_path: Path) -> None:
    from sqlite_utils import Database as UtilsDatabase
    from sqlite_utils import Migrations

    from storage.sqlite import migrations

    path = tmp_path / "old.db"
    before = Migrations(migrations.MIGRATION_SET)  # the schema as it was before 0016
    for step in migrations.m._migrations:
        if step.name == "0016_news_and_regimes":
            break
        before(name=step.name)(step.fn)
    with sqlite3.connect(path) as conn:
        before.apply(UtilsDatabase(conn))
        conn.execute("""INSERT INTO decisions (at, mode, strategy, condition_id, side, price, requested, approved,
                        action, reason, detail) VALUES (7, 'live', 's', 'c', 'BUY', 5, 9, 0, 'deny', 'STALE_DATA',
                        'old')""")
    assert migrate(path)[0] == "0016_news_and_regimes"
    with sqlite3.connect(path) as conn:
        kept = conn.execute("SELECT at, mode, price, requested, action, reason, detail FROM decisions").fetchall()
        try:
            conn.execute("""INSERT INTO decisions (at, mode, strategy, condition_id, side, price, requested,
                            approved, action, reason) VALUES (1, 'paper', 's', 'c', 'BUY', 1, 1, 0, 'shrug', 'X')""")
        except sqlite3.IntegrityError:
            refused = True
        else:
            refused = False
        indexes = {name for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE tbl_name = 'decisions' "
                                                    "AND type = 'index'")}
    assert kept == [(7, "live", 5, 9, "deny", "STALE_DATA", "old")]
    assert refused and {"ix_decisions_at", "ix_decisions_reason"} <= indexes
