"""Breakers: daily loss resets at 00:00 UTC, drawdown is from the peak, the kill switch asks
for a kill, the error rate halts; states persist and only escalate automatically."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from sqlalchemy import text

from contracts.limits import Limits, defaults
from engine.execution.portfolio import Valuation
from engine.risk import breakers
from engine.risk.breakers import ErrorCounter, evaluate, load_memory, next_equity_memory
from engine.risk.gate import TradingState
from engine.risk.monitor import RiskMonitor
from storage.sqlite.db import Database, utc_day_start
from storage.sqlite.migrations import migrate

SH = 1_000_000
DAY = 86_400_000
T0 = utc_day_start(1_800_000_000_000) + 10 * 3_600_000  # 10:00 UTC on some day


def limits(**values: str) -> Limits:
    merged = dict(defaults().values)
    merged.update({k: Decimal(v) for k, v in values.items()})
    return Limits(merged)


def worth(equity: int) -> Valuation:
    """A book worth `equity` (all cash): the breakers only read its equity."""
    return Valuation(cash=equity, positions_value=0, liquidation_value=0, realized=0, unrealized=0, fees=0, exposure=0)


def monitor_on(tmp_path: Path, mode: str = "paper", **limit_values: str) -> RiskMonitor:
    migrate(tmp_path / "t.db")
    db = Database(tmp_path / "t.db")
    with db.read() as conn:
        memory = load_memory(conn)
    return RiskMonitor(db, mode, limits(**limit_values), memory, clock=lambda: T0)


def stored(monitor: RiskMonitor) -> breakers.RiskMemory:
    with monitor.db.read() as conn:
        return load_memory(conn)


def alert_codes(db: Database) -> list[str]:
    with db.read() as conn:
        return [r[0] for r in conn.exec_driver_sql("SELECT code FROM alerts ORDER BY id")]


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
    monitor = monitor_on(tmp_path)
    db = monitor.db
    # The monitor tracks the peak and the day's start after each tick, in the database.
    monitor.after_tick(T0, worth(1000 * SH))
    memory = stored(monitor)
    assert (memory.peak_equity, memory.day_start_equity) == (1000 * SH, 1000 * SH)
    monitor.after_tick(T0 + 1000, worth(1200 * SH))
    memory = stored(monitor)
    assert (memory.peak_equity, memory.day_start_equity) == (1200 * SH, 1000 * SH)
    with db.write() as conn:
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


def test_next_equity_memory_raises_the_peak_and_starts_each_day() -> None:
    empty = breakers.RiskMemory(TradingState.ACTIVE, None, None, None, None)
    first = next_equity_memory(empty, 1000 * SH, T0)
    assert (first.peak_equity, first.day_start_equity) == (1000 * SH, 1000 * SH)
    assert first.day_started_at == utc_day_start(T0)
    lower = next_equity_memory(first, 900 * SH, T0 + 1000)
    assert lower == first  # a fall neither lowers the peak nor moves the day's reference
    higher = next_equity_memory(lower, 1100 * SH, T0 + 2000)
    assert (higher.peak_equity, higher.day_start_equity) == (1100 * SH, 1000 * SH)


def test_a_new_day_is_noticed_even_without_the_job(tmp_path: Path) -> None:
    monitor = monitor_on(tmp_path)
    monitor.after_tick(T0, worth(1000 * SH))
    monitor.after_tick(T0 + DAY, worth(800 * SH))
    memory = stored(monitor)
    assert memory.day_start_equity == 800 * SH and memory.day_started_at == utc_day_start(T0 + DAY)
    assert monitor.memory == memory


def test_drawdown_reducing_is_not_cleared_by_the_daily_reset(tmp_path: Path) -> None:
    migrate(tmp_path / "t.db")
    db = Database(tmp_path / "t.db")
    with db.write() as conn:
        breakers.escalate(conn, load_memory(conn), TradingState.REDUCING, "DRAWDOWN", "15% below peak", T0)
        breakers.daily_reset(conn, load_memory(conn), 900 * SH, utc_day_start(T0) + DAY)
        assert load_memory(conn).trading_state is TradingState.REDUCING


def test_drawdown_reducing_ends_when_equity_recovers(tmp_path: Path) -> None:
    monitor = monitor_on(tmp_path, max_drawdown="10", kill_switch_drawdown="50", max_daily_loss="100000")
    monitor.after_tick(T0, worth(1000 * SH))
    monitor.after_tick(T0 + 1000, worth(850 * SH))  # 15% below the peak
    assert (stored(monitor).trading_state, stored(monitor).reason) == (TradingState.REDUCING, "DRAWDOWN")
    monitor.after_tick(T0 + 2000, worth(880 * SH))  # 12%: still beyond the limit
    assert stored(monitor).trading_state is TradingState.REDUCING
    monitor.after_tick(T0 + 3000, worth(950 * SH))  # 5%: within it again
    assert (stored(monitor).trading_state, stored(monitor).reason) == (TradingState.ACTIVE, None)
    assert monitor.memory.trading_state is TradingState.ACTIVE
    assert alert_codes(monitor.db) == ["DRAWDOWN", "DRAWDOWN_CLEARED"]


def test_daily_loss_reducing_waits_for_midnight_or_a_raised_limit(tmp_path: Path) -> None:
    monitor = monitor_on(tmp_path, max_daily_loss="100", max_drawdown="50", kill_switch_drawdown="90")
    monitor.after_tick(T0, worth(1000 * SH))
    monitor.after_tick(T0 + 1000, worth(880 * SH))  # down 120 today
    assert stored(monitor).reason == "DAILY_LOSS"
    monitor.after_tick(T0 + 2000, worth(950 * SH))  # down 50: recovered, but the day is not over
    assert stored(monitor).trading_state is TradingState.REDUCING
    monitor.reload(monitor.limits, stored(monitor), "paper")  # a reload with the same limits
    monitor.after_tick(T0 + 3000, worth(950 * SH))
    assert stored(monitor).trading_state is TradingState.REDUCING
    monitor.reload(limits(max_daily_loss="40", max_drawdown="50", kill_switch_drawdown="90"), stored(monitor),
                   "paper")  # changed, but still exceeded (down 50 > 40)
    monitor.after_tick(T0 + 4000, worth(950 * SH))
    assert stored(monitor).trading_state is TradingState.REDUCING
    monitor.reload(limits(max_daily_loss="200", max_drawdown="50", kill_switch_drawdown="90"), stored(monitor),
                   "paper")  # the operator raised it
    monitor.after_tick(T0 + 5000, worth(950 * SH))
    assert (stored(monitor).trading_state, stored(monitor).reason) == (TradingState.ACTIVE, None)
    # That change was one occasion: a later breach the same day again waits for midnight.
    monitor.after_tick(T0 + 6000, worth(790 * SH))  # down 210 > 200
    monitor.after_tick(T0 + 7000, worth(950 * SH))
    assert (stored(monitor).trading_state, stored(monitor).reason) == (TradingState.REDUCING, "DAILY_LOSS")
    assert alert_codes(monitor.db) == ["DAILY_LOSS", "DAILY_LOSS_CLEARED", "DAILY_LOSS"]


def test_a_second_kill_switch_trip_after_a_rearm_asks_for_a_kill_again(tmp_path: Path) -> None:
    monitor = monitor_on(tmp_path, kill_switch_drawdown="20")
    monitor.after_tick(T0, worth(1000 * SH))
    first = monitor.after_tick(T0 + 1000, worth(790 * SH))
    assert first is not None and "below its peak" in first
    monitor.request_kill(first, T0 + 1000)
    assert monitor.after_tick(T0 + 2000, worth(790 * SH)) is None  # the same trip asks once
    # The operator re-arms (engine/process/control.py): the halt ends and the peak restarts.
    with monitor.db.write() as conn:
        breakers.clear_kill_switch(conn, f"{breakers.KILL_SWITCH_PREFIX}: {first}", T0 + 3000)
    monitor.reload(monitor.limits, stored(monitor), "paper")
    assert monitor.after_tick(T0 + 4000, worth(790 * SH)) is None  # measured afresh from 790
    assert stored(monitor).peak_equity == 790 * SH
    second = monitor.after_tick(T0 + 5000, worth(600 * SH))  # 24% below the new peak, same day
    assert second is not None
    monitor.request_kill(second, T0 + 5000)
    with monitor.db.read() as conn:
        kills = conn.execute(text("SELECT actor FROM commands WHERE kind = 'kill'")).scalars().all()
    assert kills == ["risk", "risk"]


def test_a_day_change_seen_from_older_memory_keeps_a_reset_peak(tmp_path: Path) -> None:
    monitor = monitor_on(tmp_path, kill_switch_drawdown="20", max_drawdown="10", max_daily_loss="100000")
    monitor.after_tick(T0, worth(1000 * SH))
    with monitor.db.write() as conn:  # a re-arm resets the peak while the monitor still remembers it
        conn.execute(text("UPDATE engine_state SET peak_equity = NULL"))
    monitor.after_tick(T0 + DAY, worth(990 * SH))  # a new day: only the day's reference is written
    memory = stored(monitor)
    assert memory.peak_equity is None and memory.day_start_equity == 990 * SH


def test_a_mode_switch_forgets_the_other_modes_peak(tmp_path: Path) -> None:
    monitor = monitor_on(tmp_path)
    monitor.after_tick(T0, worth(10_000 * SH))  # paper: 10,000 pUSD
    monitor.reload(monitor.limits, monitor.memory, "live")
    assert monitor.after_tick(T0 + 1000, worth(50 * SH)) is None  # live: a 50 pUSD wallet, no drawdown
    memory = stored(monitor)
    assert (memory.trading_state, memory.peak_equity, memory.day_start_equity) == (
        TradingState.ACTIVE, 50 * SH, 50 * SH)


def test_a_venue_refusing_most_orders_is_told_from_one_refusing_a_few() -> None:
    """Five refusals in a minute halt only when they are most of the venue's answers; older ones age out."""
    from engine.risk.breakers import RefusalCounter

    counter = RefusalCounter()
    counter.accepted(6, 0)
    assert [counter.refused("no", t) for t in range(5)] == [None] * 5  # 5 of 11: the venue takes most
    counter = RefusalCounter()
    counter.accepted(4, 0)
    said = [counter.refused("not enough balance / allowance", t) for t in range(5)]
    assert said[:4] == [None] * 4 and said[4] is not None  # 5 of 9
    assert "refused 5 of the last 9 orders" in said[4] and "not enough balance / allowance" in said[4]
    counter = RefusalCounter()
    for t in range(4):
        counter.refused("no", t)
    assert counter.refused("no", 61_000) is None  # the first four are over a minute old


