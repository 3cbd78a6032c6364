"""The lookout's balance check: a confirmed drift is on the venue conditions board before the
risk monitor halts for it, so `engine status` never shows the halt without its cause; and a
Start that books the drift takes it off the board before trading resumes."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from contracts.domain import Outcome, Side
from contracts.runtime_settings import checked
from engine.execution.bus import EventBus, FillApplied
from engine.trading.lookouts import balance_watch
from engine.trading.lookouts.balance_watch import Reading
from engine.trading.lookouts.lookout import Lookout
from engine.venues.base import TradeStatus
from storage.desk.desk_status import venue_health
from storage.sqlite.db import Database
from storage.sqlite.migrations import migrate

TOLERANCE_pUSD = 5.0


class HaltRecorder:
    """Stands in for the risk monitor: notes what the board held when each verdict arrived."""

    def __init__(self, db_path: Path):
        self.db_path = db_path
        self.seen: list[tuple[list[str], list[str]]] = []

    def balances_checked(self, problems: list[str]) -> None:
        with sqlite3.connect(self.db_path) as conn:
            conn.row_factory = sqlite3.Row
            codes = [c["code"] for c in venue_health(conn)["conditions"]]
        self.seen.append((problems, codes))


def _live_link(db: Database) -> Any:
    executor = SimpleNamespace(health=SimpleNamespace(unreachable_since=None), venue=object(), db=db)
    return SimpleNamespace(mode="live", executor=executor)


def _confirm_drift(lookout: Lookout, link: Any, risk: HaltRecorder) -> None:
    """The wallet reads 20 pUSD more than the ledger on two checks in a row: a halt."""
    readings = iter([Reading(20_000_000, (), fills=4), Reading(20_000_000, (), fills=4)])

    async def read(_: Any) -> Reading:
        return next(readings)

    lookout.balance_watch.read = read  # type: ignore[method-assign, assignment]  # a scripted reading
    for now in (1_000, 11_000):
        asyncio.run(lookout.check_balances(link, risk, tolerance_usdc=TOLERANCE_pUSD, now=now,  # type: ignore[arg-type]  # stand-ins with only what it calls
                                           feed_down_s=30))


def test_a_drift_past_the_tolerance_is_a_condition_before_it_is_a_halt(tmp_path: Path) -> None:
    migrate(tmp_path / "desk.db")
    db = Database(tmp_path / "desk.db")
    try:
        lookout = Lookout(db, EventBus(), clock=lambda: 0, config=checked({})[0])
        risk = HaltRecorder(tmp_path / "desk.db")
        _confirm_drift(lookout, _live_link(db), risk)
        assert len(risk.seen) == 1  # the first sight of a difference is not a verdict
        problems, board = risk.seen[0]
        assert len(problems) == 1 and "+20.00 pUSD" in problems[0]
        assert board == ["balance_drift"]
    finally:
        db.dispose()


def test_a_start_that_books_the_drift_clears_the_board_before_trading_resumes(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    migrate(tmp_path / "desk.db")
    db = Database(tmp_path / "desk.db")
    try:
        lookout = Lookout(db, EventBus(), clock=lambda: 0, config=checked({})[0])
        risk = HaltRecorder(tmp_path / "desk.db")
        link = _live_link(db)
        _confirm_drift(lookout, link, risk)
        booked: list[int] = []
        risk.cash_flow = booked.append  # type: ignore[attr-defined]  # a recorder in place of the risk monitor's hook

        async def sync(_: Any) -> tuple[list[str], int]:  # the wallet read again: 20 pUSD to book, no mismatch
            return [], 20_000_000

        monkeypatch.setattr(balance_watch, "sync_live_balances", sync)
        asyncio.run(lookout.resync_balances(link, risk, now=20_000, feed_down_s=30))  # type: ignore[arg-type]  # stand-ins with only what it calls
        assert booked == [20_000_000]
        assert risk.seen[-1] == ([], [])  # trading resumes with nothing left on the board
    finally:
        db.dispose()


def test_a_raising_subscriber_is_alerted_and_the_watch_still_hears_the_fill(tmp_path: Path) -> None:
    """The core's bus reports a handler that raises as an alert (the lookout wires it), and the
    watch subscribed after it still raises its large-fill alert for the same fill."""
    migrate(tmp_path / "desk.db")
    db = Database(tmp_path / "desk.db")
    try:
        bus = EventBus()

        def markouts_bug(event: FillApplied) -> None:
            raise ValueError("no mid for this token")

        bus.subscribe(FillApplied, markouts_bug)  # before the watch subscribes
        Lookout(db, bus, clock=lambda: 0, config=checked({"alert_large_fill_usdc": "5"})[0])
        bus.publish(FillApplied(1, "t1", "mm", "c1", "Y1", Outcome.YES, Side.BUY, 500_000, 20_000_000, 0, "maker",
                                TradeStatus.MATCHED, 0, 0))
        with sqlite3.connect(tmp_path / "desk.db") as conn:
            alerts = dict(conn.execute("SELECT code, message FROM alerts").fetchall())
        assert set(alerts) == {"EVENT_HANDLER_FAILED", "LARGE_FILL"}
        expected = "markouts_bug failed on FillApplied (ValueError: no mid for this token)"
        assert expected in alerts["EVENT_HANDLER_FAILED"]
    finally:
        db.dispose()
