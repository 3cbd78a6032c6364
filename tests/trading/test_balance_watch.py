"""The live balance watch's verdicts (pure): a difference counts only when the next check, with
no fill in between, finds the same one; a cash drift is alerted once per amount and halts only
past the tolerance; fewer shares than the ledger halts; agreement again clears it. And a Start
while running ends an error-rate halt for good."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from contracts.settings import load_settings
from engine.process.control import Controller
from engine.trading.core import TradingCore
from engine.trading.lookouts.balance_watch import BalanceWatch, Reading
from simulator.testing import approved_simulator
from storage.sqlite.db import Database
from storage.sqlite.migrations import migrate

TOLERANCE = 10_000_000  # 10 pUSD


def _watch() -> tuple[BalanceWatch, list[tuple[str, str]]]:
    said: list[tuple[str, str]] = []
    return BalanceWatch(lambda level, code, message: said.append((code, message))), said


def test_a_drift_seen_once_is_not_a_drift() -> None:
    watch, said = _watch()
    assert watch.judge(Reading(5_000_000, (), fills=3), TOLERANCE, now=1) is None
    assert watch.judge(Reading(2_000_000, (), fills=3), TOLERANCE, now=2) is None  # a different one: first sight
    assert watch.judge(Reading(2_000_000, (), fills=4), TOLERANCE, now=3) is None  # a fill in between
    assert watch.judge(None, TOLERANCE, now=4) is None  # mid-settlement: no reading
    assert said == [] and watch.alerted_drift is None


def test_a_confirmed_drift_within_the_tolerance_is_alerted_once_and_does_not_halt() -> None:
    watch, said = _watch()
    watch.judge(Reading(-2_500_000, (), fills=3), TOLERANCE, now=1)
    assert watch.judge(Reading(-2_500_000, (), fills=3), TOLERANCE, now=2) == []
    assert watch.judge(Reading(-2_500_000, (), fills=3), TOLERANCE, now=3) == []
    assert [code for code, _ in said] == ["BALANCE_DRIFT"] and "-2.500000 pUSD" in said[0][1]
    assert (watch.alerted_drift, watch.drift_since_ms) == (-2_500_000, 2)
    assert watch.judge(Reading(0, (), fills=5), TOLERANCE, now=4) == []  # agreement needs no second look
    assert [code for code, _ in said] == ["BALANCE_DRIFT", "BALANCE_DRIFT_CLEARED"]
    assert watch.alerted_drift is None


def test_past_the_tolerance_a_drift_halts_and_so_does_a_share_shortfall() -> None:
    watch, said = _watch()
    watch.judge(Reading(50_000_000, (), fills=0), TOLERANCE, now=1)
    problems = watch.judge(Reading(50_000_000, (), fills=0), TOLERANCE, now=2)
    assert problems is not None and len(problems) == 1 and "+50.00 pUSD" in problems[0] and "Start" in problems[0]
    short = ("token 7: the ledger holds at least 10.00 shares, the venue 0.00",)
    watch.judge(Reading(0, short, fills=1), TOLERANCE, now=3)
    assert watch.judge(Reading(0, short, fills=1), TOLERANCE, now=4) == list(short)
    assert [code for code, _ in said] == ["BALANCE_DRIFT", "BALANCE_DRIFT_CLEARED"]


def test_a_start_while_running_clears_an_error_rate_halt_for_good(tmp_path: Path) -> None:
    """The README's promise, in the real core and controller (paper, on the simulator): an
    error-rate HALTED ends with a deliberate Start even while RUNNING, and the faults that tripped
    it are forgotten, so the next pass does not halt again."""
    migrate(tmp_path / "t.db")
    db = Database(tmp_path / "t.db")
    with approved_simulator(seed=72, agents=False) as sim:
        settings = load_settings({"TRADER_ENV_FILE": str(tmp_path / "none"), "SIMULATOR_PORT": str(sim.port),
                                  "TRADER_DB": str(tmp_path / "t.db")})
        core = TradingCore(settings, db)
        controller = Controller(settings, db, core, core.gate)

        async def scenario() -> tuple[str, str]:
            await controller.boot()
            await controller.start("operator")
            await core._stop_loop()  # drive the passes by hand
            for _ in range(12):  # real faults, as the executor reports them
                core.risk.venue_error("500: Internal server error")
            await core.tick()
            halted = core.risk.memory.trading_state.value
            answer = await controller.start("operator")
            await core.tick()
            await controller.stop("operator")
            return halted, answer["note"]

        try:
            halted, note = asyncio.run(scenario())
        finally:
            db.dispose()
    assert halted == "HALTED"
    assert note == "already running; the ERROR_RATE halt is cleared"
    with sqlite3.connect(tmp_path / "t.db") as conn:
        state = conn.execute("SELECT trading_state, trading_state_reason FROM engine_state").fetchone()
        codes = [r[0] for r in conn.execute("SELECT code FROM alerts ORDER BY id")]
        actions = [r[0] for r in conn.execute("SELECT action FROM audit_log")]
    assert state == ("ACTIVE", None)  # one more pass after the Start did not halt again
    assert codes.count("ERROR_RATE") == 1 and "ERROR_RATE_CLEARED" in codes
    assert "engine.start_clears_halt" in actions
