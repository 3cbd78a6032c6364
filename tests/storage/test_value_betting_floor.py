"""Value betting's minimum confidence (issue 76): a value-betting strategy stored before the param existed
keeps acting on every fair value after the upgrade (the migration gives it 0, audited, one info alert);
a new one gets the T-Bot seed's floor, 0.6; a stored strategy without the param still loads."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from sqlite_utils import Database as UtilsDatabase

from engine.strategies.registry import build_strategy
from storage.sqlite.lite import raw_connection
from storage.sqlite.migrations import m, migrate

BEFORE = "0096_value_betting_floor"


def _older_release(path: Path) -> None:
    conn = raw_connection(path, synchronous="FULL")
    try:
        m.apply(UtilsDatabase(conn), stop_before=BEFORE)
    finally:
        conn.close()


def test_an_upgrade_keeps_every_stored_value_betting_strategy_acting_as_before(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    _older_release(path)
    with sqlite3.connect(path) as conn:
        for name, kind, params in (("vb", "value_betting", {"edge": 0.05}), ("vb-set", "value_betting",
                                   {"min_confidence": 0.7}), ("mm", "market_making", {}),
                                   ("broken", "value_betting", "not json")):
            conn.execute("""INSERT INTO strategies (name, kind, params, markets, enabled, created_at, updated_at,
                                updated_by) VALUES (?, ?, ?, '[]', 1, 1, 1, 'old')""",
                         (name, kind, params if isinstance(params, str) else json.dumps(params)))
    assert BEFORE in migrate(path)
    with sqlite3.connect(path) as conn:
        stored = {n: (p, v) for n, p, v in conn.execute("SELECT name, params, version FROM strategies")}
        audits = conn.execute("SELECT entity, after FROM audit_log WHERE actor = 'migration 0096'").fetchall()
        [(level, code, message)] = conn.execute("SELECT level, code, message FROM alerts").fetchall()
    assert json.loads(stored["vb"][0]) == {"edge": 0.05, "min_confidence": 0} and stored["vb"][1] == 2
    assert json.loads(stored["vb-set"][0]) == {"min_confidence": 0.7} and stored["vb-set"][1] == 1  # its own
    assert stored["mm"] == ("{}", 1) and stored["broken"] == ("not json", 1)  # (the engine disables that one)
    assert [(e, json.loads(a)["min_confidence"]) for e, a in audits] == [("strategy:vb", 0)]
    assert (level, code) == ("info", "VALUE_BETTING_FLOOR") and "vb kept 0" in message
    assert build_strategy("vb", "value_betting", json.loads(stored["vb"][0])).params["min_confidence"] == 0
    assert build_strategy("new", "value_betting", {"edge": 0.05}).params["min_confidence"] == 0.6  # loads: 0.6
    assert migrate(path) == []  # once
