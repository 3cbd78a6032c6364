"""The paper ledger's risk (issue 38): its breakers act on the paper ledger's equity and halt the
ledger alone, alerted with the ledger named, remembered across a restart beside (never in) the desk's
trading state, and ended by the operator's Start.
The ledger is never less cautious than the desk: a desk that is REDUCING or HALTED holds it too."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from contracts.domain import MarketInfo, Outcome
from contracts.venues import KALSHI
from engine.execution.ledger import PositionTotals
from engine.execution.state import ExecutionState
from engine.feeds.catalog import MarketCatalog
from engine.risk import breakers
from engine.risk import context as risk_context
from engine.risk.gate import Budget, Reason, TradingState
from engine.risk.ledger_risk import FRESH, PAPER_LEDGER, VenueLedgerRisk
from tests.risk.test_breakers import SH, T0, limits, monitor_on, stored, worth


def _ledger(tmp_path: Path) -> VenueLedgerRisk:
    desk = monitor_on(tmp_path, "live", max_drawdown="10", kill_switch_drawdown="20", max_daily_loss="100000")
    return VenueLedgerRisk(desk.db, desk, clock=lambda: T0, venue_name="polymarket")


def test_a_ledger_kill_switch_halts_the_ledger_and_not_the_desk(tmp_path: Path) -> None:
    ledger = _ledger(tmp_path)
    before = stored(ledger.desk)
    assert ledger.after_tick(T0, worth(1000 * SH)) is None
    assert ledger.after_tick(T0 + 1, worth(850 * SH)) is None  # 15 % below its peak: REDUCING
    assert ledger.memory.trading_state is TradingState.REDUCING
    assert ledger.after_tick(T0 + 2, worth(750 * SH)) is not None  # 25 %: the ledger's kill, asked once
    assert ledger.after_tick(T0 + 3, worth(740 * SH)) is None
    assert ledger.memory.trading_state is TradingState.HALTED
    assert ledger.request_kill("ledger", T0) is False  # never the desk's kill (no command posted)
    assert stored(ledger.desk) == before and ledger.desk.memory.trading_state is TradingState.ACTIVE
    with ledger.db.read() as conn:
        rows = conn.execute(text("SELECT code, subject, message FROM alerts ORDER BY id")).all()
        assert conn.execute(text("SELECT COUNT(*) FROM commands")).scalar_one() == 0
    assert [(r[0], r[1]) for r in rows] == [(breakers.DRAWDOWN, PAPER_LEDGER), (breakers.KILL_SWITCH, PAPER_LEDGER)]
    assert all("the desk's trading is not affected" in r[2] for r in rows)
    # a restart: the ledger's halt is remembered
    again = VenueLedgerRisk(ledger.db, ledger.desk, clock=lambda: T0, venue_name="polymarket")
    assert (again.memory.trading_state, again.memory.reason) == (TradingState.HALTED, breakers.KILL_SWITCH)
    assert again.memory.peak_equity == 1000 * SH
    assert again.rearm() and not again.rearm()  # the operator's Start ends it (once)
    assert again.memory.trading_state is TradingState.ACTIVE and again.memory.peak_equity is None
    with ledger.db.read() as conn:
        assert breakers.load_ledger_memory(conn, "polymarket").trading_state is TradingState.ACTIVE
        assert breakers.load_memory(conn).trading_state is TradingState.ACTIVE  # the desk's, never moved


def test_the_ledger_holds_when_the_desk_is_more_cautious(tmp_path: Path) -> None:
    ledger = _ledger(tmp_path)
    ledger.desk.escalate(TradingState.HALTED, breakers.ERROR_RATE, "venue errors")
    ledger.new_tick(T0, ExecutionState("paper"), MarketCatalog(), {})
    assert ledger.ctx is not None and ledger.ctx.trading_state is TradingState.HALTED
    assert ledger.memory.trading_state is TradingState.ACTIVE  # its own memory is untouched
    desk_only = breakers.RiskMemory(TradingState.ACTIVE, None, None, None, None)
    ledger.desk.memory = desk_only
    ledger.new_tick(T0, ExecutionState("paper"), MarketCatalog(), {})
    assert ledger.ctx is not None and ledger.ctx.trading_state is TradingState.ACTIVE


def test_a_ledger_daily_loss_ends_with_the_utc_day(tmp_path: Path) -> None:
    ledger = _ledger(tmp_path)
    ledger.limits = limits(max_daily_loss="50", max_drawdown="0", kill_switch_drawdown="0")
    ledger.after_tick(T0, worth(1000 * SH))
    ledger.after_tick(T0 + 1, worth(940 * SH))
    assert (ledger.memory.trading_state, ledger.memory.reason) == (TradingState.REDUCING, breakers.DAILY_LOSS)
    ledger.after_tick(T0 + 86_400_000, worth(940 * SH))  # the next UTC day starts from here
    assert ledger.memory.trading_state is TradingState.ACTIVE
    assert stored(ledger.desk).trading_state is TradingState.ACTIVE


def test_kalshis_paper_ledger_keeps_its_own_breakers_apart(tmp_path: Path) -> None:
    polymarket = _ledger(tmp_path)
    kalshi = VenueLedgerRisk(polymarket.db, polymarket.desk, clock=lambda: T0, venue_name=KALSHI)
    kalshi.after_tick(T0, worth(1000 * SH))
    kalshi.after_tick(T0 + 1, worth(750 * SH))  # 25 % below its peak: its kill switch
    assert kalshi.memory.trading_state is TradingState.HALTED
    assert polymarket.memory.trading_state is TradingState.ACTIVE  # Polymarket's paper ledger is not held
    with kalshi.db.read() as conn:
        assert breakers.load_ledger_memory(conn, "polymarket").trading_state is TradingState.ACTIVE
        assert breakers.load_ledger_memory(conn, KALSHI).trading_state is TradingState.HALTED
        subjects = {r[0] for r in conn.execute(text("SELECT subject FROM alerts WHERE source = 'risk'")).all()}
    assert subjects == {"Kalshi paper"}
    again = VenueLedgerRisk(kalshi.db, kalshi.desk, clock=lambda: T0, venue_name=KALSHI)  # a restart remembers it
    assert again.memory.trading_state is TradingState.HALTED


def test_the_total_exposure_limit_counts_every_venue_of_one_money() -> None:
    market = MarketInfo("kalshi:KX-1", "?", "kalshi:KX-1:yes", "kalshi:KX-1:no", tick=10_000, min_size=SH)
    other = MarketInfo("0xpoly", "?", "Y", "N", tick=10_000, min_size=SH)
    catalog = MarketCatalog([market, other])
    kalshi, desk = ExecutionState("paper", KALSHI), ExecutionState("paper")
    kalshi.set_position("kx", market.yes_token, market.condition_id, Outcome.YES, PositionTotals(10 * SH, 0, 4 * SH))
    desk.set_position("mm", "Y", "0xpoly", Outcome.YES, PositionTotals(100 * SH, 0, 50 * SH))
    limits_now = limits(max_total_exposure="60")
    alone = risk_context.build(T0, kalshi, catalog, {}, limits_now, FRESH)
    across = risk_context.build(T0, kalshi, catalog, {}, limits_now, FRESH, also=[desk])
    assert alone.exposure.total == 4 * SH
    assert across.exposure.total == 54 * SH  # the desk's 50 dollars count against the one total limit
    assert across.exposure.by_market == alone.exposure.by_market  # the per-market limits stay per venue
    room = Budget.of(across.exposure, 0, {}).room(limits_now, "kx", market)
    assert room[Reason.MAX_TOTAL_EXPOSURE] == 6 * SH


def test_a_halt_of_polymarkets_venue_does_not_hold_kalshis_ledger(tmp_path: Path) -> None:
    polymarket = _ledger(tmp_path)
    kalshi = VenueLedgerRisk(polymarket.db, polymarket.desk, clock=lambda: T0, venue_name=KALSHI)
    polymarket.desk.escalate(TradingState.HALTED, breakers.ERROR_RATE, "the venue keeps failing")
    for ledger, held in ((polymarket, TradingState.HALTED), (kalshi, TradingState.ACTIVE)):
        ledger.new_tick(T0, ExecutionState("paper", ledger.venue_name), MarketCatalog(), {})
        assert ledger.ctx is not None and ledger.ctx.trading_state is held
    polymarket.desk.memory = breakers.RiskMemory(TradingState.HALTED, breakers.DRAWDOWN, None, None, None)
    kalshi.new_tick(T0, ExecutionState("paper", KALSHI), MarketCatalog(), {})
    assert kalshi.ctx is not None and kalshi.ctx.trading_state is TradingState.HALTED  # the desk's money: held
