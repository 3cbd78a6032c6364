"""Where strategies' memory is kept (engine/trading/hosting/strategy_memory.py), on a real SQLite file with the
engine's own host: a reload that rebuilds a strategy with the same params carries its memory over
and one with new params starts it cold (its stored memory deleted); a host built afresh (a restart)
takes back what was saved when it is recent enough and for the same params, and says why not
otherwise; a stored document that is not readable starts it cold, never stops the engine."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy import text

from contracts.market_filter import MarketCandidate
from engine.strategies.momentum import Momentum
from engine.trading.hosting.strategy_host import StrategyHost
from engine.trading.hosting.strategy_memory import StrategyMemory
from storage.sqlite.db import Database
from storage.sqlite.migrations import migrate
from tests.strategies.builders import info
from tests.strategies.test_momentum import step

PARAMS = {"mode": "momentum", "fast_seconds": 10, "slow_seconds": 100, "threshold": 0.005, "warmup_seconds": 60,
          "position_size": 20}
MAX_AGE_MS = 600_000
KNOWN = [MarketCandidate(info("c1"), 0, 0, 0)]  # its market, as the catalog knows it


class FakeClock:
    """Milliseconds the test sets and moves."""

    def __init__(self, now: int) -> None:
        self.now = now

    def __call__(self) -> int:
        return self.now

    def advance(self, ms: int) -> None:
        self.now += ms


def _db(tmp: Path) -> Database:
    migrate(tmp / "m.db")
    db = Database(tmp / "m.db")
    with db.write() as conn:
        conn.execute(text("""INSERT INTO strategies (name, kind, params, markets, enabled, created_at, updated_at,
                                 updated_by) VALUES ('mo', 'momentum', :p, '["c1"]', 1, 0, 0, 'test')"""),
                     {"p": json.dumps(PARAMS)})
    return db


def _host(db: Database, clock: FakeClock) -> StrategyHost:
    host = StrategyHost(db, clock, StrategyMemory(db, clock, lambda: MAX_AGE_MS))
    host.reload(KNOWN)
    return host


def _mo(host: StrategyHost) -> Momentum:
    """The hosted momentum strategy, as the Momentum it is."""
    instance = host.hosted["mo"].instance
    assert isinstance(instance, Momentum)
    return instance


def _edit(db: Database, **params: Any) -> None:
    with db.write() as conn:
        conn.execute(text("UPDATE strategies SET params = :p, version = version + 1"),
                     {"p": json.dumps({**PARAMS, **params})})


def _warm(host: StrategyHost) -> None:
    for t, mid in ((0, "0.505"), (10, "0.515"), (30, "0.555"), (61, "0.605")):
        step(_mo(host), mid, t)


def _outcome(db: Database) -> list[tuple[Any, ...]]:
    with db.read() as conn:
        return list(conn.execute(text("SELECT outcome FROM strategy_memory")).all())


def test_a_restart_takes_back_recent_memory_for_the_same_params_only(tmp_path: Path) -> None:
    db, clock = _db(tmp_path), FakeClock(1_000_000)
    host = _host(db, clock)
    _warm(host)
    assert host.save_memory() == 1
    clock.advance(30_000)
    restarted = _host(db, clock)  # a new engine process: a host built afresh
    assert _mo(restarted).signals["c1"].samples == 4
    assert step(_mo(restarted), "0.625", 70).quotes  # warm: it trades
    [(outcome,)] = _outcome(db)
    assert outcome == "restored (saved 30.0 s before)"

    clock.advance(MAX_AGE_MS)  # down for longer than the setting allows: cold, and said so
    stale = _host(db, clock)
    assert _mo(stale).signals == {}
    assert "older than strategy_memory_max_age_s" in _outcome(db)[0][0]

    _warm(stale)
    stale.save_memory()
    _edit(db, fast_seconds=5)  # edited while the engine was down: windows of another length
    edited = _host(db, clock)
    assert _mo(edited).signals == {}
    assert _outcome(db) == []  # the stale memory is gone


def test_a_reload_carries_memory_over_unless_the_params_changed(tmp_path: Path) -> None:
    db, clock = _db(tmp_path), FakeClock(1_000_000)
    host = _host(db, clock)
    _warm(host)
    host.save_memory()
    with db.write() as conn:  # an edit that is not of the params (its markets): the row's version moves
        conn.execute(text("""UPDATE strategies SET markets = '["c1", "c2"]', version = version + 1"""))
    before = host.hosted["mo"].instance
    host.reload(KNOWN)
    assert host.hosted["mo"].instance is not before  # rebuilt ...
    assert _mo(host).signals["c1"].samples == 4  # ... and still warm
    _edit(db, slow_seconds=50)
    host.reload(KNOWN)
    assert _mo(host).signals == {}  # new params: cold
    assert _outcome(db) == []


def test_an_unreadable_stored_memory_starts_cold_and_says_why(tmp_path: Path) -> None:
    db, clock = _db(tmp_path), FakeClock(1_000_000)
    host = _host(db, clock)
    _warm(host)
    host.save_memory()
    for document, why in (("{not json", "unreadable"), ('{"signals": "gone"}', "unreadable (no signals)"),
                          ("[" * 50 + "]" * 50, "unreadable")):
        with db.write() as conn:
            conn.execute(text("UPDATE strategy_memory SET memory = :m, restored_at = NULL"), {"m": document})
        restarted = _host(db, clock)
        assert _mo(restarted).signals == {}
        assert _outcome(db)[0][0].startswith(why)
