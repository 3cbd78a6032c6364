"""Every part of a timed pass that reads the clock is registered and answers when it next changes
(contracts/due.py), so a replay's skipped passes (engine/backtest/quiet_passes.py) cannot miss one.

A backtest's timed passes are traced (`sys.setprofile`): every call in a pass that is handed the
pass's time, or that reads the clock itself, is a clock reader. Each must be a part the pass
registers (engine/trading/passes/clock_parts.py, engine/trading/passes/ledger_pass.py `clock_parts`),
or be listed in ANSWERED below with the registered part that answers for it (its owner's helpers, the
pass itself handing the time on, the rows a pass that acts writes). A class added to the pass that
reads the clock fails this test until it answers `next_due` and is registered, or is listed here with
the part that answers for it.
"""

from __future__ import annotations

import sqlite3
import sys
from collections.abc import Iterator
from pathlib import Path
from types import FrameType
from typing import Any

import pytest

from contracts.due import NEVER, Due, soonest
from contracts.settings import load_settings
from engine.backtest.runner import BacktestSpec, run_sync
from engine.trading.core import TradingCore
from engine.trading.passes.clock_parts import pass_parts

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from _recording import write_recording  # noqa: E402

ROOT = str(Path(__file__).resolve().parents[2]) + "/"
PARAMS = {"size": 20, "half_spread": 0.01, "refresh_threshold": 0.0, "max_spread": 0.5}
PASS = "the pass"  # the timed pass itself, handing the time to its parts
WRITES = "rows written"  # stamps the rows a pass that acts writes (a pass that writes is never skipped)
SENT = "sent"  # reads the time of what a pass sends the venue (a pass that sends acts: it is never skipped)

# What reads the pass's time without being a registered part: a method by its class, a function by
# its name, each with the registered part (by class) that answers for it, or PASS or WRITES.
ANSWERED: dict[str, str] = {
    "engine/trading/core.py:TradingCore": PASS,
    "engine/trading/passes/ledger_pass.py:ledger_pass": PASS,
    "engine/trading/passes/ledger_pass.py:gate": PASS,
    "engine/trading/passes/ledger_pass.py:held_by_exits": "ExitBook",
    "engine/trading/passes/ledger_pass.py:held_before_games": "GameStarts",
    "engine/trading/passes/ledger_pass.py:held_by_venue": "Ledger",
    "engine/trading/exits/game_start.py:hold_for_game_start": "GameStarts",
    "engine/trading/exits/game_start.py:starting": "GameStarts",
    "engine/trading/passes/deciding.py:Deciders": "StrategyHost",  # the strategies deciding
    "engine/trading/hosting/views.py:snapshot": "StrategyHost",  # what a strategy is handed
    "engine/strategies/market_making.py:MarketMaking": "StrategyHost",  # (`Strategy.reads_the_clock`)
    "engine/trading/exits/strategy_exits.py:start_exits": "ExitBook",  # an exit starts on a price, then runs
    "engine/trading/hosting/views.py:Views": "DataAge",  # the pictures: their books' ages (signals: SignalReads)
    "engine/trading/hosting/views.py:ReplayedCopies": "SignalReads",
    "engine/trading/hosting/fair_history.py:ReplayedFairValues": "SignalReads",  # a replay's fair values
    "contracts/domain.py:Book": "DataAge",
    "contracts/domain.py:MarketView": "DataAge",
    "engine/trading/passes/event_decisions.py:EventDecisions": PASS,  # when it ran, for the decisions between
    "engine/trading/passes/refused_quotes.py:RefusedQuotes": PASS,  # the quotes refused since it began
    "engine/risk/monitor.py:RiskMonitor": PASS,  # hands the time to its parts (`RiskMonitor.clock_parts`)
    "engine/risk/context.py:build": "Cooldowns",  # the gate's context: the cooldowns, the books' ages (DataAge)
    "engine/risk/context.py:log_residuals": "DecisionsLog",
    "engine/risk/take_backoff.py:hold_takes": "TakeBackoff",
    "engine/risk/breakers.py:next_equity_memory": "NewDay",
    "storage/sqlite/lite.py:utc_day_start": "NewDay",
    "engine/risk/volatility.py:VolatilityBreaker": "VolatilityGuard",
    "engine/risk/volatility.py:MidSeries": "VolatilityGuard",
    "engine/risk/correlation.py:CorrelationWatch": "CorrelationGuard",
    "engine/risk/strategy_risk.py:_track": "StrategyRisk",
    "engine/execution/venue_health.py:VenueHealth": "Executor",  # its phase: the executor cannot tell till OPEN
    "engine/execution/lookups.py:OrderLookups": "Executor",  # orders the venue has not answered
    "engine/venues/paper_latency.py:Trips": SENT,  # a request's trip to the paper venue
    "engine/risk/monitor.py:RiskMonitor.listen.<locals>.<lambda>": SENT,  # the venue's answers counted
    "engine/analytics/markouts.py:mid_at": "OwnMarkouts",
}
WRITERS = ("storage/", "engine/execution/store.py", "engine/execution/cancels.py:Cancels",
           "engine/execution/placement.py", "engine/execution/transactions.py", "engine/execution/event_applier.py")


