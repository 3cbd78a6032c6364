"""Breakers: daily loss resets at 00:00 UTC, drawdown is from the peak, the kill switch asks
for a kill, the error rate halts; states persist and only escalate automatically."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from engine.risk import breakers
from engine.risk.breakers import ErrorCounter, evaluate, load_memory, track_equity, utc_day_start
from engine.risk.gate import TradingState
from engine.risk.limits import Limits, defaults
from storage.db import Database
from storage.migrations import migrate

SH = 1_000_000
DAY = 86_400_000
T0 = utc_day_start(1_800_000_000_000) + 10 * 3_600_000  # 10:00 UTC on some day


def limits(**values: str) -> Limits:
    merged = dict(defaults().values)
    merged.update({k: Decimal(v) for k, v in values.items()})
    return Limits(merged)


def test_daily_loss_trips_reducing() -> None:
    verdict = evaluate(limits(max_daily_loss="100"), equity=900 * SH, peak=950 * SH, day_start=1000 * SH, errors=0)
    assert (verdict.target, verdict.reason) == (TradingState.REDUCING, "DAILY_LOSS")
    ok = evaluate(limits(max_daily_loss="100"), equity=901 * SH, peak=901 * SH, day_start=1000 * SH, errors=0)
    assert ok.target is TradingState.ACTIVE


def test_drawdown_is_measured_from_the_peak_not_the_start() -> None:
    # Started at 1000, rose to 2000, fell to 1700: +70% from start but 15% below the peak.
    verdict = evaluate(limits(max_drawdown="10", max_daily_loss="100000", kill_switch_drawdown="50"),
                       equity=1700 * SH, peak=2000 * SH, day_start=1700 * SH, errors=0)
    assert (verdict.target, verdict.reason) == (TradingState.REDUCING, "DRAWDOWN")


def test_kill_switch_drawdown_asks_for_a_kill() -> None:
    verdict = evaluate(limits(kill_switch_drawdown="20"), equity=790 * SH, peak=1000 * SH, day_start=790 * SH, errors=0)
    assert verdict.kill and verdict.reason == "KILL_SWITCH_DRAWDOWN"


def test_error_rate_halts() -> None:
    counter = ErrorCounter()
    for i in range(10):
        counter.record(T0 + i)
    verdict = evaluate(limits(error_rate_breaker="10"), equity=SH, peak=SH, day_start=SH,
                       errors=counter.count(T0 + 100))
    assert (verdict.target, verdict.reason) == (TradingState.HALTED, "ERROR_RATE")
    assert counter.count(T0 + 5 * 60_000 + 100) == 0  # the window rolls


def test_states_persist_escalate_only_and_reset_at_midnight(tmp_path: Path) -> None:
    migrate(tmp_path / "t.db")
    db = Database(tmp_path / "t.db")
    with db.write() as conn:
        memory = track_equity(conn, load_memory(conn), 1000 * SH, T0)
        assert (memory.peak_equity, memory.day_start_equity) == (1000 * SH, 1000 * SH)
        memory = track_equity(conn, memory, 1200 * SH, T0 + 1000)
        assert (memory.peak_equity, memory.day_start_equity) == (1200 * SH, 1000 * SH)
        assert breakers.escalate(conn, memory, TradingState.REDUCING, "DAILY_LOSS", "down 100", T0)
    with db.write() as conn:
        memory = load_memory(conn)
        assert (memory.trading_state, memory.reason) == (TradingState.REDUCING, "DAILY_LOSS")
        assert not breakers.escalate(conn, memory, TradingState.ACTIVE, "x", "never relaxes", T0)
        # 00:00 UTC next day (time injected, no sleeping): the daily-loss REDUCING state ends.
        midnight = utc_day_start(T0) + DAY
        memory = breakers.daily_reset(conn, memory, 900 * SH, midnight)
    with db.read() as conn:
        memory = load_memory(conn)
        codes = [r[0] for r in conn.exec_driver_sql("SELECT code FROM alerts ORDER BY id")]
    assert memory.trading_state is TradingState.ACTIVE and memory.day_start_equity == 900 * SH
    assert memory.peak_equity == 1200 * SH  # the peak survives the day change
    assert codes == ["DAILY_LOSS", "DAILY_RESET"]


def test_a_new_day_is_noticed_even_without_the_job(tmp_path: Path) -> None:
    migrate(tmp_path / "t.db")
    db = Database(tmp_path / "t.db")
    with db.write() as conn:
        memory = track_equity(conn, load_memory(conn), 1000 * SH, T0)
        memory = track_equity(conn, memory, 800 * SH, T0 + DAY)
    assert memory.day_start_equity == 800 * SH and memory.day_started_at == utc_day_start(T0 + DAY)


def test_drawdown_reducing_is_not_cleared_by_the_daily_reset(tmp_path: Path) -> None:
    migrate(tmp_path / "t.db")
    db = Database(tmp_path / "t.db")
    with db.write() as conn:
        breakers.escalate(conn, load_memory(conn), TradingState.REDUCING, "DRAWDOWN", "15% below peak", T0)
        breakers.daily_reset(conn, load_memory(conn), 900 * SH, utc_day_start(T0) + DAY)
        assert load_memory(conn).trading_state is TradingState.REDUCING
