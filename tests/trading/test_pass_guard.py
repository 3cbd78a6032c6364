"""The pass guard alone (engine/trading/lookouts/pass_guard.py): when a ledger's failing passes trip it, that
only the failing ledger halts and cancels, that a database lock is not a failure; and how every
surface tells a running desk that cannot decide (storage/desk/desk_status.py, `engine status`, the
metrics), from the heartbeat's time of the last completed pass; and the fair values a pass reads:
a read that fails, or a stored value that is no probability, never fails the pass."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from engine.cli.desk import status_lines
from engine.metrics import _engine
from engine.risk.gate import TradingState
from engine.trading.hosting.views import SignalReads
from engine.trading.lookouts.pass_guard import FAILS_IN_A_ROW, MIN_WINDOW_PASSES, PassGuard, guarded_pass
from storage.desk import desk_status
from storage.engine_stores import engine_state
from storage.sqlite.db import Database, now_ms
from storage.sqlite.lite import read_connection
from storage.sqlite.migrations import migrate


class Ledger:
    """A ledger as the guard sees it: its pass guard, its risk's halts, its executor's cancels."""

    def __init__(self, label: str) -> None:
        self.passes = PassGuard(label)
        self.halts: list[tuple[TradingState, str, str]] = []
        self.kills = 0
        self.risk = self
        self.executor = self

    def escalate(self, target: TradingState, reason: str, message: str) -> None:
        self.halts.append((target, reason, message))

    async def kill(self) -> dict[str, object]:
        self.kills += 1
        return {}


def test_failing_passes_trip_the_failing_ledger_alone_once() -> None:
    desk, kalshi = Ledger("the desk"), Ledger("Kalshi paper")

    async def fails() -> None:
        raise ValueError("math domain error")

    async def works() -> None:
        return None

    async def scenario() -> None:
        for n in range(FAILS_IN_A_ROW + 3):
            await guarded_pass(desk, 1_000 * n, works)
            await guarded_pass(kalshi, 1_000 * n, fails)
        locked = sqlite3.OperationalError("database is locked")

        async def held_up() -> None:
            raise locked

        for n in range(10):  # another process's write lock placed nothing: no failure
            await guarded_pass(desk, 20_000 + n, held_up)

    asyncio.run(scenario())
    assert desk.halts == [] and desk.kills == 0 and desk.passes.deciding
    assert kalshi.kills == 1 and len(kalshi.halts) == 1  # tripped once, however long it keeps failing
    target, reason, message = kalshi.halts[0]
    assert (target, reason) == (TradingState.HALTED, "DECISIONS_FAILING")
    assert "Kalshi paper" in message and "ValueError: math domain error" in message
    assert not kalshi.passes.deciding and "still fail" in kalshi.passes.still_failing()


def test_a_share_of_the_window_failing_trips_it_though_never_three_in_a_row() -> None:
    guard = PassGuard("the desk")
    tripped = []
    for n in range(MIN_WINDOW_PASSES * 2):  # every other pass fails: half the window
        if n % 2:
            tripped.append(guard.failed(RuntimeError("poisoned row"), n * 500))
        else:
            guard.passed(n * 500)
    assert guard.in_a_row < FAILS_IN_A_ROW and tripped.count(True) == 1
    calm = PassGuard("the desk")  # one failure in many is a hiccup
    for n in range(MIN_WINDOW_PASSES * 3):
        if n == 7:
            assert not calm.failed(RuntimeError("once"), n * 500)
        else:
            calm.passed(n * 500)


def _desk(tmp: Path) -> Path:
    migrate(tmp / "t.db")
    return tmp / "t.db"


def _report(path: Path, now: int) -> dict[str, Any]:
    conn = read_connection(path)
    try:
        return desk_status.status_report(conn, path, now=now)
    finally:
        conn.close()


def test_every_surface_says_a_running_desk_whose_passes_stalled_cannot_decide(tmp_path: Path) -> None:
    path = _desk(tmp_path)
    db = Database(path)
    now = now_ms()
    engine_state.heartbeat(db, last_pass_at=now - 2_000)
    with db.write() as conn:
        conn.execute(text("UPDATE engine_state SET state = 'RUNNING', heartbeat_at = :n"), {"n": now})
    fine = _report(path, now)
    assert fine["cannot_decide"] is None and fine["pass_age_s"] == 2.0
    assert not any(line.startswith("deciding") for line in status_lines(fine, now))
    with db.write() as conn:  # the heartbeat is fresh, the last completed pass 40 s old
        conn.execute(text("UPDATE engine_state SET last_pass_at = :p"), {"p": now - 40_000})
    stalled = _report(path, now)
    assert "no trading pass has completed for 40 s" in stalled["cannot_decide"]
    assert any(line.startswith("deciding   NO: no trading pass") for line in status_lines(stalled, now))
    gauges = {m.name: m.samples[0].value for m in _engine(stalled) if len(m.samples) == 1}
    assert gauges["desk_deciding"] == 0 and gauges["desk_last_pass_age_seconds"] == 40.0
    with db.write() as conn:  # decision intervals of 20 s: 40 s is two of them, not a stall
        conn.execute(text("INSERT INTO settings (key, value, version, updated_at, updated_by) "
                          "VALUES ('tick_interval_ms', '20000', 1, 0, 't')"))
    assert _report(path, now)["cannot_decide"] is None
    with db.write() as conn:  # halted for failing passes: said whatever the pass's age
        conn.execute(text("UPDATE engine_state SET trading_state = 'HALTED', "
                          "trading_state_reason = 'DECISIONS_FAILING', state = 'STOPPED'"))
    halted = _report(path, now)
    assert "keep failing" in halted["cannot_decide"]
    assert {m.name: m.samples[0].value for m in _engine(halted) if len(m.samples) == 1}["desk_deciding"] == 0


def test_a_fair_value_read_that_fails_or_a_stored_value_that_is_no_probability_never_fails_the_pass(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from engine.trading.hosting import views

    db = Database(_desk(tmp_path))
    now = now_ms()
    with db.write() as conn:
        for cid, value in (("0xa", 600_000), ("0xb", 5e-324), ("0xc", "0.7")):  # the CHECK lets REALs in
            conn.execute(text("INSERT INTO signals (condition_id, source, fair_value, updated_at, updated_by) "
                              "VALUES (:c, 'ext', :v, :n, 't')"), {"c": cid, "v": value, "n": now})
    reads = SignalReads(db, views.MarketCatalog(), replay=False)
    assert reads.fair_values(now) == {"0xa": 600_000}
    real = views.trading_reads.fair_signals

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise sqlite3.DatabaseError("database disk image is malformed")

    monkeypatch.setattr(views.trading_reads, "fair_signals", broken)
    assert reads.fair_values(now + 6_000) == {}  # no fair values rather than a pass that fails
    assert reads.fair_values(now + 12_000) == {}
    monkeypatch.setattr(views.trading_reads, "fair_signals", real)
    assert reads.fair_values(now + 18_000) == {"0xa": 600_000}
    with db.read() as conn:
        alerts = conn.execute(text("SELECT code, message FROM alerts ORDER BY id")).all()
    assert [a.code for a in alerts] == ["FAIR_VALUE_REFUSED", "SIGNAL_READ_FAILED"]
    assert "2 stored fair value" in alerts[0].message and "malformed" in alerts[1].message
