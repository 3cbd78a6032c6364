"""Nothing is live unless promoted: a database made by a release before migration 0060 keeps live
only the strategies whose last promotion act was a promotion; the others become paper only, each
audited, with one alert the operator sees until acknowledged. After it, every route that makes a
strategy (the dashboard's create, the demo seed, a plain INSERT) makes it paper only."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from sqlite_utils import Database as UtilsDatabase

from storage.desk.config import create_strategy
from storage.research.seed_data import seed_running_strategy
from storage.sqlite.db import Database, now_ms
from storage.sqlite.lite import raw_connection
from storage.sqlite.migrations import m, migrate


def _older_release(path: Path) -> None:
    conn = raw_connection(path, synchronous="FULL")
    try:
        m.apply(UtilsDatabase(conn), stop_before="0060_paper_until_promoted")
    finally:
        conn.close()


def _strategy(conn: sqlite3.Connection, name: str, live: int | None = None) -> None:
    columns, values = "name, kind, params, markets, enabled, created_at, updated_at, updated_by", [
        name, "market_making", "{}", "[]", 1, 1, 1, "old"]
    if live is not None:
        columns, values = columns + ", live", [*values, live]
    conn.execute(f"INSERT INTO strategies ({columns}) VALUES ({', '.join('?' * len(values))})", values)


def _audit(conn: sqlite3.Connection, name: str, *actions: str) -> None:
    for action in actions:
        conn.execute("INSERT INTO audit_log (at, actor, action, entity) VALUES (1, 'dashboard', ?, ?)",
                     (action, f"strategy:{name}"))


def test_an_upgrade_demotes_every_strategy_nobody_promoted(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    _older_release(path)
    with sqlite3.connect(path) as conn:
        _strategy(conn, "demo-market-making")  # seeded by `make run`: the old default made it live
        _strategy(conn, "promoted")
        _audit(conn, "promoted", "strategy.promote")
        _strategy(conn, "promoted-then-demoted", live=1)  # a row edited around the dashboard
        _audit(conn, "promoted-then-demoted", "strategy.promote", "strategy.demote")
        _strategy(conn, "demoted-then-promoted")
        _audit(conn, "demoted-then-promoted", "strategy.demote", "strategy.promote")
        _strategy(conn, "paper-only", live=0)
    assert "0060_paper_until_promoted" in migrate(path)
    with sqlite3.connect(path) as conn:
        live = dict(conn.execute("SELECT name, live FROM strategies").fetchall())
        audits = conn.execute("SELECT actor, entity, before, after FROM audit_log WHERE actor = 'migration 0060' "
                              "ORDER BY entity").fetchall()
        alerts = conn.execute("SELECT level, code, message, acked_at FROM alerts").fetchall()
        _strategy(conn, "made-after")
        made_after = conn.execute("SELECT live FROM strategies WHERE name = 'made-after'").fetchone()[0]
        checks = conn.execute("SELECT sql FROM sqlite_master WHERE name = 'strategies'").fetchone()[0]
    assert live == {"demo-market-making": 0, "promoted": 1, "promoted-then-demoted": 0, "demoted-then-promoted": 1,
                    "paper-only": 0}
    assert [(a[1], json.loads(a[2]), json.loads(a[3])["live"]) for a in audits] == [
        ("strategy:demo-market-making", {"live": True}, False),
        ("strategy:promoted-then-demoted", {"live": True}, False)]
    [(level, code, message, acked)] = alerts
    assert (level, code, acked) == ("warning", "STRATEGIES_DEMOTED", None)
    assert "demo-market-making, promoted-then-demoted" in message and "Promote on the Strategies page" in message
    assert made_after == 0  # the column's default is paper only now
    assert "CHECK (live IN (0, 1))" in checks and "CHECK (enabled IN (0, 1))" in checks  # the rebuild kept them
    assert migrate(path) == []  # once


def test_an_upgrade_with_nothing_to_demote_says_nothing(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    _older_release(path)
    with sqlite3.connect(path) as conn:
        _strategy(conn, "paper-only", live=0)
    migrate(path)
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT COUNT(*) FROM alerts").fetchone()[0] == 0
        assert conn.execute("SELECT COUNT(*) FROM audit_log").fetchone()[0] == 0


def test_every_route_that_makes_a_strategy_makes_it_paper_only(tmp_path: Path) -> None:
    path = tmp_path / "new.db"
    migrate(path)
    db = Database(path)
    try:
        assert seed_running_strategy(db, name="demo", kind="market_making", params={}, markets={}, now=now_ms(),
                                     actor="init")
        create_strategy(db, name="made", kind="market_making", params={}, markets=[], enabled=True, actor="t")
    finally:
        db.dispose()
    with sqlite3.connect(path) as conn:
        assert dict(conn.execute("SELECT name, live FROM strategies").fetchall()) == {"demo": 0, "made": 0}