def test_takes_finding_nothing_on_several_markets_are_the_books_answers_not_the_account_refused(
        tmp_path: Path) -> None:
    """A fill-and-kill that finds nothing to match (or a post-only order meeting the touch) is its market's
    answer to that order: however many markets answer so within a minute, the venue-refusing breaker does not
    halt the desk (two momentum markets with thin touches halted it); refusals that speak of the account
    still do."""
    from contracts.domain import MarketInfo, Outcome, Side, Tif
    from engine.execution.bus import EventBus, PlacementRefused
    from engine.execution.planner import OrderSpec
    from engine.venues.paper_rules import FAK_NO_MATCH

    monitor = monitor_on(tmp_path)
    bus = EventBus()
    monitor.listen(bus)
    markets = [MarketInfo(condition_id=f"c{n}", question="?", yes_token=f"Y{n}", no_token=f"N{n}", tick=10_000,
                          min_size=5_000_000) for n in (1, 2)]

    def refused(market: MarketInfo, detail: str, tif: Tif = Tif.FAK) -> None:
        spec = OrderSpec(market.yes_token, Outcome.YES, Side.BUY, 500_000, 10_000_000, tif)
        bus.publish(PlacementRefused("momentum", market, spec, "VENUE_REFUSED", detail, True))

    for n in range(12):
        refused(markets[n % 2], FAK_NO_MATCH)
        refused(markets[n % 2], "invalid post-only order: order crosses book", Tif.GTC)
    assert monitor.memory.trading_state is TradingState.ACTIVE
    for n in range(5):
        refused(markets[n % 2], "not enough balance / allowance", Tif.GTC)
    assert monitor.memory.trading_state is TradingState.HALTED
    assert monitor.memory.reason == breakers.VENUE_REFUSING