def _reader(frame: FrameType) -> tuple[str, object | None]:
    """(what reads: `path:Class` for a method, with its object; `path:function` for a function)."""
    code = frame.f_code
    path = code.co_filename.removeprefix(ROOT)
    names = code.co_varnames[:code.co_argcount]
    owner = frame.f_locals.get("self") if names and names[0] == "self" else None
    if owner is None:
        return f"{path}:{code.co_qualname}", None
    return f"{path}:{type(owner).__qualname__}", owner


class Trace:
    """The clock readers met in the traced passes that are not registered parts."""

    def __init__(self) -> None:
        self.read: dict[str, tuple[object | None, str]] = {}  # reader -> (its object, where it was met)
        self.registered: list[Due] = []
        self.passes = 0

    def trace(self, now: int) -> Any:
        parts = {id(part) for part in self.registered}

        def profile(frame: FrameType, event: str, arg: object) -> None:
            if event != "call" or not frame.f_code.co_filename.startswith(ROOT):
                return
            code = frame.f_code
            args = [frame.f_locals.get(n) for n in code.co_varnames[:code.co_argcount + code.co_kwonlyargcount]]
            reads = any(type(a) is int and a == now for a in args)
            reader: FrameType | None = frame
            if code.co_name == "__call__" and code.co_filename.endswith("engine/backtest/cursor.py"):
                reader, reads = frame.f_back, True  # the clock read by its caller
            if not reads or reader is None:
                return
            key, owner = _reader(reader)
            if owner is None or id(owner) not in parts:  # (a registered part answers for itself)
                self.read.setdefault(key, (owner, f"{reader.f_code.co_qualname} at {now}"))

        return profile


