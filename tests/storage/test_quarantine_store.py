"""The quarantine's bookkeeping on a real SQLite file: a set-aside market row leaves `markets`
(kept as it was), one alert per cause however often a refresh writes the same bad row back,
the entry goes once a readable row is back; configuration entries are exactly the problems of
the last load."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

from storage.engine_stores import quarantine_store
from storage.sqlite.db import Database
from storage.sqlite.migrations import migrate

ROW = {"condition_id": "0xbad", "question": "Q?", "yes_token": "1", "no_token": "2", "tick": "abc", "min_size": 5}


def _insert(path: Path, row: dict[str, object]) -> None:
    with sqlite3.connect(path) as conn:
        conn.execute(f"INSERT INTO markets ({', '.join(row)}, first_seen_at, updated_at) "
                     f"VALUES ({', '.join('?' * len(row))}, 0, 0)", tuple(row.values()))


def _one(path: Path, sql: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(path) as conn:
        return conn.execute(sql).fetchall()


def test_a_market_row_set_aside_twice_alerts_once_and_leaves_once_repaired(tmp_path: Path) -> None:
    path = tmp_path / "t.db"
    migrate(path)
    db = Database(path)
    for _ in range(2):  # a refresh writes the same bad row back
        _insert(path, ROW)
        with db.write() as conn:
            quarantine_store.set_aside_markets(conn, [(ROW, "tick is not one of the venue's tick sizes")], 1)
    assert _one(path, "SELECT COUNT(*) FROM markets") == [(0,)]
    assert _one(path, "SELECT COUNT(*) FROM alerts WHERE code = 'MARKET_SET_ASIDE'") == [(1,)]
    kept = _one(path, "SELECT subject, row FROM quarantine")
    assert kept[0][0] == "market 0xbad" and json.loads(str(kept[0][1]))["tick"] == "abc"
    _insert(path, {**ROW, "tick": 10_000})
    with db.write() as conn:
        assert quarantine_store.markets_back(conn) == 1
    assert _one(path, "SELECT COUNT(*) FROM quarantine") == [(0,)]
    db.dispose()


def test_configuration_entries_are_the_last_loads_problems(tmp_path: Path) -> None:
    path = tmp_path / "t.db"
    migrate(path)
    db = Database(path)
    problems = ("setting alert_feed_down_s: stored '{' is invalid", "risk limit max_order_size: stored 'x' is invalid")
    with db.write() as conn:
        quarantine_store.configuration_now(conn, problems, 1)
    assert sorted(s for (s,) in _one(path, "SELECT subject FROM quarantine")) == [
        "risk limit max_order_size", "setting alert_feed_down_s"]
    with db.write() as conn:
        quarantine_store.configuration_now(conn, problems[1:], 2)
    assert _one(path, "SELECT subject, repair LIKE '%Risk page%' FROM quarantine") == [("risk limit max_order_size", 1)]
    db.dispose()