@pytest.fixture(scope="module")
def traced(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Trace, TradingCore]]:
    """A market-making backtest of two markets that trades, its books growing stale in a pause, each
    timed pass it runs (after its first) traced."""
    tmp = tmp_path_factory.mktemp("clock")
    path = tmp / "recorded.db"
    markets, start, _ = write_recording(path, markets=2, events=1_200, events_per_decision=10**9, seed=5)
    with sqlite3.connect(path) as conn:
        conn.execute("DELETE FROM ticks WHERE kind = 'decide'")
        conn.execute("UPDATE ticks SET at = ? + (at - ?) * 300", (start, start))
        end = conn.execute("SELECT MAX(at) FROM ticks").fetchone()[0]
        pause = start + (end - start) * 3 // 4  # (past the volatility breaker's warm-up)
        conn.execute("DELETE FROM ticks WHERE at BETWEEN ? AND ?", (pause, pause + 60_000))
    trace, cores = Trace(), list[TradingCore]()
    real_tick = TradingCore.tick

    async def tick(core: TradingCore) -> Any:
        now = core.clock()
        if not cores:
            cores.append(core)
            return await real_tick(core)
        trace.passes += 1
        trace.registered = list(pass_parts(core)())
        sys.setprofile(trace.trace(now))
        try:
            return await real_tick(core)
        finally:
            sys.setprofile(None)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(TradingCore, "tick", tick)
        settings = load_settings({"TRADER_ENV_FILE": str(tmp / "none"), "TRADER_DB": str(path)})
        result = run_sync(BacktestSpec("market_making", PARAMS, start, end, tuple(markets), seed=3), path, settings,
                          work_dir=tmp / "run")
    assert result.order_count and result.fill_count, "it must trade to prove anything"
    yield trace, cores[0]


def test_every_part_of_a_pass_that_reads_the_clock_is_registered_or_answered_for(
        traced: tuple[Trace, TradingCore]) -> None:
    trace, core = traced
    assert trace.passes > 1_000  # (of some 7,000 in its span: the others skipped)
    unanswered = {key: where for key, (_, where) in trace.read.items()
                  if key not in ANSWERED and not key.startswith(WRITERS)}
    print("\n".join(f"{k}: {w}" for k, w in unanswered.items()))
    assert unanswered == {}, ("these read the clock in a timed pass but are neither a registered part "
                              "(contracts/due.py) nor answered for by one (ANSWERED)")
    registered = {type(part).__name__ for part in pass_parts(core)()}
    assert {key: by for key, by in ANSWERED.items() if by not in (PASS, WRITES, SENT) and by not in registered} == {}


def test_the_readers_answered_for_are_still_met(traced: tuple[Trace, TradingCore]) -> None:
    """ANSWERED stays what a pass does: a name no pass meets any more is a stale excuse."""
    trace, _ = traced
    unmet = set(ANSWERED) - set(trace.read)
    assert unmet <= {"engine/trading/passes/ledger_pass.py:held_by_exits",  # (none here: no exit under way)
                     "engine/trading/hosting/views.py:ReplayedCopies"}  # (none here: no followed wallet)


def test_every_object_of_the_core_that_answers_its_next_due_time_is_registered(
        traced: tuple[Trace, TradingCore]) -> None:
    """A part that answers but is left out of the registry is as good as one that does not answer (what a
    registered part holds answers through it)."""
    _, core = traced
    registered = {id(part) for part in pass_parts(core)()}
    found: dict[int, str] = {}
    seen: set[int] = set()

    def walk(obj: object, path: str, depth: int) -> None:
        if id(obj) in seen or depth > 4 or type(obj).__module__.split(".")[0] not in ("engine", "contracts"):
            return
        seen.add(id(obj))
        if isinstance(obj, Due) and not isinstance(obj, type):
            found[id(obj)] = path
            if id(obj) in registered:
                return  # what a registered part holds answers through it (SignalReads: its replayed copies)
        for name, value in getattr(obj, "__dict__", {}).items():
            if not callable(value) or isinstance(value, Due):
                walk(value, f"{path}.{name}", depth + 1)

    walk(core, "core", 0)
    for ledger in core.ledgers.all():
        walk(ledger, f"ledger {ledger.label}", 1)
    assert {path for key, path in found.items() if key not in registered} == set()
    assert len(found) >= 12  # really walked the core


def test_the_registered_parts_answer_after_now_or_say_they_cannot_tell(traced: tuple[Trace, TradingCore]) -> None:
    _, core = traced
    now = core.clock()
    for part in pass_parts(core)():
        due = part.next_due(now, NEVER)
        assert due is None or due >= now, type(part).__name__
    assert now <= soonest(pass_parts(core)(), now) <= NEVER
